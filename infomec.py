"""InfoMEC: InfoM (modularity), InfoE (explicitness), InfoC (compactness), from first principles.

Paper: Hsu et al., NeurIPS 2023, the section "InfoMEC". numpy only (and matplotlib for the
heatmap); this file stands on its own, so it can be copied into a project in any framework.

Given sources s (N x n_s, discrete ground-truth factors) and latents z (N x n_z):
  NMI_ij = I(s_i; z_j) / H(s_i)                          (n_s x n_z, in [0, 1], nats cancel)
    discrete z: plug-in MI of the contingency table; continuous z: the k-NN estimator of Ross (2014).
  active latents: discrete: range > 0; continuous: range > (largest range) * active_fraction (reference 1/20).
  InfoM = rescaled mean over active latents j of  max_i NMI_ij / sum_i NMI_ij   (each latent about one source?)
  InfoC = rescaled mean over sources i of         max_j NMI_ij / sum_j NMI_ij   (each source in one latent?)
          "rescaled": (ratio - 1/n) / (1 - 1/n), so that chance (equal spread over n) is 0 and one-to-one is 1.
  InfoE = mean over sources of (H_null - H_model) / H_null: how much of a source's entropy a LINEAR
          (multinomial logistic) read-out of the latents removes; H_null = log K, the class-balanced
          intercept-only model's cross-entropy.

Why not older metrics. MIG bins continuous latents into a histogram, so its value depends on the bin count and
on outliers, and it only looks at the top two latents per source; DCI and SAP train predictors whose capacity
and regularisation change the answer. InfoMEC estimates MI without binning (k-NN), reads modularity and
compactness off one NMI matrix with a chance-corrected ratio, and measures explicitness with an unregularised
linear model normalised by a null model, so the three numbers are comparable across models and datasets.
`mig` is here only for comparison.

Degenerate cases (the reference returns NaN or crashes; we define them):
  * a source with one value: ValueError (its entropy is 0, NMI is undefined);
  * no active latent: InfoM = InfoC = InfoE = 0 (nothing is encoded);
  * an active latent with zero MI to every source, or a source with zero MI to every active latent: its ratio
    is taken at chance (1/n), i.e. it contributes 0 after rescaling;
  * one active latent (or one source): InfoC (InfoM) = 1, trivially compact (modular).

Plain and fast: the file opens with the definitions, written as they read (mutual_info_knn_plain: Ross's k-NN
estimate point by point; logistic_cross_entropy_plain: InfoE's regression by plain Newton steps); below a fence,
the fast paths (mutual_info_knn: sorted windows; logistic_cross_entropy: Newton's method with exact shortcuts).
infomec(..., plain=True) runs the plain ones; tests/test_infomec.py checks that both give the same numbers.

Deviations from the reference implementation: the k-NN jitter that breaks ties is seeded (the reference's is
random), so results are deterministic; InfoE's logistic regression is fitted to its infimum (Newton's method,
see the comment above logistic_fit) instead of stopping after 100 L-BFGS iterations, which on trained models
falls short (a QLAE of the CPU sweep: InfoE 0.855 there, 0.8748 at the optimum); `converged` says whether the
infimum was reached, to a stated tolerance.
"""
import argparse
import math
import os
import sys
import time
import zipfile

import numpy as np

EULER_GAMMA = 0.5772156649015329


def digamma_int(n):
    """psi(n) for positive integer arrays: psi(1) = -gamma, psi(n + 1) = psi(n) + 1/n."""
    n = np.asarray(n, dtype=np.int64)
    table = np.concatenate([[0.0], -EULER_GAMMA + np.cumsum(np.concatenate([[0.0], 1.0 / np.arange(1, n.max())]))])
    return table[n]


def entropy(labels):
    """Plug-in entropy H = -sum p log p (nats) of integer labels 0..K-1."""
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_info_discrete(a, b):
    """Plug-in I(a; b) = sum_xy p(x,y) log p(x,y) / (p(x) p(y)) from the contingency table of two label arrays."""
    ka, kb = a.max() + 1, b.max() + 1
    joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb) / len(a)  # (ka, kb)
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return max(0.0, float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum()))


def mutual_info_knn_plain(z, s, k=10):
    """Ross (2014)'s k-NN estimate of I(z; s), written as its definition (O(N^2); mutual_info_knn is the same
    number, fast). z: continuous 1-D; s: integer labels. For every point i with label s_i:
        d_i = the distance from z_i to its k-th nearest neighbour among the OTHER points with label s_i
        m_i = how many points of any label lie strictly closer to z_i than d_i (z_i itself included)
    and  I = psi(N) + mean_i psi(k) - mean_i psi(N_{s_i}) - mean_i psi(m_i)   (psi: digamma; N_c: points of label c).
    Labels seen once are dropped; a label seen N_c <= k times uses k = N_c - 1. Negative estimates are 0."""
    counts = np.bincount(s)
    z, s = z[counts[s] > 1], s[counts[s] > 1]
    n, counts = len(z), np.bincount(s)
    if n == 0:
        return 0.0
    kk = np.minimum(k, counts[s] - 1)  # (n,)
    m = np.empty(n, np.int64)
    for start in range(0, n, 256):  # 256 points at a time: (256, n) distances
        i = np.arange(start, min(start + 256, n))
        dist = np.abs(z[i, None] - z[None, :])  # (b, n)
        same = np.where((s[i, None] == s[None, :]) & (i[:, None] != np.arange(n)[None, :]), dist, np.inf)
        d = np.sort(same, axis=1)[np.arange(len(i)), kk[i] - 1]  # (b,) the k-th same-label neighbour
        m[i] = (dist < d[:, None]).sum(1)
    mi = digamma_int(n) + digamma_int(kk).mean() - digamma_int(counts[s]).mean() - digamma_int(m).mean()
    return max(0.0, float(mi))


def nmi_matrix(s, z, discrete, k=10, plain=False):
    """NMI_ij = I(s_i; z_j) / H(s_i), (n_s, n_z). s: encoded labels; z: encoded codes or raw continuous latents.
    plain: the k-NN estimator as its definition reads (mutual_info_knn_plain), to check the fast one."""
    nmi = np.zeros((s.shape[1], z.shape[1]))
    if not discrete:
        z = standardise(z) + 1e-10 * np.random.default_rng(0).standard_normal(z.shape)  # break exact ties
    h = [entropy(s[:, i]) for i in range(s.shape[1])]
    for j in range(z.shape[1]):
        by_z = None if discrete else np.argsort(z[:, j], kind="stable")  # shared by all sources
        for i in range(s.shape[1]):
            if discrete:
                mi = mutual_info_discrete(s[:, i], z[:, j])
            else:
                if z[:, j].std() <= 1e-6:  # a constant latent tells nothing
                    mi = 0.0
                elif plain:
                    mi = mutual_info_knn_plain(z[:, j], s[:, i], k)
                else:
                    mi = mutual_info_knn(z[:, j], s[:, i], k, by_z)
            nmi[i, j] = mi / h[i]
    return nmi


