# %% [markdown]
# # Step 3: training an AE and a QLAE, and what weight decay does
#
# Runtime: 18 min on a 2-core CPU (three runs of 3 000 steps; measured with one thread while the other core
# was busy), GPU: not measured; fast mode: about 30 s. Reads alongside the paper's method (quantization, weight
# decay) and `train.py`.
#
# Three runs of `train.py` with the same seed, nets and data, differing in one thing each:
# - **AE**: a plain autoencoder, continuous latent, no weight decay;
# - **QLAE**: the latent quantized onto per-dimension codebooks, with the paper's AdamW weight decay for it
#   (`train.WEIGHT_DECAY`, printed below);
# - **QLAE w/o weight decay**: the same with `--weight-decay 0` (the paper's ablation).
#
# The second half of the method is the optimiser. AdamW's decoupled weight decay shrinks every weight matrix,
# kernel, norm scale and the decoder's constant input a little at every step (biases, norm shifts and codebook
# values are exempt: `train.param_groups`). Networks with small weights cannot afford an arbitrary, memorised
# map from the grid of codes to images; the cheapest fit reuses each codebook value with one meaning everywhere.
# Runs are kept under runs/tutorial/: re-running this step reuses finished runs (delete them to retrain).

# %%
import glob
import json
import math
import os

from _setup import FAST, FIGURES, ROOT, SIZE, check, plt, savefig, show_png, train_or_load
import train
from lab import sweep
from lab.runs import read_jsonl
from quantizer import LatentQuantizer

RUNS_OF_THIS_STEP = {"ae": ["--model", "ae"], "qlae": ["--model", "qlae"],
                     "qlae-nowd": ["--model", "qlae", "--weight-decay", "0"]}


print("AdamW weight decay per model (train.WEIGHT_DECAY):", {m: train.WEIGHT_DECAY[m] for m in ("ae", "qlae")})
print("train.py flags of every run here:", " ".join(SIZE))
results = {name: train_or_load(name, [*SIZE, *flags]) for name, flags in RUNS_OF_THIS_STEP.items()}

# %% [markdown]
# ## The training log
# Each run prints a progress line every `--log-every` steps and appends the same numbers to `metrics.jsonl` in its
# folder: the interval's mean losses (`loss` the total, `recon` the reconstruction BCE per pixel; the QLAE adds
# the quantization and commitment losses), and the throughput. A run reused from an earlier session prints no
# line, so the log is read back from the file:

# %%
for name in RUNS_OF_THIS_STEP:
    print(f"{name} ({results[name]['run_dir']}/metrics.jsonl)")
    for row in read_jsonl(os.path.join(results[name]["run_dir"], "metrics.jsonl")):
        losses = " | ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("step", "img_per_s", "data_share"))
        print(f"  step {row['step']:>5d} | {losses} | {row['img_per_s']:4.0f} img/s")

# %% [markdown]
# ## What weight decay did
# Two measurements per run, both `train.weight_summary`, the summary every evaluation writes to `eval.json`: the
# L2 norm of all decayed parameters together, and the mean range of a latent's codebook values. And, drawn, each
# latent's codebook (sorted values): the codebook values are not decayed, but the encoder that produces the
# latents is.

# %%
loaded = {name: sweep.load_run(results[name]["run_dir"]) for name in RUNS_OF_THIS_STEP}
summary = {name: train.weight_summary(loaded[name][1]) for name in RUNS_OF_THIS_STEP}
print(f"{'run':10s} {'PSNR (dB)':>9s} {'|decayed weights|':>18s} {'codebook range':>15s}")  # (how disentangled:
for name, r in results.items():  # step 4 defines the measures, step 5 applies them to these runs)
    book = summary[name].get("codebook_range")
    print(f"{name:10s} {r['psnr']:9.2f} {summary[name]['decayed_norm']:18.1f} "
          f"{'-' if book is None else format(book, '.2f'):>15s}")
