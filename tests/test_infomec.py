"""Executable specification of infomec.py (the paper's InfoMEC): known answers, invariances,
the estimators against independent references, and clear errors on bad input."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import infomec
from lab import infomec_fast, infomec_tools
from lab.infomec_fast import FAST

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The authors' standalone metric (their disentangle/metrics/infomec.py, scikit-learn 1.5.2) run on OUR arrays,
# infomec_tools.synthetic(case) at N = 10 000: InfoM, InfoE, InfoC (results/README.md, "InfoMEC against the authors'").
REFERENCE = {
    "identity": (0.9960, 0.9999, 0.9960),
    "rotation": (0.4338, 0.9998, 0.2918),
    "near_separable": (0.5788, 0.9998, 0.5533),
    "codes_identity": (0.9907, 0.9998, 0.9907),
    "codes_random": (0.0710, 0.0209, 0.0280),
    "codes_trained": (0.6886, 0.9740, 0.8742),
}


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_the_authors_metric_is_reproduced_on_the_same_arrays(case):
    """InfoM and InfoC to 0.001 (the same NMI); InfoE to 0.001, never below theirs by more than rounding: their fit
    stops after 100 L-BFGS iterations, ours at the infimum (on codes_trained 0.9744 against their 0.9740)."""
    s, z, discrete = infomec_tools.synthetic(case)
    r = infomec.infomec(s, z, discrete, **FAST)
    infom, infoe, infoc = REFERENCE[case]
    assert r["converged"]
    assert (r["infom"], r["infoc"]) == pytest.approx((infom, infoc), abs=1e-3)
    assert infoe - 1e-4 <= r["infoe"] <= infoe + 1e-3


def test_pure_noise_has_no_explicitness_and_its_infom_infoc_match_the_reference_draw():
    """On noise, clipped k-NN estimates are small random positives, so InfoM/InfoC are random draws (seed to seed
    they spread by about +-0.07); the reference's single draw (0.471 / 0.270) must lie within ours."""
    runs = [infomec.infomec(*infomec_tools.synthetic("noise", seed=seed), **FAST) for seed in range(8)]
    assert all(r["infoe"] == pytest.approx(0.002, abs=0.01) for r in runs)
    infom, infoc = [r["infom"] for r in runs], [r["infoc"] for r in runs]
    assert min(infom) <= 0.471 <= max(infom) and min(infoc) <= 0.270 <= max(infoc)


def test_identity_latents_score_one_and_their_nmi_is_diagonal():
    s, z, _ = infomec_tools.synthetic("identity", n=3000)
    r = infomec.infomec(s, z, False, **FAST)
    assert r["nmi"][:, :6].diagonal().min() > 0.9 and r["n_active"] == 6
    assert r["infom"] > 0.98 and r["infoc"] > 0.98 and r["infoe"] > 0.99


def test_plug_in_mutual_information_matches_its_formula_on_a_hand_made_table():
    # joint counts [[3, 1, 0], [1, 2, 3]] over 10 samples
    table = np.array([[3, 1, 0], [1, 2, 3]])
    a = np.repeat([0, 0, 0, 1, 1, 1], table.flatten())
    b = np.repeat([0, 1, 2, 0, 1, 2], table.flatten())
    p = table / 10
    pa, pb = p.sum(1), p.sum(0)
    expected = sum(p[i, j] * math.log(p[i, j] / (pa[i] * pb[j])) for i in range(2) for j in range(3) if p[i, j] > 0)
    assert infomec.mutual_info_discrete(a, b) == pytest.approx(expected, rel=1e-12)
    assert infomec.mutual_info_discrete(a, a) == pytest.approx(infomec.entropy(a))  # I(a; a) = H(a)
    assert infomec.entropy(a) == pytest.approx(-(0.4 * math.log(0.4) + 0.6 * math.log(0.6)))
    assert infomec.mutual_info_discrete(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) == pytest.approx(0.0)


def test_knn_estimator_matches_the_true_mi_of_a_discrete_source_plus_gaussian_noise():
    """I(z; s) for s uniform on {0, 1, 2} and z = s + N(0, 0.5^2): truth h(z) - h(z|s) by numerical integration."""
    sigma, values = 0.5, np.array([0.0, 1.0, 2.0])
    grid = np.linspace(-4, 6, 200_001)
    density = np.mean([np.exp(-(grid - v) ** 2 / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi)) for v in values],
                      axis=0)
    integrand = -density * np.log(np.maximum(density, 1e-300))
    h_z = float(np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(grid)))  # trapezoid rule
    truth = h_z - 0.5 * math.log(2 * math.pi * math.e * sigma**2)
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, 20_000)
    z = s + sigma * rng.standard_normal(20_000)
    assert infomec_fast.mutual_info_knn(z, s, k=10) == pytest.approx(truth, abs=0.02)
    assert 0.4 < truth < 0.8  # a non-trivial amount of information (log 3 = 1.10 is the maximum)


