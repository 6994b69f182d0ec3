"""Exercise 13 (step 4): InfoE end to end.

InfoE asks how much of each source's uncertainty a LINEAR read-out of the latents removes. You get the fit:
`fitted_cross_entropy(x, y)` below returns the in-sample cross-entropy (nats) of an unregularised multinomial
logistic regression of labels y (N,) on features x (N, d), fitted with class-balanced weights (the project's
plain Newton fit). Write

    infoe(latents, sources) -> InfoE: the mean over sources i of (H_null_i - H_model_i) / H_null_i

where H_model_i is the fitted cross-entropy of source i from the standardised latents (zero mean, unit variance
per column; a constant column stays 0) and H_null_i the cross-entropy of the best model that ignores the latents.
With class-balanced weights that null model is not the source's entropy: derive it (exercise 8 did).
Then predict, and check by running: for one source and the latent z = s + noise * randn, how does InfoE move as
the noise grows from 0.1 to 3?

Grade it:  python -m pytest tutorial/exercises -k ex13
"""
import os
import sys

import numpy as np  # noqa: F401

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from infomec import logistic_cross_entropy  # noqa: E402


def fitted_cross_entropy(x, y):
    return logistic_cross_entropy(x, y)[0]


def infoe(latents, sources):
    raise NotImplementedError
