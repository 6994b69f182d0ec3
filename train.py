"""Train a QLAE (or a baseline, or a (QL)InfoWGAN-GP) on a benchmark, then evaluate it (PSNR, codebook usage,
InfoMEC) and draw it.

    python train.py                      # QLAE on the 32 px Shapes3D analogue, CPU-sized (see README for time)
    python train.py --model ae           # the same with a plain autoencoder
    python train.py --model qlinfogan    # QLInfoWGAN-GP: the GAN family (5 critic steps per generator step)
    python train.py --preset paper       # the paper's scale for one GPU: paper nets, 64 px, batch 128, 200k steps
    python train.py --help               # every flag

Paper: Hsu et al., NeurIPS 2023, the method (weight decay) and the appendix (training details). The second half of the method is
the optimiser: AdamW with an unusually high decoupled weight decay (0.1 for QLAE), on every weight matrix,
kernel, norm scale and the decoder's constant input; biases, norm shifts and the codebook values are not
decayed. Weight decay keeps the networks small, so they cannot memorise an arbitrary map from the grid of codes
to images; together with the few values per latent, the cheapest fit is one where each value means the same
thing everywhere, i.e. a disentangled one. Gradients of the decayed group are clipped ELEMENT-WISE to [-1, 1].

Run folder (--out-dir): config.json, metrics.jsonl (one line per log interval), ckpt.pt (a plain dict, written
atomically: a crash leaves the previous checkpoint whole), eval.json and PNG figures.

Deviations from the paper / reference code: the default run is CPU-sized (32 px, "cpu" nets, batch 64,
6 000 steps); --preset paper restores the paper's setting.
"""
import argparse
import contextlib
import dataclasses
import errno
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

import data
import infomec
from lab import infomec_fast, infomec_tools
import models

# ----------------------------------------------------------------------------------------------------------
# The paper's recipe: every number of it, in this one block; each has a flag (named beside it) that overrides it.
# Optimiser: AdamW, constant lr 1e-3 (--lr), betas (0.9, 0.999) (--adam-beta1, --adam-beta2), gradients of the
# decayed group clipped element-wise to [-1, 1] (--grad-clip); GANs: lr 2e-4, betas (0, 0.9) (GAN_PRESETS below).
# Batch 128 and 200 000 steps at the paper's scale (--batch-size, --steps; PRESETS below), 10 values per codebook
# (--values-per-latent), latents = 2 x sources (--n-latents).
LOSS_WEIGHTS = {  # the objectives' weights, relative to the per-pixel mean reconstruction BCE
    "quantization_weight": 0.01,  # --quantization-weight  QLAE, QLInfoWGAN-GP: pulls codebook values to encodings
    "commitment_weight": 0.01,  # --commitment-weight      QLAE, QLInfoWGAN-GP: pulls encodings to their values
    "vq_codebook_weight": 1.0,  # --vq-codebook-weight     VQ-VAE (its original paper's values)
    "vq_commitment_weight": 0.25,  # --vq-commitment-weight
    "gp_weight": 10.0,  # --gp-weight                      (QL)InfoWGAN-GP: gradient penalty
    "latent_weight": 200.0,  # --latent-weight             (QL)InfoWGAN-GP: InfoGAN's latent (code) reconstruction
    "critic_steps": 5,  # --critic-steps                   (QL)InfoWGAN-GP: critic updates per generator update
}
WEIGHT_DECAY = {"ae": 0.0, "vae": 0.0, "tcvae": 0.0, "bioae": 1e-4, "vqvae": 0.01, "infogan": 1e-4}  # --weight-decay
PER_DATASET = {  # --beta, --beta-tc, --activity-weight, --weight-decay (QLAE, QLInfoWGAN-GP)
    # dataset: (beta-VAE beta, beta-TCVAE beta_TC, BioAE activity weight, QLAE weight decay, QLInfoWGAN-GP w. d.)
    "shapes3d": (3.0, 3.0, 0.01, 0.1, 1e-3),
    "mpi3d": (0.1, 0.3, 0.01, 0.001, 1e-3),
    "falcor3d": (10.0, 3.0, 0.01, 0.1, 1e-4),
    "isaac3d": (0.3, 1.0, 0.1, 0.1, 1e-3),
}  # the procedural benchmarks (and dsprites, vector: no paper value) use the Shapes3D row
PRESETS = {
    "cpu": {},  # the Args defaults below
    "paper": {"net": "paper", "resolution": 64, "batch_size": 128, "steps": 200_000, "lr": 1e-3,
              "log_every": 1000, "ckpt_every": 5000},
}
# The GANs' optimiser differs (the authors' GAN setting): Adam(W) lr 2e-4, betas (0, 0.9), batch 64 also at paper scale.
GAN_PRESETS = {"cpu": {"lr": 2e-4, "adam_beta1": 0.0, "adam_beta2": 0.9},
               "paper": {"lr": 2e-4, "adam_beta1": 0.0, "adam_beta2": 0.9, "batch_size": 64}}


def flag(default, help):
    return field(default=default, metadata={"help": help})