def test_knn_estimator_equals_a_brute_force_implementation():
    """Both estimators (infomec.py's definition, lab's sorted windows) against a point-by-point loop."""
    rng = np.random.default_rng(1)
    s = rng.integers(0, 4, 300)
    z = s * 0.5 + rng.standard_normal(300)
    psi = lambda n: infomec.digamma_int(np.array([n]))[0]
    terms = []
    for i in range(300):
        same = np.flatnonzero((s == s[i]) & (np.arange(300) != i))
        d = np.sort(np.abs(z[same] - z[i]))[9]
        m = np.sum(np.abs(z - z[i]) < d)
        terms.append(psi(10) - psi(len(same) + 1) - psi(m))
    assert infomec.mutual_info_knn(z, s, 10) == pytest.approx(psi(300) + np.mean(terms), abs=1e-10)
    assert infomec_fast.mutual_info_knn(z, s, 10) == pytest.approx(psi(300) + np.mean(terms), abs=1e-10)


def test_digamma_of_integers():
    # psi(1) = -gamma, psi(n) = -gamma + H_{n-1}
    assert infomec.digamma_int(np.array([1]))[0] == pytest.approx(-0.5772156649015329)
    assert infomec.digamma_int(np.array([10]))[0] == pytest.approx(2.251752589066721)


def mixed_case(n=3000, seed=0):
    """Latents that are neither perfect nor random: each latent mostly one source, with some mixing and noise.
    (Every latent has continuous noise: with exact ties the k-NN estimate depends on the tiny seeded jitter that
    breaks them, which is assigned by column position.)"""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, [5, 4, 6], size=(n, 3))
    z = np.stack([s[:, 0] + 0.3 * s[:, 1], s[:, 1] + 0.5 * rng.standard_normal(n), s[:, 2] - 0.2 * s[:, 0],
                  rng.standard_normal(n)], 1)
    return s, z + 0.05 * rng.standard_normal(z.shape)


def scores(s, z, discrete=False):
    r = infomec.infomec(s, z, discrete, **FAST)
    return np.array([r["infom"], r["infoe"], r["infoc"]])


def test_permuting_latents_changes_nothing():
    s, z = mixed_case()
    assert scores(s, z[:, [2, 0, 3, 1]]) == pytest.approx(scores(s, z), abs=1e-4)


def test_rescaling_shifting_or_flipping_a_latent_changes_nothing():
    s, z = mixed_case()
    z2 = z.copy()
    z2[:, 0] = -1.3 * z2[:, 0] + 5.0
    assert scores(s, z2) == pytest.approx(scores(s, z), abs=1e-4)


def test_relabelling_source_values_changes_nothing():
    s, z = mixed_case()
    s2 = s.copy()
    s2[:, 0] = np.array([40, 10, 30, 20, 0])[s[:, 0]]  # another set of labels, another order
    assert scores(s2, z) == pytest.approx(scores(s, z), abs=1e-4)
    codes = np.round(z).astype(int)
    assert scores(s2, codes, True) == pytest.approx(scores(s, codes, True), abs=1e-4)


def test_duplicating_a_latent_lowers_infoc_and_leaves_infom():
    s, z, _ = infomec_tools.synthetic("identity", n=5000)
    base, dup = scores(s, z), scores(s, np.concatenate([z, z[:, :1]], 1))
    assert dup[2] < base[2] - 0.05  # source 0 now spread over two latents: less compact
    assert dup[0] == pytest.approx(base[0], abs=0.005)  # every latent still about one source: as modular
    s, z = mixed_case()
    r = infomec.infomec(s, np.concatenate([z, z[:, :1]], 1), False, **FAST)
    assert r["nmi"][:, -1] == pytest.approx(r["nmi"][:, 0], abs=1e-9)  # the copy's column is the original's


@pytest.mark.parametrize("fraction", [1 / 20, 1 / 8])
def test_an_inactive_latent_is_pruned_by_both_rules(fraction):
    s, z = mixed_case()
    z = np.concatenate([z, 1e-3 * np.random.default_rng(0).standard_normal((len(z), 1))], 1)
    r = infomec.infomec(s, z, False, active_fraction=fraction)
    assert not r["active"][-1] and r["active"][:-1].all()
    codes = np.concatenate([np.round(z[:, :-1]).astype(int), np.zeros((len(z), 1), int)], 1)
    assert infomec.infomec(s, codes, True)["active"].tolist() == [True] * 4 + [False]


