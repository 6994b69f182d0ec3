"""Exercise 12 (step 4): how low can InfoC go when InfoM is perfect?

InfoM is 1 when every active latent is about a single source; InfoC is 1 when every source sits in a single
latent (step 4). With more latents than sources (the paper uses n_z = 2 n_s) both cannot be 1. Suppose InfoM is
exactly 1. Derive the LOWEST InfoC possible for n_s sources and n_z latents (take n_z a multiple of n_s), and
build an NMI matrix that reaches it.

    lowest_infoc(n_s, n_z) -> that lowest InfoC, a number
    example(n_s, n_z)      -> an (n_s, n_z) numpy array of NMI values in [0, 1], every latent active (a non-zero
                              column), with InfoM = 1 and InfoC = lowest_infoc(n_s, n_z)

InfoC = ((mean over sources of max_j NMI_ij / sum_j NMI_ij) - 1 / n_z) / (1 - 1 / n_z). Hint: InfoM = 1 says
where a column's mass can be; what is left to choose, and which choice makes each row's max / sum smallest?
What does your answer say about the paper's InfoC values (step 5) for n_s = 6 and n_z = 12?

Grade it:  python -m pytest tutorial/exercises -k ex12
"""
import numpy as np  # noqa: F401


def lowest_infoc(n_s, n_z):
    raise NotImplementedError


def example(n_s, n_z):
    raise NotImplementedError
