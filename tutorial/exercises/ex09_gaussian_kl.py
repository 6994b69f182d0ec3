"""Exercise 9 (step 5): the beta-VAE's KL term.

Write gaussian_kl(mu, sigma): tensors (B, n_z), sigma a standard deviation (> 0). Return, per element, the
KL divergence KL(N(mu, sigma^2) || N(0, 1)) in nats, shape (B, n_z). Derive it from the two densities.

Grade it:  python -m pytest tutorial/exercises -k ex09
"""
import torch  # noqa: F401


def gaussian_kl(mu, sigma):
    raise NotImplementedError