check(all(abs(summary[n]["decayed_norm"] - results[n]["decayed_norm"]) < 1e-3 * results[n]["decayed_norm"]
          for n in results), "the loaded weights are the ones the run evaluated (the same weight_summary)")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.4), gridspec_kw={"wspace": 0.35})
for ax, name in zip(axes[:2], ("qlae", "qlae-nowd")):
    books = loaded[name][1].quantizer.codebooks().detach().sort(1).values  # (n_z, n_v)
    for j, row in enumerate(books):
        ax.plot(row.numpy(), [j] * len(row), "|", markersize=9)
    ax.set_title(f"{name}: learned codebook values", fontsize=9)
    ax.set_xlabel("value"), ax.set_ylabel("latent")
for name in RUNS_OF_THIS_STEP:
    lines = read_jsonl(os.path.join(results[name]["run_dir"], "metrics.jsonl"))
    axes[2].plot([l["step"] for l in lines], [l["recon"] for l in lines], label=name)
axes[2].set_xlabel("step"), axes[2].set_ylabel("reconstruction BCE per pixel"), axes[2].legend(fontsize=8)
savefig(fig, "step3_codebooks_and_curves.png")
initial = LatentQuantizer(1, loaded["qlae"][1].quantizer.values.shape[1]).codebooks()  # the grid before training
print(f"a codebook's initial values span [{initial.min().item():.1f}, {initial.max().item():.1f}]; learned, the QLAE's "
      f"span {summary['qlae']['codebook_range']:.2f} on average")

# %% [markdown]
# Reading it (a normal-mode run; the fast mode's runs are too short for any of this to show). The QLAE
# reconstructs worse than the AE at this length (the PSNR column above: its decoder sees only grid points).
# Weight decay keeps the decayed weights smaller (the norm column: QLAE against QLAE without weight decay).
# The codebooks spread far beyond their initial range (the last line above; their values are not
# decayed, the latent scale is free), with distinct, well-separated values per latent. Whether the QLAE's latents
# are more disentangled than the AE's, and whether weight decay changes that, needs a measure: step 4 builds
# InfoMEC, step 5 scores these three runs with it.
#
# How much can weight decay have done in this run? AdamW multiplies each decayed weight by (1 - lr * wd) every
# step, so without a gradient a weight shrinks as exp(-lr * wd * t), with time constant 1 / (lr * wd) steps. The
# next cell reads lr and wd from the QLAE run's config.json and puts its length and the paper's on that scale.

# %%
config = json.load(open(os.path.join(results["qlae"]["run_dir"], "config.json")))
tau = 1 / (config["lr"] * config["weight_decay"])
print(f"QLAE: lr {config['lr']:g}, weight decay {config['weight_decay']:g}: time constant {tau:,.0f} steps")
print(f"this run: {config['steps']:,} steps = {config['steps'] / tau:.2f} time constants; decay alone would shrink a "
      f"weight by {1 - math.exp(-config['steps'] / tau):.0%}")
print(f"the paper (--preset paper): {train.PAPER_PRESET['steps']:,} steps = "
      f"{train.PAPER_PRESET['steps'] / tau:.0f} time constants")

# %% [markdown]
# The regulariser has barely started to act here (the lines above). What happens when it has time is in the
# project's weight-decay study (results/wd-study/README.md: QLAE with and without weight decay on the same seeds,
# trained for several time constants, learning curves kept in each run's `curves.jsonl`). The next cell draws and
# tabulates those curves with the sweep's own command, `python lab/sweep.py curves results/wd-study --only ae qlae
# qlae-nowd --table-at FIRST LAST`, at the study's first curve point (this step's length) and its last, over every
# seed the folder holds. Then it compares the two QLAE arms seed by seed, as the study's test does: seed s trains
# on the same initialisation and the same batches in both arms, so the difference InfoM(with) - InfoM(without)
# of each seed is not blurred by what differs from seed to seed (`python lab/sweep.py paired results/wd-study
# --only qlae qlae-nowd --table-at FIRST LAST`). The study's README says which test was fixed before its last
# runs, and its answer.