def rescaled_ratio(nmi, axis):
    """mean of max/sum along `axis`, rescaled so chance (1/n) is 0 and one-hot is 1; zero rows count as chance."""
    n = nmi.shape[axis]
    if n == 1:
        return 1.0
    total = nmi.sum(axis)
    ratio = np.where(total > 0, nmi.max(axis) / np.where(total > 0, total, 1), 1 / n)
    return float((ratio.mean() - 1 / n) / (1 - 1 / n))


def standardise(z):
    """Zero mean, unit variance per column; a constant column becomes 0."""
    std = z.std(0)
    return (z - z.mean(0)) / np.where(std > 0, std, 1.0)


def logistic_cross_entropy_plain(x, y, iterations=200):
    """InfoE's fit written out plainly (numpy; logistic_cross_entropy is the same fit, fast, for all sources at
    once). An UNREGULARISED multinomial logistic regression of labels y (N,) on features x (N, d) plus an
    intercept, with class-balanced sample weights w_n = 1 / (K count(y_n)), minimising
        L(W) = sum_n w_n [log sum_c exp(x_n W_c) - x_n W_{y_n}]
    by Newton's method: gradient G = X^T (w (P - Y)), Hessian H = sum_n w_n (diag p_n - p_n p_n^T) (x) x_n x_n^T,
    step = -(H + delta I)^-1 G (newton_solve: H is singular along changes that move every class alike), halved until
    L falls.
    Stops when the Newton decrement -G.step is below 1e-10 (L is then within about that of its infimum) or L is
    below 1e-8 (the classes are separable: the infimum, 0, is only approached as W grows; Newton's steps shrink L
    geometrically there, so this costs a few dozen steps). Returns (the
    unweighted in-sample mean cross-entropy in nats, as InfoE scores it; converged)."""
    n, k = len(y), int(y.max()) + 1
    X = np.concatenate([x, np.ones((n, 1))], 1)  # (N, D): features and the intercept's column
    w = 1 / (k * np.bincount(y, minlength=k)[y])  # (N,) class-balanced weights, summing to 1
    Y = np.eye(k)[y]  # (N, K) indicators

    def evaluate(W):  # (weighted loss, probabilities (N, K), each sample's cross-entropy (N,))
        logits = X @ W
        logits = logits - logits.max(1, keepdims=True)
        lse = np.log(np.exp(logits).sum(1))
        return (w * (lse - logits[np.arange(n), y])).sum(), np.exp(logits - lse[:, None]), lse - logits[np.arange(n), y]

    W = np.zeros((X.shape[1], k))
    loss, P, nll = evaluate(W)
    converged = False
    for _ in range(iterations):
        if loss < 1e-8:
            converged = True
            break
        G = X.T @ (w[:, None] * (P - Y))  # (D, K)
        H = np.zeros((k, X.shape[1], k, X.shape[1]))
        for a in range(k):
            for b in range(k):
                H[a, :, b, :] = X.T @ ((w * P[:, a] * ((a == b) - P[:, b]))[:, None] * X)
        H = H.reshape(k * X.shape[1], k * X.shape[1])
        step = newton_solve(H, G)  # (D, K) -(H + tiny damping)^-1 G: see newton_solve
        decrement = -(G * step).sum()
        if decrement < 1e-10:
            converged = True
            break
        t = 1.0
        while t > 1e-10:
            new = evaluate(W + t * step)
            if new[0] <= loss - 1e-4 * t * decrement:
                W, (loss, P, nll) = W + t * step, new
                break
            t /= 2
        else:
            break  # no step lowers L (round-off): not converged
    return float(nll.mean()), converged


def infoe_score(s, z, discrete, plain=False):
    """InfoE = mean over sources of (H_null - H_model) / H_null, from the logistic fits (plain: one source at a
    time with logistic_cross_entropy_plain; else all at once, fast). Returns (InfoE, converged)."""
    if plain:
        x = np.concatenate([np.eye(z[:, j].max() + 1)[z[:, j]] for j in range(z.shape[1])], 1) if discrete \
            else standardise(z)
        fits = [logistic_cross_entropy_plain(x, s[:, i]) for i in range(s.shape[1])]
        h_model, converged = np.array([h for h, _ in fits]), all(c for _, c in fits)
    else:
        features = ("onehot", z) if discrete else ("dense", standardise(z))
        h_model, converged = logistic_cross_entropy(features, s)
    h_null = np.log(s.max(0) + 1)  # the balanced intercept-only model predicts uniformly: log K
    # not clipped, as in the authors' code: the fit minimises the class-balanced loss, so its unweighted
    # cross-entropy can exceed log K by a little on latents that say nothing (InfoE then slightly below 0)
    return float(np.mean((h_null - h_model) / h_null)), converged


def infomec(sources, latents, discrete, k=10, active_fraction=1 / 20, plain=False):
    """InfoM, InfoE, InfoC of `latents` (N, n_z) about `sources` (N, n_s).

    discrete=True for quantized codes (integer indices), False for continuous latents. active_fraction: the
    continuous pruning rule (reference 1/20; the authors' training-time logger used 1/8). plain=True computes
    every number with the plain definitions (mutual_info_knn_plain, logistic_cross_entropy_plain): slow (O(N^2)
    and a Newton fit per source), the same numbers, to check the fast paths by.
    Returns a dict: infom, infoe, infoc, nmi (n_s, n_z), active (n_z bools), n_active, converged, and settings.
    """
    if not 0 < active_fraction < 1:
        raise ValueError(f"active_fraction must be in (0, 1) (a latent is active if its range exceeds this "
                         f"fraction of the largest), got {active_fraction!r}")
    s, z = check_inputs(sources, latents, discrete, k)
    nmi = nmi_matrix(s, z, discrete, k, plain)
    ranges = z.max(0) - z.min(0)  # on raw latents (codes: > 0 iff the latent is not constant)
    active = ranges > 0 if discrete else ranges > ranges.max() * active_fraction
    result = {"nmi": nmi, "active": active, "n_active": int(active.sum()), "discrete": discrete, "k": k,
              "active_fraction": active_fraction, "flavour": "standalone",
              "infoe_readout": "onehot" if discrete else "linear"}
    if not active.any():
        return {**result, "infom": 0.0, "infoe": 0.0, "infoc": 0.0, "converged": True}
    infoe, converged = infoe_score(s, z, discrete, plain)
    return {**result, "infom": rescaled_ratio(nmi[:, active], axis=0), "infoc": rescaled_ratio(nmi[:, active], axis=1),
            "infoe": infoe, "converged": converged}


