"""Run safety for train.py: flag checks, the run folder's lock, atomic checkpoints, resume, logs, learning-curve
points, the kept evaluation latents, and the fenced speed options. Not part of the method: a paper reader can
skip this file; train.py calls into it in one line each.

What it guarantees (each has a test in tests/test_train.py or tests/test_reliability.py):
  - an impossible or ignored flag is refused before any work, in one line naming every problem;
  - one process per run folder (an OS lock that a crash cannot leave behind);
  - a checkpoint is written atomically and never holds non-finite weights: a crash or a full disk leaves the
    previous one whole; loading one runs no code (torch.load weights_only=True);
  - --resume continues bit for bit, refuses a checkpoint made with other flags (only --lr and how long, where,
    how often may change; an --lr change is recorded in config.json), and never shortens a run;
  - a learning-curve point and the final evaluation keep the evaluation set's latents, so a run can be scored
    again without its checkpoint (python -m lab.sweep rescore);
  - --resume refuses other data than the run was trained on (data_fingerprint, kept in the checkpoint and in
    config.json), by name;
  - nothing is written through a link planted in the run folder (the folder itself may be a link), and no file is
    read that is not a regular file (lab/files.py); tests/test_reliability_runs.py.
"""
import contextlib
import dataclasses
import errno
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch

import infomec
import models
from lab import real_data
from lab.files import open_to_read, open_to_write, refuse_link, refuse_odd_entries, write_atomically
from lab.infomec_fast import FAST

# ----------------------------------------------------------------------------------------------------------
# Flag checks. Every numeric flag's allowed range: (lowest, highest or None, what a low value means). The sizes
# have a ceiling, so that an absurd one is refused here, not by the allocator minutes into the run.
LOSS_FLAGS = ("quantization_weight", "commitment_weight", "vq_codebook_weight", "vq_commitment_weight", "gp_weight",
              "latent_weight")
RANGES = {**{name: (0, None) for name in LOSS_FLAGS}, "critic_steps": (1, None),
          "steps": (1, 10 ** 9), "batch_size": (1, 65_536), "log_every": (1, None), "ckpt_every": (1, None),
          "eval_size": (16, 10 ** 6, " (InfoMEC's k-NN estimator and the figures need them)"),
          "eval_every": (0, None, " (0 = off)"), "seed": (0, 2 ** 63 - 1),
          "values_per_latent": (2, 1024), "n_latents": (0, 1024, " (0 = twice the sources)"),
          "weight_decay": (0, None, " (or -1 for the model default)"), "beta": (0, None, " (or -1 for the paper's)"),
          "beta_tc": (0, None, " (or -1 for the paper's)"), "activity_weight": (0, None, " (or -1 for the paper's)")}
# Flags that one kind of model reads and the others would silently ignore.
USERS = {"--global-codebook": ("qlae", "qlinfogan"), "--frozen-values": ("qlae", "qlinfogan"),
         "--values-per-latent": ("qlae", "qlinfogan"), "--beta": ("vae",), "--beta-tc": ("tcvae",),
         "--activity-weight": ("bioae",)}


def given_flags(argv):
    """The flags named on the command line (--name or --name=value)."""
    return {a.split("=")[0] for a in (sys.argv[1:] if argv is None else argv) if a.startswith("--")}


def check_args(parser, args, given, model_names, gans):
    """Every problem with the resolved flags, reported together in one line by parser.error (which exits)."""
    problems = []
    if args.preset not in ("cpu", "paper"):
        problems.append(f"--preset must be one of ['cpu', 'paper'], got {args.preset!r}")
    if args.model not in model_names:
        problems.append(f"--model must be one of {sorted(model_names)}, got {args.model!r}")
    if args.net not in models.NETS:
        problems.append(f"--net must be one of {sorted(models.NETS)}, got {args.net!r}")
    if args.data_dir or args.dataset not in ("shapes3d", "vector"):  # every other dataset is 64 px
        if "--resolution" in given and args.resolution != 64:
            problems.append(f"--resolution {args.resolution} cannot apply: {args.dataset} is 64 px (drop the flag)")
    elif args.dataset == "vector" and "--resolution" in given:
        problems.append("--resolution applies to image datasets; vector data has none (drop the flag)")
    elif not 32 <= args.resolution <= 1024 or args.resolution % 16:  # 4 stride-2 layers: at 16 px, 1 x 1 maps
        problems.append(f"--resolution must be a multiple of 16 from 32 to 1024, got {args.resolution}")
    for name, models_using in USERS.items():
        if name in given and args.model not in models_using:
            problems.append(f"{name} applies to --model {' or '.join(models_using)}, not {args.model} (drop the flag)")
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
    if args.compile and args.model in gans:
        problems.append("--compile does not support the GANs (their gradient penalty needs a double backward)")
    if problems:
        parser.error("; ".join(problems))