def test_logistic_regression_matches_a_brute_force_fit_on_a_tiny_case():
    """Binary source, one feature, overlapping classes: grid search over (w, b) of the balanced logistic loss."""
    x = np.array([-2.0, -1.0, -0.5, 0.3, 0.0, 0.6, 1.0, 2.5])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    h, converged = infomec_fast.readout_cross_entropies(y[:, None], x[:, None], "linear")
    plain, plain_converged = infomec.logistic_cross_entropy(x[:, None], y)
    w, b = np.meshgrid(np.linspace(-5, 5, 1001), np.linspace(-5, 5, 1001))
    logit = w[..., None] * x + b[..., None]  # (grid, grid, 8)
    nll = np.where(y == 1, np.logaddexp(0, -logit), np.logaddexp(0, logit)).mean(-1)  # balanced: 4 and 4
    assert converged and plain_converged
    assert h[0] == pytest.approx(nll.min(), abs=1e-4) and plain == pytest.approx(nll.min(), abs=1e-4)


def onehot_matrix(codes):
    return np.concatenate([np.eye(k)[codes[:, j]] for j, k in enumerate(codes.max(0) + 1)], 1)


def test_fast_fit_stops_at_the_plain_fits_optimum():
    """A non-separable case: the fast fit (decrement below 1e-6) and the plain one (below 1e-10) agree to 1e-5
    nats per source, so InfoE to 1e-5."""
    s, z = mixed_case(n=2000)
    x = infomec.standardise(z)
    h, converged = infomec_fast.readout_cross_entropies(s, z, "linear")
    plain = [infomec.logistic_cross_entropy(x, s[:, i]) for i in range(s.shape[1])]
    assert converged and all(c for _, c in plain)
    np.testing.assert_allclose(h, [p for p, _ in plain], atol=1e-5)


def partly_separable(kind):
    """Class 2 is separable (dense: by a small margin; codes: one latent flags it), classes 0 and 1 overlap: the
    loss has no minimum, only an infimum, reached as the weights on the separating direction grow without bound:
    class 2's samples then cost nothing and the rest cost what a fit of classes 0 and 1 alone costs (2/3 of the
    samples, balanced classes; that fit, by the plain definition, is the oracle). Returns (features, labels,
    that infimum)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 1000)
    if kind == "linear":
        x = np.stack([rng.standard_normal(3000) + np.array([-0.5, 0.5, 0.0])[y],
                      np.where(y == 2, 1, -1) * (0.02 + np.abs(rng.standard_normal(3000)))], 1)
        plain_x = x
    else:
        x = np.stack([(y == 2).astype(int), np.minimum(rng.poisson(np.array([1.0, 2.0, 1.5])[y]), 4)], 1)
        plain_x = onehot_matrix(x)
    h01, c01 = infomec.logistic_cross_entropy(plain_x[y < 2], y[y < 2])
    assert c01
    return (kind, x), y[:, None], 2 / 3 * h01


@pytest.mark.parametrize("kind", ["linear", "onehot"])
def test_fast_fit_reaches_the_infimum_of_a_partly_separable_problem(kind):
    (readout, x), y, infimum = partly_separable(kind)
    h, converged = infomec_fast.readout_cross_entropies(y, x, readout)
    assert converged
    assert h[0] == pytest.approx(infimum, abs=1e-6)


def test_an_unfinished_fit_says_so():
    (readout, x), y, infimum = partly_separable("linear")
    h, converged = infomec_fast.readout_cross_entropies(y, x, readout, newton_iter=1)
    assert not converged and h[0] > infimum + 1e-3  # InfoE from it is a lower bound, and flagged as one


def test_one_hot_fit_reaches_the_same_optimum_as_the_plain_dense_fit():
    """The one-hot path (fixed -inf pairs, naive Bayes start, conjugate gradients or the grouped exact Hessian)
    and the plain Newton fit on the same one-hot matrix must land on the same (finite, non-separable) optimum."""
    rng = np.random.default_rng(1)
    s = rng.integers(0, 4, (3000, 2))
    codes = np.stack([(s[:, 0] + rng.integers(0, 3, 3000)) % 5, rng.integers(0, 3, 3000),
                      np.where(rng.random(3000) < 0.9, 0, rng.integers(0, 4, 3000))], 1)  # one rare-valued latent
    h, converged = infomec_fast.readout_cross_entropies(s, codes, "onehot")
    plain = [infomec.logistic_cross_entropy(onehot_matrix(codes), s[:, i]) for i in range(2)]
    assert converged
    np.testing.assert_allclose(h, [p for p, _ in plain], atol=1e-5)


def trained_like_codes(n=2000):
    """Partly separable codes like a trained model's: some values exclude classes, some classes overlap."""
    s, z, _ = infomec_tools.synthetic("codes_trained", n=n, seed=3)
    return s[:, [0, 3]], z[:, [0, 3, 6, 8]]  # cross-entropies about 0.10 and 0.05 nats at the infimum


