"""Exercise 11 (step 3): the weight-decay time constant.

AdamW's decoupled weight decay multiplies every decayed weight by (1 - lr * wd) at each step, on top of the
gradient step. Ignore the gradient (a weight the loss does not care about) and write:

    left_after(lr, wd, steps)  -> the fraction of the weight still there after `steps` steps
    steps_until(fraction, lr, wd) -> the number of steps (a float) after which only `fraction` is left

Then use them: with the paper's lr = 1e-3 and wd = 0.1, what fraction is left after the tutorial's 3 000 steps,
the CPU tables' 6 000, the weight-decay study's 30 000 and the paper's 200 000? How many steps halve a weight?
(Step 3 calls 1 / (lr * wd) the time constant: check that left_after at one time constant is close to 1/e.)

Grade it:  python -m pytest tutorial/exercises -k ex11
"""
import math  # noqa: F401


def left_after(lr, wd, steps):
    raise NotImplementedError


def steps_until(fraction, lr, wd):
    raise NotImplementedError
