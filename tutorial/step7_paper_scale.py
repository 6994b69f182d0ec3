# %% [markdown]
# # Step 7: paper scale on one GPU, and the real datasets
#
# Runtime: 2 s (it trains nothing unless a GPU is present and RUN_GPU_CHECK=1 is set: then the GPU check,
# designed to take under 5 minutes; not yet run on a GPU).
# Reads alongside the paper's experiments and its appendix (training details).
#
# Everything so far ran at "CPU scale": small images, the narrow "cpu" nets, a few thousand steps (train.py's
# defaults, printed below). The paper's scale is one flag away, `--preset paper`: the 12-layer nets, larger
# images, larger batches, far more steps (its values printed below; the GANs keep their own learning rate and a
# smaller batch). This step shows exactly what that means and the commands to run it.

# %%
import os
import tempfile

import torch

from _setup import ROOT, check
import train
from lab import real_data

KEYS = ("net", "resolution", "batch_size", "steps", "lr", "weight_decay")
cpu = train.parse_args(["--out-dir", "unused"])
paper = train.parse_args(["--preset", "paper", "--out-dir", "unused"])
paper_gan = train.parse_args(["--preset", "paper", "--model", "qlinfogan", "--out-dir", "unused"])
print("CPU scale (the default):", {k: getattr(cpu, k) for k in KEYS})
print("--preset paper:         ", {k: getattr(paper, k) for k in KEYS})
print("--preset paper, GAN:    ", {k: getattr(paper_gan, k) for k in KEYS})
model = train.build_model("qlae", (3, 64, 64), 12, "paper")
n_enc = sum(p.numel() for p in model.encoder.parameters()) / 1e6
n_dec = sum(p.numel() for p in model.decoder.parameters()) / 1e6
print(f"paper nets at 64 px: encoder {n_enc:.2f} M, decoder {n_dec:.2f} M parameters")
check((paper.net, paper.resolution, paper.batch_size, paper.steps) == ("paper", 64, 128, 200_000),
      "the paper preset is the paper's setting")
check(paper.weight_decay == 0.1 and paper.lr == 1e-3, "QLAE: AdamW lr 1e-3, weight decay 0.1")
check(3.0 < n_enc < 4.5 and 3.0 < n_dec < 5.0, "the nets have the paper's size (about 3.7 M + 4 M)")

# %% [markdown]
# ## The commands
# On one GPU (the device is picked automatically):
#
#     python tests/gpu_check.py                     # < 5 min: throughput per speed option, a short run, the
#                                                   # projected time of 200k steps
#     python train.py --preset paper                # one QLAE at the paper's scale
#     python train.py --preset paper --compile --channels-last --bf16   # the speed options gpu_check found fastest
#     python lab/sweep.py run runs/paper --seeds 0 1 2 3 4 5 6 -- --preset paper   # the tables, 7 seeds
#     python lab/sweep.py print --seeds 0 1 2 3 4 5 6 -- --preset paper > runs.txt # or one line per run
#     python lab/sweep.py table runs/paper
#
# What to expect, from the paper (its main table, Shapes3D, 7 seeds): QLAE reaches higher InfoM and InfoE than the
# AE, beta-VAE, beta-TCVAE and BioAE at an AE-like PSNR; without weight decay its InfoM and InfoE drop; VQ-VAE
# is much less modular; QLInfoWGAN-GP gains over InfoWGAN-GP in the same way. results/README.md records what this
# project has measured so far and what it has not (no GPU was available when it was written).

# %% [markdown]
# ## The real datasets
# They cannot be downloaded by this code: fetch them yourself (the README's table names the files), then point
# `--data-dir` at their folder, e.g. `python train.py --dataset mpi3d_complex --data-dir ~/data --preset paper`.
# A missing or malformed file gets an error that says what was expected, before any training starts:

# %%
with tempfile.TemporaryDirectory() as empty:
    for name in ("dsprites", "mpi3d_complex", "falcor3d"):
        try:
            real_data.open_dataset(name, 64, empty)
            raise AssertionError(f"{name}: an empty folder was accepted")
        except (ValueError, OSError) as e:
            print(f"{name}: {str(e)[:150]}")
            check(real_data.REAL[name][0] in str(e), f"{name}: the error names the expected file or folder")

# %% [markdown]
# ## On a GPU: the prepared check
# With a GPU and RUN_GPU_CHECK=1 this cell runs `tests/gpu_check.py` (about 5 minutes) and prints its table.

# %%
if torch.cuda.is_available() and os.environ.get("RUN_GPU_CHECK") == "1":
    import sys

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import gpu_check

    report = gpu_check.main([])
    check(report["projection_h"] > 0, "the GPU check projected the paper-scale run time")
else:
    print("no GPU check run here (needs a CUDA GPU and RUN_GPU_CHECK=1)")
