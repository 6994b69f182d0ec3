"""Exercise 10 (steps 3 and 5): an open question.

Without weight decay, the paper's QLAE loses modularity (InfoM) and explicitness (InfoE). Which explanation is
the paper's? Set ANSWER to one letter.

(a) Without weight decay the codebook values collapse onto one value, so the latents carry no information.
(b) With large weights the decoder can memorise an arbitrary map from each combination of codes to an image,
    so a codebook value need not mean the same thing in every context; keeping the weights small makes reusing
    each value with one meaning the cheapest way to reconstruct.
(c) Weight decay pulls the codebook values towards zero, which spaces them evenly.
(d) Weight decay makes training faster, so more of the data is seen in the same number of steps.

Then test your answer on data: run `python sweep.py run --only qlae qlae-nowd --seeds 0 1 2` (about 45 minutes
on 2 CPU cores) and compare the two rows of `python sweep.py table runs/sweep`. Does the effect show at this
scale? If not, what would you change (steps, nets, resolution) and why?

Grade it:  python -m pytest tutorial/exercises -k ex10
"""

ANSWER = ""
