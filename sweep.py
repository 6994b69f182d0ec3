"""The paper's comparison as a list of train.py runs, and the tables made from their run folders.

    python sweep.py run --seeds 0 1 2                 # every run, one after another (finished ones are skipped,
                                                      # interrupted ones resumed); --jobs N runs N at once
    python sweep.py print --seeds 0 1 2 > runs.txt    # one command per line, for GNU parallel or a Slurm array
    python sweep.py table runs/sweep                  # markdown tables from whatever run folders are there
    python sweep.py rescore runs/sweep                # evaluate finished runs again (after an InfoMEC change)
    python sweep.py run --seeds 0 1 2 -- --steps 2000 # flags after -- go to every train.py run
    python sweep.py run --only ae qlae qlae-nowd      # a subset of the configurations

Paper: Section 6, Tables 1-2, the ablations and the GAN rows: mean and 95% confidence-interval half-width
t_{0.975}(n - 1) * std / sqrt(n) over seeds. Why a file of its own: it is plumbing around train.py (processes,
folders, tables), not part of the method, and train.py stays one readable training script.
"""
import argparse
import functools
import json
import math
import os
import subprocess
import sys
import time

import train

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


def mean_ci(values):
    """(mean, 95% CI half-width t(n-1) * std / sqrt(n)); the half-width is nan for a single value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, (T975[n - 2] if n - 1 <= len(T975) else 1.96) * std / math.sqrt(n)


def commands(seeds, out, extra, only=None):
    """Every (run folder, command) pair: each configuration of both tables once (or those named in `only`),
    times each seed."""
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
    todo = []
    for folder, cmd in runs:
        if os.path.exists(os.path.join(folder, "eval.json")):
            print(f"done already: {folder}")
            continue
        if os.path.exists(os.path.join(folder, "ckpt.pt")):
            cmd = [*cmd, "--resume"]
        todo.append((folder, cmd))
    # Each run gets its share of the cores, unless OMP_NUM_THREADS is set already (e.g. to leave a core free).
    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // jobs))
    env = {**os.environ, "OMP_NUM_THREADS": threads}
    running, failed = [], []
    while todo or running:
        while todo and len(running) < jobs:
            folder, cmd = todo.pop(0)
            os.makedirs(folder, exist_ok=True)
            print("running:", " ".join(cmd[1:]), flush=True)
            log = open(os.path.join(folder, "train.log"), "a")
            running.append((folder, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log))
        folder, proc, log = running.pop(0)
        proc.wait()
        log.close()
        if proc.returncode:
            failed.append(folder)
            print(f"FAILED ({proc.returncode}): {folder}; see {folder}/train.log", flush=True)
        else:
            print(f"finished: {folder}", flush=True)
    return failed


def load_runs(root):
    """Every finished run folder under root: (config, eval) pairs."""
    found = []
    for dirpath, _, files in os.walk(root):
        if "eval.json" in files and "config.json" in files:
            with open(os.path.join(dirpath, "config.json")) as f, open(os.path.join(dirpath, "eval.json")) as g:
                found.append((json.load(f), json.load(g)))
    return found


# A run belongs to the row whose flags resolve (through train.py's own defaults) to the same values of these
# fields; runs that match no row are reported, not dropped or mixed in silently.
ROW_FIELDS = ("model", "weight_decay", "global_codebook", "frozen_values", "beta", "beta_tc", "activity_weight")
SCALE_FIELDS = ("dataset", "resolution", "net", "steps", "batch_size", "lr")


@functools.lru_cache(maxsize=None)
def row_key(flags, dataset):
    args = train.parse_args([*flags, "--dataset", dataset, "--out-dir", "-"])
    return tuple(getattr(args, f) for f in ROW_FIELDS)


def in_row(config, flags):
    """Does this run belong to the row with these flags? Fields an older config.json lacks are not compared."""
    resolved = row_key(tuple(flags), config.get("dataset", "shapes3d"))
    return all(config[f] == v for f, v in zip(ROW_FIELDS, resolved) if f in config)


def table(rows, runs, title):
    lines = [f"**{title}**", "", "| model | n | InfoM | InfoE | InfoC | PSNR (dB) |", "|---|---|---|---|---|---|"]
    notes = []
    for _, label, flags in rows:
        members = [(c, r) for c, r in runs if in_row(c, flags)]
        scales = {tuple(c.get(f) for f in SCALE_FIELDS) for c, _ in members}
        if len(scales) > 1:
            notes.append(f"note: the {label} row mixes runs of different settings {SCALE_FIELDS}: {sorted(scales, key=str)}")
        results = [r for _, r in members]
        if not results:
            lines.append(f"| {label} | 0 | | | | |")
            continue
        cells = []
        for metric in METRICS:
            values = [r[metric] for r in results if metric in r]  # a run may lack InfoMEC (see infomec_error)
            if not values:
                cells.append("")
                continue
            mean, hw = mean_ci(values)
            digits = 1 if metric == "psnr" else 2
            cells.append(f"{mean:.{digits}f} ± {hw:.{digits}f}" if hw == hw else f"{mean:.{digits}f}")
        lines.append(f"| {label} | {len(results)} | " + " | ".join(cells) + " |")
    return "\n".join(lines + ([""] + notes if notes else []))


def rescore(root):
    """Evaluate every finished run under root again from its checkpoint (no training) and update its eval.json."""
    folders = sorted(d for d, _, files in os.walk(root) if "eval.json" in files and "ckpt.pt" in files)
    for folder in folders:
        path = os.path.join(folder, "eval.json")
        with open(path) as f:
            old = json.load(f)
        args, model, dataset = train.load_run(folder)
        t0 = time.time()
        result = train.evaluate(args, model, dataset, folder)
        kept = {k: old[k] for k in ("steps", "train_seconds") if k in old}
        train.write_json({**kept, **result, "eval_seconds": time.time() - t0}, path)
        print(f"{folder}: InfoM {old.get('infom', math.nan):.3f} -> {result.get('infom', math.nan):.3f}, InfoE "
              f"{old.get('infoe', math.nan):.3f} -> {result.get('infoe', math.nan):.3f}, InfoC "
              f"{old.get('infoc', math.nan):.3f} -> {result.get('infoc', math.nan):.3f}", flush=True)
    return folders


def tables(runs):
    text = "\n\n".join(table(rows, runs, title) for rows, title in
                       ((MAIN, "Main comparison"), (ABLATION, "Ablations"), (GAN, "GANs")))
    outside = [c.get("out_dir", "?") for c, _ in runs if not any(in_row(c, f) for _, _, f in MAIN + ABLATION + GAN)]
    if outside:
        text += f"\n\nruns in no row (their flags match no configuration above): {', '.join(sorted(outside))}"
    return text


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("action", choices=["run", "print", "table", "rescore"])
    p.add_argument("root", nargs="?", default="runs/sweep", help="run folders' parent (table: where to look)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=1, help="runs at once (each gets cores / jobs threads)")
    names = sorted({name for name, _, _ in MAIN + ABLATION + GAN})
    p.add_argument("--only", nargs="+", choices=names, help="run just these configurations")
    a = p.parse_args(argv)
    if a.action == "rescore" and not rescore(a.root):
        sys.exit(f"error: no finished run (ckpt.pt + eval.json) under {a.root}")
    if a.action in ("table", "rescore"):
        runs = load_runs(a.root)
        if not runs:
            sys.exit(f"error: no finished run (config.json + eval.json) under {a.root}")
        print(tables(runs))
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