def infomec_training_time(sources, latents, discrete, plain=False):
    """InfoMEC as the authors' code logs it DURING TRAINING, beside the standalone metric that `infomec` computes.

    The authors' code has two flavours of the metric, and which one produced the paper's tables is not stated:
      standalone (`infomec`): k = 10 neighbours; continuous latents active if range > max range / 20, codes if
        they are not constant; InfoE of a quantized model from ONE-HOT codes (a free weight per value).
      training-time (this function): k = 3 neighbours (scikit-learn's default); every latent, continuous or not,
        active if its range > max range / 8; and InfoE of QLAE / QLInfoWGAN-GP read out LINEARLY from the
        standardised quantized VALUES z_q (one weight per latent: a value's place on its axis matters), while
        VQ-VAE's integer indices are one-hot encoded as in the standalone flavour.
    As in the authors' code, what the latents are is told by their dtype: floats with `discrete=True` are the
    quantized VALUES (NMI on the distinct values as labels, InfoE linear in the standardised values); integers
    with `discrete=True` are indices (NMI on them, InfoE one-hot); `discrete=False` are continuous latents
    (k-NN NMI with k = 3, InfoE linear). InfoM and InfoC use the same chance-rescaled ratios as `infomec`
    (the degenerate cases as defined there; the authors' logger drops NaN ratios instead).
    A one-hot read-out can fit any map from values to classes; a linear one gives each class one interval along
    a latent's axis, so it cannot read out a class that owns non-adjacent values (or one told only by a
    combination of values of several latents). For codes, the training-time InfoE is therefore at most the
    standalone one, and equal when each class is an interval of values (e.g. values linear in the source).
    """
    latents = np.asarray(latents)
    values = discrete and np.issubdtype(latents.dtype, np.floating)
    if values:  # quantized values: labels for the NMI, the floats themselves for the linear read-out
        if latents.ndim != 2 or not np.isfinite(latents).all():
            raise ValueError(f"latents must be a finite 2-D array (N x n_z), got shape {latents.shape}")
        labels = np.stack([np.unique(latents[:, j], return_inverse=True)[1].reshape(-1)
                           for j in range(latents.shape[1])], 1)
        s, z = check_inputs(sources, labels, True, 3)
        raw = latents.astype(np.float64)
    else:
        s, z = check_inputs(sources, latents, discrete, 3)
        raw = z
    nmi = nmi_matrix(s, z, discrete, 3, plain)
    ranges = raw.max(0) - raw.min(0)
    active = ranges > ranges.max() / 8
    result = {"nmi": nmi, "active": active, "n_active": int(active.sum()), "discrete": discrete, "k": 3,
              "active_fraction": 1 / 8, "flavour": "training", "infoe_readout": "linear" if values or not discrete
              else "onehot"}
    if not active.any():
        return {**result, "infom": 0.0, "infoe": 0.0, "infoc": 0.0, "converged": True}
    infoe, converged = infoe_score(s, raw if values else z, discrete and not values, plain)
    return {**result, "infom": rescaled_ratio(nmi[:, active], axis=0), "infoc": rescaled_ratio(nmi[:, active], axis=1),
            "infoe": infoe, "converged": converged}


# ==========================================================================================================
# Fast paths: the same numbers as the definitions above, computed faster (tests/test_infomec.py checks that
# they agree; infomec(..., plain=True) runs the definitions). A reader learning the metric can stop here.
# ==========================================================================================================
def mutual_info_knn(z, s, k=10, by_z=None):
    """Ross (2014) k-nearest-neighbour estimate of I(z; s), z continuous 1-D, s integer labels: the number
    mutual_info_knn_plain computes, in O(N log N).

    For each point i with label s_i: find d_i, the distance to its k-th nearest neighbour AMONG POINTS WITH THE
    SAME LABEL; count m_i, the points of ANY label within d_i (itself included). If z carried no information
    about s, a ball holding k same-label points would hold about k * N / N_s points of any label; the
    more informative z is, the fewer other-label points crowd in, the smaller m_i. The estimate is
        I = psi(N) + <psi(k)> - <psi(N_s)> - <psi(m)>        (psi = digamma, <.> = mean over points)
    (derived like Kraskov et al.'s estimator: psi(m) - psi(k) estimates log of the local density ratio).
    k trades bias for variance: small k sees finer structure (less bias) but averages noisier counts.
    Labels seen once are dropped; a label seen N_s <= k times uses k = N_s - 1. Negative estimates (noise) are
    clipped to 0, as the reference does. In 1-D the k nearest neighbours are a contiguous run of the sorted
    values, so this is O(N log N) with numpy, no tree needed. by_z: np.argsort(z, kind="stable"), if known.
    """
    n = len(z)
    counts = np.bincount(s)
    keep = counts[s] > 1
    if not keep.all():
        z, s, n, by_z = z[keep], s[keep], int(keep.sum()), None
    if n == 0:
        return 0.0
    by_z = np.argsort(z, kind="stable") if by_z is None else by_z  # (n,) indices in ascending z
    to_label = np.argsort(s[by_z], kind="stable")  # then grouped by label (stable: still ascending z within one)
    order = by_z[to_label]  # (n,) grouped by label, sorted by z within each label
    zl, sl = z[order], s[order]  # (n,)
    counts = np.bincount(sl)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])[sl]  # (n,) first position of each point's label group
    end = start + counts[sl] - 1  # (n,) last position
    kk = np.minimum(k, counts[sl] - 1)  # (n,)
    # the window of kk + 1 points [i - a, i - a + kk] holds point i and kk others, for a = 0..kk; the k-th
    # neighbour's distance is the smallest window half-width over the windows that stay inside i's label group
    a = np.arange(k + 1)[:, None]  # (k + 1, 1)
    left = np.arange(n) - a  # (k + 1, n)
    right = left + kk
    ok = (a <= kk) & (left >= start) & (right <= end)
    width = np.maximum(zl - zl[np.clip(left, 0, n - 1)], zl[np.clip(right, 0, n - 1)] - zl)  # (k + 1, n)
    radius = np.where(ok, width, np.inf).min(0)  # (n,)
    # m: points strictly closer than the k-th neighbour (as the reference counts), found by binary search in the
    # sorted values, point by point in ascending z (nearly sorted queries: the searches stay in cache); z_i +- d
    # rounds, so the two boundary points are re-checked with exact differences.
    zs, d = z[by_z], np.empty(n)
    d[to_label] = radius  # (n,) the radius of the point at each z rank
    hi = np.searchsorted(zs, zs + d, "left")  # (n,) first index with z >= z_i + d (approximately)
    lo = np.searchsorted(zs, zs - d, "right")  # (n,) first index with z > z_i - d (approximately)
    for _ in range(2):
        hi += (hi < n) & (zs[np.minimum(hi, n - 1)] - zs < d)
        hi -= (hi > 0) & (zs[np.maximum(hi - 1, 0)] - zs >= d)
        lo -= (lo > 0) & (zs - zs[np.maximum(lo - 1, 0)] < d)
        lo += (lo < n) & (zs - zs[np.minimum(lo, n - 1)] >= d)
    m = hi - lo  # (n,), itself included
    mi = digamma_int(n) + digamma_int(kk).mean() - digamma_int(counts[sl]).mean() - digamma_int(m).mean()
    return max(0.0, float(mi))