@dataclass
class Args:
    model: str = flag("qlae", "qlae (quantized latent), ae, vae (beta-VAE), tcvae (beta-TCVAE), bioae, vqvae, "
                              "infogan (InfoWGAN-GP), qlinfogan (QLInfoWGAN-GP)")
    dataset: str = flag("shapes3d", "shapes3d (procedural Shapes3D analogue), dsprites, vector (tiny, for tests); "
                                    "with --data-dir a real dataset (dsprites, shapes3d, mpi3d_toy, mpi3d_realistic, "
                                    "mpi3d_real, mpi3d_complex, falcor3d, isaac3d); or npz:PATH for your own data")
    data_dir: str = flag("", "folder holding a real dataset's downloaded file(s); empty = procedural data")
    preset: str = flag("cpu", "cpu: small and fast (defaults below); paper: paper nets, 64 px, batch 128, 200k steps")
    resolution: int = flag(32, "image side for shapes3d (a multiple of 16, >= 32); dsprites is 64")
    net: str = flag("cpu", "network size: cpu (fast), small (paper's small variant) or paper (12-layer nets)")
    steps: int = flag(6000, "optimiser steps (GANs: critic steps, one generator step per 5)")
    batch_size: int = flag(64, "images per step")
    lr: float = flag(1e-3, "AdamW learning rate (constant); GANs default to 2e-4")
    adam_beta1: float = flag(0.9, "AdamW beta1; GANs default to 0")
    adam_beta2: float = flag(0.999, "AdamW beta2; GANs default to 0.9")
    grad_clip: float = flag(1.0, "element-wise gradient clip of the decayed group: each entry to [-c, c]")
    weight_decay: float = flag(-1.0, "AdamW decoupled weight decay on the decayed group; -1 = model default "
                                     "(qlae 0.1, ae 0, infogan 1e-4, qlinfogan 1e-3)")
    beta: float = flag(-1.0, "beta-VAE KL weight; -1 = the paper's value for the dataset (Shapes3D: 3)")
    beta_tc: float = flag(-1.0, "beta-TCVAE total-correlation weight; -1 = the paper's (Shapes3D: 3)")
    activity_weight: float = flag(-1.0, "BioAE activity (mean z^2) weight; -1 = the paper's (0.01)")
    quantization_weight: float = flag(LOSS_WEIGHTS["quantization_weight"], "QLAE / QLInfoWGAN-GP quantization loss")
    commitment_weight: float = flag(LOSS_WEIGHTS["commitment_weight"], "QLAE / QLInfoWGAN-GP commitment loss")
    vq_codebook_weight: float = flag(LOSS_WEIGHTS["vq_codebook_weight"], "VQ-VAE codebook loss")
    vq_commitment_weight: float = flag(LOSS_WEIGHTS["vq_commitment_weight"], "VQ-VAE commitment loss")
    gp_weight: float = flag(LOSS_WEIGHTS["gp_weight"], "GANs: gradient penalty")
    latent_weight: float = flag(LOSS_WEIGHTS["latent_weight"], "GANs: latent (code) reconstruction")
    critic_steps: int = flag(LOSS_WEIGHTS["critic_steps"], "GANs: critic updates per generator update")
    values_per_latent: int = flag(10, "values in each latent's scalar codebook (qlae)")
    n_latents: int = flag(0, "number of latents; 0 = 2 x the number of sources")
    global_codebook: bool = flag(False, "ablation: one scalar codebook shared by every latent (qlae)")
    frozen_values: bool = flag(False, "ablation: keep the codebook values at their initial grid (qlae)")
    seed: int = flag(0, "seeds the weights and the training batches")
    device: str = flag("auto", "auto (cuda, then mps, then cpu), cpu, cuda or mps")
    out_dir: str = flag("", "run folder; empty = runs/MODEL-DATASET-sSEED-TIME")
    resume: bool = flag(False, "continue from OUT_DIR/ckpt.pt (same flags; --steps may grow)")
    log_every: int = flag(250, "steps between progress lines (and metrics.jsonl entries)")
    ckpt_every: int = flag(1000, "steps between checkpoints (one is always written at the end)")
    eval_size: int = flag(10_000, "images in the fixed evaluation set (fewer if the dataset is smaller)")
    eval_every: int = flag(0, "steps between learning-curve evaluations on the evaluation set (InfoMEC in both "
                              "flavours, PSNR, codebook usage and range, decayed weights' norm), logged to "
                              "curves.jsonl and drawn in curves.png; 0 = off")
    channels_last: bool = flag(False, "speed: channels-last memory layout (see the fenced speed section)")
    compile: bool = flag(False, "speed: torch.compile the encoder and decoder (autoencoders only)")
    bf16: bool = flag(False, "speed: bfloat16 autocast of the forward pass (for GPUs)")
    active_fraction: float = flag(1 / 20, "InfoMEC pruning of continuous latents: active if range > max range x "
                                          "this (reference 1/20; the authors' training logger used 1/8)")


