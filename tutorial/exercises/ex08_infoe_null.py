"""Exercise 8 (step 4): InfoE's null model.

InfoE compares a logistic regression's cross-entropy with that of the best model that ignores the latents: a
constant prediction q (a probability vector over the K classes). Write null_cross_entropy(labels, balanced):
labels is an integer numpy array. Return the cross-entropy (nats) of the best constant q:
  - balanced=False: every sample weighs 1/N;
  - balanced=True: a sample of class c weighs 1 / (K * count(c)), so every class weighs 1/K in total.
Derive q first (minimise the weighted cross-entropy over q, e.g. with a Lagrange multiplier), then compute.

Grade it:  python -m pytest tutorial/exercises -k ex08
"""
import numpy as np  # noqa: F401


def null_cross_entropy(labels, balanced=True):
    raise NotImplementedError