# InfoE's logistic regressions, fast. One source at a time, the same problem as logistic_cross_entropy_plain:
# minimise L(W) = sum_n w_n [log sum_c exp(x_n W_c) - x_n W_{y_n}] (w_n = 1 / (K count(y_n))) by Newton's method,
# with four changes that alter the path, never the infimum:
#   1. codes: a (value, class) pair that never occurs together has infimum weight -inf (sending it there removes
#      class c from the softmax of exactly the samples that have that value, none of which is of class c, so no
#      sample's loss rises). Those pairs are fixed at -inf up front; a sample left with only its own class costs 0
#      and leaves the problem. On trained codes this settles most sources outright (a source told by one
#      latent's values is separable value by value).
#   2. a closed-form start: linear discriminant analysis for continuous latents, naive Bayes (log p(value | class))
#      for codes; kept if it beats the uniform model. When every sample is already on its own side (the classes
#      are separable along the current W), the loss falls to 0 as W is scaled up, so W is doubled until the loss
#      is below SEPARABLE_LOSS, the stated distance to the infimum (0).
#   3. the Newton system: continuous latents have few columns (D = n_z + 1), so H is formed exactly (from the upper
#      triangles of x x^T and of w (diag p - p p^T)) and solved directly. Codes have a column per value
#      (hundreds): conjugate gradients solve H s = -G with products H v (two products with the 0/1 design),
#      preconditioned by H's K x K diagonal blocks, one per column; when they stall (trained codes' H is often
#      ill-conditioned) H is formed after all, cheaply because each sample adds only to the classes it can still
#      be (codes_hessian) or, for wide codes like VQ-VAE's, only at its own (n_z + 1)^2 pairs of columns
#      (codes_hessian_by_pairs), and solved directly.
#   4. the line search halves the step until the loss falls enough and, when the full step was taken, doubles it
#      while the loss keeps falling (along a separating direction Newton's steps are too short).
# `converged` means: the Newton decrement -G.step (twice the loss decrease the quadratic model predicts, and
# about the distance to the infimum near it) is below DECREMENT, or the loss is below SEPARABLE_LOSS. For codes
# the decrement that decides comes from an exact step or a tight solve (residual 1e-6 |G|; conjugate gradients'
# -G.s grows monotonically toward the exact decrement, so it stops early once it passes the bar: not converged).
SEPARABLE_LOSS, DECREMENT = 1e-7, 1e-6
DENSE_DESIGN_LIMIT = 2 ** 25  # codes' 0/1 design held dense up to this many entries (256 MB of float64)


class OneHotDesign:
    """One-hot codes plus an intercept as a 0/1 design matrix X (N, width): held dense when that is small (then
    X @ W and X^T @ R are plain matrix products), else as each sample's column indices (N, n_z + 1)."""

    def __init__(self, col, width):
        self.col, self.width, self.dense = col, width, None
        if len(col) * width <= DENSE_DESIGN_LIMIT:
            self.dense = np.zeros((len(col), width))
            self.dense[np.arange(len(col))[:, None], col] = 1
        else:  # per latent, the samples sorted by column, and where each column's run starts
            self.by_col = [np.argsort(c, kind="stable") for c in col.T]
            self.bounds = [np.searchsorted(c[p], np.arange(width + 1)) for c, p in zip(col.T, self.by_col)]

    def rows(self, keep):
        return OneHotDesign(self.col[keep], self.width)

    def mul(self, W):  # X @ W: (N, K)
        if self.dense is not None:
            return self.dense @ W
        out = W[self.col[:, 0]].copy()
        for c in self.col.T[1:]:
            out += W[c]
        return out

    def tmul(self, R):  # X^T @ R: (width, K), per column the sum over the samples that have it
        if self.dense is not None:
            return self.dense.T @ R
        out = np.zeros((self.width, R.shape[1]))
        for p, b in zip(self.by_col, self.bounds):
            seen = np.flatnonzero(b[1:] > b[:-1])  # (reduceat needs non-empty runs)
            out[seen] += np.add.reduceat(R[p], b[:-1][seen])
        return out


class DenseDesign:
    """Standardised continuous latents plus a column of ones (N, D)."""

    def __init__(self, x):
        self.x, self.width = x, x.shape[1]

    def rows(self, keep):
        return DenseDesign(self.x[keep])

    def mul(self, W):
        return self.x @ W

    def tmul(self, R):
        return self.x.T @ R


