"""InfoMEC: InfoM (modularity), InfoE (explicitness), InfoC (compactness), from first principles.

Paper: Hsu et al., NeurIPS 2023, the section "InfoMEC". numpy only: this file stands on its own, so it can be
copied into a project in any framework. It holds the definitions, written as they read, and the scorer.

Given sources s (N x n_s, discrete ground-truth factors) and latents z (N x n_z):
  NMI_ij = I(s_i; z_j) / H(s_i)                          (n_s x n_z, in [0, 1], nats cancel)
    discrete z: plug-in MI of the contingency table; continuous z: the k-NN estimator of Ross (2014).
  active latents: codes: not constant; continuous: range > (largest range) * active_fraction (reference 1/20).
  InfoM = rescaled mean over active latents j of  max_i NMI_ij / sum_i NMI_ij   (each latent about one source?)
          with n = n_s, the number of sources;
  InfoC = rescaled mean over sources i of  max_j NMI_ij / sum_j NMI_ij, j over ACTIVE latents only
          (each source in one latent?), with n = n_a, the number of active latents;
          "rescaled": (ratio - 1/n) / (1 - 1/n), so that chance (equal spread over n) is 0 and one-to-one is 1.
  InfoE = mean over sources of (H_null - H_model) / H_null: how much of a source's entropy a LINEAR
          (multinomial logistic) read-out of the latents removes; H_null = log K, the class-balanced
          intercept-only model's cross-entropy. Codes are read out one-hot (a free weight per value). InfoE
          reads EVERY latent: the pruning of inactive latents applies to InfoM and InfoC only.

Why not older metrics. MIG bins continuous latents into a histogram, so its value depends on the bin count and
on outliers, and it only looks at the top two latents per source; DCI and SAP train predictors whose capacity
and regularisation change the answer. InfoMEC estimates MI without binning (k-NN), reads modularity and
compactness off one NMI matrix with a chance-corrected ratio, and measures explicitness with an unregularised
linear model normalised by a null model, so the three numbers are comparable across models and datasets.

Two flavours (FLAVOURS). The authors' code computes the metric in two ways that differ in three settings only:
  standalone (their metrics/infomec.py): k = 10 neighbours; continuous latents pruned below 1/20 of the largest
    range, codes kept unless constant; a quantized model is scored on its integer codes, InfoE read out one-hot.
  training (the metrics their training scripts log): k = 3; every latent pruned below 1/8 of the largest range;
    a quantized model is scored on its quantized VALUES (floats: each column a discrete variable for the MI,
    InfoE read out LINEARLY from the standardised values, so a value's place on its axis matters). Integer
    codes (a VQ-VAE's slot indices) are read out one-hot in both, as the authors' logger does: its evaluation
    (scripts/train_ae.py) scores a VQ-VAE on its indices, which their InfoE code one-hot encodes.
Which one the paper's tables used is not written down, but the authors' repository points to one. Its training
scripts (scripts/train_ae.py, scripts/train_gan.py) log only the training-time metrics
(disentangle/metrics/mutual_information.py, explicitness.py); the script that builds the tables
(scripts/tables_old.py) reads a per-run CSV (results/data.csv) that is not in the repository, and the only
per-run InfoMEC numbers the scripts produce are those logged ones; disentangle/metrics/infomec.py, the
standalone metric, was added in August 2023, after the paper.
So the TRAINING flavour is most likely the one to hold against the paper's tables (an inference, not stated by
the authors). Both are computed for every run; the standalone one is this function's default because it is
the metric the authors publish for others to use.

Degenerate cases (the reference returns NaN or crashes; we define them):
  * a source with one value: ValueError (its entropy is 0, NMI is undefined);
  * no active latent: InfoM = InfoC = InfoE = 0 (nothing is encoded);
  * an active latent with zero MI to every source, or a source with zero MI to every active latent: its ratio
    is taken at chance (1/n), i.e. it contributes 0 after rescaling;
  * one active latent (or one source): InfoC (InfoM) = 1, trivially compact (modular).

Deviations from the reference implementation: the k-NN jitter that breaks ties is seeded (the reference's is
random), so results are deterministic; InfoE's logistic regression is fitted to its infimum by Newton's method
instead of stopping after 100 L-BFGS iterations, which on trained models falls short (the QLAE of
results/cpu-sweep/qlae-s0: InfoE 0.8612 with the authors' code, 0.8701 at the infimum); `converged` says whether
the infimum was reached (see logistic_cross_entropy). The training flavour's InfoM and InfoC treat degenerate
ratios as above (the authors' logger drops a NaN ratio from InfoM's mean, and InfoC becomes NaN).

Speed. This file computes every number plainly: the k-NN estimate point by point (O(N^2)) and InfoE's fit with
the full Newton Hessian (slow on one-hot codes with many values). lab/infomec_fast.py computes the same numbers
fast (tests/test_infomec.py checks they agree); lab/runs.py (which train.evaluate calls) and lab/sweep.py pass
its functions in through infomec()'s mi_knn and fit arguments (`infomec(..., **FAST)`).
"""
import numpy as np

