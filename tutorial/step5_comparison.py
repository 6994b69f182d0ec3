# %% [markdown]
# # Step 5: the comparison, looked at
#
# Runtime: 7 min on a 2-core CPU on top of step 3's runs (one more run: a beta-VAE; one thread, the other
# core busy), GPU: not measured; fast mode: about 15 s. Reads alongside the paper's experiments and `lab/sweep.py`.
#
# Step 3 trained an AE, a QLAE and a QLAE without weight decay; here a beta-VAE (its beta: the paper's value for
# Shapes3D, `train.BASELINE_WEIGHTS`, printed below) joins them, and we look at what each latent encodes: the NMI
# heatmaps (sources down, latents across) and the traversals (one row per latent: decode the first evaluation
# image's latent with that one coordinate swept; for the QLAE over the values of its codebook). One seed at a
# shortened length is an illustration, not a result: the tables in results/README.md (`python lab/sweep.py run
# ...`) give means and confidence intervals over seeds.

# %%
import os

import numpy as np

from _setup import FAST, FIGURES, RUNS, ROOT, SIZE, check, plt, savefig, show_png, train_or_load
import data
import train
from lab import sweep

MODELS = {"ae": ("AE", ["--model", "ae"]), "vae": ("beta-VAE", ["--model", "vae"]),
          "qlae": ("QLAE", ["--model", "qlae"]), "qlae-nowd": ("QLAE w/o weight decay", ["--model", "qlae",
                                                                                      "--weight-decay", "0"])}
print("beta-VAE's beta (train.BASELINE_WEIGHTS):", train.BASELINE_WEIGHTS["beta"])
print("train.py flags of every run here:", " ".join(SIZE))
results = {name: train_or_load(name, [*SIZE, *flags]) for name, (_, flags) in MODELS.items()}
names = data.SHAPES3D_FACTORS

print(f"{'model':22s} {'PSNR':>6s} {'InfoM':>6s} {'InfoE':>6s} {'InfoC':>6s}")
for name, (label, _) in MODELS.items():
    r = results[name]
    print(f"{label:22s} {r['psnr']:6.2f} {r['infom']:6.3f} {r['infoe']:6.3f} {r['infoc']:6.3f}")

# %% [markdown]
# ## Heatmaps
# A modular code has one bright cell per column (each latent about one source); a compact one has one bright
# cell per row. With twice as many latents as sources (the shape printed below), compactness is not expected
# (InfoC is secondary in the paper). The heatmaps are the sweep's own, drawn from each run's kept evaluation
# latents (`eval_latents.npz`) as `python lab/sweep.py heatmaps RUNS_FOLDER --runs FOLDER ...` draws them; each
# panel is titled with its run folder.

# %%
folders = [os.path.basename(results[name]["run_dir"]) for name in ("ae", "vae", "qlae")]
print("panels:", ", ".join(f"{MODELS[n][0]} = {f}" for n, f in zip(("ae", "vae", "qlae"), folders)))
print(f"python lab/sweep.py heatmaps {os.path.relpath(RUNS, ROOT)} --runs {' '.join(folders)}")
sweep.heatmaps(RUNS, folders, os.path.relpath(os.path.join(FIGURES, "step5_heatmaps.png")))
show_png("step5_heatmaps.png")
print("NMI matrix: sources x latents =", np.array(results["qlae"]["nmi"]).shape)

for name in ("ae", "qlae"):
    nmi = np.array(results[name]["nmi"])
    print(f"{MODELS[name][0]}: what each latent encodes most (NMI), and how much of its information that is")
    for j in range(nmi.shape[1]):
        top = int(nmi[:, j].argmax())
        share = nmi[top, j] / max(nmi[:, j].sum(), 1e-12)
        print(f"  z{j:<2d} {names[top]:12s} {nmi[top, j]:.2f}  ({share:.0%} of its NMI mass)")
for name in MODELS:
    nmi = np.array(results[name]["nmi"])
    print(f"{MODELS[name][0]:22s} largest NMI per source: " + ", ".join(f"{n} {v:.2f}" for n, v in
                                                                      zip(names, nmi.max(1))))
runs_of_tables = sweep.read_json(os.path.join(ROOT, "results", "cpu-sweep", "qlae-s0", "config.json"))
print(f"results/README.md's CPU tables: {runs_of_tables['steps']:,} steps; the paper (--preset paper): "
      f"{train.PAPER_PRESET['steps']:,} steps at {train.PAPER_PRESET['resolution']} px")

# %% [markdown]
# Reading it (this run's numbers, printed above; in the fast mode the models are untrained and none of this
# shows): compare the QLAE's InfoM with the AE's and the beta-VAE's in
# the table, then the two per-latent lists. Where the QLAE puts a hue into a latent, that latent's NMI mass sits
# mostly on that one source; the AE spreads each hue over several latents, at lower NMI and with smaller shares.
# The last lines give each source's best latent per model: at this length the object's scale and shape are
# encoded little by any model, and the orientation at most weakly. They are small in a 32 px image and
# contribute little to the reconstruction loss, which is why the tables in results/README.md train longer and
# why the paper's length and resolution matter (the line printed last).
#
# ## Traversals
# Left the AE (each latent swept over the range the evaluation set covers), right the QLAE (each latent over its
# learned values). Look for rows that change one thing (a hue, the size, the shape) and rows that change several.

# %%
fig, axes = plt.subplots(1, 2, figsize=(16, 10))
for ax, name in zip(axes, ("ae", "qlae")):
    ax.imshow(plt.imread(os.path.join(results[name]["run_dir"], "traversals.png")))
    ax.set_title(MODELS[name][0]), ax.axis("off")
savefig(fig, "step5_traversals.png")

# %% [markdown]
# Hold the rows against the per-latent lists above. A QLAE latent that holds most of its NMI mass on one hue
# should change only that colour in its row; an AE latent whose mass is spread changes several things at once
# (a wall colour together with the floor colour, or with the object's size). That is what the InfoM gap in the
# table looks like.
#
# And weight decay? Compare the two QLAE rows of the table: at this length it need not make the QLAE more
# modular, and step 3 showed why that is no surprise (this run is a fraction of the decay's time constant).
# Given a few time constants, step 3's study finds the QLAE with weight decay more modular: compared seed with
# seed over seven seeds per arm, the interval of the mean difference lies above 0 (its paired table's last InfoM
# row; one pair in seven goes the other way). Exercise 10 asks what that evidence can and cannot say.

# %%
for name in MODELS:
    nmi = np.array(results[name]["nmi"])
    check(nmi.shape == (len(names), 2 * len(names)), f"{name}: an NMI matrix of sources x twice as many latents")
if not FAST:
    check(results["qlae"]["infom"] > results["ae"]["infom"] + 0.1, "QLAE is more modular than the AE")
    check(results["qlae"]["infom"] > results["vae"]["infom"], "and than the beta-VAE")