def logistic_fit(design, y, k, newton_iter=100):
    """One source's fit (see the comment above). Returns (each sample's cross-entropy (N,), converged)."""
    n = len(y)
    w = 1 / (k * np.bincount(y, minlength=k)[y])  # (N,)
    Y = np.zeros((n, k))
    Y[np.arange(n), y] = 1
    nll = np.zeros(n)
    forbidden = np.zeros((n, k), bool)  # (N, K) classes fixed at -inf for a sample
    if isinstance(design, OneHotDesign):
        forbidden = (design.tmul(Y) == 0)[design.col].any(1)  # some value of the sample never seen with class c
    alive = (~forbidden).sum(1) > 1  # the others keep only their own class: cross-entropy 0
    if not alive.any():
        return nll, True
    d, y, w, Y, forbidden = design.rows(alive), y[alive], w[alive], Y[alive], forbidden[alive]
    m = len(y)

    def evaluate(W):  # (weighted loss, probabilities (m, K), each sample's cross-entropy (m,), logits (m, K))
        z = d.mul(W)
        z[forbidden] = -np.inf
        top = z.max(1, keepdims=True)
        e = np.exp(z - top)
        total = e.sum(1, keepdims=True)
        sample = top[:, 0] + np.log(total[:, 0]) - z[np.arange(m), y]
        return (w * sample).sum(), e / total, sample, z

    W = np.zeros((d.width, k))
    current = evaluate(W)
    if isinstance(d, DenseDesign):  # linear discriminant analysis: balanced class means, pooled covariance
        x = d.x[:, :-1]
        means = (Y * w[:, None]).T @ x * k  # (K, D - 1)
        centred = x - means[y]
        cov = centred.T @ (w[:, None] * centred)  # (D - 1, D - 1); a tiny ridge for directions without spread
        A = np.linalg.solve(cov + 1e-6 * max(np.trace(cov), 1e-300) * np.eye(len(cov)), means.T)  # (D - 1, K)
        start = np.concatenate([A, -0.5 * (means.T * A).sum(0)[None]])
    else:  # naive Bayes: log p(value | class), balanced; the intercept (last column) 0
        counts = d.tmul(w[:, None] * Y) * k  # (width, K)
        start = np.log(np.where(counts > 0, counts, 1))
        start[-1] = 0
    tried = evaluate(start)
    while True:  # a closed-form start can be far too large (directions where the classes barely spread): shrink
        half = evaluate(start / 2)  # it while that lowers the loss, so no sample starts out certain of a wrong class
        if not half[0] < tried[0]:
            break
        start, tried = start / 2, half
    if tried[0] < current[0]:
        W, current = start, tried
    loss, P, sample, z = current
    converged, state = False, {}
    for _ in range(newton_iter):
        if loss < SEPARABLE_LOSS:
            converged = True
            break
        margin = z[np.arange(m), y][:, None] - np.where(Y > 0, -np.inf, z)  # (m, K) own logit minus the others
        if margin.min() > 0:  # every sample on its own side: scale W up until the loss is negligible
            for t in 2.0 ** np.arange(1, 60):
                tried = evaluate(t * W)
                if tried[0] < SEPARABLE_LOSS:
                    W, (loss, P, sample, z) = t * W, tried
                    break
            converged = loss < SEPARABLE_LOSS
            break
        G = d.tmul(w[:, None] * (P - Y))  # (width, K) the gradient
        if isinstance(d, DenseDesign):
            step, certain = newton_step_dense(d.x, P, Y, w, G), True
        else:
            step, certain = newton_step_codes(d, P, w, G, state)
        decrement = -(G * step).sum()
        if decrement < DECREMENT and certain:
            converged = True
            break
        t = 1.0
        while t > 1e-10:  # backtrack until the loss falls by a small fraction of the prediction...
            tried = evaluate(W + t * step)
            if tried[0] <= loss - 1e-4 * t * decrement:
                break
            t /= 2
        else:  # no step lowers the loss (round-off at the scale of the loss): stop, not converged
            break
        while t >= 1.0:  # ...or, when the full step was taken, go further while the loss keeps falling
            further = evaluate(W + 2 * t * step)
            if not further[0] < tried[0]:
                break
            t, tried = 2 * t, further
        W, (loss, P, sample, z) = W + t * step, tried
    nll[alive] = sample
    return nll, converged


def newton_step_dense(x, P, Y, w, G):
    """-H^-1 G with H formed: H[(a,i),(b,j)] = sum_n w_n (p_na [a = b] - p_na p_nb) x_ni x_nj. x_ni x_nj is
    symmetric, so only its upper triangle (N, D(D+1)/2) is formed and multiplied by each factor once. Samples
    certain of their own class (p_ny > 1 - 1e-12) add at most 1e-12 w_n to H and to G and are left out; a sample
    certain of a WRONG class stays (it adds little curvature but much gradient)."""
    use = (P * Y).sum(1) < 1 - 1e-12
    x, p, w = x[use], P[use], w[use]
    (dim, k), (iu, ju) = G.shape, np.triu_indices(x.shape[1])
    pairs = x[:, iu] * x[:, ju]  # (N, T)
    q = np.sqrt(w)[:, None] * p  # (N, K)
    M = -(pairs.T @ (q[:, :, None] * q[:, None, :]).reshape(len(q), k * k)).reshape(-1, k, k)  # (T, K, K)
    M[:, np.arange(k), np.arange(k)] += pairs.T @ (w[:, None] * p)
    sym = np.zeros((dim, dim), int)
    sym[iu, ju] = sym[ju, iu] = np.arange(len(iu))
    H = M[sym].transpose(2, 0, 3, 1).reshape(k * dim, k * dim)  # (D, D, K, K) -> rows (a, i), columns (b, j)
    return newton_solve(H, G)


def newton_step_codes(d, P, w, G, state):
    """-H^-1 G for codes, by preconditioned conjugate gradients with H applied as H v = X^T (w p (X v - <p, X v>)):
    a loose solve (residual min(0.5, sqrt|G|) |G|, the usual inexact Newton) gives the step, and near the bar a
    tight one (1e-6 |G|) decides. When conjugate gradients do not get there in a few dozen iterations (H is
    ill-conditioned: trained codes often are), the step is exact, from H formed, if that is affordable; and so are
    the rest of this fit's steps (state["exact"]). Returns (step, whether its decrement can be trusted)."""
    k = G.shape[1]
    norm = np.sqrt((G ** 2).sum())

    inverse = []  # the preconditioner, H's K x K diagonal blocks (one per column), inverted; built once, if needed

    def solve(tolerance, cap):
        if not inverse:
            C = w[:, None, None] * (P[:, :, None] * np.eye(k) - P[:, :, None] * P[:, None, :])  # (m, K, K)
            inverse.append(np.linalg.inv(d.tmul(C.reshape(len(P), k * k)).reshape(-1, k, k) + 1e-10 * np.eye(k)))
        s, r = np.zeros_like(G), -G
        q = np.einsum("cab,cb->ca", inverse[0], r)
        p, rq = q.copy(), (r * q).sum()
        for _ in range(cap):
            zp = d.mul(p)
            hp = d.tmul(w[:, None] * P * (zp - (P * zp).sum(1, keepdims=True))) + 1e-12 * p
            curvature = (p * hp).sum()
            if not curvature > 0:  # nothing left to solve (r = 0), or round-off: stop with what we have
                return s, rq == 0
            alpha = rq / curvature
            s, r = s + alpha * p, r - alpha * hp
            if np.sqrt((r ** 2).sum()) <= tolerance * norm:
                return s, True
            if tolerance < 1e-3 and -(G * s).sum() >= DECREMENT:
                return s, True  # -G.s only grows toward the exact decrement: past the bar, certainly not converged
            q = np.einsum("cab,cb->ca", inverse[0], r)
            rq, old = (r * q).sum(), rq
            p = q + rq / old * p
        return s, False

    near = False
    if not state.get("exact"):
        step, reached = solve(min(0.5, np.sqrt(norm)), 30)
        near = -(G * step).sum() < 10 * DECREMENT
        if reached and not near:
            return step, True
        if near:
            step, reached = solve(1e-6, 50)
            if reached:
                return step, True
    H = codes_hessian(d, P, w)
    if H is None:  # too big to form: conjugate gradients to the end (far from the bar an underestimate is harmless)
        return solve(1e-6, 500) if near or state.get("exact") else (step, True)
    state["exact"] = True
    return newton_solve(H, G), True