EULER_GAMMA = 0.5772156649015329


# ----------------------------------------------------------------------------------------------------------
# Mutual information. Labels are integers 0..K-1 (infomec() encodes them so before anything else).
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


def mutual_info_knn(z, s, k=10):
    """Ross (2014)'s k-nearest-neighbour estimate of I(z; s), z continuous 1-D, s integer labels, as it reads.
    For every point i with label s_i:
        d_i = the distance from z_i to its k-th nearest neighbour among the OTHER points with label s_i
        m_i = how many points of any label lie strictly closer to z_i than d_i (z_i itself included)
    and  I = psi(N) + mean_i psi(k) - mean_i psi(N_{s_i}) - mean_i psi(m_i)   (psi: digamma; N_c: points of label c).
    If z says nothing about s, a ball holding k same-label points holds about k N / N_c points of any label; the
    more z separates the labels, the fewer others crowd in, the smaller m_i. k trades bias (small k sees finer
    structure) for variance. Labels seen once are dropped; a label seen N_c <= k times uses k = N_c - 1.
    Negative estimates (noise) are 0, as the reference clips them. O(N^2): 256 points at a time."""
    counts = np.bincount(s)
    z, s = z[counts[s] > 1], s[counts[s] > 1]
    n, counts = len(z), np.bincount(s)
    if n == 0:
        return 0.0
    kk = np.minimum(k, counts[s] - 1)  # (n,)
    m = np.empty(n, np.int64)
    for start in range(0, n, 256):
        i = np.arange(start, min(start + 256, n))
        dist = np.abs(z[i, None] - z[None, :])  # (b, n)
        same = np.where((s[i, None] == s[None, :]) & (i[:, None] != np.arange(n)[None, :]), dist, np.inf)
        d = np.partition(same, np.unique(kk[i]) - 1, axis=1)[np.arange(len(i)), kk[i] - 1]  # (b,) k-th neighbour
        m[i] = (dist < d[:, None]).sum(1)
    mi = digamma_int(n) + digamma_int(kk).mean() - digamma_int(counts[s]).mean() - digamma_int(m).mean()
    return max(0.0, float(mi))


def standardise(z):
    """Zero mean, unit variance per column; a constant column becomes 0."""
    std = z.std(0)
    return (z - z.mean(0)) / np.where(std > 0, std, 1.0)


def nmi_matrix(s, z, discrete, k, mi_knn=mutual_info_knn):
    """NMI_ij = I(s_i; z_j) / H(s_i), (n_s, n_z). s: labels; z: codes as labels, or raw continuous latents."""
    nmi = np.zeros((s.shape[1], z.shape[1]))
    if not discrete:
        z = standardise(z) + 1e-10 * np.random.default_rng(0).standard_normal(z.shape)  # break exact ties
    for j in range(z.shape[1]):
        order = np.argsort(z[:, j], kind="stable")  # the estimate ignores the samples' order: sorted once per latent
        for i in range(s.shape[1]):
            if discrete:
                mi = mutual_info_discrete(s[:, i], z[:, j])
            else:  # a constant latent tells nothing
                mi = 0.0 if z[:, j].std() <= 1e-6 else mi_knn(z[order, j], s[order, i], k)
            nmi[i, j] = mi / entropy(s[:, i])
    return nmi