# Every numeric flag's allowed range, checked before any work: (lowest, highest or None, what a low value means).
# The sizes have a ceiling, so that an absurd one is refused here, not by the allocator minutes into the run.
RANGES = {**{name: (0, None) for name in LOSS_WEIGHTS}, "critic_steps": (1, None),
          "steps": (1, 10 ** 9), "batch_size": (1, 65_536), "log_every": (1, None), "ckpt_every": (1, None),
          "eval_size": (16, 10 ** 6, " (InfoMEC's k-NN estimator and the figures need them)"),
          "eval_every": (0, None, " (0 = off)"), "seed": (0, 2 ** 63 - 1),
          "values_per_latent": (2, 1024), "n_latents": (0, 1024, " (0 = twice the sources)"),
          "weight_decay": (0, None, " (or -1 for the model default)"), "beta": (0, None, " (or -1 for the paper's)"),
          "beta_tc": (0, None, " (or -1 for the paper's)"), "activity_weight": (0, None, " (or -1 for the paper's)")}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for f in dataclasses.fields(Args):
        name = "--" + f.name.replace("_", "-")
        if f.type in (bool, "bool"):
            parser.add_argument(name, action="store_true", help=f.metadata["help"])
        else:
            kind = {"int": int, "float": float, "str": str}.get(f.type, f.type)
            parser.add_argument(name, type=kind, default=f.default, help=f.metadata["help"])
    first = parser.parse_args(argv)  # unknown flags are an error here
    if first.preset not in PRESETS:
        parser.error(f"--preset must be one of {sorted(PRESETS)}, got {first.preset!r}")
    gan = GAN_PRESETS[first.preset] if first.model in models.GANS else {}
    parser.set_defaults(**{**PRESETS[first.preset], **gan})  # explicit flags still win over the preset
    args = Args(**vars(parser.parse_args(argv)))
    problems = []
    if args.model not in models.MODELS:
        problems.append(f"--model must be one of {sorted(models.MODELS)}, got {args.model!r}")
    if args.net not in models.NETS:
        problems.append(f"--net must be one of {sorted(models.NETS)}, got {args.net!r}")
    given = {a.split("=")[0] for a in (sys.argv[1:] if argv is None else argv) if a.startswith("--")}
    if args.data_dir or args.dataset not in ("shapes3d", "vector"):  # every other dataset is 64 px
        if "--resolution" in given and args.resolution != 64:
            problems.append(f"--resolution {args.resolution} cannot apply: {args.dataset} is 64 px (drop the flag)")
        args.resolution = 64
    elif args.dataset == "vector" and "--resolution" in given:
        problems.append("--resolution applies to image datasets; vector data has none (drop the flag)")
    elif not 32 <= args.resolution <= 1024 or args.resolution % 16:  # 4 stride-2 layers: at 16 px, 1 x 1 maps
        problems.append(f"--resolution must be a multiple of 16 from 32 to 1024, got {args.resolution}")
    # Flags that one kind of model reads and the others would silently ignore.
    users = {"--global-codebook": ("qlae", "qlinfogan"), "--frozen-values": ("qlae", "qlinfogan"),
             "--values-per-latent": ("qlae", "qlinfogan"), "--beta": ("vae",), "--beta-tc": ("tcvae",),
             "--activity-weight": ("bioae",)}
    for name, models_using in users.items():
        if name in given and args.model not in models_using:
            problems.append(f"{name} applies to --model {' or '.join(models_using)}, not {args.model} (drop the flag)")
    paper_key = "mpi3d" if args.dataset.startswith("mpi3d") else args.dataset
    beta, beta_tc, activity, qlae_decay, qlgan_decay = PER_DATASET.get(paper_key, PER_DATASET["shapes3d"])
    if args.weight_decay == -1:
        args.weight_decay = {"qlae": qlae_decay, "qlinfogan": qlgan_decay, **WEIGHT_DECAY}.get(args.model, 0.0)
    args.beta = beta if args.beta == -1 else args.beta
    args.beta_tc = beta_tc if args.beta_tc == -1 else args.beta_tc
    args.activity_weight = activity if args.activity_weight == -1 else args.activity_weight
    for name, (low, high, *meaning) in RANGES.items():
        value, flag_name = getattr(args, name), "--" + name.replace("_", "-")
        if not low <= value < math.inf:  # (NaN fails every comparison, so it is refused too)
            problems.append(f"{flag_name} must be >= {low}{''.join(meaning)}, got {value}")
        elif high is not None and value > high:
            problems.append(f"{flag_name} must be at most {high:,}, got {value:,}")
    for name in ("lr", "grad_clip"):
        if not (getattr(args, name) > 0 and math.isfinite(getattr(args, name))):
            problems.append(f"--{name.replace('_', '-')} must be a positive number, got {getattr(args, name)}")
    if not (0 <= args.adam_beta1 < 1 and 0 <= args.adam_beta2 < 1):
        problems.append(f"--adam-beta1 and --adam-beta2 must be in [0, 1), got {args.adam_beta1}, {args.adam_beta2}")
    if not 0 < args.active_fraction < 1:
        problems.append(f"--active-fraction must be in (0, 1), got {args.active_fraction}")
    if args.device not in ("auto", "cpu", "cuda", "mps"):
        problems.append(f"--device must be auto, cpu, cuda or mps, got {args.device!r}")
    elif args.device == "cuda" and not torch.cuda.is_available():
        problems.append("--device cuda was asked for but torch sees no CUDA GPU")
    elif args.device == "mps" and not torch.backends.mps.is_available():
        problems.append("--device mps was asked for but MPS is not available")
    if args.out_dir and os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        problems.append(f"--out-dir {args.out_dir} is a file, not a folder; choose a folder for the run")
    if args.compile and args.model in models.GANS:
        problems.append("--compile does not support the GANs (their gradient penalty needs a double backward)")
    if problems:
        parser.error("; ".join(problems))
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    if not args.out_dir:  # (npz:PATH is named by the file's name alone)
        name = "npz-" + os.path.splitext(os.path.basename(args.dataset[4:]))[0] if args.dataset.startswith("npz:") \
            else args.dataset
        args.out_dir = os.path.join("runs", f"{args.model}-{name}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}")
    return args