def newton_solve(H, G):
    """-(H + delta I)^-1 G, G (width, K) and H in (class, column) order, delta = 1e-10 x H's largest diagonal entry.
    H is singular along changes that move no logit (every class shifted alike; for codes also one latent's values
    against the intercept, and pairs fixed at -inf); rows with neither curvature nor gradient are left out, and the
    tiny damping makes the rest definite. A row with a gradient but (almost) no curvature (a sample certain of a
    wrong class: the loss falls almost linearly there) keeps its gradient, so the step there is long and the
    decrement -G.step large: such a fit is never taken as converged (the line search shortens the step)."""
    g = G.T.reshape(-1)
    keep = (H.diagonal() > 0) | (g != 0)
    H = H[np.ix_(keep, keep)]  # a copy: the damping below leaves the caller's H as it was
    H[np.diag_indices(len(H))] += 1e-10 * max(H.diagonal().max(initial=0), 1e-300)
    try:
        solution = np.linalg.solve(H, g[keep])
    except np.linalg.LinAlgError:
        solution = np.linalg.lstsq(H, g[keep], rcond=None)[0]
    step = np.zeros_like(g)
    step[keep] = -solution
    return step.reshape(G.shape[1], -1).T


def codes_hessian(d, P, w, budget=2e10):
    """H of the codes' fit, (K width, K width) in (class, column) order, or None if it would cost more than
    `budget` multiply-adds. H = sum_n x_n x_n^T (x) w_n (diag p_n - p_n p_n^T), and only the classes a sample could
    still be (p above 1e-12: the others add at most 1e-12 w_n to any entry) matter: samples sharing that set A
    share a dense block over A's classes, when that is cheaper than one block over every class."""
    (m, k), width = P.shape, d.width
    allowed = P > 1e-12
    allowed[allowed.sum(1) < 2] = False  # a sample left with one class adds nothing (diag p - p p^T = 0)
    patterns, group = np.unique(allowed, axis=0, return_inverse=True)
    sizes, members = patterns.sum(1), np.bincount(group.reshape(-1), minlength=len(patterns))
    grouped = ((members + 64) * (sizes * width) ** 2)[sizes > 1].sum()  # (64: adding a block into H)
    union = allowed.any(0)
    if m * (union.sum() * width) ** 2 < grouped:  # one block over every class still possible
        patterns, group = union[None], np.where(allowed.any(1), 0, -1)
    if d.dense is None or min(grouped, m * (union.sum() * width) ** 2) > budget:  # wide codes (VQ-VAE's): by pairs
        return codes_hessian_by_pairs(d, P, w) if (k * width) ** 2 <= DENSE_DESIGN_LIMIT else None
    group = group.reshape(-1)
    by_group = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[by_group], np.arange(len(patterns) + 1))
    H = np.zeros((k, width, k, width))
    for t, classes in enumerate(patterns):
        if classes.sum() < 2:
            continue
        rows, idx = by_group[starts[t]:starts[t + 1]], np.flatnonzero(classes)
        x, p, wt = d.dense[rows], P[rows][:, idx], w[rows]
        u = ((np.sqrt(wt)[:, None] * p)[:, :, None] * x[:, None, :]).reshape(len(rows), -1)  # (m_A, |A| width)
        block = -(u.T @ u).reshape(len(idx), width, len(idx), width)
        for i in range(len(idx)):
            block[i, :, i, :] += (x * (wt * p[:, i])[:, None]).T @ x
        H[np.ix_(idx, np.arange(width), idx, np.arange(width))] += block
    return H.reshape(k * width, k * width)


def codes_hessian_by_pairs(d, P, w):
    """The same H built from the design's sparsity, for codes too wide for codes_hessian's dense blocks: a sample
    has one 1 per latent (and the intercept), so it adds its K x K block w_n (diag p_n - p_n p_n^T) only at the
    (column, column) pairs of its own values, (n_z + 1)^2 blocks whatever the width. Summed one pair of latents at
    a time: the samples sorted by their pair of columns, each run added up."""
    k, width = P.shape[1], d.width
    use = 1 - P.max(1) > 1e-12  # a certain prediction adds at most 1e-12 w_n
    H = np.zeros((k, width, k, width))
    if use.any():
        col, p, wt = d.col[use], P[use], w[use]
        C = wt[:, None, None] * (p[:, :, None] * np.eye(k) - p[:, :, None] * p[:, None, :])  # (m', K, K)
        for a in range(col.shape[1]):
            for b in range(a, col.shape[1]):
                key = col[:, a] * width + col[:, b]  # (m',) the pair of columns (i, j) as one number
                order = np.argsort(key, kind="stable")
                key = key[order]
                runs = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # where each pair of columns starts
                block = np.add.reduceat(C[order], runs)  # (pairs, K, K)
                i, j = key[runs] // width, key[runs] % width
                H[:, i, :, j] += block  # H[c, i, c', j] for every class pair (c, c')
                if a != b:
                    H[:, j, :, i] += block.transpose(0, 2, 1)  # H is symmetric
    return H.reshape(k * width, k * width)


def logistic_cross_entropy(features, s, newton_iter=100):
    """In-sample cross-entropy per source (n_s,) of InfoE's logistic regressions, and whether every fit converged.
    features: ("onehot", codes (N, n_z) int, each column 0..V_j - 1) or ("dense", standardised latents (N, d))."""
    kind, x = features
    if kind == "onehot":
        sizes = x.max(0) + 1
        col = np.concatenate([x + np.concatenate([[0], np.cumsum(sizes)[:-1]]), np.full((len(x), 1), sizes.sum())], 1)
        design = OneHotDesign(col, int(sizes.sum()) + 1)
    else:
        design = DenseDesign(np.concatenate([x, np.ones((len(x), 1))], 1))
    fits = [logistic_fit(design, s[:, i], int(s[:, i].max()) + 1, newton_iter) for i in range(s.shape[1])]
    return np.array([nll.mean() for nll, _ in fits]), all(converged for _, converged in fits)


# ==========================================================================================================
# Plumbing and tools: input checks, MIG for comparison, the heatmap, the synthetic cases, the benchmark, the
# command line.
# ==========================================================================================================
def encode_labels(column, what):
    """Any integer-valued labels -> 0..K-1 (in sorted order)."""
    if not np.all(np.equal(np.mod(column, 1), 0)):
        raise ValueError(f"{what} must hold integer labels (a float label like 0.25 is ambiguous: map values to "
                         "indices first, e.g. np.unique(col, return_inverse=True)[1])")
    return np.unique(column, return_inverse=True)[1].reshape(-1)


