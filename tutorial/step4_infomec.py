# %% [markdown]
# # Step 4: information theory for InfoMEC
#
# Runtime: 28 s of one core's CPU time (measured on a 2-core CPU; the wall time was 3.8 min there while other jobs
# shared it), fast mode: 10 s; GPU: not measured. Reads alongside the paper's InfoMEC section and `infomec.py`.
#
# InfoMEC measures disentanglement with mutual information between each source s_i and each latent z_j, in
# three numbers: InfoM (modularity: does each latent carry one source?), InfoC (compactness: is each source in
# one latent?) and InfoE (explicitness: can a linear read-out recover each source?). We build it bottom-up, each
# piece with the definition in `infomec.py` that the project scores with; the first cell lists where each one is.
# (train.py and the sweep pass faster computations of the same numbers in, from lab/infomec_fast.py; this step
# uses the definitions as they read, which is why it scores smaller samples than a run's evaluation set.)

# %%
import inspect
import math

import numpy as np

from _setup import check, fast, plt, savefig
import infomec
from lab import infomec_tools

for f in (infomec.entropy, infomec.mutual_info_discrete, infomec.mutual_info_knn, infomec.nmi_matrix,
          infomec.rescaled_ratio, infomec.logistic_cross_entropy, infomec.infomec):
    print(f"infomec.py, line {inspect.getsourcelines(f)[1]:3d}: {f.__name__:24s} {f.__doc__.splitlines()[0][:70]}")

# %% [markdown]
# ## Entropy and plug-in mutual information
# For discrete variables, estimate the joint distribution by counting (a contingency table) and plug it in:
# H(s) = -sum p log p and I(s; z) = sum p(s, z) log p(s, z) / (p(s) p(z)), in nats. Example: z copies s
# exactly, so I(s; z) = H(s); an independent z gives I = 0 (up to the small positive bias of plug-in MI on
# finite samples: about (K_s - 1)(K_z - 1) / 2N nats).

# %%
rng = np.random.default_rng(0)
n = fast(10_000, 3_000)
s = rng.integers(0, 4, n)
print(f"H(s) = {infomec.entropy(s):.4f} nats (log 4 = {math.log(4):.4f})")
print(f"I(s; s) = {infomec.mutual_info_discrete(s, s):.4f}")
independent = infomec.mutual_info_discrete(s, rng.integers(0, 5, n))
print(f"I(s; independent z) = {independent:.5f} (bias estimate {3 * 4 / (2 * n):.5f})")
check(abs(infomec.mutual_info_discrete(s, s) - infomec.entropy(s)) < 1e-9, "I(s; s) = H(s)")
check(independent < 5 * 3 * 4 / (2 * n), "an independent z has MI near 0 (its plug-in bias)")

# %% [markdown]
# ## Continuous latents: the k-nearest-neighbour estimator
# A continuous latent has no contingency table. Binning it (a histogram) makes the answer depend on the bins.
# Ross (2014) instead looks at neighbourhoods: for each point, take the distance d to its k-th nearest neighbour
# among points with the *same* source value, and count m, the points of *any* value within d. If z says nothing
# about s, a ball holding k same-value points holds about k N / N_s points overall; the more z separates the
# values, the fewer others crowd in. I = psi(N) + <psi(k)> - <psi(N_s)> - <psi(m)>, psi the digamma function.
# The definition, as the project computes it (printed from `infomec.py`):

# %%
print(inspect.getsource(infomec.mutual_info_knn))

# %% [markdown]
# Check it on a case with a known answer: s uniform on {0, 1, 2}, z = s + Gaussian noise of std sigma. The
# truth is a one-dimensional integral, I = h(z) - h(z | s), computed here numerically on a fine grid.