def default_out_dir(args):
    """runs/MODEL-DATASET-sSEED-TIME (npz:PATH is named by the file's name alone)."""
    name = "npz-" + os.path.splitext(os.path.basename(args.dataset[4:]))[0] if args.dataset.startswith("npz:") \
        else args.dataset
    return os.path.join("runs", f"{args.model}-{name}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}")


def config_of(args):
    """config.json: every resolved flag, the steps at which --lr was changed on resume (if it was) and what the run
    trains on (data_fingerprint, set by resume)."""
    return {**dataclasses.asdict(args), **{k: getattr(args, k) for k in ("lr_changes", "data_fingerprint")
                                            if hasattr(args, k)}}


# ----------------------------------------------------------------------------------------------------------
# The run folder: its lock, atomic files, checkpoints and resume.
@contextlib.contextmanager
def run_folder_lock(out_dir):
    """Create the run folder and hold it for this process alone: an exclusive lock on OUT_DIR/.lock. The operating
    system drops it when the process ends, however it ends, so a crash cannot leave the folder locked. (No lock on
    systems without fcntl, e.g. Windows.)"""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        sys.exit(f"error: cannot create the run folder {out_dir} ({e.strerror}); choose an --out-dir you can write to")
    refuse_odd_entries(out_dir)  # a planted link or FIFO: refused before any work (each write refuses one too)
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open_to_write(os.path.join(out_dir, ".lock"), append=True) as f:  # (appending nothing: never truncated)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SystemExit(f"error: another process is training in {out_dir}; wait for it to finish, or choose "
                             "another --out-dir") from None
        yield


CKPT_KEYS = ("model", "optimizers", "args", "step", "data_rng", "torch_rng")


def atomic_save(obj, path):
    """torch.save to a fresh temp file, then rename over `path` (lab/files.py): a reader (or a crash) sees the old
    file or the new one, never half of one. A failed save (disk full) removes the temp file and says so."""
    try:
        write_atomically(path, lambda f: torch.save(obj, f), binary=True)
    except (OSError, RuntimeError) as e:
        full = getattr(e, "errno", None) == errno.ENOSPC or "unexpected pos" in str(e)
        why = "the disk is full (or a quota is reached)" if full else f"{type(e).__name__}: {e}"
        raise SystemExit(f"error: could not write {path}: {why}; the previous file there is intact. Free space "
                         "and resume with --resume.") from None