MAX_SOURCE_CLASSES, MAX_CODE_VALUES = 1000, 10_000  # beyond these a "label" is almost surely a continuous value


def check_inputs(sources, latents, discrete, k):
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k (neighbours of the k-NN estimator) must be a positive integer, got {k!r}")
    sources, latents = np.asarray(sources), np.asarray(latents)
    for name, a in (("sources", sources), ("latents", latents)):
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (N samples x columns), got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
            raise ValueError(f"{name} must be finite numbers (found NaN, inf or non-numbers)")
    if sources.shape[0] != latents.shape[0]:
        raise ValueError(f"sources and latents disagree on N: {sources.shape[0]} vs {latents.shape[0]}")
    if not discrete and sources.shape[0] <= k:
        raise ValueError(f"the k-NN estimator needs N > k samples, got N = {sources.shape[0]}, k = {k}")
    if sources.shape[1] == 0 or latents.shape[1] == 0 or sources.shape[0] == 0:
        raise ValueError(f"need at least one sample, source and latent; got sources {sources.shape}, latents "
                         f"{latents.shape}")
    s = np.stack([encode_labels(sources[:, i], f"sources[:, {i}]") for i in range(sources.shape[1])], 1)
    if s.max() >= MAX_SOURCE_CLASSES:
        i = int(np.argmax(s.max(0)))
        raise ValueError(f"sources[:, {i}] takes {s[:, i].max() + 1} distinct values; sources must be discrete "
                         f"factors with fewer than {MAX_SOURCE_CLASSES} values (bin a continuous factor first)")
    for i in range(s.shape[1]):
        if s[:, i].max() == 0:
            raise ValueError(f"sources[:, {i}] is constant; every source must take at least two values")
    if discrete:
        latents = np.stack([encode_labels(latents[:, j], f"latents[:, {j}] (pass discrete=False for continuous "
                                                          "latents)") for j in range(latents.shape[1])], 1)
        if latents.max() >= MAX_CODE_VALUES:
            raise ValueError(f"a discrete latent takes {latents.max() + 1} distinct values (at most "
                             f"{MAX_CODE_VALUES} are scored as codes): are these continuous latents? pass "
                             "discrete=False (CLI: drop --discrete)")
    return s, latents.astype(np.int64 if discrete else np.float64)