# %%
def true_mi(sigma, k_values=3):
    grid = np.linspace(-6 * sigma, k_values - 1 + 6 * sigma, 200_001)
    dz = grid[1] - grid[0]
    parts = np.stack([np.exp(-0.5 * ((grid - c) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
                      for c in range(k_values)])  # (K, G) densities p(z | s = c)
    p = parts.mean(0)  # p(z)
    h_z = -(p * np.log(np.where(p > 0, p, 1))).sum() * dz
    return h_z - 0.5 * math.log(2 * math.pi * math.e * sigma**2)


rows = []
for sigma in (0.2, 0.5, 1.0, 2.0):
    s = rng.integers(0, 3, n)
    z = s + sigma * rng.standard_normal(n)
    rows.append((sigma, true_mi(sigma), infomec.mutual_info_knn(z, s, k=10)))
    print(f"sigma {sigma:3.1f}: true I = {rows[-1][1]:.4f}, k-NN estimate = {rows[-1][2]:.4f} nats")
check(all(abs(t - e) < 0.03 for _, t, e in rows), "the k-NN estimate is within 0.03 nats of the truth")

# %% [markdown]
# ## NMI, InfoM and InfoC
# Normalise by the source's entropy: NMI_ij = I(s_i; z_j) / H(s_i), in [0, 1]. InfoM is the mean over (active)
# latents of max_i NMI_ij / sum_i NMI_ij, InfoC the mean over sources of max_j NMI_ij / sum_j NMI_ij, each
# rescaled so that an even spread (chance, 1/n) is 0 and one-to-one is 1. The constructions below are the
# reference implementation's test cases (their sources and latents: the shapes printed below, from the
# procedural Shapes3D's source sizes): an identity map with as many unused latents as sources, a random
# rotation of the sources (everything mixed), pure noise, and the same for codes (integer latents).
# `infomec.infomec` scores them with the definitions above (its defaults: the standalone flavour).

# %%
m = fast(3_000, 1_000)  # samples per case: the plain k-NN definition costs O(m^2) per (source, latent) pair
cases, data_of = {}, {}
for case in ("identity", "rotation", "noise", "codes_identity", "codes_random"):
    data_of[case] = infomec_tools.synthetic(case, m)
    sources, latents, discrete = data_of[case]
    cases[case] = infomec.infomec(sources, latents, discrete)
    r = cases[case]
    print(f"{case:15s} sources {sources.shape}, latents {latents.shape}: InfoM {r['infom']:.3f}  "
          f"InfoE {r['infoe']:.3f}  InfoC {r['infoc']:.3f}  (active latents {r['n_active']})")
fig, axes = plt.subplots(1, 3, figsize=(13, 2.6))
for ax, case in zip(axes, ("identity", "rotation", "noise")):
    ax.imshow(cases[case]["nmi"], vmin=0, vmax=1, cmap="viridis")
    ax.set_title(f"{case}: InfoM {cases[case]['infom']:.2f}, InfoC {cases[case]['infoc']:.2f}", fontsize=9)
    ax.set_xlabel("latent"), ax.set_ylabel("source")
savefig(fig, "step4_nmi_cases.png")
check(cases["identity"]["infom"] > 0.97 and cases["identity"]["infoc"] > 0.97, "identity: modular and compact")
check(cases["rotation"]["infom"] < 0.6 and cases["rotation"]["infoe"] > 0.97,
      "rotation: not modular, yet perfectly explicit (a linear map undoes a rotation)")
check(cases["noise"]["infoe"] < 0.05, "noise: nothing can be read out")
check(cases["noise"]["infom"] > 0.2, "yet noise's InfoM is far from 0")

# %% [markdown]
# Read the three numbers together. Pure noise has an InfoM far from 0 (the noise line above): every NMI value is
# tiny, and the max/sum ratio of tiny estimation errors is itself noise. InfoE near 0 and a dark NMI matrix say
# that nothing is encoded; InfoM alone would not.
#
# ## InfoE
# Explicitness asks how much of each source a *linear* read-out recovers: fit an unregularised multinomial
# logistic regression from the latents (one-hot per latent for codes, standardised for continuous latents) to
# the source, with class-balanced weights, and compare its cross-entropy with the null model's. The balanced
# intercept-only model predicts every class with probability 1/K, so H_null = log K, and
# InfoE = mean_i (H_null - H_model) / H_null. The rotation case shows why InfoE is separate from InfoM: mixing
# sources linearly destroys modularity but no information that a linear read-out can use.
# One catch of an unregularised, in-sample fit: when some classes can be told apart perfectly, the weights
# would grow forever (the optimum is at infinity) and gradient-based solvers only creep towards the loss's
# limit. Trained models do this often. `infomec.logistic_cross_entropy` therefore fits by exact Newton steps,
# which walk a separating direction at a constant pace (the loss falls geometrically), and reports `converged`.
#
# Below, InfoE of the rotation and the noise case by hand: standardise the continuous latents, fit each source
# with `infomec.logistic_cross_entropy` (the regression itself, read it in `infomec.py`), compare with log K.
# It must give the number `infomec.infomec` gave above.

# %%
for case in ("rotation", "noise"):
    sources, latents, _ = data_of[case]
    x = infomec.standardise(latents)  # (m, n_z) zero mean, unit variance per latent (a constant one: all 0)
    gains = []
    for i in range(sources.shape[1]):
        h_model, converged = infomec.logistic_cross_entropy(x, sources[:, i])  # nats; reached the infimum?
        h_null = math.log(sources[:, i].max() + 1)  # the balanced null model's cross-entropy: log K
        gains.append((h_null - h_model) / h_null)
        print(f"{case:8s} source {i}: H_null = log {sources[:, i].max() + 1:2d} = {h_null:.3f}, "
              f"H_model = {h_model:.4f} (converged {converged}), share removed {gains[-1]:.4f}")
    print(f"{case:8s} InfoE by hand {np.mean(gains):.6f}, infomec.infomec {cases[case]['infoe']:.6f}")
    check(abs(np.mean(gains) - cases[case]["infoe"]) < 1e-9, f"{case}: the hand-built InfoE is infomec's")

# %% [markdown]
# ## Why older metrics mislead: two cases
# MIG (mutual information gap, `lab/infomec_tools.py`) takes, per source, the gap between its two largest NMI
# values, with continuous latents binned into equal-width bins (its default number is printed below).
# 1. **One latent encoding two sources.** z_0 = K s_0 + s_1 (a single code that holds both; K the number of
#    values of s_1), z_1 constant. For each source the top latent is z_0 and the second holds nothing, so MIG
#    calls this perfect. InfoM sees that z_0 carries two sources equally: it is not modular at all.
# 2. **One outlier.** z = s + small noise, but one sample lies far away (its value is printed below). Equal-width
#    bins stretch to cover the outlier and every other sample falls into one bin, so that source's gap drops to
#    0 (MIG, the mean over the two sources, halves). The k-NN estimator looks at neighbourhoods and does not
#    notice.

# %%
print("MIG's bins for continuous latents:", inspect.signature(infomec_tools.mig).parameters["bins"].default)
K = 10
s2 = rng.integers(0, K, (m, 2))
entangled = np.stack([K * s2[:, 0] + s2[:, 1], np.zeros(m, dtype=int)], 1)
mig_entangled = infomec_tools.mig(s2, entangled, discrete=True)
infom_entangled = infomec.infomec(s2, entangled, discrete=True)["infom"]
print(f"one latent for two sources: MIG {mig_entangled:.3f}, InfoM {infom_entangled:.3f}")
check(mig_entangled > 0.95 and infom_entangled < 0.05, "MIG calls it perfect, InfoM calls it entangled")

clean = s2 + 0.05 * rng.standard_normal((m, 2))
outlier = clean.copy()
outlier[0, 0] = 1000.0
print(f"the outlier: z0 = {outlier[0, 0]:.0f}, every other sample of z0 within [{clean[:, 0].min():.2f}, "
      f"{clean[:, 0].max():.2f}]")
mig, nmi = {}, {}
for name, z in (("clean", clean), ("one outlier", outlier)):
    r = infomec.infomec(s2, z, discrete=False)
    mig[name], nmi[name] = infomec_tools.mig(s2, z, discrete=False), r["nmi"][0, 0]
    print(f"{name:12s}: MIG {mig[name]:.3f}, NMI(s0; z0) {nmi[name]:.3f}, InfoM {r['infom']:.3f}")
check(mig["one outlier"] < 0.6 < mig["clean"], "one outlier collapses MIG's histogram")
check(nmi["one outlier"] > 0.9, "but not the k-NN NMI")
