"""InfoMEC's fast paths: the numbers infomec.py computes plainly, computed fast. Not needed to follow the paper.

infomec.py holds the definitions as they read: the k-NN estimate point by point (O(N^2)) and InfoE's regression
by plain Newton steps with the full Hessian. Here are the same two computations, fast:
  mutual_info_knn: Ross's estimate by sorted windows, O(N log N);
  readout_cross_entropies: InfoE's fits by Newton's method with exact shortcuts (see the comment above
    logistic_fit), the same infimum.
train.py and the sweep score with them: infomec.infomec(sources, latents, discrete, **FAST).
tests/test_infomec.py checks that both ways give the same numbers.
"""
import numpy as np

from infomec import digamma_int, standardise


def mutual_info_knn(z, s, k=10, by_z=None):
    """Ross (2014) k-nearest-neighbour estimate of I(z; s), z continuous 1-D, s integer labels: the number
    infomec.mutual_info_knn computes, in O(N log N).

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


# InfoE's logistic regressions, fast. One source at a time, the same problem as infomec.logistic_cross_entropy:
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
# -G.s grows monotonically toward the exact decrement, so it stops early once it passes the bar: not converged),
# and only if no direction with a gradient was left out of H (newton_solve's `trusted`). The closed-form start
# is halved while that lowers the loss: at full size it can make samples certain of a wrong class (LDA along
# directions where the classes barely spread, naive Bayes summing many latents), where Newton's steps stall.
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
            step, certain = newton_step_dense(d.x, P, Y, w, G)
        else:
            step, certain = newton_step_codes(d, P, w, G, state)
        decrement = -(G * step).sum()
        if decrement < DECREMENT and certain:  # converged; the last Newton step costs one evaluation and takes
            tried = evaluate(W + step)  # the fit from about DECREMENT to about DECREMENT^2 of the infimum
            if tried[0] <= loss:
                loss, P, sample, z = tried
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
    if len(x) * len(iu) > DENSE_DESIGN_LIMIT:  # wide designs (a VQ-VAE's embeddings): H block by block of classes
        H = np.zeros((k, dim, k, dim))
        for a in range(k):
            for b in range(a, k):
                H[a, :, b, :] = x.T @ ((w * p[:, a] * ((a == b) - p[:, b]))[:, None] * x)  # (D, D)
                H[b, :, a, :] = H[a, :, b, :].T
        return newton_solve(H.reshape(k * dim, k * dim), G)
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
    return newton_solve(H, G)


def newton_solve(H, G):
    """(-H^-1 G, trusted), G (width, K) and H in (class, column) order. H is singular along changes that move no
    logit (every class shifted alike; for codes also one latent's values against the intercept, and pairs fixed at
    -inf), where the gradient has no component: rows with no curvature are left out and a tiny damping makes the
    rest definite. A row left out that HAS a gradient (a sample certain of a wrong class, whose curvature H left
    out: the loss falls almost linearly there) gets a gradient step at H's scale, and the step is not `trusted`:
    its decrement says nothing about the distance to the infimum, so the fit is not taken as converged."""
    g = G.T.reshape(-1)
    keep = H.diagonal() > 0
    scale = max(H.diagonal().max(initial=0), 1e-300)
    H = H[np.ix_(keep, keep)]  # a copy: the damping below leaves the caller's H as it was
    H[np.diag_indices(len(H))] += 1e-10 * scale
    try:
        solution = np.linalg.solve(H, g[keep])
    except np.linalg.LinAlgError:
        solution = np.linalg.lstsq(H, g[keep], rcond=None)[0]
    step = -g / scale
    step[keep] = -solution
    return step.reshape(G.shape[1], -1).T, bool(np.abs(g[~keep]).max(initial=0) < 1e-8)


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


def readout_cross_entropies(s, z, readout, newton_iter=100):
    """infomec.readout_cross_entropies, fast: each source's in-sample cross-entropy (n_s,) under InfoE's read-out
    of the latents, and whether every fit converged. readout "onehot": codes z (N, n_z), each column 0..V_j - 1;
    "linear": z (N, d) floats, standardised here. A linear design whose columns are collinear (a VQ-VAE's quantized
    embeddings: hundreds of columns spanning fewer dimensions) is first replaced by an orthonormal basis of its
    column span: the same logits are reachable, so the same infimum, with fewer columns to fit."""
    if readout == "onehot":
        sizes = z.max(0) + 1
        col = np.concatenate([z + np.concatenate([[0], np.cumsum(sizes)[:-1]]), np.full((len(z), 1), sizes.sum())], 1)
        design = OneHotDesign(col, int(sizes.sum()) + 1)
    else:
        design = DenseDesign(np.concatenate([column_span(standardise(z)), np.ones((len(z), 1))], 1))
    fits = [logistic_fit(design, s[:, i], int(s[:, i].max()) + 1, newton_iter) for i in range(s.shape[1])]
    return np.array([nll.mean() for nll, _ in fits]), all(converged for _, converged in fits)


def column_span(x):
    """x itself if its (centred) columns are independent, else an orthonormal basis of their span, scaled to unit
    variance: from the eigenvectors of x^T x whose eigenvalues exceed 1e-10 of the largest."""
    values, vectors = np.linalg.eigh(x.T @ x)  # ascending
    keep = values > 1e-10 * max(values[-1], 1e-300)
    if keep.all():
        return x
    return x @ vectors[:, keep] / np.sqrt(values[keep] / len(x))  # (N, rank)


FAST = {"mi_knn": mutual_info_knn, "fit": readout_cross_entropies}  # infomec.infomec(..., **FAST)
