"""Exercise 15 (step 5): total correlation, the term beta-TCVAE penalises.

beta-TCVAE splits the VAE's KL term and up-weights one part, the total correlation of the aggregate posterior:
TC(z) = KL(q(z) || prod_j q(z_j)), zero exactly when the latents are independent. For a Gaussian q(z) with
covariance C it has a closed form. Derive it and write

    gaussian_total_correlation(C) -> TC in nats, C an (n, n) covariance matrix (numpy)

Hint: the KL between two Gaussians with the same mean; the product of the marginals is a Gaussian with the
diagonal of C as covariance. Check yourself: what is TC for two latents with correlation rho, and as rho -> 1?
(The project estimates TC from minibatches, lab/baselines.py's tc_terms, because q(z) is a mixture, not a Gaussian.)

Grade it:  python -m pytest tutorial/exercises -k ex15
"""
import numpy as np  # noqa: F401


def gaussian_total_correlation(C):
    raise NotImplementedError