def test_fixing_never_seen_pairs_at_minus_infinity_keeps_the_infimum(monkeypatch):
    """The fast fit fixes every (value, class) pair that never occurs together at -inf; the plain fit does not.
    On codes where many pairs never occur, both reach the same cross-entropies."""
    s, z = trained_like_codes()
    h, converged = infomec_fast.readout_cross_entropies(s, z, "onehot")
    plain = [infomec.logistic_cross_entropy(onehot_matrix(z), s[:, i]) for i in range(s.shape[1])]
    assert converged and all(c for _, c in plain)
    np.testing.assert_allclose(h, [p for p, _ in plain], atol=1e-5)


def test_every_route_through_the_codes_fit_lands_on_the_same_infimum(monkeypatch):
    """The same fit with H never formed (conjugate gradients only), and with the design kept as indices instead of
    a dense 0/1 matrix: the same cross-entropies, all converged."""
    s, z = trained_like_codes()
    reference, _ = infomec_fast.readout_cross_entropies(s, z, "onehot")
    monkeypatch.setattr(infomec_fast, "codes_hessian", lambda *args, **kwargs: None)
    h_cg, c_cg = infomec_fast.readout_cross_entropies(s, z, "onehot")
    monkeypatch.undo()
    monkeypatch.setattr(infomec_fast, "DENSE_DESIGN_LIMIT", 0)
    h_index, c_index = infomec_fast.readout_cross_entropies(s, z, "onehot")
    assert c_cg and c_index
    np.testing.assert_allclose(h_cg, reference, atol=1e-5)
    np.testing.assert_allclose(h_index, reference, atol=1e-5)


def test_the_codes_hessian_built_by_pairs_of_columns_is_the_dense_one():
    """Wide codes (VQ-VAE's: hundreds of values per slot) get H from the design's sparsity, pair of latents by pair
    of latents; it must be the H that the dense blocks give, entry for entry (certain samples left out by both)."""
    rng = np.random.default_rng(0)
    codes = np.stack([rng.integers(0, 6, 3000), rng.integers(0, 4, 3000), rng.integers(0, 3, 3000)], 1)
    col = np.concatenate([codes + [0, 6, 10], np.full((3000, 1), 13)], 1)
    design = infomec_fast.OneHotDesign(col, 14)
    P = rng.dirichlet(np.ones(5), 3000)
    P[:100] = np.eye(5)[rng.integers(0, 5, 100)]  # certain predictions add nothing
    w = rng.random(3000)
    dense = infomec_fast.codes_hessian(design, P, w, budget=1e30)
    np.testing.assert_allclose(infomec_fast.codes_hessian_by_pairs(design, P, w), dense, rtol=0, atol=1e-10)


def test_wide_codes_fits_use_the_pairs_hessian_and_converge(monkeypatch):
    """Over codes_hessian's dense budget (or with the design kept as indices) the fit forms H by pairs instead of
    running conjugate gradients to the end, and lands on the same infimum."""
    s, z = trained_like_codes()
    reference, _ = infomec_fast.readout_cross_entropies(s, z, "onehot")
    formed = []
    by_pairs = infomec_fast.codes_hessian_by_pairs
    monkeypatch.setattr(infomec_fast, "codes_hessian_by_pairs", lambda *a: formed.append(1) or by_pairs(*a))
    dense_hessian = infomec_fast.codes_hessian
    monkeypatch.setattr(infomec_fast, "codes_hessian", lambda d, P, w: dense_hessian(d, P, w, budget=0))
    h, converged = infomec_fast.readout_cross_entropies(s, z, "onehot")
    assert converged and formed
    np.testing.assert_allclose(h, reference, atol=1e-5)