def rescaled_ratio(nmi, axis):
    """mean of max/sum along `axis`, rescaled so chance (1/n) is 0 and one-hot is 1; zero rows count as chance."""
    n = nmi.shape[axis]
    if n == 1:
        return 1.0
    total = nmi.sum(axis)
    ratio = np.where(total > 0, nmi.max(axis) / np.where(total > 0, total, 1), 1 / n)
    return float((ratio.mean() - 1 / n) / (1 - 1 / n))


# ----------------------------------------------------------------------------------------------------------
# InfoE's read-out: an unregularised multinomial logistic regression, fitted to its infimum.
SEPARABLE_LOSS, DECREMENT = 1e-8, 1e-10  # the stated distances to the infimum (nats of the weighted loss)


def logistic_cross_entropy(x, y, iterations=300):
    """InfoE's fit of one source: labels y (N,) 0..K-1 on features x (N, d) plus an intercept, UNREGULARISED,
    with class-balanced sample weights w_n = 1 / (K count(y_n)) (as the authors' class_weight="balanced"),
    minimising     L(W) = sum_n w_n [log sum_c exp(x_n W_c) - x_n W_{y_n}]     by Newton's method:
        gradient  G = X^T (w (P - Y)),    Hessian  H = sum_n w_n (diag p_n - p_n p_n^T) (x) x_n x_n^T,
        step = -(H + delta I)^-1 G   (delta = 1e-10 x H's largest diagonal entry: H is singular along changes
        that move every class alike, where G has no component), halved until L falls enough.
    L is convex. Separable classes have no minimum, only the infimum 0, approached as W grows; partly separable
    ones an infimum where the separable part costs 0. `converged` means the fit stopped within a stated
    distance of that infimum: L < SEPARABLE_LOSS, or the Newton decrement -G.step (twice the decrease the
    quadratic model still predicts) < DECREMENT. A direction with gradient but no curvature (a sample certain
    of a wrong class: L falls linearly there) gets a long step and a large decrement, so is never taken as
    converged. Returns (the unweighted in-sample mean cross-entropy in nats, as InfoE scores it; converged)."""
    n, k = len(y), int(y.max()) + 1
    X = np.concatenate([x, np.ones((n, 1))], 1)  # (N, D): the features and the intercept's column
    D = X.shape[1]
    w = 1 / (k * np.bincount(y, minlength=k)[y])  # (N,) class-balanced weights, summing to 1
    Y = np.eye(k)[y]  # (N, K) indicators

    def evaluate(W):  # (weighted loss L, probabilities (N, K), each sample's cross-entropy (N,))
        logits = X @ W  # (N, K)
        logits = logits - logits.max(1, keepdims=True)
        lse = np.log(np.exp(logits).sum(1))
        nll = lse - logits[np.arange(n), y]
        return (w * nll).sum(), np.exp(logits - lse[:, None]), nll

    W = np.zeros((D, k))
    loss, P, nll = evaluate(W)
    for _ in range(iterations):
        if loss < SEPARABLE_LOSS:
            return float(nll.mean()), True
        G = X.T @ (w[:, None] * (P - Y))  # (D, K)
        H = np.zeros((k, D, k, D))
        for a in range(k):
            for b in range(a, k):
                H[a, :, b, :] = X.T @ ((w * P[:, a] * ((a == b) - P[:, b]))[:, None] * X)  # (D, D)
                H[b, :, a, :] = H[a, :, b, :].T
        H = H.reshape(k * D, k * D)  # rows and columns in (class, feature) order
        g = G.T.reshape(-1)
        H[np.diag_indices(k * D)] += 1e-10 * max(H.diagonal().max(), 1e-300)
        step = -np.linalg.solve(H, g).reshape(k, D).T  # (D, K)
        decrement = -(G * step).sum()
        if decrement < DECREMENT:
            return float(nll.mean()), True
        t = 1.0
        while t > 1e-10:  # backtrack until L falls by a small fraction of what the quadratic model predicts
            new = evaluate(W + t * step)
            if new[0] <= loss - 1e-4 * t * decrement:
                break
            t /= 2
        else:
            break  # no step lowers L (round-off at the scale of L): not converged
        while t >= 1.0:  # along a separating direction Newton's steps are short: go further while L falls
            further = evaluate(W + 2 * t * step)
            if not further[0] < new[0]:
                break
            t, new = 2 * t, further
        W, (loss, P, nll) = W + t * step, new
    return float(nll.mean()), False


