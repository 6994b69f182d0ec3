"""The paper's comparison as a list of train.py runs, and the tables made from their run folders.
Run from the repository's root, as `python lab/sweep.py ...` or `python -m lab.sweep ...` (the same):

    python lab/sweep.py run --seeds 0 1 2                 # every run, one after another (finished ones are skipped,
                                                      # interrupted ones resumed); --jobs N runs N at once
    python lab/sweep.py print --seeds 0 1 2 > runs.txt    # one command per line, for GNU parallel or a Slurm array
    python lab/sweep.py table runs/sweep                  # markdown tables from whatever run folders are there (a
                                                      # line per setting; a seed found twice is refused by name)
    python lab/sweep.py rescore runs/sweep                # score finished runs (and their learning curves) again
    python lab/sweep.py table runs/sweep --flavour training   # one flavour only (default: both, training-time first)
    python lab/sweep.py table runs/sweep --per-seed       # also each row's values seed by seed
    python lab/sweep.py curves runs/study --only qlae qlae-nowd --out curves.png   # learning curves, mean and band
    python lab/sweep.py run --seeds 0 1 2 -- --steps 2000 # flags after -- go to every train.py run
    python lab/sweep.py run --only ae qlae qlae-nowd      # a subset of the configurations
    python lab/sweep.py snapshot runs/study --step 6000 --into runs/sweep   # longer runs' step-6000 states, as runs
                                                      # (of --seeds, default 0 1 2)
    python lab/sweep.py heatmaps runs/sweep --runs ae-s0 qlae-s0 --out nmi.png   # NMI heatmaps side by side
    python lab/sweep.py strongest runs/sweep              # per source, its largest NMI with one latent, per model
    python lab/sweep.py paired runs/study --only qlae qlae-nowd --table-at 30000   # seed-paired differences

Paper: the experiments' tables (main comparison, ablations, GAN rows): mean and 95% confidence-interval half-width
t_{0.975}(n - 1) * std / sqrt(n) over seeds. Why a file of its own: it is plumbing around train.py (processes,
folders, tables), not part of the method, and train.py stays one readable training script. It sits above
train.py (it imports it); nothing of the concept files or of lab/ imports it.
"""
import argparse
import dataclasses
import functools
import glob
import json
import math
import os
import shutil
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the root, for python lab/sweep.py
import data  # noqa: E402
import infomec  # noqa: E402
import train  # noqa: E402
from lab import infomec_fast, infomec_tools, real_data  # noqa: E402
from lab.files import open_to_read, open_to_write, refuse_link, write_atomically  # noqa: E402
from lab.figures import plot_curves  # noqa: E402
from lab.runs import LOSS_FLAGS, config_of, load_checkpoint, read_jsonl, score_latents, write_json  # noqa: E402