def test_infomec_needs_numpy_alone():
    """A JAX or TensorFlow project can copy infomec.py: importing it and scoring must not import torch."""
    code = ("import sys, numpy as np, infomec; s = np.random.default_rng(0).integers(0, 4, (500, 2)); "
            "infomec.infomec(s, s + 1, True); infomec.infomec(s, s + 0.1 * np.sin(np.arange(500))[:, None], False); "
            "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('torch', 'lab', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_infoe_null_model_is_log_k():
    s = np.random.default_rng(0).integers(0, 7, (5000, 1))
    h, _ = infomec_fast.readout_cross_entropies(s, np.zeros((5000, 1)), "linear")
    plain, _ = infomec.logistic_cross_entropy(np.zeros((5000, 1)), s[:, 0])
    assert h[0] == pytest.approx(math.log(7), abs=0.01) and plain == pytest.approx(math.log(7), abs=0.01)  # balanced intercept-only model: uniform prediction


@pytest.mark.parametrize("sources, latents, message", [
    (np.zeros((20, 2)), np.full((20, 3), np.nan), "finite"),
    (np.zeros((20, 2)), np.full((20, 3), np.inf), "finite"),
    (np.zeros((20, 2)), np.zeros((19, 3)), "disagree on N"),
    (np.zeros(20), np.zeros((20, 3)), "2-D"),
    (np.zeros((20, 2)), np.zeros((20, 3, 1)), "2-D"),
    (np.tile([[0, 1]], (5, 1)), np.random.default_rng(0).random((5, 3)), "N > k"),
    (np.tile([[0, 1], [1, 0]], (10, 1)) * [1, 0], np.random.default_rng(0).random((20, 3)), "constant"),
    (np.tile([[0.5, 1], [1.25, 0]], (10, 1)), np.random.default_rng(0).random((20, 3)), "integer labels"),
])
def test_bad_input_is_a_clear_value_error(sources, latents, message):
    with pytest.raises(ValueError, match=message):
        infomec.infomec(sources, latents, False)


def test_non_integer_discrete_latents_are_a_clear_value_error():
    s, z = mixed_case(300)
    with pytest.raises(ValueError, match="discrete=False"):
        infomec.infomec(s, z, True)


def test_all_latents_constant_is_documented_as_zero():
    s, _ = mixed_case(300)
    for discrete in (False, True):
        r = infomec.infomec(s, np.ones((300, 4)), discrete)
        assert (r["infom"], r["infoe"], r["infoc"], r["n_active"]) == (0.0, 0.0, 0.0, 0)


def test_a_single_active_latent_is_documented_not_nan():
    s, z = mixed_case(1000)
    z[:, 1:] = 0.0
    r = infomec.infomec(s, z, False, **FAST)
    assert r["n_active"] == 1 and r["infoc"] == 1.0 and 0 <= r["infom"] <= 1 and 0 < r["infoe"] < 1


def test_an_active_latent_with_no_information_counts_as_chance_not_nan():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, (2000, 2))
    z = np.stack([s[:, 0], s[:, 1], np.arange(2000) % 2], 1)  # last: alternates, independent of s
    r = infomec.infomec(s, z, True)
    assert all(np.isfinite([r["infom"], r["infoe"], r["infoc"]]))


def test_mig_is_high_for_identity_and_low_for_noise():
    s, z, _ = infomec_tools.synthetic("identity", n=3000)
    assert infomec_tools.mig(s, z, False) > 0.9
    s, z, _ = infomec_tools.synthetic("noise", n=3000)
    assert infomec_tools.mig(s, z, False) < 0.05


def test_heatmap_is_written(tmp_path):
    r = infomec.infomec(*infomec_tools.synthetic("codes_identity", n=2000), **FAST)
    infomec_tools.plot_nmi(r, str(tmp_path / "nmi.png"), source_names=list("abcdef"))
    assert (tmp_path / "nmi.png").read_bytes()[:4] == b"\x89PNG"


