"""InfoMEC's tools: score a saved evaluation set from the command line, MIG for comparison, the NMI heatmap, the
synthetic cases and the benchmark. Not needed to follow the paper (infomec.py holds the metric).

From the repository root:
  python -m lab.infomec_tools FILE.npz [--discrete] [--flavour training] [--k K] [--active-fraction F] [--plot PNG]
  python -m lab.infomec_tools                 the synthetic cases (InfoM, InfoE, InfoC and MIG)
  python -m lab.infomec_tools --benchmark [FILE.npz [--discrete]]     seconds per scoring
"""
import argparse
import math
import os
import sys
import time
import zipfile

import numpy as np

from infomec import encode_inputs, entropy, infomec, mutual_info_discrete, standardise
from lab.files import open_to_read, save_figure
from lab.infomec_fast import FAST


def read_latents_file(path):
    """(sources, latents, values or None) of an .npz evaluation set: plain arrays only, never pickled objects
    (allow_pickle=False, numpy's default: a file cannot run code). Any problem is a one-line ValueError that
    names the file and what was expected."""
    expected = ("expected `sources` (N x n_s) and `latents` (N x n_z) arrays in an .npz archive (e.g. from np.savez; "
                "optionally `values`, a quantized model's z_q)")
    try:  # a FIFO or a folder: refused before reading (opening a FIFO would wait for a writer forever)
        f = open_to_read(path, binary=True)
    except ValueError as e:
        raise ValueError(f"{e}; {expected}") from None
    except OSError as e:  # e.g. missing
        raise ValueError(f"{path}: {e.strerror or e}; {expected}") from None
    with f:
        if not zipfile.is_zipfile(f):  # (numpy would read any other file as a pickle, and refuse it confusingly)
            raise ValueError(f"{path} is not an .npz archive (empty, truncated or another format); {expected}")
        try:
            with np.load(f) as saved:
                files = saved.files
                arrays = {n: saved[n] for n in ("sources", "latents", "values") if n in files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            if "allow_pickle" in str(e):  # an object array: only pickle could load it
                raise ValueError(f"{path} holds Python objects, refused (loading them could run code); {expected}") \
                    from None
            raise ValueError(f"{path} is not a readable .npz archive ({e}); {expected}") from None
    for n in ("sources", "latents"):
        if n not in arrays:
            raise ValueError(f"{path} has no array {n!r} (found {sorted(files)}); {expected}")
    if "values" in arrays and arrays["values"].shape != arrays["latents"].shape:  # else another model's z_q is scored
        raise ValueError(f"{path}: `values` has shape {arrays['values'].shape}, `latents` {arrays['latents'].shape}: "
                         "they should match (z_q holds one value per latent and sample)")
    return arrays["sources"], arrays["latents"], arrays.get("values")


def mig(sources, latents, discrete, bins=20):
    """Mutual Information Gap (Chen et al. 2018), for comparison: mean over sources of the gap between the two
    largest NMI values, with continuous latents discretised into `bins` equal-width histogram bins."""
    s, z = encode_inputs(sources, latents, discrete, 1, False)  # (k is not used: MIG bins continuous latents)
    if not discrete:
        edges = [np.histogram_bin_edges(z[:, j], bins) for j in range(z.shape[1])]
        z = np.stack([np.clip(np.digitize(z[:, j], e[1:-1]), 0, bins - 1) for j, e in enumerate(edges)], 1)
    nmi = np.array([[mutual_info_discrete(s[:, i], z[:, j]) / entropy(s[:, i]) for j in range(z.shape[1])]
                    for i in range(s.shape[1])])
    top = -np.sort(-nmi, axis=1)
    return float(np.mean(top[:, 0] - (top[:, 1] if nmi.shape[1] > 1 else 0)))


def plot_nmi(result, path, source_names=None, title=""):
    """Heatmap of the NMI matrix: sources down, latents across; pruned (inactive) latents greyed and marked.
    result (and title) may also be lists: one panel per result, side by side (e.g. AE beside QLAE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = result if isinstance(result, (list, tuple)) else [result]
    titles = title if isinstance(title, (list, tuple)) else [title] * len(results)
    n_s, n_z = results[0]["nmi"].shape
    fig, axes = plt.subplots(1, len(results), figsize=((0.55 * n_z + 2.2) * len(results), 0.45 * n_s + 1.4),
                             squeeze=False)
    for r, ax, name in zip(results, axes[0], titles):
        nmi, active = r["nmi"], r["active"]
        names = list(source_names) if source_names is not None else [f"s{i}" for i in range(len(nmi))]
        im = ax.imshow(nmi, vmin=0, vmax=1, cmap="viridis")
        for i in range(nmi.shape[0]):
            for j in range(nmi.shape[1]):
                ax.text(j, i, f"{nmi[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if nmi[i, j] < 0.5 else "black")
        for j in np.flatnonzero(~active):
            ax.axvspan(j - 0.5, j + 0.5, color="grey", alpha=0.7, hatch="//")
        ax.set_xticks(range(nmi.shape[1]), [f"z{j}" + ("" if active[j] else "\n(pruned)")
                                            for j in range(nmi.shape[1])], fontsize=7)
        ax.set_yticks(range(len(nmi)), names, fontsize=7)
        ax.set_xlabel("latent"), ax.set_ylabel("source")
        scores = f"InfoM {r['infom']:.2f}  InfoE {r['infoe']:.2f}  InfoC {r['infoc']:.2f}"
        ax.set_title(f"{name}: {scores}" if name else scores, fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.03, label="NMI")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)  # (never through a link planted at `path`: lab/files.py)


def synthetic(case, n=10_000, seed=0):
    """6 sources (10, 10, 10, 8, 4, 15) and 12 latents. The reference's test constructions:
    identity: latents = sources scaled to [0, 1] + 1% noise, then 6 constant (inactive) latents;
    rotation: a random 12 x 12 rotation of the standardised sources padded with 6 zeros;
    noise: 12 standard Gaussians; codes_identity: the sources as codes + 6 constant codes;
    codes_random: 12 uniform random codes with 10 values.
    And two like the latents people score (for the benchmark):
    near_separable: standardised sources, each mixed with the next by a small rotation (0.1 rad), 2% noise, and
      6 Gaussian latents (InfoE close to 1: the hard case for the fit, whose loss has no minimum to stop at);
    codes_trained: codes like a trained QLAE's: each source binned onto one latent's 10 values with 3% of codes
      moved to a neighbouring value, source 3 also coarsely on a second latent, source 5 (15 values) split over two
      latents (coarse and fine), the rest random. Returns (sources, latents, discrete)."""
    rng = np.random.default_rng(seed)
    sizes = np.array([10, 10, 10, 8, 4, 15])
    s = rng.integers(0, sizes, size=(n, 6))
    pad = np.zeros((n, 6))
    if case == "identity":
        return s, np.concatenate([s / (sizes - 1) + 0.01 * rng.standard_normal((n, 6)), pad], 1), False
    if case == "rotation":
        q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
        return s, np.concatenate([standardise(s.astype(float)), pad], 1) @ q, False
    if case == "noise":
        return s, rng.standard_normal((n, 12)), False
    if case == "codes_identity":
        return s, np.concatenate([s, pad], 1).astype(int), True
    if case == "codes_random":
        return s, rng.integers(0, 10, size=(n, 12)), True
    if case == "near_separable":
        x = standardise(s.astype(float))
        x = np.cos(0.1) * x + np.sin(0.1) * np.roll(x, 1, axis=1) + 0.02 * rng.standard_normal((n, 6))
        return s, np.concatenate([x, rng.standard_normal((n, 6))], 1), False
    if case == "codes_trained":
        binned = np.round(s / (sizes - 1) * 9).astype(int)  # (n, 6) each source on 10 values
        nudge = np.where(rng.random((n, 6)) < 0.03, rng.choice([-1, 1], (n, 6)), 0)
        codes = np.clip(binned + nudge, 0, 9)
        codes[:, 5] = s[:, 5] // 2  # 15 values: coarse here, fine (parity) on latent 7
        extra = np.stack([s[:, 3] // 3, s[:, 5] % 2 * 5 + rng.integers(0, 5, n)], 1)
        return s, np.concatenate([codes, extra, rng.integers(0, 10, (n, 4))], 1), True
    raise ValueError(case)


BENCHMARK_CASES = ("identity", "rotation", "near_separable", "codes_random", "codes_trained")


def benchmark(path=None, discrete=False, repeats=3):
    """Seconds per infomec() call as train.py and the sweep make it (standalone flavour, the fast paths), in process: best of `repeats` at N = 10 000, one call at N = 100 000 (after a
    warm-up call). With a path: the same for that .npz file (its `sources` and `latents`)."""
    infomec(*synthetic("noise", 1000), **FAST)  # warm-up: the first call pays one-off costs
    runs = [(f"{case} N={n}", *synthetic(case, n), repeats if n <= 10_000 else 1)
            for n in (10_000, 100_000) for case in BENCHMARK_CASES]
    if path:
        runs = [(path, *read_latents_file(path)[:2], discrete, repeats)]
    print(f"{'case':28s} {'seconds':>8s} {'InfoM':>6s} {'InfoE':>6s} {'InfoC':>6s}  fit")
    for name, s, z, disc, tries in runs:
        best = math.inf
        for _ in range(tries):
            t = time.perf_counter()
            r = infomec(s, z, disc, **FAST)  # as train.py and the sweep score
            best = min(best, time.perf_counter() - t)
        print(f"{name:28s} {best:8.3f} {r['infom']:6.3f} {r['infoe']:6.3f} {r['infoc']:6.3f}  "
              f"{'converged' if r['converged'] else 'NOT converged'}", flush=True)


def check_plot_path(path, flag="--plot"):
    """--plot (or lab/sweep.py's --out): a format matplotlib writes (from the extension) and a folder to put it in,
    created if missing (as train.py creates its --out-dir), or one line saying why not."""
    import matplotlib.figure

    known = sorted(matplotlib.figure.Figure().canvas.get_supported_filetypes())
    ext = os.path.splitext(path)[1][1:].lower()
    if os.path.isdir(path):
        raise SystemExit(f"error: {flag} {path} is a folder; name a file in it, e.g. {os.path.join(path, 'nmi.png')}")
    if not ext:
        raise SystemExit(f"error: {flag} {path} has no extension; name the format, e.g. {path}.png (known: "
                         f"{', '.join(known)})")
    if ext not in known:
        raise SystemExit(f"error: {flag} {path}: unknown figure format '.{ext}'; use one of {', '.join(known)}")
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    except OSError as e:
        raise SystemExit(f"error: {flag} {path}: cannot create its folder ({e.strerror}); choose a folder you can "
                         "write to") from None


def main():
    p = argparse.ArgumentParser(description="InfoMEC of latents against sources. No FILE: a demo on synthetic cases.")
    p.add_argument("file", nargs="?", help="a .npz with arrays `sources` (N x n_s) and `latents` (N x n_z)")
    p.add_argument("--discrete", action="store_true", help="latents are integer codes (quantized models)")
    p.add_argument("--k", type=int, default=10, help="neighbours of the k-NN MI estimator (continuous latents)")
    p.add_argument("--active-fraction", type=float, default=1 / 20, help="continuous pruning: range > max x this")
    p.add_argument("--flavour", choices=["standalone", "training"], default="standalone",
                   help="standalone: the authors' metric file (k, --active-fraction as given); training: their "
                        "training-time logger (k = 3, range > max / 8, InfoE linear on the file's `values` if it has "
                        "them: a quantized model's z_q); see infomec.FLAVOURS")
    p.add_argument("--plot", default="", help="also write the NMI heatmap to this file (.png, .pdf, .svg, ...: "
                                               "matplotlib's formats); a missing folder is created")
    p.add_argument("--benchmark", action="store_true",
                   help="print timings: synthetic cases at N = 10 000 and 100 000, or FILE if given")
    a = p.parse_args()
    if a.benchmark:
        try:
            return benchmark(a.file, a.discrete)
        except ValueError as e:
            raise SystemExit(f"error: {e}")
    if a.file is None:
        print(f"{'case':16s} {'InfoM':>6s} {'InfoE':>6s} {'InfoC':>6s} {'MIG':>6s}")
        for case in ("identity", "rotation", "noise", "codes_identity", "codes_random"):
            s, z, discrete = synthetic(case)
            r = infomec(s, z, discrete, **FAST)
            print(f"{case:16s} {r['infom']:6.3f} {r['infoe']:6.3f} {r['infoc']:6.3f} {mig(s, z, discrete):6.3f}")
        return
    try:
        sources, latents, values = read_latents_file(a.file)
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    if a.plot:  # checked before scoring, which may take a while
        check_plot_path(a.plot)
    if a.k < 1 or not 0 < a.active_fraction < 1:
        raise SystemExit(f"error: --k must be >= 1 and --active-fraction in (0, 1); got {a.k}, {a.active_fraction}")
    try:
        if a.flavour == "training":
            r = infomec(sources, values if values is not None and a.discrete else latents, a.discrete, "training", **FAST)
        else:
            r = infomec(sources, latents, a.discrete, "standalone", a.k, a.active_fraction, **FAST)
    except ValueError as e:
        raise SystemExit(f"error: {a.file}: {e}")
    print(f"InfoM {r['infom']:.4f}  InfoE {r['infoe']:.4f}  InfoC {r['infoc']:.4f}  "
          f"({r['flavour']} flavour; {r['n_active']} of {latents.shape[1]} latents active; "
          f"{'discrete' if a.discrete else 'continuous'}; InfoE read out {r['infoe_readout']}; "
          f"logistic regression {'converged' if r['converged'] else 'DID NOT converge'})")
    print("NMI (sources x latents):")
    print(np.array2string(r["nmi"], precision=3, suppress_small=True, max_line_width=200))
    if a.plot:
        plot_nmi(r, a.plot)
        print(f"wrote {a.plot}")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # piped into a command that stopped reading (`| head -1`): quiet, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