# ----------------------------------------------------------------------------------------------------------
# The optimiser: the paper's two parameter groups.
def param_groups(model, weight_decay, prefixes=("",)):
    """decayed: weights, kernels, norm scales, the decoder's constant; not decayed: biases, norm shifts, codebooks.
    Only parameters whose names start with one of `prefixes` (the GANs' two optimisers each take their part)."""
    decayed, plain = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad or not name.startswith(prefixes):
            continue  # a frozen codebook, or the other optimiser's part
        (plain if name.endswith("bias") or name.startswith("quantizer.") else decayed).append(p)
    return [{"params": decayed, "weight_decay": weight_decay, "name": "decayed"},
            {"params": plain, "weight_decay": 0.0, "name": "not_decayed"}]


def clip_decayed_gradients(optimizer, limit=1.0):
    """Element-wise clipping to [-limit, limit], on the decayed group only (not a global-norm clip)."""
    for group in optimizer.param_groups:
        if group["name"] == "decayed":
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.clamp_(-limit, limit)


def make_optimizers(args, model):
    """One AdamW for an autoencoder. Two for a GAN: the critic's (trunk, value head; its latent head is the Q-head)
    and the generator's (decoder and codebooks: the codebooks are updated with the generator)."""
    if args.model not in models.GANS:
        return {"model": torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr,
                                           betas=(args.adam_beta1, args.adam_beta2))}
    parts = {"critic": ("encoder.", "value_head."), "generator": ("decoder.", "quantizer.")}
    return {name: torch.optim.AdamW(param_groups(model, args.weight_decay, prefixes), lr=args.lr,
                                    betas=(args.adam_beta1, args.adam_beta2))
            for name, prefixes in parts.items()}


def update(optimizer, loss, clip):
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip_decayed_gradients(optimizer, clip)
    optimizer.step()


def weights(args):
    """The objectives' weights as the loss functions take them: LOSS_WEIGHTS (or their flags) and the per-dataset
    beta, beta_TC and activity weight."""
    return {name: getattr(args, name) for name in (*LOSS_WEIGHTS, "beta", "beta_tc", "activity_weight")}


def train_step(args, model, optimizers, x, step, generator, dataset_size, autocast=contextlib.nullcontext):
    """One optimiser step; returns (loss, dict of logged floats). A GAN step is one critic update, and every
    critic_steps-th step (5) also one generator update on fresh codes. `autocast` wraps the forward passes (see --bf16)."""
    if args.model not in models.GANS:
        with autocast():
            loss, logs = models.model_loss(args.model, model, x, weights(args), dataset_size)
        update(optimizers["model"], loss, args.grad_clip)  # a non-finite loss is caught by the caller before the next step
        return loss, logs
    with torch.no_grad():
        z = model.sample_codes(len(x), generator)  # (B, n_z)
    with autocast():
        loss, logs = models.critic_loss(model, x, z, weights(args), generator)
    update(optimizers["critic"], loss, args.grad_clip)  # moves only the critic's part (the others' stray grads are reset later)
    if step % args.critic_steps == 0:
        with autocast():
            g_loss, g_logs = models.generator_loss(model, model.sample_codes(len(x), generator), weights(args))
        update(optimizers["generator"], g_loss, args.grad_clip)
        logs.update(g_logs)
    return loss, logs


# ----------------------------------------------------------------------------------------------------------
# Plumbing: atomic checkpoint, safe loading, metrics log, the run folder's lock.
CKPT_KEYS = ("model", "optimizers", "args", "step", "data_rng", "torch_rng")