def test_command_line_scores_an_npz_file(tmp_path):
    s, z, _ = infomec_tools.synthetic("codes_identity")
    np.savez(tmp_path / "codes.npz", sources=s, latents=z)
    out = subprocess.run([sys.executable, "-m", "lab.infomec_tools", str(tmp_path / "codes.npz"), "--discrete"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "InfoM 0.99" in out.stdout, out.stdout + out.stderr
    np.savez(tmp_path / "bad.npz", sources=s)
    out = subprocess.run([sys.executable, "-m", "lab.infomec_tools", str(tmp_path / "bad.npz")], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode != 0 and "expected `sources`" in out.stderr


# ------------------------------------------------------------------------------------------------------------
# The training-time flavour (infomec(..., flavour="training")): k = 3, range > max / 8 for every latent, InfoE of quantized
# VALUES read out linearly.
def quantized_case(n=4000, seed=0):
    """Two sources (4 and 3 values); latent 0 codes source 0, latent 1 codes source 1, latent 2 is noise codes.
    Returns (sources, codes, values): values from one codebook per latent, ascending with the code."""
    rng = np.random.default_rng(seed)
    s = np.stack([rng.integers(0, 4, n), rng.integers(0, 3, n)], 1)
    codes = np.stack([s[:, 0], s[:, 1], rng.integers(0, 5, n)], 1)
    codebooks = [np.linspace(-0.5, 0.5, 4), np.linspace(-0.3, 0.9, 3), np.linspace(-0.5, 0.5, 5)]
    values = np.stack([codebooks[j][codes[:, j]] for j in range(3)], 1)
    return s, codes, values


def test_training_flavour_agrees_with_standalone_when_values_are_linear_in_the_source():
    """Each latent's values in its source's order: one-hot and linear read-outs both reach the infimum (classes
    separable), and the NMI on values equals the NMI on codes (the map code -> value is one-to-one)."""
    s, codes, values = quantized_case()
    standalone = infomec.infomec(s, codes, discrete=True)
    training = infomec.infomec(s, values, True, "training")
    assert training["infoe_readout"] == "linear" and standalone["infoe_readout"] == "onehot"
    assert training["infoe"] == pytest.approx(standalone["infoe"], abs=1e-3)
    assert training["infoe"] > 0.999
    np.testing.assert_allclose(training["nmi"], standalone["nmi"], atol=1e-12)
    assert (training["infom"], training["infoc"]) == pytest.approx((standalone["infom"], standalone["infoc"]), abs=1e-12)


def test_training_flavour_infoe_is_lower_when_a_class_owns_non_adjacent_values():
    """A two-valued source coded by latent 0's four values as code % 2 (values 1 and 3 of the axis mean class 1,
    values 0 and 2 class 0): the one-hot read-out decodes it exactly; a linear read-out gives each class one
    interval along the axis, so it cannot (it gets 0.17 of the source's entropy here: three of the four values on
    the right side of one threshold)."""
    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, (4000, 1))
    codes = np.stack([2 * rng.integers(0, 2, 4000) + s[:, 0], rng.integers(0, 4, 4000)], 1)
    values = np.linspace(-0.5, 0.5, 4)[codes]
    standalone = infomec.infomec(s, codes, discrete=True)
    training = infomec.infomec(s, values, True, "training")
    assert standalone["infoe"] > 0.999
    assert training["infoe"] < 0.3
    np.testing.assert_allclose(training["nmi"], standalone["nmi"], atol=1e-12)  # NMI does not care about order


def test_training_flavour_prunes_every_latent_below_an_eighth_of_the_largest_range():
    """Hand-made: latent ranges 1.0, 0.1 and 0.2 -> active: > 1/8 of 1.0 = 0.125, so latents 0 and 2. The
    standalone rule keeps every non-constant code."""
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, (600, 2))
    values = np.stack([s[:, 0] / 2, 0.05 * s[:, 1], 0.1 * rng.integers(0, 3, 600)], 1)  # ranges 1, 0.1, 0.2
    training = infomec.infomec(s, values, True, "training")
    assert training["active"].tolist() == [True, False, True]
    codes = np.stack([np.unique(values[:, j], return_inverse=True)[1] for j in range(3)], 1)
    assert infomec.infomec(s, codes, discrete=True)["active"].tolist() == [True, True, True]


def test_training_flavour_uses_three_neighbours_on_continuous_latents():
    s, z, _ = infomec_tools.synthetic("rotation", n=2000)
    r = infomec.infomec(s, z, False, "training", **FAST)
    zs = infomec.standardise(z) + 1e-10 * np.random.default_rng(0).standard_normal(z.shape)
    expected = infomec.mutual_info_knn(zs[:, 1], s[:, 2], k=3) / infomec.entropy(s[:, 2])
    assert r["nmi"][2, 1] == pytest.approx(expected, abs=1e-12)
    assert r["k"] == 3 and r["nmi"][2, 1] != pytest.approx(infomec.infomec(s, z, False, **FAST)["nmi"][2, 1], abs=1e-6)


def test_training_flavour_one_hot_encodes_integer_indices_like_the_standalone_one():
    """VQ-VAE's indices: the authors' logger one-hot encodes integers too, so only k and pruning differ; on
    codes whose ranges are all alike, the two flavours give the same numbers."""
    s, codes, _ = quantized_case()
    training = infomec.infomec(s, codes, True, "training")
    standalone = infomec.infomec(s, codes, discrete=True)
    assert training["infoe_readout"] == "onehot"
    assert (training["infom"], training["infoe"], training["infoc"]) == pytest.approx(
        (standalone["infom"], standalone["infoe"], standalone["infoc"]), abs=1e-9)


# ------------------------------------------------------------------------------------------------------------
# infomec.py alone (the plain definitions) against lab/infomec_fast.py (what train.py and the sweep pass in): a
# reader can trust the fast code by running the plain one.
@pytest.mark.parametrize("seed, n, k, labels", [(0, 400, 10, 4), (1, 700, 3, 7), (2, 300, 10, 40), (3, 500, 1, 2)])
def test_plain_and_fast_knn_estimators_agree(seed, n, k, labels):
    """Random and structured cases, including labels seen fewer than k + 1 times (k shrinks) or once (dropped)."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, labels, n)
    z = np.sin(s) + (0.3 if seed % 2 else 2.0) * rng.standard_normal(n)
    assert infomec_fast.mutual_info_knn(z, s, k) == pytest.approx(infomec.mutual_info_knn(z, s, k), abs=1e-9)


def noisy_codes(n=1500, seed=0):
    """Codes that tell the sources only partly (no class separable): InfoE's optimum is finite."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, [3, 4], size=(n, 2))
    flip = lambda v, k: np.where(rng.random(n) < 0.3, rng.integers(0, k, n), v)
    return s, np.stack([flip(s[:, 0], 3), flip(s[:, 1], 4), rng.integers(0, 3, n)], 1)


@pytest.mark.parametrize("case", ["mixed", "codes"])
def test_plain_and_fast_infomec_agree(case):
    """InfoM and InfoC to 1e-9 (the same MI), InfoE to 1e-6 (two fits of one convex problem to its optimum)."""
    s, z = mixed_case(n=1500) if case == "mixed" else noisy_codes()
    fast = infomec.infomec(s, z, case == "codes", **FAST)
    plain = infomec.infomec(s, z, case == "codes")
    assert fast["converged"] and plain["converged"]
    np.testing.assert_allclose(fast["nmi"], plain["nmi"], atol=1e-9)
    assert (fast["infom"], fast["infoc"]) == pytest.approx((plain["infom"], plain["infoc"]), abs=1e-9)
    assert fast["infoe"] == pytest.approx(plain["infoe"], abs=1e-6)


@pytest.mark.parametrize("case", ["identity", "rotation", "near_separable", "codes_random", "codes_trained"])
@pytest.mark.parametrize("flavour", ["standalone", "training"])
def test_infomec_py_alone_gives_the_benchmarks_numbers(case, flavour):
    """The benchmark's cases at N = 1 500 (the plain k-NN is O(N^2)), in both flavours: MI to 1e-9, InfoE to 1e-6.
    The plain fit forms the full Hessian, (K x columns)^2: for one-hot codes, sources 3 and 4 (8 and 4 classes)
    on the first four latents keep it quick."""
    s, z, discrete = infomec_tools.synthetic(case, n=1500)
    if flavour == "training" and discrete:
        z = np.linspace(-0.5, 0.5, 10)[z]  # quantized values, read out linearly
    elif discrete:
        s, z = s[:, [3, 4]], z[:, :4]
    fast = infomec.infomec(s, z, discrete, flavour, **FAST)
    plain = infomec.infomec(s, z, discrete, flavour)
    assert fast["converged"] and plain["converged"]
    np.testing.assert_allclose(fast["nmi"], plain["nmi"], atol=1e-9)
    assert (fast["infom"], fast["infoc"]) == pytest.approx((plain["infom"], plain["infoc"]), abs=1e-9)
    assert fast["infoe"] == pytest.approx(plain["infoe"], abs=1e-6)


def test_plain_and_fast_training_time_flavour_agree_on_quantized_values():
    s, codes = noisy_codes()
    values = np.linspace(-0.5, 0.5, 4)[codes]
    fast, plain = (infomec.infomec(s, values, True, "training", **f) for f in (FAST, {}))
    assert fast["infoe"] == pytest.approx(plain["infoe"], abs=1e-6)
    assert (fast["infom"], fast["infoc"]) == pytest.approx((plain["infom"], plain["infoc"]), abs=1e-9)


def test_plain_fit_reaches_the_infimum_of_a_partly_separable_problem():
    (readout, x), y, infimum = partly_separable("linear")
    h, converged = infomec.logistic_cross_entropy(x, y[:, 0])
    assert converged and h == pytest.approx(infimum, abs=1e-6)


def test_on_separable_classes_both_fits_stop_within_their_stated_distance_of_the_infimum():
    """Separable classes: the infimum of the loss is 0 (InfoE 1), approached only as the weights grow. Each fit stops
    once its weighted loss is below its SEPARABLE_LOSS (or its decrement below its DECREMENT), so each InfoE is
    within about that / log K of 1."""
    s, z, _ = infomec_tools.synthetic("identity", n=1500)
    k = s.max(0) + 1
    for options, tolerance in ((FAST, 1e-6), ({}, 1e-8)):
        r = infomec.infomec(s, z, False, **options)
        assert r["converged"] and r["infoe"] >= 1 - tolerance / np.log(k.min())


def test_infomec_py_is_the_definitions_and_the_scorer_in_order():
    """A reader meets every definition before the scorer, the input encoding before its first use, and nothing
    else: numpy only, no fast paths or tools (lab/ has those), within the 400-line budget."""
    text = open(os.path.join(ROOT, "infomec.py")).read()
    order = ["entropy", "mutual_info_discrete", "mutual_info_knn", "nmi_matrix", "rescaled_ratio",
             "logistic_cross_entropy", "readout_cross_entropies", "encode_labels", "encode_inputs", "infomec"]
    assert [text.index(f"\ndef {name}(") for name in order] == sorted(text.index(f"\ndef {name}(") for name in order)
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import numpy as np"] and len(text.splitlines()) <= 400


@pytest.mark.parametrize("case", ["near_separable", "codes_trained"])
def test_benchmark_cases_like_trained_latents_score_as_described(case):
    """near_separable: InfoE close to 1; codes_trained: most of each source recoverable (0.974 at N = 10 000; at
    N = 3 000 its four random latents nearly memorise the samples, so InfoE nears 1 too: an in-sample fit)."""
    s, z, discrete = infomec_tools.synthetic(case, n=3000)
    r = infomec.infomec(s, z, discrete, **FAST)
    assert r["converged"]
    assert r["infoe"] > (0.999 if case == "near_separable" else 0.9)


def test_benchmark_times_a_users_file(tmp_path, capsys):
    s, z, _ = infomec_tools.synthetic("codes_random", n=500)
    np.savez(tmp_path / "mine.npz", sources=s, latents=z)
    infomec_tools.benchmark(str(tmp_path / "mine.npz"), discrete=True, repeats=1)
    out = capsys.readouterr().out
    assert "mine.npz" in out and "converged" in out


def separable_values_with_a_misleading_direction(n=4000):
    """Four classes separable along x1 (class c holds values c - 0.3 ... c + 0.3 on a 0.1 grid: gaps between
    classes), so the loss's infimum is 0. x2 - x1 = 0.1 y tells the class too, except for two samples given
    another class's offset: along that direction the classes barely spread, so a closed-form start (linear
    discriminant analysis) puts huge weights there and predicts those two samples' wrong class with certainty
    (the situation of a trained QLAE's codebook values, read out linearly)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, n)
    x1 = np.round(y + rng.uniform(-0.3, 0.3, n), 1)
    offset = y.copy()
    offset[:2] = (y[:2] + 2) % 4
    return np.stack([x1, x1 + 0.1 * offset], 1), y


def test_linear_fit_reaches_the_infimum_of_separable_classes_or_says_it_did_not():
    """A linear read-out of separable classes: the infimum of the cross-entropy is 0 (InfoE 1). `converged` must mean
    the fit is there, so: converged and a cross-entropy within the stated distance of 0."""
    x, y = separable_values_with_a_misleading_direction()
    h, converged = infomec_fast.readout_cross_entropies(y[:, None], x, "linear")
    plain, plain_converged = infomec.logistic_cross_entropy(infomec.standardise(x), y)
    assert plain_converged and plain < 1e-6  # the plain fit, from W = 0, gets there
    assert converged and h[0] < 1e-6
    s = np.stack([y, y // 2], 1)
    for options in (FAST, {}):
        r = infomec.infomec(s, x, True, "training", **options)  # values read out linearly
        assert r["converged"] and r["infoe"] > 1 - 1e-6


def test_collinear_float_codes_are_read_out_exactly_on_their_column_span():
    """A VQ-VAE's training-flavour latents: each slot's quantized embedding (here 2 slots x 6 dimensions, each slot
    taking one of 4 vectors) as float columns, many more columns than the span they fill (2 x 3 + 1). The fast fit
    reduces them to an orthonormal basis of their span first; the plain fit on all 12 columns lands on the same
    infimum; and since 4 affinely independent vectors per slot span every function of the slot's index, so does
    the one-hot read-out of the indices (to 1e-5: the one-hot fit stops on its own decrement, and the unweighted
    cross-entropy that InfoE reports moves to first order with the distance to the optimum)."""
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, (1500, 2))
    index = np.stack([np.where(rng.random(1500) < 0.7, s[:, 0], rng.integers(0, 4, 1500)),
                      np.where(rng.random(1500) < 0.6, s[:, 1] + 1, rng.integers(0, 4, 1500))], 1)
    books = rng.standard_normal((2, 4, 6))  # (slot, code, dimension)
    values = np.concatenate([books[j][index[:, j]] for j in range(2)], 1)  # (N, 12), rank 6 once centred
    assert np.linalg.matrix_rank(infomec.standardise(values)) == 6
    assert infomec_fast.column_span(infomec.standardise(values)).shape == (1500, 6)
    fast, plain = (infomec.infomec(s, values, True, "training", **f) for f in (FAST, {}))
    onehot = infomec.infomec(s, index, True, **FAST)
    assert fast["converged"] and plain["converged"] and fast["infoe_readout"] == "linear"
    assert fast["infoe"] == pytest.approx(plain["infoe"], abs=1e-6)
    assert fast["infoe"] == pytest.approx(onehot["infoe"], abs=1e-5)  # another fit, stopped by its own decrement