# (folder name, row label, train.py flags). The table rows, in the paper's order.
MAIN = [
    ("ae", "AE", ["--model", "ae"]),
    ("vae", "β-VAE", ["--model", "vae"]),
    ("tcvae", "β-TCVAE", ["--model", "tcvae"]),
    ("bioae", "BioAE", ["--model", "bioae"]),
    ("qlae", "QLAE", ["--model", "qlae"]),
]
ABLATION = [
    ("qlae", "QLAE", ["--model", "qlae"]),
    ("qlae-global", "QLAE w/ global codebook", ["--model", "qlae", "--global-codebook"]),
    ("qlae-nowd", "QLAE w/o weight decay", ["--model", "qlae", "--weight-decay", "0"]),
    ("vqvae", "VQ-VAE w/ weight decay", ["--model", "vqvae"]),
    ("vqvae-nowd", "VQ-VAE w/o weight decay", ["--model", "vqvae", "--weight-decay", "0"]),
]
GAN = [
    ("infogan", "InfoWGAN-GP", ["--model", "infogan"]),
    ("qlinfogan", "QLInfoWGAN-GP", ["--model", "qlinfogan"]),
    ("qlinfogan-nowd", "QLInfoWGAN-GP w/o weight decay", ["--model", "qlinfogan", "--weight-decay", "0"]),
]
METRICS = ("infom", "infoe", "infoc", "psnr")
# Two-sided 95% Student t quantiles t_{0.975}(df) for df = 1..30 (beyond: the normal's 1.96).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def mean_ci(values, population_std=False):
    """(mean, 95% CI half-width t(n-1) * std / sqrt(n)); the half-width is nan for a single value. std is the
    sample standard deviation (divisor n - 1), the textbook t-interval's; population_std=True divides by n, as
    numpy's default std (and so the authors' table script) does, a half-width sqrt((n-1)/n) as wide."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n if population_std else n - 1))
    return mean, (T975[n - 2] if n - 1 <= len(T975) else 1.96) * std / math.sqrt(n)


def commands(seeds, out, extra, only=None):
    """Every (run folder, command) pair: each configuration of the three tables (main, ablations, GANs) once (or
    those named in `only`), times each seed."""
    seen, runs = set(), []
    for name, _, flags in MAIN + ABLATION + GAN:
        if only and name not in only:
            continue
        for seed in seeds:
            folder = os.path.join(out, f"{name}-s{seed}")
            if folder not in seen:
                seen.add(folder)
                runs.append((folder, [sys.executable, "train.py", *flags, "--seed", str(seed), "--out-dir", folder,
                                      *extra]))
    return runs


def run_all(runs, jobs):
    """Run the commands, at most `jobs` at a time, each with its share of the CPU threads; log to train.log."""
    todo, failed = [], []
    for folder, cmd in runs:
        config = read_json(os.path.join(folder, "config.json"))
        if config is not None:  # a folder trained before: by the same flags?
            diff = config_mismatch(config, cmd)
            if diff:
                print(f"REFUSED: {folder} holds a run of other flags (folder, command): {diff}; move it away or "
                      "choose another root", flush=True)
                failed.append(folder)
                continue
        result = read_json(os.path.join(folder, "eval.json"))
        if result is not None and config is not None and result.get("steps") == config.get("steps"):
            print(f"done already: {folder}")
            continue
        if os.path.exists(os.path.join(folder, "ckpt.pt")):
            cmd = [*cmd, "--resume"]
        todo.append((folder, cmd))
    # Each run gets its share of the cores, unless OMP_NUM_THREADS is set already (e.g. to leave a core free).
    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // jobs))
    env = {**os.environ, "OMP_NUM_THREADS": threads}
    running = []
    while todo or running:
        while todo and len(running) < jobs:
            folder, cmd = todo.pop(0)
            try:
                refuse_link(folder)  # the root may be a link, a run folder planted in it may not (lab/files.py)
                os.makedirs(folder, exist_ok=True)
                log = open_to_write(os.path.join(folder, "train.log"), append=True)
            except (OSError, SystemExit) as e:  # e.g. the root is a file, or not writable; a planted link
                print(f"FAILED: cannot write the run folder {folder} ({getattr(e, 'strerror', None) or e})", flush=True)
                failed.append(folder)
                continue
            print("running:", " ".join(cmd[1:]), flush=True)
            running.append((folder, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log))
        if not running:
            continue
        folder, proc, log = running.pop(0)
        proc.wait()
        log.close()
        if proc.returncode:
            failed.append(folder)
            print(f"FAILED ({proc.returncode}): {folder}; see {folder}/train.log", flush=True)
        else:
            print(f"finished: {folder}", flush=True)
    return failed


def read_json(path):
    """The object in a JSON file; None if the file is missing. A broken file is reported by name, not raised, so
    one bad run folder does not hide the good ones beside it."""
    if not os.path.exists(path):
        return None
    try:
        with open_to_read(path) as f:  # (a FIFO: refused, not waited on)
            value = json.load(f)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return value
    except (ValueError, OSError) as e:
        print(f"warning: skipped {path}: unreadable ({e}); delete it and rerun (or rescore) that run", file=sys.stderr)
        return None


def config_mismatch(config, cmd):
    """{field: (in the folder's config.json, from the command)} for the fields that define a run."""
    wanted = dataclasses.asdict(train.parse_args([*cmd[2:], "--out-dir", "-"]))
    config = {**LOSS_DEFAULTS, **config}  # (see in_row)
    fields = ROW_FIELDS + SCALE_FIELDS + ("seed", "n_latents", "values_per_latent", "eval_size")
    return {f: (config.get(f), wanted[f]) for f in fields if config.get(f) != wanted[f]}


def load_runs(root):
    """Every finished run folder under root, at any depth: (folder, config, eval) triples, in folder order.
    Unreadable files are reported and skipped. A copy of a run kept inside root (say root/old/ae-s0) is found
    too: the tables refuse a row that holds a seed twice and name both folders (see table)."""
    found = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()  # a stable order, whatever the file system's
        if "eval.json" in files and "config.json" in files:
            config = read_json(os.path.join(dirpath, "config.json"))
            result = read_json(os.path.join(dirpath, "eval.json"))
            if config is not None and result is not None:
                found.append((dirpath, config, result))
    return found


# A run belongs to the row whose flags resolve (through train.py's own defaults) to the same values of these
# fields; runs that match no row are reported, not dropped or mixed in silently.
# (The loss weights became flags later: a config.json without them was trained with their defaults.)
LOSS_DEFAULTS = {f.name: f.default for f in dataclasses.fields(train.Args)
                 if f.name in (*LOSS_FLAGS, "critic_steps")}
ROW_FIELDS = ("model", "weight_decay", "global_codebook", "frozen_values", "beta", "beta_tc", "activity_weight",
              *LOSS_DEFAULTS)
SCALE_FIELDS = ("dataset", "resolution", "net", "steps", "batch_size", "lr")


@functools.lru_cache(maxsize=None)
def row_key(flags, dataset):
    args = train.parse_args([*flags, "--dataset", dataset, "--out-dir", "-"])
    return tuple(getattr(args, f) for f in ROW_FIELDS)


def in_row(config, flags):
    """Does this run belong to the row with these flags? A config.json that lacks a defining field belongs to no
    row (it is listed as such, never counted in every row)."""
    config = {**LOSS_DEFAULTS, **config}  # (see LOSS_DEFAULTS)
    if not all(f in config for f in ROW_FIELDS):
        return False
    resolved = row_key(tuple(flags), config.get("dataset", "shapes3d"))
    return all(config[f] == v for f, v in zip(ROW_FIELDS, resolved))


# What a run computes is defined by every field of its config.json except these: the seed (a row's runs differ in
# it), where it ran and wrote, how often it logged, saved or drew a learning-curve point (training does not depend
# on them), the preset's name (its values are in the resolved fields), and layouts that compute the same function.
NOT_SETTING = ("seed", "device", "out_dir", "resume", "preset", "log_every", "ckpt_every", "eval_every",
               "channels_last", "compile", "snapshot_of")


@functools.lru_cache(maxsize=None)
def model_defaults(model):
    """Every flag's value for this model when none is given: what a config.json written before a flag existed
    was trained with (e.g. the GANs' Adam betas)."""
    try:
        return config_of(train.parse_args(["--model", model, "--out-dir", "-"]))
    except SystemExit:  # no such model: such a run is in no row anyway
        return {f.name: f.default for f in dataclasses.fields(train.Args)}


def setting(config):
    """The run's setting: every field that defines what it computes (NOT_SETTING aside), missing ones at the
    model's defaults, numbers as floats (a weight decay of 0 is one of 0.0). Runs of one row and setting differ
    only in their seed."""
    defaults = model_defaults(str(config.get("model")))
    names = [f.name for f in dataclasses.fields(train.Args) if f.name not in NOT_SETTING] + ["lr_changes"]
    values = [config.get(f, defaults.get(f)) for f in names]
    return tuple((f, float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else json.dumps(v))
                 for f, v in zip(names, values))


def row_groups(rows_runs):
    """One row's runs split by setting: [(suffix, runs in seed order, {seed: folders} of seeds found twice)]. The
    suffix names what sets a group apart ("" when the row holds one setting), e.g. "steps 9000"."""
    groups = {}
    for run in rows_runs:
        groups.setdefault(setting(run[1]), []).append(run)
    keys = list(groups)
    differ = [i for i in range(len(keys[0]) if keys else 0) if len({key[i][1] for key in keys}) > 1]
    # numbers as numbers (steps 6000 before 30000), anything else as text, after them
    order = lambda key: [(0, v, "") if isinstance(v, float) else (1, 0, v) for v in (key[i][1] for i in differ)]
    out = []
    for key in sorted(keys, key=order):
        seed = lambda m: m[1].get("seed")  # an int in every config.json train.py writes; anything else sorts last
        members = sorted(groups[key], key=lambda m: (not isinstance(seed(m), int), seed(m) if isinstance(seed(m), int)
                                                     else 0, str(seed(m)), m[0]))
        folders = {}
        for folder, config, _ in members:
            folders.setdefault(config.get("seed"), []).append(folder)
        twice = {seed: f for seed, f in folders.items() if len(f) > 1}
        suffix = ", ".join(f"{key[i][0]} {key[i][1]:g}" if isinstance(key[i][1], float) else f"{key[i][0]} {key[i][1]}"
                           for i in differ)
        out.append((suffix, members, twice))
    return out


def flavour_of(result, flavour):
    """The metrics of one eval.json in one InfoMEC flavour: "standalone" (top level) or "training" (the authors'
    training-time logger: eval.json's "training_flavour"). PSNR is the same in both."""
    if flavour == "standalone":
        return result
    return {"psnr": result.get("psnr"), **result.get("training_flavour", {})}


def table(rows, runs, title, flavour="standalone", population_std=False, per_seed=False):
    """One markdown table (mean ± 95% CI per row); per_seed: then each row's values seed by seed, in seed order.
    A row holds one setting and each seed once: runs of one configuration in different settings (say other
    --steps or --n-latents) get a line each, named by what differs; a line that would hold a seed twice (a copy of a
    run folder under root) is refused, and the folders are named."""
    lines = [f"**{title}** ({flavour} InfoMEC)", "", "| model | n | InfoM | InfoE | InfoC | PSNR (dB) |",
             "|---|---|---|---|---|---|"]
    notes, seeds = [], []
    for _, label, flags in rows:
        groups = row_groups([run for run in runs if in_row(run[1], flags)])
        if len(groups) > 1:
            notes.append(f"note: the {label} row mixes runs of different settings (they differ in "
                         f"{', '.join(sorted({p.rsplit(' ', 1)[0] for g in groups for p in g[0].split(', ')}))}): "
                         "one line per setting")
        if not groups:
            lines.append(f"| {label} | 0 | | | | |")
        for suffix, members, twice in groups:
            name = f"{label} ({suffix})" if suffix else label
            if twice:
                lines.append(f"| {name} | refused | | | | |")
                notes.extend(f"refused: the {name} row holds seed {seed} {len(folders)} times ({', '.join(folders)}): "
                             "a copy of a run? move it out of the root" for seed, folders in twice.items())
                continue
            results = [flavour_of(r, flavour) for _, _, r in members]
            if per_seed:
                cells = [f"{n} " + ", ".join("–" if r.get(m) is None else f"{r[m]:.{1 if m == 'psnr' else 3}f}"
                                             for r in results)
                         for m, n in zip(METRICS, ("InfoM", "InfoE", "InfoC", "PSNR"))]
                seeds.append(f"- {name} (seeds {', '.join(str(c.get('seed')) for _, c, _ in members)}): "
                             + "; ".join(cells))
            cells = []
            for metric in METRICS:
                values = [r[metric] for r in results if r.get(metric) is not None]  # a run may lack InfoMEC
                if not values:
                    cells.append("")
                    continue
                mean, hw = mean_ci(values, population_std)
                digits = 1 if metric == "psnr" else 2
                cells.append(f"{mean:.{digits}f} ± {hw:.{digits}f}" if hw == hw else f"{mean:.{digits}f}")
            lines.append(f"| {name} | {len(results)} | " + " | ".join(cells) + " |")
    return "\n".join(lines + ([""] + seeds if seeds else []) + ([""] + notes if notes else []))


def refused_rows(runs):
    """The rows' lines that table refuses (a seed found twice in one setting), as 'label: seed S in FOLDERS'."""
    found = []
    for _, label, flags in {r[0]: r for r in MAIN + ABLATION + GAN}.values():
        for suffix, _, twice in row_groups([run for run in runs if in_row(run[1], flags)]):
            found += [f"{label}{f' ({suffix})' if suffix else ''}: seed {seed} in {', '.join(folders)}"
                      for seed, folders in twice.items()]
    return found


def score_file(path, config):
    """Both flavours' scores of one saved evaluation set (sources, latents and, for QLAE, values: arrays only)."""
    sources, latents, values = infomec_tools.read_latents_file(path)  # arrays only
    return score_latents(sources, latents, values, latents.dtype.kind in "iu",
                         config.get("active_fraction", 1 / 20))[0]


def kept_latents(folder, step):
    """The evaluation latents a run kept for learning-curve step `step` (in curve/, or beside eval.json as the
    repository keeps them), or None."""
    name = f"latents-{step:07d}.npz"
    return next((p for p in (os.path.join(folder, "curve", name), os.path.join(folder, name)) if os.path.exists(p)), None)


def rescore_curve(folder, config):
    """Score a run's learning curve again: each curves.jsonl row whose latents were kept (curve/latents-STEP.npz,
    or latents-STEP.npz beside eval.json, or for the last step eval_latents.npz); a row without them keeps its
    scores ("rescored": false unless an earlier rescoring scored it). Rewrites curves.jsonl atomically; returns
    (rescored, kept) counts."""
    path = os.path.join(folder, "curves.jsonl")
    rows, done = read_jsonl(path), 0
    for row in rows:
        found = kept_latents(folder, row["step"])
        if found is None and row["step"] == config.get("steps") and os.path.exists(os.path.join(folder, "eval_latents.npz")):
            found = os.path.join(folder, "eval_latents.npz")
        if found is None:
            row.setdefault("rescored", False)  # (true if an earlier rescoring, with the latents at hand, scored it)
            continue
        scores = score_file(found, config)
        row.update({k: v for k, v in scores.items() if isinstance(v, (int, float))}, rescored=True,
                   training_flavour={k: v for k, v in scores["training_flavour"].items() if k != "nmi"})
        done += 1
    write_atomically(path, lambda f: f.writelines(json.dumps(row) + "\n" for row in rows))
    return done, len(rows) - done


def load_run(out_dir, device="cpu"):
    """(args, model in eval mode, dataset) of a run folder's checkpoint: to draw or score a trained model again."""
    ckpt = load_checkpoint(os.path.join(out_dir, "ckpt.pt"), device)
    names = {f.name for f in dataclasses.fields(train.Args)}
    args = train.Args(**{k: v for k, v in ckpt["args"].items() if k in names})
    dataset = real_data.open_dataset(args.dataset, args.resolution, args.data_dir or None)
    n_latents = args.n_latents or 2 * len(dataset.factor_sizes)
    model = train.build_model(args.model, dataset.image_shape, n_latents, args.net, args.values_per_latent,
                              not args.frozen_values, args.global_codebook).to(device)
    model.load_state_dict(ckpt["model"])
    return args, model.eval(), dataset


def rescore(root):
    """Score every finished run under root again, in both flavours, and update its eval.json: from the saved
    evaluation latents (eval_latents.npz: no checkpoint, no model, seconds) where they are, else from the
    checkpoint (which also writes them). A learning curve (curves.jsonl) is scored again too, point by point,
    from the latents kept for each point."""
    folders = sorted(d for d, _, files in os.walk(root) if "eval.json" in files
                     and ("eval_latents.npz" in files or "ckpt.pt" in files))
    for folder in folders:
        path = os.path.join(folder, "eval.json")
        old, config = read_json(path), read_json(os.path.join(folder, "config.json"))
        if old is None or config is None:
            continue  # reported by read_json
        t0 = time.time()
        try:
            for name in ("eval.json", "curves.jsonl"):  # refused before any work, so nothing is half rewritten
                refuse_link(os.path.join(folder, name))
            if os.path.exists(os.path.join(folder, "eval_latents.npz")):
                result = {**old, **score_file(os.path.join(folder, "eval_latents.npz"), config)}
            else:
                args, model, dataset = load_run(folder)
                result = {**{k: old[k] for k in ("steps", "train_seconds") if k in old},
                          **train.evaluate(args, model, dataset, folder)}
            result["eval_seconds"] = time.time() - t0
            curve = rescore_curve(folder, config) if os.path.exists(os.path.join(folder, "curves.jsonl")) else None
        except (SystemExit, ValueError, KeyError, OSError, zipfile.BadZipFile) as e:
            print(f"warning: skipped {folder}: {e}", file=sys.stderr)
            continue
        write_json(result, path)
        new = result.get("training_flavour", {})
        print(f"{folder}: InfoM {old.get('infom', math.nan):.3f} -> {result.get('infom', math.nan):.3f}, InfoE "
              f"{old.get('infoe', math.nan):.3f} -> {result.get('infoe', math.nan):.3f}, InfoC "
              f"{old.get('infoc', math.nan):.3f} -> {result.get('infoc', math.nan):.3f}; training-time flavour "
              f"{new.get('infom', math.nan):.3f} / {new.get('infoe', math.nan):.3f} / {new.get('infoc', math.nan):.3f}"
              + (f"; learning curve: {curve[0]} points rescored, {curve[1]} without latents kept as they were"
                 if curve else ""), flush=True)
    return folders


def seed_of(folder):
    """The seed in a run folder's name NAME-sSEED (an int), or None when the name ends otherwise."""
    seed = os.path.basename(folder).rsplit("-s", 1)[-1]
    return int(seed) if seed.isdigit() else None


def snapshot(root, step, into, seeds=None):
    """A longer run's state at `step` as a finished run of that length: training does not depend on --steps
    (constant learning rate, batches drawn from the seed; curve evaluations touch no random stream of training's),
    so step 6 000 of a 30 000-step run IS the state a 6 000-step run of the same flags and seed ends in. For each run
    folder under root whose learning curve reached `step` with its latents kept, writes into/<folder name>/:
    config.json (steps = step, "snapshot_of" naming the source), eval.json (the curve point's PSNR, usage and
    weight norms, InfoMEC scored again from the latents) and eval_latents.npz (those latents). A folder that holds a
    trained run is never overwritten. seeds: only the folders NAME-sSEED of these seeds (the weight-decay study has
    seven, the CPU tables three). Returns (folders written, folders refused)."""
    made, refused = [], []
    for folder in sorted(glob.glob(os.path.join(root, "*"))):
        if seeds is not None and seed_of(folder) not in seeds:
            continue
        config = read_json(os.path.join(folder, "config.json"))
        kept = kept_latents(folder, step)
        if config is None or kept is None or not os.path.exists(os.path.join(folder, "curves.jsonl")):
            continue
        try:  # scored before anything is written: a file that cannot be read leaves no half snapshot
            point = next((r for r in read_jsonl(os.path.join(folder, "curves.jsonl")) if r.get("step") == step), None)
            scores = None if point is None else score_file(kept, config)
        except (ValueError, OSError) as e:  # a torn log, a FIFO or an unreadable archive: reported by name
            print(f"warning: skipped {folder}: {e}", file=sys.stderr)
            continue
        if point is None:
            continue
        out = os.path.join(into, os.path.basename(folder))
        refuse_link(out)  # --into may be a link; a folder planted in it as one is not followed
        old = read_json(os.path.join(out, "config.json"))
        if old is not None and "snapshot_of" not in old:
            refused.append(out)
            continue
        os.makedirs(out, exist_ok=True)
        write_json({**config, "steps": step, "eval_every": 0, "out_dir": out,
                    "snapshot_of": f"{os.path.basename(folder)} at step {step}"}, os.path.join(out, "config.json"))
        with open_to_read(kept, binary=True) as source:  # copied through a fresh temp file, never a planted one
            write_atomically(os.path.join(out, "eval_latents.npz"), lambda f: shutil.copyfileobj(source, f), True)
        keep = ("psnr", "n_eval", "codebook_usage", "decayed_norm", "codebook_range")
        result = {**{k: point[k] for k in keep if k in point}, **scores, "steps": step}
        write_json(result, os.path.join(out, "eval.json"))
        print(f"{out}: {os.path.basename(folder)} at step {step}: InfoM {result['infom']:.3f}, InfoE "
              f"{result['infoe']:.3f}, InfoC {result['infoc']:.3f}", flush=True)
        made.append(out)
    return made, refused


def tables(runs, flavours=("training", "standalone"), population_std=False, per_seed=False):
    """The three tables (main comparison, ablations, GANs) in each flavour: the training-time flavour first, the
    one to hold against the paper's tables (results/README.md says why), then the standalone one."""
    text = "\n\n".join(table(rows, runs, title, flavour, population_std, per_seed) for flavour in flavours
                        for rows, title in ((MAIN, "Main comparison"), (ABLATION, "Ablations"), (GAN, "GANs")))
    outside = [folder for folder, c, _ in runs if not any(in_row(c, f) for _, _, f in MAIN + ABLATION + GAN)]
    if outside:
        text += f"\n\nruns in no row (their flags match no configuration above): {', '.join(sorted(outside))}"
    return text


def strongest(runs, root, flavour="training"):
    """Per source, the largest NMI it has with any one latent (active or not; eval.json's `nmi`), for each
    configuration of the tables (over its runs) and over every run, with the run folder that reaches it: how
    strongly a source is encoded anywhere. A markdown table."""
    width = {len(flavour_of(r, flavour).get("nmi") or []) for _, _, r in runs}
    if len(width) != 1 or 0 in width:
        sys.exit(f"error: the runs under {root} do not all have an NMI matrix over the same sources ({sorted(width)} "
                 "sources): table runs of one dataset, scored by this release (rescore them)")
    first = runs[0][1]
    names = [f"s{i}" for i in range(width.pop())]
    if first.get("dataset") in ("shapes3d", "dsprites") and not first.get("data_dir"):
        names = list(data.get_dataset(first["dataset"], first.get("resolution", 32)).factor_names)[:len(names)]
    lines = [f"**Largest NMI of each source with any one latent** ({flavour} InfoMEC)", "",
             "| configuration | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, members):
        best = []
        for i in range(len(names)):  # (value, folder) of the run whose latent holds the most of source i
            value, folder = max((max(flavour_of(r, flavour)["nmi"][i]), os.path.relpath(f, root))
                                for f, _, r in members)
            best.append(f"{value:.3f} {folder}")
        lines.append(f"| {label} | " + " | ".join(best) + " |")

    for name, label, flags in {r[0]: r for r in MAIN + ABLATION + GAN}.values():
        members = [run for run in runs if in_row(run[1], flags)]
        if members:
            row(label, members)
    row("any run", runs)
    return "\n".join(lines)


CURVE_COLUMNS = (("infom", "InfoM"), ("infoe", "InfoE"), ("infoc", "InfoC"), ("psnr", "PSNR"),
                 ("decayed_norm", "decayed-weight norm"), ("codebook_range", "codebook range"))


def curve_value(row, key, flavour="standalone"):
    """One value of a curves.jsonl row, or None: InfoM/E/C in the given InfoMEC flavour (the training-time one is
    kept under "training_flavour"), the rest (PSNR, norms) as they are."""
    if flavour == "training" and key in ("infom", "infoe", "infoc"):
        row = row.get("training_flavour", {})
    value = row.get(key)
    return value if isinstance(value, (int, float)) else None


def curves_table(groups, labels, at_steps, flavour="standalone"):
    """Markdown table of the learning curves at the given steps: mean ± 95% CI over seeds (mean_ci), n seeds."""
    lines = ["| configuration | step | seeds | " + " | ".join(t for _, t in CURVE_COLUMNS) + " |",
             "|---|---|---|" + "---|" * len(CURVE_COLUMNS)]
    for runs, label in zip(groups, labels):
        for step in at_steps:
            rows = [r for run in runs for r in run if r.get("step") == step]
            if not rows:
                continue
            cells = []
            for key, _ in CURVE_COLUMNS:
                values = [v for v in (curve_value(r, key, flavour) for r in rows) if v is not None]
                mean, half = mean_ci(values) if values else (math.nan, math.nan)
                cells.append("–" if not values else f"{mean:.3f}" if len(values) < 2 else f"{mean:.3f} ± {half:.3f}")
            lines.append(f"| {label} | {step} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def curves(root, names, path, at_steps=(), flavours=("standalone",)):
    """Overlay the learning curves (curves.jsonl) of the configurations `names` under root: one colour each, the
    mean over seeds and a band from the lowest to the highest seed. at_steps: also print their values at these
    steps as a table (mean ± 95% CI over seeds), in each of `flavours` (with a heading when more than one)."""
    groups, labels, seeds_of = [], [], {}
    for name, label, _ in MAIN + ABLATION + GAN:
        if name in names and name not in labels:
            folders = [d for d in sorted(glob.glob(os.path.join(root, f"{name}-s*")))
                       if os.path.exists(os.path.join(d, "curves.jsonl"))]
            try:
                runs = [read_jsonl(os.path.join(d, "curves.jsonl")) for d in folders]
            except ValueError as e:  # a torn log, a FIFO
                sys.exit(f"error: {e}")
            if folders:
                groups.append(runs), labels.append(name)
                seeds_of[name] = folders
    if not groups:
        sys.exit(f"error: no curves.jsonl under {root} for {names} (train with --eval-every N)")
    names_of = {name: label for name, label, _ in MAIN + ABLATION + GAN}
    plot_curves(groups, path, [names_of[n] for n in labels], title=f"learning curves: {root}")
    print(f"wrote {path} ({', '.join(f'{n}: {len(g)} runs' for n, g in zip(labels, groups))})")
    for flavour in flavours if at_steps else ():
        if len(flavours) > 1:
            print(f"\n**{flavour} InfoMEC**\n")
        print(curves_table(groups, [names_of[n] for n in labels], at_steps, flavour))
        for key, title in CURVE_COLUMNS[:2]:  # with few seeds an interval is wide: the values themselves, seed by seed
            print(f"\n{title}, seed by seed:")
            for runs, name in zip(groups, labels):
                for step in at_steps:
                    values = [f"{os.path.basename(d).rsplit('-', 1)[1]} "
                              + next((f"{curve_value(r, key, flavour):.3f}" for r in run if r.get("step") == step
                                      and curve_value(r, key, flavour) is not None), "–")
                              for d, run in zip(seeds_of[name], runs)]
                    print(f"{names_of[name]:24s} step {step:6d}: " + "  ".join(values))


TIE = 5e-4  # paired: a difference this small prints as +0.000 or -0.000, and is counted as a tie, not a side


def paired(root, a, b, at_steps=(), flavour="training"):
    """Arm a against arm b seed by seed (one seed: the same initialisation and the same batches in both arms). At
    each curve step and for each metric: the mean paired difference a - b over the seeds present in both, its 95%
    interval t(n-1) std / sqrt(n), whether that interval lies above 0, below 0 or includes it, and how many pairs
    favour a (and how many are tied: equal to the three decimals printed). Returns the printed lines."""
    def arm(name):  # seed -> curves.jsonl rows, for the folders NAME-sSEED under root
        found = {}
        for d in glob.glob(os.path.join(root, f"{name}-s*")):
            seed = seed_of(d)
            if seed is not None and os.path.isfile(os.path.join(d, "curves.jsonl")):
                found[seed] = read_jsonl(os.path.join(d, "curves.jsonl"))
        return found
    runs_a, runs_b = arm(a), arm(b)
    seeds = sorted(set(runs_a) & set(runs_b))
    if not seeds:
        sys.exit(f"error: no seed has curves.jsonl under {root} in both {a} and {b} (train with --eval-every N)")
    steps = list(at_steps) or sorted({r["step"] for s in seeds for r in runs_a[s] if "step" in r})
    names_of = {name: label for name, label, _ in MAIN + ABLATION + GAN}
    lines = [f"Paired by seed: {names_of.get(a, a)} − {names_of.get(b, b)}, {flavour} InfoMEC; mean difference ± 95% "
             "CI (t(n−1)·std/√n); favour: pairs whose difference is above 0 (tied: equal to 3 decimals)", "",
             "| metric | step | n | seeds | mean difference ± 95% CI | interval vs 0 | favour |", "|---|---|---|---|---|---|---|"]
    for key in METRICS:
        for step in steps:
            diffs, used = [], []
            for s in seeds:
                va = next((curve_value(r, key, flavour) for r in runs_a[s] if r.get("step") == step), None)
                vb = next((curve_value(r, key, flavour) for r in runs_b[s] if r.get("step") == step), None)
                if va is not None and vb is not None:
                    diffs.append(va - vb), used.append(s)
            if not diffs:
                continue
            mean, half = mean_ci(diffs)
            where = ("–" if math.isnan(half) else "above 0" if mean - half > 0 else "below 0" if mean + half < 0
                     else "includes 0")
            shown = f"{mean:+.3f}" if math.isnan(half) else f"{mean:+.3f} ± {half:.3f}"
            tied = sum(abs(d) < TIE for d in diffs)
            lines.append(f"| {key} | {step} | {len(diffs)} | {' '.join(map(str, used))} | {shown} | {where} | "
                         f"{sum(d >= TIE for d in diffs)}/{len(diffs)}" + (f" ({tied} tied)" if tied else "") + " |")
    print("\n".join(lines))
    return lines


def heatmaps(root, names, path):
    """The standalone NMI heatmaps of run folders root/NAME, side by side, scored from their eval_latents.npz (no
    checkpoint needed: the repository's results folders are enough)."""
    results, sources = [], None
    for name in names:
        folder = os.path.join(root, name)
        config = read_json(os.path.join(folder, "config.json"))
        if config is None or not os.path.exists(os.path.join(folder, "eval_latents.npz")):
            sys.exit(f"error: {folder} has no config.json and eval_latents.npz (a finished run's folder)")
        try:
            s, z, _ = infomec_tools.read_latents_file(os.path.join(folder, "eval_latents.npz"))
            results.append(infomec.infomec(s, z, z.dtype.kind in "iu",
                                           active_fraction=config.get("active_fraction", 1 / 20), **infomec_fast.FAST))
        except ValueError as e:
            sys.exit(f"error: {e}")
        if sources is None and config.get("dataset") in ("shapes3d", "dsprites") and not config.get("data_dir"):
            sources = data.get_dataset(config["dataset"], config.get("resolution", 32)).factor_names
    infomec_tools.plot_nmi(results, path, source_names=sources, title=list(names))
    print(f"wrote {path} (" + ", ".join(f"{n}: InfoM {r['infom']:.3f}" for n, r in zip(names, results)) + ")")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("action", choices=["run", "print", "table", "rescore", "curves", "snapshot", "heatmaps",
                                      "strongest", "paired"])
    p.add_argument("root", nargs="?", default="runs/sweep", help="run folders' parent (table: where to look)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="run, print: the seeds to train; "
                   "snapshot: the seeds to take (folders NAME-sSEED)")
    p.add_argument("--jobs", type=int, default=1, help="runs at once (each gets cores / jobs threads)")
    names = sorted({name for name, _, _ in MAIN + ABLATION + GAN})
    p.add_argument("--only", nargs="+", choices=names, help="run (or draw the curves of) just these configurations")
    p.add_argument("--flavour", choices=["standalone", "training", "both"],
                   help="which of the authors' two InfoMEC flavours (see infomec.FLAVOURS). table, strongest: "
                        "default both, the training-time one first (the one to hold against the paper's tables); "
                        "curves: default standalone; paired: default training (one flavour)")
    p.add_argument("--population-std", action="store_true", help="table: CI from the population std (divisor n)")
    p.add_argument("--per-seed", action="store_true", help="table: also each row's values seed by seed")
    p.add_argument("--out", help="curves, heatmaps: the figure to write (default curves.png, heatmaps.png)")
    p.add_argument("--runs", nargs="+", metavar="FOLDER", help="heatmaps: run folders under root, e.g. ae-s0 qlae-s0")
    p.add_argument("--table-at", type=int, nargs="+", default=[], metavar="STEP",
                   help="curves: also print the curves' values at these steps (mean ± 95%% CI over seeds)")
    p.add_argument("--step", type=int, help="snapshot: the learning-curve step to take as a finished run")
    p.add_argument("--into", help="snapshot: where to write the runs of that length")
    a = p.parse_args(argv)
    if min(a.seeds) < 0 or a.jobs < 1:
        p.error(f"--seeds must be >= 0 and --jobs >= 1, got seeds {a.seeds}, jobs {a.jobs}")
    if a.out and a.action in ("curves", "heatmaps"):
        infomec_tools.check_plot_path(a.out, "--out")  # a bad figure path: one line now, not a traceback after the work
    if a.action == "snapshot":
        if a.step is None or not a.into:
            sys.exit("error: snapshot needs --step STEP and --into FOLDER")
        made, refused = snapshot(a.root, a.step, a.into, a.seeds)
        if refused:
            sys.exit(f"error: {', '.join(refused)} hold trained runs (not snapshots); move them away or choose another "
                     "--into")
        if not made:
            sys.exit(f"error: no run of seeds {' '.join(map(str, a.seeds))} under {a.root} kept its latents at step "
                     f"{a.step} (train with --eval-every; --seeds to take others)")
        return
    if a.action == "curves":
        flavours = {"both": ("training", "standalone"), None: ("standalone",)}.get(a.flavour, (a.flavour,))
        return curves(a.root, a.only or ["ae", "qlae", "qlae-nowd"], a.out or "curves.png", a.table_at, flavours)
    if a.action == "paired":
        if not a.only or len(a.only) != 2 or a.flavour == "both":
            sys.exit("error: paired needs --only A B (two configurations, e.g. qlae qlae-nowd) and at most one "
                     "--flavour (training or standalone)")
        paired(a.root, *a.only, a.table_at, a.flavour or "training")
        return
    if a.action == "heatmaps":
        if not a.runs:
            sys.exit("error: heatmaps needs --runs FOLDER [FOLDER ...] (run folders under root, e.g. ae-s0 qlae-s0)")
        return heatmaps(a.root, a.runs, a.out or "heatmaps.png")
    if a.action == "strongest":
        runs = load_runs(a.root)
        if not runs:
            sys.exit(f"error: no finished run (config.json + eval.json) under {a.root}")
        flavours = ("training", "standalone") if a.flavour in ("both", None) else (a.flavour,)
        print("\n\n".join(strongest(runs, a.root, flavour) for flavour in flavours))
        return
    if a.action == "rescore" and not rescore(a.root):
        sys.exit(f"error: no finished run (ckpt.pt + eval.json) under {a.root}")
    if a.action in ("table", "rescore"):
        runs = load_runs(a.root)
        if not runs:
            sys.exit(f"error: no finished run (config.json + eval.json) under {a.root}")
        flavours = ("training", "standalone") if a.flavour in ("both", None) else (a.flavour,)
        print(tables(runs, flavours, a.population_std, a.per_seed))
        refused = refused_rows(runs)
        if refused and a.action == "table":  # (rescore has done its work: the notes above name the copies)
            sys.exit(f"error: {len(refused)} table lines refused, each holds a seed twice ({'; '.join(refused)}): "
                     "move the copies out of the root")
        return
    runs = commands(a.seeds, a.root, extra, a.only)
    if a.action == "print":
        for _, cmd in runs:
            print(" ".join(["python", *cmd[1:]]))
        return
    failed = run_all(runs, a.jobs)
    if failed:
        sys.exit(f"{len(failed)} runs failed: {failed}")
    runs = load_runs(a.root)
    print(tables(runs))


if __name__ == "__main__":
    main()