def readout_cross_entropies(s, z, readout, fit=logistic_cross_entropy):
    """Each source's cross-entropy under InfoE's read-out of the latents (n_s,), and whether every fit converged.
    readout "onehot": codes z (labels), one column per value of each latent; "linear": the standardised z."""
    if readout == "onehot":
        x = np.concatenate([np.eye(z[:, j].max() + 1)[z[:, j]] for j in range(z.shape[1])], 1)  # (N, sum V_j)
    else:
        x = standardise(z)
    fits = [fit(x, s[:, i]) for i in range(s.shape[1])]
    return np.array([h for h, _ in fits]), all(c for _, c in fits)


# ----------------------------------------------------------------------------------------------------------
# The scorer: inputs encoded as labels 0..K-1 (and checked) first, then the definitions above.
FLAVOURS = {  # the authors' two flavours of the metric (see the module docstring)
    "standalone": {"k": 10, "active_fraction": 1 / 20, "prune_codes": False, "values": False},
    "training": {"k": 3, "active_fraction": 1 / 8, "prune_codes": True, "values": True},
}
# k: neighbours of the k-NN MI; active_fraction: a continuous latent (every latent if prune_codes) is active if
# its range exceeds this fraction of the largest; values: float latents with discrete=True are a quantized
# model's values (labels for the MI, read out linearly for InfoE); otherwise codes must be integer labels.
MAX_SOURCE_CLASSES, MAX_CODE_VALUES = 1000, 10_000  # beyond these a "label" is almost surely a continuous value


def encode_labels(column, what, integers=True):
    """Labels -> 0..K-1 (in sorted order). integers: refuse non-integer values (a float label is ambiguous)."""
    if integers and not np.all(np.equal(np.mod(column, 1), 0)):
        raise ValueError(f"{what} must hold integer labels (a float label like 0.25 is ambiguous: map values to "
                         "indices first, e.g. np.unique(col, return_inverse=True)[1])")
    return np.unique(column, return_inverse=True)[1].reshape(-1)


def rescaled(latents):
    """Latents as floats times the power of two that brings the largest magnitude into [0.5, 1): exact, so no score
    changes (the metric is scale free), and at scales like 1e-200 or 1e200 the variances taken later no longer
    underflow to 0 or overflow to inf (which scored a good latent 0)."""
    z = np.asarray(latents, dtype=np.float64)
    return np.ldexp(z, -np.frexp(np.abs(z).max())[1]) if z.size else z


def encode_inputs(sources, latents, discrete, k, values):
    """(s, z): sources as labels (N, n_s); latents as labels if discrete (values: any floats), else floats."""
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k (neighbours of the k-NN estimator) must be a positive integer, got {k!r}")
    sources, latents = np.asarray(sources), np.asarray(latents)
    for name, a in (("sources", sources), ("latents", latents)):
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (N samples x columns), got shape {a.shape}")
        if a.dtype.kind not in "iuf" or not np.isfinite(a).all():  # complex: its imaginary part would be dropped
            raise ValueError(f"{name} must be finite real numbers (found NaN, inf, complex or non-numbers: {a.dtype})")
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
    if not discrete:
        return s, rescaled(latents)
    z = np.stack([encode_labels(latents[:, j], f"latents[:, {j}] (pass discrete=False for continuous latents)",
                                not values) for j in range(latents.shape[1])], 1)
    if z.max() >= MAX_CODE_VALUES:
        raise ValueError(f"a discrete latent takes {z.max() + 1} distinct values (at most {MAX_CODE_VALUES} are "
                         "scored as codes): are these continuous latents? pass discrete=False (CLI: drop --discrete)")
    return s, z


