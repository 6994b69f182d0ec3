"""Exercise 7 (step 4): the InfoM ratio.

Write infom(nmi): nmi is an (n_s, n_z) numpy array, NMI between each source (row) and each latent (column),
all latents active and none all-zero. InfoM is the mean over latents of (largest NMI of that latent) /
(sum of its NMIs), rescaled so that an even spread over the n_s sources scores 0 and one source scores 1.

Grade it:  python -m pytest tutorial/exercises -k ex07
"""
import numpy as np  # noqa: F401


def infom(nmi):
    raise NotImplementedError
