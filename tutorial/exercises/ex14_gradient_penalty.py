"""Exercise 14 (step 6): the gradient penalty, checked in closed form.

WGAN-GP keeps the critic D roughly 1-Lipschitz with a penalty: draw eps ~ U[0, 1] per example, form
x_hat = eps * real + (1 - eps) * fake, and average (||grad_x D(x_hat)||_2 - 1)^2 over the batch (the norm over
all of an example's numbers). Write it with torch.autograd.grad:

    gradient_penalty(critic, real, fake, eps) -> a scalar tensor
        critic: a function (B, ...) -> (B,); real, fake: (B, ...); eps: (B,) your "random" mixing weights

Keep the graph of the gradient (create_graph=True): the penalty must itself be differentiable, so that its
gradient reaches the critic's parameters (a double backward). Before running the grader, work out by hand what
it should give for a LINEAR critic D(x) = <w, x> + b (what is its gradient at any point?) and for
D(x) = ||x||^2 / 2 (gradient x): the grader checks exactly these.

Grade it:  python -m pytest tutorial/exercises -k ex14
"""
import torch  # noqa: F401


def gradient_penalty(critic, real, fake, eps):
    raise NotImplementedError