# %%
study = os.path.relpath(os.path.join(ROOT, "results", "wd-study"))  # (relative: the output names no machine)
seeds = sorted(sweep.seed_of(d) for d in glob.glob(os.path.join(study, "qlae-s*")))  # every seed the study holds
curves = {name: [read_jsonl(os.path.join(study, f"{name}-s{seed}", "curves.jsonl")) for seed in seeds]
          for name in ("qlae", "qlae-nowd")}
steps = sorted({row["step"] for run in curves["qlae"] for row in run})
print(f"the study: QLAE with and without weight decay, seeds {seeds}; the table: mean ± half-width of the 95% "
      "confidence interval over seeds (lab/sweep.py, mean_ci)")
sweep.curves(study, ["ae", "qlae", "qlae-nowd"], os.path.relpath(os.path.join(FIGURES, "step3_wd_study.png")),
             at_steps=(steps[0], steps[-1]))
show_png("step3_wd_study.png")
print()
paired = sweep.paired(study, "qlae", "qlae-nowd", at_steps=(steps[0], steps[-1]))


def infom_at(name, step):  # every seed's InfoM at one curve point of the study, in seed order
    return [row["infom"] for run in curves[name] for row in run if row["step"] == step]


apart = [step for step in steps if min(infom_at("qlae", step)) > max(infom_at("qlae-nowd", step))]
since = next((s for s in steps if all(t in apart for t in steps if t >= s)), None)
print(f"\nthe study ran {steps[-1]:,} steps = {steps[-1] / tau:.0f} time constants; " + (
      f"every QLAE seed with weight decay is above every seed without it from step {since:,} on "
      f"({since / tau:.1f} time constants)" if since is not None else
      "at its last point the two arms' seeds overlap (some seed without weight decay is at least as modular as some "
      "seed with it): the paired table above compares each seed with itself instead"))

# %% [markdown]
# In that study (the figure's norm panel, and the table's decayed-weight norm at the first and last point) the
# decayed weights' norm levels off with weight decay while without it it keeps growing, like the AE's. In InfoM,
# at this step's length the two QLAE arms overlap, seed by seed. The paired table reads the rest: its column
# `interval vs 0` says whether the seed-by-seed difference clears seed noise (at this step's length and at the
# study's last point), `favour` how many seeds point the paper's way; the study's README states the answer in
# words. Step 5 scores this step's runs; exercises 11 and 10 take this further.

# %%
for name, r in results.items():
    check(all(r[k] == r[k] for k in ("psnr", "infom", "infoe", "infoc")), f"{name}: every metric is a number")
check(os.path.exists(os.path.join(results["qlae"]["run_dir"], "traversals.png")), "each run wrote its figures")
check(config["steps"] < tau, "this run is shorter than one time constant of the decay")
norms = {name: [row["decayed_norm"] for run in curves[name] for row in run if row["step"] == steps[-1]]
         for name in curves}
check(max(norms["qlae"]) < min(norms["qlae-nowd"]), "the study: weight decay ends with smaller weights, every seed")
check(steps[0] not in apart, "the study: at this step's length the two arms' seeds overlap in InfoM")
last_pair = next(line for line in paired if line.startswith(f"| infom | {steps[-1]} |"))
check(last_pair.split(" | ")[2] == str(len(seeds)), "the study: its paired test at the last point uses every seed")
if not FAST:  # claims about trained models; in the fast mode the models are untrained
    check(summary["qlae"]["decayed_norm"] < summary["qlae-nowd"]["decayed_norm"],
          "weight decay leaves the decayed weights smaller")
    check(results["qlae"]["psnr"] < results["ae"]["psnr"], "the QLAE reconstructs worse than the AE at this length")
    check(results["qlae"]["psnr"] > 20, "QLAE still reconstructs the images (PSNR > 20 dB; untrained: about 10)")
    check(summary["qlae"]["codebook_range"] > initial.max().item() - initial.min().item(),
          "the codebooks spread beyond their initial range")
