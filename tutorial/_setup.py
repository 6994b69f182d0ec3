"""Shared by every tutorial step: makes the project's files importable, the fast mode, where figures and runs go,
and the loud checks each step ends with. (Imported as `from _setup import ...`; it holds no part of the method.)"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # quantizer, models, data, infomec, train: the tutorial runs the project's own code

FAST = os.environ.get("TUTORIAL_FAST", "") not in ("", "0")  # tiny sizes: the whole tutorial in CI in minutes
FIGURES = os.environ.get("TUTORIAL_FIGURES") or os.path.join(HERE, "figures")
RUNS = os.environ.get("TUTORIAL_RUNS") or os.path.relpath(os.path.join(ROOT, "runs", "tutorial"))  # (relative: the
# notebooks' stored outputs then name no folder of the machine they were built on)
os.makedirs(FIGURES, exist_ok=True)
# train.py flags shared by the steps that train autoencoders (3 and 5), so their runs are comparable.
SIZE = ["--steps", "20", "--batch-size", "16", "--eval-size", "400", "--log-every", "10"] if FAST else \
       ["--steps", "3000", "--batch-size", "64", "--eval-size", "10000", "--log-every", "500"]

import matplotlib  # noqa: E402

if "ipykernel" not in sys.modules:  # a plain script writes PNGs; a notebook keeps its inline figures
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401


def fast(normal, quick):
    """`normal` in the normal mode, `quick` in the fast mode."""
    return quick if FAST else normal


def check(condition, message):
    """Fail loudly if a claim of the text does not hold for this run."""
    if not condition:
        raise AssertionError(f"CHECK FAILED: {message}")
    print(f"check passed: {message}")


def train_or_load(name, flags):
    """Train RUNS/NAME-XXXXXXXX with train.py's flags unless it finished before; returns its eval.json as a dict, with
    the run's folder under "run_dir". XXXXXXXX is a digest of the flags, so a run is reused only for the very same
    request (another mode, model or length trains its own folder). An interrupted run resumes from its checkpoint, so nothing finished is lost."""
    import hashlib
    import json

    import train

    out = os.path.join(RUNS, f"{name}-{hashlib.sha256(json.dumps(list(flags)).encode()).hexdigest()[:8]}")
    if not os.path.exists(os.path.join(out, "eval.json")):
        resume = ["--resume"] if os.path.exists(os.path.join(out, "ckpt.pt")) else []
        train.main([*flags, "--out-dir", out, *resume])
    with open(os.path.join(out, "eval.json")) as f:
        return {**json.load(f), "run_dir": out}


def savefig(fig, name):
    """Write the figure as a PNG under FIGURES; in a notebook, also show that PNG inline. (The figure is then
    closed, which keeps memory flat; the inline backend alone would show only figures still open.)"""
    path = os.path.join(FIGURES, name)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    show_png(name)
    print(f"wrote {os.path.relpath(path)}")  # (returns nothing: a notebook would echo a returned path)


def show_png(name):
    """In a notebook, show the PNG FIGURES/NAME inline: one the step drew, or one a project tool (lab/sweep.py)
    wrote there and named in its own output. A script shows nothing; the PNG is on disk."""
    if "ipykernel" in sys.modules:  # show the PNG itself: the notebook holds exactly that image
        from IPython.display import Image, display

        display(Image(filename=os.path.join(FIGURES, name)))