def load_checkpoint(path, device="cpu"):
    """A checkpoint this project wrote: plain tensors, numbers, strings, lists and dicts, loaded with
    weights_only=True, so a hostile file cannot run code. Anything else is refused with a message naming it."""
    try:
        with open_to_read(path, binary=True) as f:  # (a FIFO: refused, not waited on)
            ckpt = torch.load(f, map_location=device, weights_only=True)
    except Exception as e:  # UnpicklingError (a pickle that would run code), EOFError / RuntimeError (truncated)
        raise SystemExit(f"error: {path} is not a readable checkpoint of this project ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200] if str(e) else 'empty or truncated'}); delete it and "
                         "train again (or restore it from a copy)") from None
    missing = [k for k in CKPT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise SystemExit(f"error: {path} is not a checkpoint of this project (missing {missing}); delete it and "
                         "train again")
    return ckpt


def checkpoint(args, model, optimizers, generator, step, logs, train_seconds):
    """Write OUT_DIR/ckpt.pt (a plain dict) atomically; never weights that are not finite: then the last checkpoint
    stays the one to resume from, and the run stops with advice."""
    path = os.path.join(args.out_dir, "ckpt.pt")
    bad = [name for name, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        sys.exit(f"error: the weights became NaN or inf by step {step} (e.g. {bad[0]}); not checkpointed, so "
                 f"{path} (the last good step) is intact. The likely cause is a learning rate too large "
                 f"for this setting: resume with a smaller one, e.g. --resume --lr {args.lr / 3:g}")
    atomic_save({"model": model.state_dict(), "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                 "args": config_of(args), "step": step, "metrics": logs, "data_rng": generator.get_state(),
                 "torch_rng": torch.get_rng_state(), "train_seconds": train_seconds}, path)


def check_finite(loss, step, args):
    """Stop at a non-finite loss (the step is taken, but no checkpoint will hold its result)."""
    if not torch.isfinite(loss):
        sys.exit(f"error: the loss became {loss.item()} at step {step}; the last checkpoint "
                 f"({os.path.join(args.out_dir, 'ckpt.pt')}) holds finite weights of an earlier step. The likely "
                 f"cause is a learning rate too large for this setting: resume with a smaller one, e.g. --resume "
                 f"--lr {args.lr / 3:g}")


# Flags that may change on resume: how long, where, how fast, how often to log, and --lr (the advice after a
# divergence); every other flag defines the run and must match. --data-dir may name another folder, but the data
# in it must be the same: data_fingerprint is compared on its own.
MAY_CHANGE_ON_RESUME = {"steps", "resume", "device", "log_every", "ckpt_every", "eval_every", "out_dir", "data_dir",
                        "channels_last", "compile", "bf16", "lr", "lr_changes", "data_fingerprint"}
FULL_HASH_BYTES, SAMPLES, SAMPLE_BYTES = 256 << 20, 64, 1 << 20


def data_fingerprint(args):
    """What the run trains on. A procedural benchmark: its name and resolution (its images follow from those).
    A file (npz:PATH, or --data-dir's file): its size and a SHA-256 of its bytes, all of them up to 256 MiB (under
    a second), else of 64 chunks of 1 MiB spread evenly from its first byte to its last (a multi-GB MPI3D file
    would take minutes to read whole at every start; a file switched for another one almost surely differs in
    size or in those 64 MiB). A PNG folder (Falcor3D, Isaac3D): its file count and 64 files spread evenly, whole.
    The path is kept for messages only: the same bytes moved to another folder are the same data."""
    if not args.data_dir and not args.dataset.startswith("npz:"):
        return {"procedural": args.dataset, "resolution": args.resolution}
    path = os.path.abspath(args.dataset[4:] if args.dataset.startswith("npz:") else
                           os.path.join(args.data_dir, real_data.REAL[args.dataset][0]))
    digest = hashlib.sha256()
    if os.path.isdir(path):
        names = sorted(e.name for e in os.scandir(path) if e.is_file())
        picked = [names[i] for i in sorted({round(j * (len(names) - 1) / (SAMPLES - 1)) for j in range(SAMPLES)})]
        for name in picked if names else []:
            with open_to_read(os.path.join(path, name), binary=True) as f:
                digest.update(name.encode() + b"\0" + f.read())
        return {"path": path, "files": len(names), "sha256": digest.hexdigest()}
    with open_to_read(path, binary=True) as f:
        size = os.fstat(f.fileno()).st_size
        starts = [0] if size <= FULL_HASH_BYTES else \
            sorted({j * (size - SAMPLE_BYTES) // (SAMPLES - 1) for j in range(SAMPLES)})
        for start in starts:
            f.seek(start)
            digest.update(f.read(size if size <= FULL_HASH_BYTES else SAMPLE_BYTES))
    return {"path": path, "bytes": size, "sha256": digest.hexdigest()}


def describe_data(fingerprint):
    if "procedural" in fingerprint:
        return f"procedural {fingerprint['procedural']} at {fingerprint['resolution']} px"
    size = f"{fingerprint['files']:,} files" if "files" in fingerprint else f"{fingerprint['bytes']:,} bytes"
    return f"{fingerprint['path']} ({size}, sha256 {fingerprint['sha256'][:12]})"


def check_same_data(args, saved_args):
    """Refuse a resume on other data than the checkpoint's, naming both. A checkpoint from before fingerprints were
    kept: only a switch between procedural and file data can be seen (from its flags); resumed with a note."""
    saved = saved_args.get("data_fingerprint")
    if saved is None:
        was_file = bool(saved_args.get("data_dir")) or saved_args.get("dataset", "").startswith("npz:")
        if was_file == ("procedural" in args.data_fingerprint):
            was = (saved_args.get("data_dir") or saved_args["dataset"]) if was_file else \
                f"procedural {saved_args['dataset']}"
            sys.exit(f"error: --resume on other data than the run in {args.out_dir} was trained on (saved {was}, given "
                     f"{describe_data(args.data_fingerprint)}); resume with its data, or train a new --out-dir")
        print(f"note: the checkpoint records no fingerprint of its data (written before they were kept), so it "
              f"cannot be checked that {describe_data(args.data_fingerprint)} is what it was trained on; recorded "
              "from now on")
    elif {k: v for k, v in saved.items() if k != "path"} != \
            {k: v for k, v in args.data_fingerprint.items() if k != "path"}:
        sys.exit(f"error: --resume on other data than the run in {args.out_dir} was trained on (saved "
                 f"{describe_data(saved)}, given {describe_data(args.data_fingerprint)}); resume with its data, or "
                 "train a new --out-dir")


def resume(args, model, optimizers, generator):
    """--resume: load OUT_DIR/ckpt.pt into the model, the optimisers and the random streams, cut the logs back to
    its step, drop a finished run's eval.json if the run is extended, and return (that step, the seconds trained
    before it); (0, 0.0) for a new run. Refuses a checkpoint made with other flags, and a new run into a folder
    that already holds one."""
    ckpt_path, device = os.path.join(args.out_dir, "ckpt.pt"), next(model.parameters()).device
    start, seconds, args.data_fingerprint = 0, 0.0, data_fingerprint(args)
    if os.path.exists(ckpt_path) and not args.resume:
        sys.exit(f"error: {args.out_dir} already holds a checkpoint; pass --resume to continue it, "
                 "or choose another --out-dir")
    if args.resume and os.path.exists(ckpt_path):
        ckpt = load_checkpoint(ckpt_path, device)
        diff = {k: (v, getattr(args, k, None)) for k, v in ckpt["args"].items()
                if k not in MAY_CHANGE_ON_RESUME and getattr(args, k, None) != v}
        if diff:
            sys.exit(f"error: --resume with flags that differ from the checkpoint's (saved, given): {diff}")
        check_same_data(args, ckpt["args"])
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
        for name in ("metrics.jsonl", "curves.jsonl"):
            truncate_log(os.path.join(args.out_dir, name), start)
        print(f"resumed from {ckpt_path} at step {start}")
    elif args.resume:
        print(f"no checkpoint in {args.out_dir}; starting from step 0")
    eval_path = os.path.join(args.out_dir, "eval.json")
    if start < args.steps and os.path.exists(eval_path):  # extending a finished run: its old result is stale
        os.remove(eval_path)
    return start, seconds


def write_json(obj, path):
    write_atomically(path, lambda f: json.dump(obj, f, indent=2))


def read_jsonl(path):
    with open_to_read(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def append_jsonl(row, path):
    with open_to_write(path, append=True) as f:
        f.write(json.dumps(row) + "\n")


def truncate_log(path, last_step):
    """On resume, drop log lines written after the checkpoint (they will be written again), and a torn line (a
    crash or a full disk in the middle of an append)."""
    if os.path.lexists(path):
        refuse_link(path)  # (before reading: what it points to is not this run's log)
        keep = []
        with open_to_read(path) as f:
            for line in f:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    print(f"warning: dropped an unreadable (torn) line of {path}")
                    continue
                if row.get("step", 0) <= last_step:
                    keep.append(line if line.endswith("\n") else line + "\n")
        write_atomically(path, lambda f: f.writelines(keep))  # a crash now leaves the whole old log


@contextlib.contextmanager
def evaluation_guard(args):
    """A full disk, or a folder made read-only, while the final evaluation writes: one line of advice, since the
    trained weights are already saved."""
    try:
        yield
    except OSError as e:
        sys.exit(f"error: the evaluation could not write to {args.out_dir} ({e.strerror or e}); the trained weights "
                 f"are safe in {os.path.join(args.out_dir, 'ckpt.pt')}: free space, then run the same command with "
                 "--resume to evaluate again")


# ----------------------------------------------------------------------------------------------------------
# Progress and learning curves.
def fmt_time(seconds):
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s"


def log(args, step, means, images, data_seconds, train_seconds):
    """One progress line (step, the interval's mean losses, throughput, data share, ETA), also to metrics.jsonl."""
    rate = images / train_seconds
    parts = " | ".join(f"{k} {v:.4f}" for k, v in means.items())
    share = data_seconds / train_seconds
    print(f"step {step:>7d}/{args.steps} | {parts} | {rate:6.0f} img/s | data {100 * share:3.0f}% "
          f"| eta {fmt_time((args.steps - step) * args.batch_size / rate)}", flush=True)
    row = {"step": step, **means, "img_per_s": rate, "data_share": share}
    append_jsonl(row, os.path.join(args.out_dir, "metrics.jsonl"))


def curve_latents(out_dir, step):
    """Where a learning-curve point keeps the evaluation set's latents (relative to the run folder)."""
    refuse_link(os.path.join(out_dir, "curve"))
    os.makedirs(os.path.join(out_dir, "curve"), exist_ok=True)
    return os.path.join("curve", f"latents-{step:07d}.npz")


def curve_point(out_dir, step, result):
    """Append one learning-curve point (an evaluation's numbers, both flavours) to curves.jsonl and print it."""
    row = {"step": step, **{k: v for k, v in result.items() if isinstance(v, (int, float))},
           "training_flavour": {k: v for k, v in result.get("training_flavour", {}).items() if k != "nmi"}}
    append_jsonl(row, os.path.join(out_dir, "curves.jsonl"))
    shown = [f"{k} {row[k]:.4f}" for k in ("psnr", "infom", "infoe", "infoc", "decayed_norm") if k in row]
    print(f"eval at step {step}: " + " | ".join(shown), flush=True)


# ----------------------------------------------------------------------------------------------------------
# Scoring and keeping an evaluation set's latents (eval.json, eval_latents.npz: what lab/sweep.py reads).
def score_latents(sources, latents, values, discrete, active_fraction=1 / 20):
    """InfoMEC of one evaluation set in both flavours of the authors' code (see infomec.FLAVOURS):
    the standalone metric (top-level keys: infom, infoe, infoc, n_active, infoe_converged, nmi) and the
    training-time one (under "training_flavour"). sources (N, n_s) ints; latents (N, n_z): integer codes if
    `discrete`, else continuous; values (N, n_z) floats: a scalar-quantized model's z_q (None otherwise), which
    the training-time flavour reads out linearly. Returns (dict for eval.json, standalone result for the heatmap)."""
    standalone = infomec.infomec(sources, latents, discrete, "standalone", active_fraction=active_fraction, **FAST)
    training = infomec.infomec(sources, latents if values is None else values, discrete, "training", **FAST)
    keep = lambda r: {"infom": r["infom"], "infoe": r["infoe"], "infoc": r["infoc"], "n_active": r["n_active"],
                      "infoe_converged": bool(r["converged"])}  # False: InfoE is a lower bound (see infomec.py)
    result = {**keep(standalone), "nmi": standalone["nmi"].round(4).tolist(),
              "training_flavour": {**keep(training), "nmi": training["nmi"].round(4).tolist()}}
    return result, standalone


def score_into(result, sources, latents, values, discrete, active_fraction):
    """score_latents into `result`; returns the standalone result, or None if InfoMEC cannot be computed (e.g. a
    user's file whose evaluation set has a constant factor: the rest of the result is kept, with the reason)."""
    try:
        scores, standalone = score_latents(sources, latents, values, discrete, active_fraction)
    except ValueError as e:
        print(f"warning: InfoMEC not computed: {e}")
        result["infomec_error"] = str(e)
        return None
    result.update(scores)
    if len(sources) < real_data.FEW_IMAGES:  # a small --eval-size or a small file: say so where the scores are kept
        result["infomec_warning"] = (f"scored on {len(sources)} samples: below {real_data.FEW_IMAGES}, InfoMEC is "
                                     "mostly estimation bias (two samples score InfoE 1.0), not a measurement")
        print(f"warning: InfoMEC {result['infomec_warning']}", file=sys.stderr)
    return standalone



def save_latents(path, sources, latents, values):
    """The evaluation set's sources and latents (and quantized values), compressed and written atomically: enough
    to rescore a run in either flavour without its checkpoint (`python -m lab.sweep rescore`,
    `python -m lab.infomec_tools`)."""
    arrays = {"sources": sources.astype(np.int16), "latents": latents.astype(np.int16 if latents.dtype.kind in "iu"
                                                                              else np.float32)}
    if values is not None:
        arrays["values"] = values.astype(np.float32)
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays), binary=True)


# ----------------------------------------------------------------------------------------------------------
# Speed: every option in this one fenced place, all off by default. None changes the method; each is measured on
# and off by tests/bench_train.py.
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