def infomec(sources, latents, discrete, flavour="standalone", k=None, active_fraction=None,
            mi_knn=mutual_info_knn, fit=readout_cross_entropies):
    """InfoM, InfoE, InfoC of `latents` (N, n_z) about `sources` (N, n_s), in one of the authors' FLAVOURS.

    discrete=True for a quantized model (integer codes; in the training flavour also float VALUES), False for
    continuous latents. k, active_fraction: override the flavour's. mi_knn, fit: the k-NN estimator and InfoE's
    read-out (mutual_info_knn, readout_cross_entropies here; lab/infomec_fast.py has the same numbers, fast).
    Returns a dict: infom, infoe, infoc, nmi (n_s, n_z), active (n_z bools), n_active, converged (every InfoE fit
    reached its infimum; if not, InfoE is a lower bound), and the settings used.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {sorted(FLAVOURS)}, got {flavour!r}")
    setting = FLAVOURS[flavour]
    k = setting["k"] if k is None else k
    active_fraction = setting["active_fraction"] if active_fraction is None else active_fraction
    if not 0 < active_fraction < 1:
        raise ValueError(f"active_fraction must be in (0, 1) (a latent is active if its range exceeds this "
                         f"fraction of the largest), got {active_fraction!r}")
    values = discrete and setting["values"] and np.issubdtype(np.asarray(latents).dtype, np.floating)
    s, z = encode_inputs(sources, latents, discrete, k, values)
    raw = rescaled(latents) if values else z  # what is pruned by range and read out
    nmi = nmi_matrix(s, z, discrete, k, mi_knn)
    ranges = raw.max(0) - raw.min(0)
    prune = not discrete or setting["prune_codes"]
    active = ranges > ranges.max() * active_fraction if prune else ranges > 0
    readout = "onehot" if discrete and not values else "linear"
    result = {"nmi": nmi, "active": active, "n_active": int(active.sum()), "discrete": discrete, "k": k,
              "active_fraction": active_fraction, "flavour": flavour, "infoe_readout": readout}
    if not active.any():
        return {**result, "infom": 0.0, "infoe": 0.0, "infoc": 0.0, "converged": True}
    h_model, converged = fit(s, raw, readout)
    h_null = np.log(s.max(0) + 1)  # the balanced intercept-only model predicts uniformly: log K
    # not clipped, as in the authors' code: the fit minimises the class-balanced loss, so its unweighted
    # cross-entropy can exceed log K by a little on latents that say nothing (InfoE then slightly below 0)
    infoe = float(np.mean((h_null - h_model) / h_null))
    return {**result, "infom": rescaled_ratio(nmi[:, active], axis=0), "infoe": infoe,
            "infoc": rescaled_ratio(nmi[:, active], axis=1), "converged": converged}


if __name__ == "__main__":  # a tiny demo; lab/infomec_tools.py scores files and runs the benchmark
    rng = np.random.default_rng(0)
    s = rng.integers(0, [4, 3], size=(1000, 2))  # two sources
    codes = np.stack([s[:, 0], s[:, 1], rng.integers(0, 5, 1000)], 1)  # latents 0, 1 copy them; latent 2 is noise
    for name, z, discrete in (("codes", codes, True), ("continuous", codes + 0.3 * rng.standard_normal(codes.shape),
                                                       False)):
        r = infomec(s, z, discrete)
        print(f"{name:10s}: InfoM {r['infom']:.3f}  InfoE {r['infoe']:.3f}  InfoC {r['infoc']:.3f}")
