# %% [markdown]
# # Step 4: information theory for InfoMEC
#
# Runtime: 7 s on a 2-core CPU (fast mode: 3 s; GPU: not measured). Reads alongside the paper's InfoMEC section and `infomec.py`.
#
# InfoMEC measures disentanglement with mutual information between each source s_i and each latent z_j, in
# three numbers: InfoM (modularity: does each latent carry one source?), InfoC (compactness: is each source in
# one latent?) and InfoE (explicitness: can a linear read-out recover each source?). We build it bottom-up.

# %%
import math

import numpy as np

from _setup import check, fast, plt, savefig
import infomec
from lab import infomec_tools
from lab.infomec_fast import FAST

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
#
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
# reference implementation's test cases (6 sources, 12 latents): an identity map with 6 unused latents, a
# random rotation of the sources (everything mixed), and pure noise.

# %%
cases = {}
for case in ("identity", "rotation", "noise", "codes_identity", "codes_random"):
    sources, latents, discrete = infomec_tools.synthetic(case, n)
    cases[case] = infomec.infomec(sources, latents, discrete, **FAST)
    r = cases[case]
    print(f"{case:15s} InfoM {r['infom']:.3f}  InfoE {r['infoe']:.3f}  InfoC {r['infoc']:.3f}  "
          f"(active latents {r['n_active']})")
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

# %% [markdown]
# Read the three numbers together. Pure noise has InfoM about 0.5 (0.52 here): every NMI value is tiny, and the
# max/sum ratio of tiny estimation errors is itself noise. InfoE near 0 and a dark NMI matrix say that nothing
# is encoded; InfoM alone would not.
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
# limit. Trained models do this often. infomec.py therefore hands such fits to exact Newton steps, which
# walk a separating direction at a constant pace (the loss falls geometrically), and reports `converged`.

# %% [markdown]
# ## Why older metrics mislead: two cases
# MIG (mutual information gap) takes, per source, the gap between its two largest NMI values, with continuous
# latents binned into 20 equal-width bins.
# 1. **One latent encoding two sources.** z_0 = 10 s_0 + s_1 (a single code that holds both), z_1 constant. For
#    each source the top latent is z_0 and the second holds nothing, so MIG calls this perfect. InfoM sees that
#    z_0 carries two sources equally: it is not modular at all.
# 2. **One outlier.** z = s + small noise, but one sample is 1 000 instead. Equal-width bins stretch to cover
#    the outlier and every other sample falls into one bin, so that source's gap drops to 0 (MIG, the mean over
#    the two sources, halves). The k-NN estimator looks at neighbourhoods and does not notice.

# %%
s2 = rng.integers(0, 10, (n, 2))
entangled = np.stack([10 * s2[:, 0] + s2[:, 1], np.zeros(n, dtype=int)], 1)
mig_entangled = infomec_tools.mig(s2, entangled, discrete=True)
infom_entangled = infomec.infomec(s2, entangled, discrete=True, **FAST)["infom"]
print(f"one latent for two sources: MIG {mig_entangled:.3f}, InfoM {infom_entangled:.3f}")
check(mig_entangled > 0.95 and infom_entangled < 0.05, "MIG calls it perfect, InfoM calls it entangled")

clean = s2 + 0.05 * rng.standard_normal((n, 2))
outlier = clean.copy()
outlier[0, 0] = 1000.0
for name, z in (("clean", clean), ("one outlier", outlier)):
    r = infomec.infomec(s2, z, discrete=False, **FAST)
    print(f"{name:12s}: MIG {infomec_tools.mig(s2, z, discrete=False):.3f}, NMI(s0; z0) {r['nmi'][0, 0]:.3f}, "
          f"InfoM {r['infom']:.3f}")
check(infomec_tools.mig(s2, outlier, discrete=False) < 0.6 < infomec_tools.mig(s2, clean, discrete=False),
      "one outlier collapses MIG's histogram")
check(infomec.infomec(s2, outlier, discrete=False, **FAST)["nmi"][0, 0] > 0.9, "but not the k-NN NMI")