def atomic_save(obj, path):
    """torch.save to a temp file of this process's own, then rename over `path`: a reader (or a crash) sees the old
    file or the new one, never half of one. A failed save (disk full) removes the temp file and says so."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except (OSError, RuntimeError) as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        full = getattr(e, "errno", None) == errno.ENOSPC or "unexpected pos" in str(e)
        why = "the disk is full (or a quota is reached)" if full else f"{type(e).__name__}: {e}"
        raise SystemExit(f"error: could not write {path}: {why}; the previous file there is intact. Free space "
                         "and resume with --resume.") from None


def load_checkpoint(path, device="cpu"):
    """A checkpoint this project wrote: plain tensors, numbers, strings, lists and dicts, loaded with
    weights_only=True, so a hostile file cannot run code. Anything else is refused with a message naming it."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # UnpicklingError (a pickle that would run code), EOFError / RuntimeError (truncated)
        raise SystemExit(f"error: {path} is not a readable checkpoint of this project ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200] if str(e) else 'empty or truncated'}); delete it and "
                         "train again (or restore it from a copy)") from None
    missing = [k for k in CKPT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise SystemExit(f"error: {path} is not a checkpoint of this project (missing {missing}); delete it and "
                         "train again")
    return ckpt


def write_json(obj, path):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def truncate_metrics(path, last_step):
    """On resume, drop log lines written after the checkpoint (they will be written again), and a torn line (a
    crash or a full disk in the middle of an append)."""
    if os.path.exists(path):
        keep = []
        with open(path) as f:
            for line in f:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    print(f"warning: dropped an unreadable (torn) line of {path}")
                    continue
                if row.get("step", 0) <= last_step:
                    keep.append(line if line.endswith("\n") else line + "\n")
        with open(path, "w") as f:
            f.writelines(keep)


@contextlib.contextmanager
def run_folder_lock(out_dir):
    """Hold the run folder for this process alone: an exclusive lock on OUT_DIR/.lock. The operating system drops
    it when the process ends, however it ends, so a crash cannot leave the folder locked. (No lock on systems
    without fcntl, e.g. Windows.)"""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(os.path.join(out_dir, ".lock"), "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SystemExit(f"error: another process is training in {out_dir}; wait for it to finish, or choose "
                             "another --out-dir") from None
        yield


def restore(args, model, optimizers, generator, ckpt_path, logs):
    """--resume: load the checkpoint into the model, the optimisers and the random streams, cut the logs back to
    its step, and return (that step, the seconds trained before it); (0, 0.0) for a new run. Refuses a checkpoint
    made with other flags, and a new run into a folder that already holds one."""
    device = next(model.parameters()).device
    start, seconds = 0, 0.0
    if os.path.exists(ckpt_path) and not args.resume:
        sys.exit(f"error: {args.out_dir} already holds a checkpoint; pass --resume to continue it, "
                 "or choose another --out-dir")
    if args.resume and os.path.exists(ckpt_path):
        ckpt = load_checkpoint(ckpt_path, device)
        # Flags that may change on resume: how long, where, how fast, how often to log, and --lr (the advice after
        # a divergence); every other flag defines the run and must match.
        ignore = {"steps", "resume", "device", "log_every", "ckpt_every", "eval_every", "out_dir", "data_dir",
                  "channels_last", "compile", "bf16", "lr", "lr_changes"}
        diff = {k: (v, getattr(args, k, None)) for k, v in ckpt["args"].items()
                if k not in ignore and getattr(args, k, None) != v}
        if diff:
            sys.exit(f"error: --resume with flags that differ from the checkpoint's (saved, given): {diff}")
        start, seconds = ckpt["step"], float(ckpt.get("train_seconds", 0.0))  # (absent from older checkpoints)
        if args.steps < start:
            sys.exit(f"error: the checkpoint in {args.out_dir} is at step {start}, beyond --steps {args.steps}; a run "
                     f"cannot be shortened: pass --steps >= {start}, or train a new --out-dir")
        model.load_state_dict(ckpt["model"])
        for name, opt in optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
            for group in opt.param_groups:
                group["lr"] = args.lr  # the saved state holds the old lr
        if "lr_changes" in ckpt["args"]:
            args.lr_changes = ckpt["args"]["lr_changes"]
        if args.lr != ckpt["args"]["lr"]:
            print(f"note: --lr {ckpt['args']['lr']} -> {args.lr} from step {start} (recorded in config.json)")
            args.lr_changes = [*ckpt["args"].get("lr_changes", []), [start, args.lr]]
        generator.set_state(ckpt["data_rng"])
        torch.set_rng_state(ckpt["torch_rng"])
        for path in logs:
            truncate_metrics(path, start)
        print(f"resumed from {ckpt_path} at step {start}")
    elif args.resume:
        print(f"no checkpoint in {args.out_dir}; starting from step 0")
    return start, seconds


def fmt_time(seconds):
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s"


# ----------------------------------------------------------------------------------------------------------
# Evaluation: PSNR, codebook usage and InfoMEC (in both of the authors' flavours) on a fixed set, plus figures.
def score_latents(sources, latents, values, discrete, active_fraction=1 / 20):
    """InfoMEC of one evaluation set in both flavours of the authors' code (see infomec.FLAVOURS):
    the standalone metric (top-level keys: infom, infoe, infoc, n_active, infoe_converged, nmi) and the
    training-time one (under "training_flavour"). sources (N, n_s) ints; latents (N, n_z): integer codes if
    `discrete`, else continuous; values (N, n_z) floats: a scalar-quantized model's z_q (None otherwise), which
    the training-time flavour reads out linearly. Returns (dict for eval.json, standalone result for the heatmap)."""
    standalone = infomec.infomec(sources, latents, discrete, "standalone", active_fraction=active_fraction,
                                 **infomec_fast.FAST)
    training = infomec.infomec(sources, latents if values is None else values, discrete, "training", **infomec_fast.FAST)
    keep = lambda r: {"infom": r["infom"], "infoe": r["infoe"], "infoc": r["infoc"], "n_active": r["n_active"],
                      "infoe_converged": bool(r["converged"])}  # False: InfoE is a lower bound (see infomec.py)
    result = {**keep(standalone), "nmi": standalone["nmi"].round(4).tolist(),
              "training_flavour": {**keep(training), "nmi": training["nmi"].round(4).tolist()}}
    return result, standalone


def save_latents(path, sources, latents, values):
    """The evaluation set's sources and latents (and quantized values), compressed and written atomically: enough
    to rescore a run in either flavour without its checkpoint (`python sweep.py rescore`, `python -m lab.infomec_tools`)."""
    arrays = {"sources": sources.astype(np.int16), "latents": latents.astype(np.int16 if latents.dtype.kind in "iu"
                                                                              else np.float32)}
    if values is not None:
        arrays["values"] = values.astype(np.float32)
    with open(path + ".tmp", "wb") as f:
        np.savez_compressed(f, **arrays)
    os.replace(path + ".tmp", path)


def weight_summary(model):
    """What weight decay acts on: the L2 norm of every decayed parameter together, and (quantized models) the
    mean range max - min of a latent's codebook values."""
    decayed = param_groups(model, 0.0)[0]["params"]
    summary = {"decayed_norm": torch.sqrt(sum(p.detach().float().pow(2).sum() for p in decayed)).item()}
    if model.scalar_quantized:
        books = model.quantizer.codebooks().detach()  # (n_z, n_v)
        summary["codebook_range"] = (books.max(1).values - books.min(1).values).mean().item()
    return summary


@torch.no_grad()
def evaluate(args, model, dataset, out_dir, figures=True, latents_name="eval_latents.npz"):
    """PSNR, codebook usage and InfoMEC (both flavours) on the fixed evaluation set; writes the set's latents
    (`latents_name`) and, if `figures`, the NMI heatmap, reconstructions and traversals. Touches no random
    stream that training uses."""
    model.eval()
    device = next(model.parameters()).device
    indices = data.eval_indices(dataset, args.eval_size).to(device)  # (N,) the same images for every run
    factors = dataset.index_to_factors(indices)  # (N, n_s)
    codes, psnrs = [], []
    for chunk in indices.split(500):
        x = dataset.render_index(chunk)  # (b, C, H, W)
        codes.append(model.codes(x).cpu())
        psnrs.append(models.psnr(model.reconstruct(x), x) * len(chunk))
    codes = torch.cat(codes)  # (N, n_z): integer indices (qlae) or continuous z (ae)
    discrete = model.discrete  # quantized models are scored on their integer indices
    values = None
    if model.scalar_quantized:  # the quantized values z_q = codebook_j[code_j], for the training-time flavour
        values = model.quantizer.codebooks().cpu().gather(1, codes.t()).t()  # (N, n_z)
    result = {"psnr": sum(psnrs) / len(factors), "n_eval": len(factors), **weight_summary(model)}
    if discrete:
        result["codebook_usage"] = model.quantizer.usage(codes.to(device)).mean().item()
    sources = factors.cpu().numpy()
    if latents_name:
        save_latents(os.path.join(out_dir, latents_name), sources, codes.numpy(),
                     None if values is None else values.numpy())
    try:
        scores, standalone = score_latents(sources, codes.numpy(), None if values is None else values.numpy(),
                                           discrete, args.active_fraction)
        result.update(scores)
    except ValueError as e:  # e.g. a user's file whose evaluation set has a constant factor: keep the rest
        print(f"warning: InfoMEC not computed: {e}")
        result["infomec_error"] = str(e)
        standalone = None
    if figures and standalone is not None:
        infomec_tools.plot_nmi(standalone, os.path.join(out_dir, "nmi.png"), source_names=dataset.factor_names,
                         title=args.model)  # the panel's title adds the three scores
    if figures and len(dataset.image_shape) == 3:  # images: reconstructions and (but for VQ-VAE) traversals
        draw_figures(model, dataset, indices[:8], codes, out_dir)
    model.train()
    return result


@torch.no_grad()
def draw_figures(model, dataset, indices, codes, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def show(ax, img):  # img (C, H, W) in [0, 1]
        ax.imshow(img.permute(1, 2, 0).cpu().numpy().squeeze(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])

    x = dataset.render_index(indices)  # (n <= 8, C, H, W): a small user dataset may have fewer
    recon = torch.sigmoid(model.reconstruct(x))  # (n, C, H, W)
    fig, axes = plt.subplots(2, len(x), figsize=(8, 2.2), squeeze=False)
    for i in range(len(x)):
        show(axes[0, i], x[i]), show(axes[1, i], recon[i])
    axes[0, 0].set_ylabel("input"), axes[1, 0].set_ylabel("recon")
    fig.tight_layout(), fig.savefig(os.path.join(out_dir, "reconstructions.png"), dpi=100), plt.close(fig)

    if isinstance(model, models.InfoGAN):  # a GAN: 64 samples from the code prior (U[0,1] or the codebook grid)
        device = next(model.parameters()).device  # own stream: drawing samples leaves training's untouched
        samples = torch.sigmoid(model.decoder(model.sample_codes(64, torch.Generator(device).manual_seed(0))))
        fig, axes = plt.subplots(8, 8, figsize=(8, 8))
        for ax, img in zip(axes.flat, samples):
            show(ax, img)
        fig.tight_layout(pad=0.1), fig.savefig(os.path.join(out_dir, "samples.png"), dpi=80), plt.close(fig)

    # Traversals: start from the first image's latent and sweep one latent at a time. QLAE: over every value
    # of that latent's learned codebook (sorted); AE: over the range the evaluation set covers, in 10 steps.
    if isinstance(model, models.VQVAE):
        return  # a VQ-VAE slot holds a 64-d vector: there is no single axis to sweep
    z = model.latent(x[:1])  # (1, n_z): z_q, mu or z
    n_z = z.shape[1]
    if model.scalar_quantized:
        sweeps = model.quantizer.codebooks().sort(dim=1).values  # (n_z, n_v)
    else:
        lo, hi = codes.min(0).values, codes.max(0).values  # (n_z,)
        sweeps = torch.stack([torch.linspace(a, b, 10) for a, b in zip(lo.tolist(), hi.tolist())]).to(z.device)
    n_v = sweeps.shape[1]
    fig, axes = plt.subplots(n_z, n_v, figsize=(n_v * 0.8, n_z * 0.8), squeeze=False)
    for j in range(n_z):
        zs = z.repeat(n_v, 1)  # (n_v, n_z)
        zs[:, j] = sweeps[j]
        imgs = torch.sigmoid(model.decoder(zs))  # (n_v, C, H, W)
        for k in range(n_v):
            show(axes[j, k], imgs[k])
        axes[j, 0].set_ylabel(f"z{j}", rotation=0, labelpad=12, fontsize=8)
    fig.tight_layout(pad=0.1), fig.savefig(os.path.join(out_dir, "traversals.png"), dpi=80), plt.close(fig)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


CURVE_PANELS = (("infom", "InfoM"), ("infoe", "InfoE"), ("infoc", "InfoC"), ("psnr", "PSNR (dB)"),
                ("decayed_norm", "norm of the decayed weights"), ("codebook_range", "codebook range (mean)"))


def plot_curves(groups, path, labels, title=""):
    """Learning curves from curves.jsonl rows. groups: one list of runs (each a list of rows) per label; a group of
    several runs (seeds) is drawn as its mean and a band from its lowest to its highest run. InfoMEC panels: the
    standalone flavour solid, the training-time flavour dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for (key, name), ax in zip(CURVE_PANELS, axes.flat):
        for i, (runs, label) in enumerate(zip(groups, labels)):
            colour = f"C{i}"
            flavours = [(False, "-")] + [(True, "--")] * (key in ("infom", "infoe", "infoc"))
            for training, style in flavours:
                get = (lambda r: r.get("training_flavour", {}).get(key)) if training else (lambda r: r.get(key))
                steps = sorted({r["step"] for run in runs for r in run if get(r) is not None})
                if not steps:
                    continue
                table = np.array([[next((get(r) for r in run if r["step"] == s and get(r) is not None), np.nan)
                                   for s in steps] for run in runs])  # (runs, steps)
                mean = np.nanmean(table, 0)
                ax.plot(steps, mean, style, color=colour,
                        label=None if training else f"{label} (n={len(runs)})")
                if len(runs) > 1 and not training:
                    ax.fill_between(steps, np.nanmin(table, 0), np.nanmax(table, 0), color=colour, alpha=0.2)
        ax.set_title(name + (" (solid: standalone, dashed: training-time)" if key == "infom" else ""), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------------------
# Speed: every option in this one fenced place, all off by default. None changes the method; each is measured on
# and off by tests/bench_train.py (README, "Training speed", has the figures and which ones help where).
#   --channels-last  NHWC memory layout for the convolutions (mostly a GPU win with tensor cores);
#   --compile        torch.compile of the encoder and decoder (not for the GANs: the gradient penalty needs a
#                    double backward, which compiled graphs do not support);
#   --bf16           bfloat16 autocast of the forward pass (GPU; the losses stay in float32).
def speed_setup(args, model):
    """Apply the layout/compile options to the model; returns (prepare batch, autocast context factory)."""
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    if args.compile:
        model.encoder.compile(), model.decoder.compile()  # in place: the state_dict keys stay the same
    layout = torch.channels_last if args.channels_last else torch.contiguous_format
    image = isinstance(model.encoder, models.ConvEncoder)
    prepare = (lambda x: x.contiguous(memory_format=layout)) if image else (lambda x: x)
    device_type = next(model.parameters()).device.type
    return prepare, lambda: torch.autocast(device_type, dtype=torch.bfloat16, enabled=args.bf16)


def build(args, dataset):
    n_latents = args.n_latents or 2 * len(dataset.factor_sizes)
    return models.build_model(args.model, dataset.image_shape, n_latents, args.net, args.values_per_latent,
                              not args.frozen_values, args.global_codebook)


def config_of(args):
    """config.json: every resolved flag, and the steps at which --lr was changed on resume (if it was)."""
    return {**dataclasses.asdict(args), **({"lr_changes": args.lr_changes} if hasattr(args, "lr_changes") else {})}


def load_run(out_dir, device="cpu"):
    """(args, model in eval mode, dataset) of a run folder's checkpoint: to draw or score a trained model again."""
    ckpt = load_checkpoint(os.path.join(out_dir, "ckpt.pt"), device)
    args = Args(**{k: v for k, v in ckpt["args"].items() if k in {f.name for f in dataclasses.fields(Args)}})
    dataset = data.get_dataset(args.dataset, args.resolution, args.data_dir or None)
    model = build(args, dataset).to(device)
    model.load_state_dict(ckpt["model"])
    return args, model.eval(), dataset


def main(argv=None):
    args = parse_args(argv)
    print("config:", json.dumps(dataclasses.asdict(args)))
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    try:
        dataset = data.get_dataset(args.dataset, args.resolution, args.data_dir or None)
    except (ValueError, ImportError) as e:
        sys.exit(f"error: {e}")
    model = build(args, dataset).to(device)
    prepare, autocast = speed_setup(args, model)
    optimizers = make_optimizers(args, model)
    generator = torch.Generator(device).manual_seed(args.seed)  # the training batches' random stream

    try:
        os.makedirs(args.out_dir, exist_ok=True)
    except OSError as e:
        sys.exit(f"error: cannot create the run folder {args.out_dir} ({e.strerror}); choose an --out-dir you can "
                 "write to")
    with run_folder_lock(args.out_dir):
        return run(args, dataset, model, prepare, autocast, optimizers, generator)


def run(args, dataset, model, prepare, autocast, optimizers, generator):
    """Train (or resume) into args.out_dir, evaluate, write the results. main() holds the folder's lock."""
    device = next(model.parameters()).device
    ckpt_path, metrics_path = os.path.join(args.out_dir, "ckpt.pt"), os.path.join(args.out_dir, "metrics.jsonl")
    curves_path = os.path.join(args.out_dir, "curves.jsonl")
    start, seconds_before = restore(args, model, optimizers, generator, ckpt_path, (metrics_path, curves_path))
    eval_path = os.path.join(args.out_dir, "eval.json")
    if start < args.steps and os.path.exists(eval_path):  # extending a finished run: its old result is stale
        os.remove(eval_path)
    write_json(config_of(args), os.path.join(args.out_dir, "config.json"))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.model} on {args.dataset} {dataset.image_shape}, {model.n_latents} latents, {n_params / 1e6:.2f} M params, "
          f"device {device}, run folder {args.out_dir}")

    def checkpoint(step, logs):
        bad = [name for name, p in model.named_parameters() if not torch.isfinite(p).all()]
        if bad:  # never save weights that are not finite: the last checkpoint stays the one to resume from
            sys.exit(f"error: the weights became NaN or inf by step {step} (e.g. {bad[0]}); not checkpointed, so "
                     f"{ckpt_path} (the last good step) is intact. The likely cause is a learning rate too large "
                     f"for this setting: resume with a smaller one, e.g. --resume --lr {args.lr / 3:g}")
        atomic_save({"model": model.state_dict(), "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                     "args": config_of(args),
                     "step": step, "metrics": logs, "data_rng": generator.get_state(),
                     "torch_rng": torch.get_rng_state(), "train_seconds": trained_for()}, ckpt_path)

    def trained_for():  # seconds of training over every sitting of the run, less its learning-curve evaluations
        return seconds_before + time.time() - t_start - eval_seconds

    def curve_point(step, result=None):
        """One learning-curve point: evaluate (unless the final evaluation's result is given), log to curves.jsonl,
        keep the evaluation set's latents in curve/. Training's random streams are saved and put back."""
        nonlocal eval_seconds
        if result is None:
            t0, state = time.time(), torch.get_rng_state()
            os.makedirs(os.path.join(args.out_dir, "curve"), exist_ok=True)
            result = evaluate(args, model, dataset, args.out_dir, figures=False,
                              latents_name=os.path.join("curve", f"latents-{step:07d}.npz"))
            torch.set_rng_state(state)
            eval_seconds += time.time() - t0
        row = {"step": step, **{k: v for k, v in result.items() if isinstance(v, (int, float))},
               "training_flavour": {k: v for k, v in result.get("training_flavour", {}).items() if k != "nmi"}}
        with open(curves_path, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"eval at step {step}: " + " | ".join(f"{k} {row[k]:.4f}" for k in ("psnr", "infom", "infoe", "infoc",
                                                                                    "decayed_norm") if k in row), flush=True)

    # ---------------------------------------------------------------------------------------------- training
    model.train()
    t_start, t_data, images, sums, counts, logs, eval_seconds = time.time(), 0.0, 0, {}, {}, {}, 0.0
    for step in range(start + 1, args.steps + 1):
        t0 = time.time()
        x, _ = dataset.sample(args.batch_size, generator)  # (B, C, H, W) on the device
        x = prepare(x)
        t_data += time.time() - t0
        loss, logs = train_step(args, model, optimizers, x, step, generator, len(dataset), autocast)
        if not torch.isfinite(loss):  # the step is taken, but no checkpoint will hold its result
            sys.exit(f"error: the loss became {loss.item()} at step {step}; the last checkpoint ({ckpt_path}) holds "
                     "finite weights of an earlier step. The likely cause is a learning rate too large for this "
                     f"setting: resume with a smaller one, e.g. --resume --lr {args.lr / 3:g}")
        images += args.batch_size
        for k, v in {"loss": loss.item(), **logs}.items():
            sums[k], counts[k] = sums.get(k, 0.0) + v, counts.get(k, 0) + 1  # averaged over the log interval
        if step % args.log_every == 0 or step == args.steps:
            elapsed = time.time() - t_start - eval_seconds  # training only
            means = {k: v / counts[k] for k, v in sums.items()}
            rate = images / elapsed
            row = {"step": step, **means, "img_per_s": rate, "data_share": t_data / elapsed}
            parts = " | ".join(f"{k} {v:.4f}" for k, v in means.items())
            print(f"step {step:>7d}/{args.steps} | {parts} | {rate:6.0f} img/s | data {100 * t_data / elapsed:3.0f}% "
                  f"| eta {fmt_time((args.steps - step) * args.batch_size / rate)}", flush=True)
            with open(metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            sums, counts = {}, {}
        if args.eval_every and step % args.eval_every == 0 and step < args.steps:  # before the checkpoint: a
            curve_point(step)  # kill in between makes the resumed run evaluate this step again
        if step % args.ckpt_every == 0 or step == args.steps:
            checkpoint(step, logs)
    train_seconds = trained_for()

    # -------------------------------------------------------------------------------------------- evaluation
    t0 = time.time()
    try:
        result = evaluate(args, model, dataset, args.out_dir)
        result.update({"steps": args.steps, "train_seconds": train_seconds, "eval_seconds": time.time() - t0})
        if args.eval_every:
            curve_point(args.steps, result)
            plot_curves([[read_jsonl(curves_path)]], os.path.join(args.out_dir, "curves.png"), [args.model])
        write_json(result, os.path.join(args.out_dir, "eval.json"))
    except OSError as e:  # a full disk, or a folder made read-only meanwhile: the trained weights are already saved
        sys.exit(f"error: the evaluation could not write to {args.out_dir} ({e.strerror or e}); the trained weights "
                 f"are safe in {ckpt_path}: free space, then run the same command with --resume to evaluate again")
    shown = {k: round(v, 4) for k, v in result.items() if isinstance(v, float)}
    print("final:", json.dumps(shown))
    names = "{reconstructions,traversals,nmi}.png" if len(dataset.image_shape) == 3 else "nmi.png"
    if args.model in models.GANS and len(dataset.image_shape) == 3:
        names = names.replace("nmi}", "nmi,samples}")
    print(f"figures: {os.path.join(args.out_dir, names)}")
    return result


if __name__ == "__main__":
    main()