def read_latents_file(path):
    """(sources, latents, values or None) of an .npz evaluation set: plain arrays only, never pickled objects
    (allow_pickle=False, numpy's default: a file cannot run code). Any problem is a one-line ValueError that
    names the file and what was expected."""
    expected = ("expected `sources` (N x n_s) and `latents` (N x n_z) arrays in an .npz archive (e.g. from np.savez; "
                "optionally `values`, a quantized model's z_q)")
    if not zipfile.is_zipfile(path):  # (numpy would read any other file as a pickle, and refuse it confusingly)
        raise ValueError(f"{path} is not an .npz archive (missing, empty, truncated or another format); {expected}")
    try:
        with np.load(path) as saved:
            files = saved.files
            arrays = {n: saved[n] for n in ("sources", "latents", "values") if n in files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        if "allow_pickle" in str(e):  # an object array: only pickle could load it
            raise ValueError(f"{path} holds Python objects, refused (loading them could run code); {expected}") from None
        raise ValueError(f"{path} is not a readable .npz archive ({e}); {expected}") from None
    for n in ("sources", "latents"):
        if n not in arrays:
            raise ValueError(f"{path} has no array {n!r} (found {sorted(files)}); {expected}")
    return arrays["sources"], arrays["latents"], arrays.get("values")


def mig(sources, latents, discrete, bins=20):
    """Mutual Information Gap (Chen et al. 2018), for comparison: mean over sources of the gap between the two
    largest NMI values, with continuous latents discretised into `bins` equal-width histogram bins."""
    s, z = check_inputs(sources, latents, discrete, 1)  # (k is not used: MIG bins continuous latents)
    if not discrete:
        edges = [np.histogram_bin_edges(z[:, j], bins) for j in range(z.shape[1])]
        z = np.stack([np.clip(np.digitize(z[:, j], e[1:-1]), 0, bins - 1) for j, e in enumerate(edges)], 1)
    nmi = np.array([[mutual_info_discrete(s[:, i], z[:, j]) / entropy(s[:, i]) for j in range(z.shape[1])]
                    for i in range(s.shape[1])])
    top = -np.sort(-nmi, axis=1)
    return float(np.mean(top[:, 0] - (top[:, 1] if nmi.shape[1] > 1 else 0)))


def plot_nmi(result, path, source_names=None, title=""):
    """Heatmap of the NMI matrix: sources down, latents across; pruned (inactive) latents greyed and marked.
    result (and title) may also be lists: one panel per result, side by side (e.g. AE beside QLAE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = result if isinstance(result, (list, tuple)) else [result]
    titles = title if isinstance(title, (list, tuple)) else [title] * len(results)
    n_s, n_z = results[0]["nmi"].shape
    fig, axes = plt.subplots(1, len(results), figsize=((0.55 * n_z + 2.2) * len(results), 0.45 * n_s + 1.4),
                             squeeze=False)
    for r, ax, name in zip(results, axes[0], titles):
        nmi, active = r["nmi"], r["active"]
        names = list(source_names) if source_names is not None else [f"s{i}" for i in range(len(nmi))]
        im = ax.imshow(nmi, vmin=0, vmax=1, cmap="viridis")
        for i in range(nmi.shape[0]):
            for j in range(nmi.shape[1]):
                ax.text(j, i, f"{nmi[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if nmi[i, j] < 0.5 else "black")
        for j in np.flatnonzero(~active):
            ax.axvspan(j - 0.5, j + 0.5, color="grey", alpha=0.7, hatch="//")
        ax.set_xticks(range(nmi.shape[1]), [f"z{j}" + ("" if active[j] else "\n(pruned)")
                                            for j in range(nmi.shape[1])], fontsize=7)
        ax.set_yticks(range(len(nmi)), names, fontsize=7)
        ax.set_xlabel("latent"), ax.set_ylabel("source")
        scores = f"InfoM {r['infom']:.2f}  InfoE {r['infoe']:.2f}  InfoC {r['infoc']:.2f}"
        ax.set_title(f"{name}: {scores}" if name else scores, fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.03, label="NMI")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def synthetic(case, n=10_000, seed=0):
    """6 sources (10, 10, 10, 8, 4, 15) and 12 latents. The reference's test constructions:
    identity: latents = sources scaled to [0, 1] + 1% noise, then 6 constant (inactive) latents;
    rotation: a random 12 x 12 rotation of the standardised sources padded with 6 zeros;
    noise: 12 standard Gaussians; codes_identity: the sources as codes + 6 constant codes;
    codes_random: 12 uniform random codes with 10 values.
    And two like the latents people score (for the benchmark):
    near_separable: standardised sources, each mixed with the next by a small rotation (0.1 rad), 2% noise, and
      6 Gaussian latents (InfoE close to 1: the hard case for the fit, whose loss has no minimum to stop at);
    codes_trained: codes like a trained QLAE's: each source binned onto one latent's 10 values with 3% of codes
      moved to a neighbouring value, source 3 also coarsely on a second latent, source 5 (15 values) split over two
      latents (coarse and fine), the rest random. Returns (sources, latents, discrete)."""
    rng = np.random.default_rng(seed)
    sizes = np.array([10, 10, 10, 8, 4, 15])
    s = rng.integers(0, sizes, size=(n, 6))
    pad = np.zeros((n, 6))
    if case == "identity":
        return s, np.concatenate([s / (sizes - 1) + 0.01 * rng.standard_normal((n, 6)), pad], 1), False
    if case == "rotation":
        q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
        return s, np.concatenate([standardise(s.astype(float)), pad], 1) @ q, False
    if case == "noise":
        return s, rng.standard_normal((n, 12)), False
    if case == "codes_identity":
        return s, np.concatenate([s, pad], 1).astype(int), True
    if case == "codes_random":
        return s, rng.integers(0, 10, size=(n, 12)), True
    if case == "near_separable":
        x = standardise(s.astype(float))
        x = np.cos(0.1) * x + np.sin(0.1) * np.roll(x, 1, axis=1) + 0.02 * rng.standard_normal((n, 6))
        return s, np.concatenate([x, rng.standard_normal((n, 6))], 1), False
    if case == "codes_trained":
        binned = np.round(s / (sizes - 1) * 9).astype(int)  # (n, 6) each source on 10 values
        nudge = np.where(rng.random((n, 6)) < 0.03, rng.choice([-1, 1], (n, 6)), 0)
        codes = np.clip(binned + nudge, 0, 9)
        codes[:, 5] = s[:, 5] // 2  # 15 values: coarse here, fine (parity) on latent 7
        extra = np.stack([s[:, 3] // 3, s[:, 5] % 2 * 5 + rng.integers(0, 5, n)], 1)
        return s, np.concatenate([codes, extra, rng.integers(0, 10, (n, 4))], 1), True
    raise ValueError(case)


BENCHMARK_CASES = ("identity", "rotation", "near_separable", "codes_random", "codes_trained")


def benchmark(path=None, discrete=False, repeats=3):
    """Seconds per infomec() call, in process: best of `repeats` at N = 10 000, one call at N = 100 000 (after a
    warm-up call). With a path: the same for that .npz file (its `sources` and `latents`)."""
    infomec(*synthetic("noise", 1000))  # warm-up: the first call pays one-off costs
    runs = [(f"{case} N={n}", *synthetic(case, n), repeats if n <= 10_000 else 1)
            for n in (10_000, 100_000) for case in BENCHMARK_CASES]
    if path:
        runs = [(path, *read_latents_file(path)[:2], discrete, repeats)]
    print(f"{'case':28s} {'seconds':>8s} {'InfoM':>6s} {'InfoE':>6s} {'InfoC':>6s}  fit")
    for name, s, z, disc, tries in runs:
        best = math.inf
        for _ in range(tries):
            t = time.perf_counter()
            r = infomec(s, z, disc)
            best = min(best, time.perf_counter() - t)
        print(f"{name:28s} {best:8.3f} {r['infom']:6.3f} {r['infoe']:6.3f} {r['infoc']:6.3f}  "
              f"{'converged' if r['converged'] else 'NOT converged'}", flush=True)


def main():
    p = argparse.ArgumentParser(description="InfoMEC of latents against sources. No FILE: a demo on synthetic cases.")
    p.add_argument("file", nargs="?", help="a .npz with arrays `sources` (N x n_s) and `latents` (N x n_z)")
    p.add_argument("--discrete", action="store_true", help="latents are integer codes (quantized models)")
    p.add_argument("--k", type=int, default=10, help="neighbours of the k-NN MI estimator (continuous latents)")
    p.add_argument("--active-fraction", type=float, default=1 / 20, help="continuous pruning: range > max x this")
    p.add_argument("--flavour", choices=["standalone", "training"], default="standalone",
                   help="standalone: the authors' metric file (k, --active-fraction as given); training: their "
                        "training-time logger (k = 3, range > max / 8, InfoE linear on the file's `values` if it has "
                        "them: a quantized model's z_q); see infomec_training_time")
    p.add_argument("--plot", default="", help="also write the NMI heatmap to this PNG")
    p.add_argument("--benchmark", action="store_true",
                   help="print timings: synthetic cases at N = 10 000 and 100 000, or FILE if given")
    a = p.parse_args()
    if a.benchmark:
        try:
            return benchmark(a.file, a.discrete)
        except ValueError as e:
            raise SystemExit(f"error: {e}")
    if a.file is None:
        print(f"{'case':16s} {'InfoM':>6s} {'InfoE':>6s} {'InfoC':>6s} {'MIG':>6s}")
        for case in ("identity", "rotation", "noise", "codes_identity", "codes_random"):
            s, z, discrete = synthetic(case)
            r = infomec(s, z, discrete)
            print(f"{case:16s} {r['infom']:6.3f} {r['infoe']:6.3f} {r['infoc']:6.3f} {mig(s, z, discrete):6.3f}")
        return
    try:
        sources, latents, values = read_latents_file(a.file)
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    if a.k < 1 or not 0 < a.active_fraction < 1:
        raise SystemExit(f"error: --k must be >= 1 and --active-fraction in (0, 1); got {a.k}, {a.active_fraction}")
    try:
        if a.flavour == "training":
            r = infomec_training_time(sources, values if values is not None and a.discrete else latents, a.discrete)
        else:
            r = infomec(sources, latents, a.discrete, a.k, a.active_fraction)
    except ValueError as e:
        raise SystemExit(f"error: {a.file}: {e}")
    print(f"InfoM {r['infom']:.4f}  InfoE {r['infoe']:.4f}  InfoC {r['infoc']:.4f}  "
          f"({r['flavour']} flavour; {r['n_active']} of {latents.shape[1]} latents active; "
          f"{'discrete' if a.discrete else 'continuous'}; InfoE read out {r['infoe_readout']}; "
          f"logistic regression {'converged' if r['converged'] else 'DID NOT converge'})")
    print("NMI (sources x latents):")
    print(np.array2string(r["nmi"], precision=3, suppress_small=True, max_line_width=200))
    if a.plot:
        plot_nmi(r, a.plot)
        print(f"wrote {a.plot}")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # piped into a command that stopped reading (`| head -1`): quiet, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
