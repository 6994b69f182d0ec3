"""Exercise 6 (step 4): the k-nearest-neighbour mutual information estimator (Ross 2014).

Write knn_mutual_info(z, s, k): z is a 1-D float array (a continuous latent), s a 1-D integer array (a source),
N = len(z). For each point i:
  - d_i: the distance |z_i - z_j| to its k-th nearest neighbour among the OTHER points with the same label s;
  - m_i: the number of points of ANY label j with |z_i - z_j| < d_i, counting i itself;
  - N_i: the number of points with label s_i.
Then I = psi(N) + psi(k) - mean_i psi(N_i) - mean_i psi(m_i), psi the digamma function. For integers,
psi(n) = -0.5772156649 + sum_{t=1}^{n-1} 1/t. An O(N^2) version (a distance matrix) is fine for N = 2000.

Grade it:  python -m pytest tutorial/exercises -k ex06
"""
import numpy as np  # noqa: F401


def knn_mutual_info(z, s, k=10):
    raise NotImplementedError
