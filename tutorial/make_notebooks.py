"""Build the tutorial's notebooks from its step scripts (the scripts stay the source of truth).

    python make_notebooks.py             # step*.py -> step*.ipynb beside them, code and text only
    python make_notebooks.py --execute   # also run each notebook and store its outputs (figures, printed numbers)
    python make_notebooks.py --execute step1 step4   # only these steps' notebooks are rewritten

A step script is in the percent format: a line `# %%` starts a code cell, `# %% [markdown]` a text cell whose
lines start with `# `. Each notebook gets one cell more, first: the setup cell, which does nothing where the
project is already present and, in a fresh hosted notebook, fetches the project and installs its requirements.
tests/test_tutorial.py fails when a notebook's cells differ from its script's.

--execute needs nbclient and ipykernel (`pip install nbclient ipykernel`): development tools for building the
notebooks, not requirements of the project. It runs in the normal mode unless TUTORIAL_FAST=1 is set; runs are
reused from runs/tutorial/ as when the scripts are run.
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = '''# Setup: does nothing when this notebook sits in the project's tutorial/ folder. In a fresh hosted notebook
# (one opened from the repository page), put the repository's git address below and run the cell: it clones
# the project and installs its requirements (torch, numpy, matplotlib, pytest).
import os, subprocess, sys
PROJECT_URL = ""  # e.g. the https address you would `git clone`
if not os.path.exists("_setup.py"):
    if not os.path.exists("project/tutorial/_setup.py"):
        if not PROJECT_URL:
            raise RuntimeError("this notebook needs the project's files: set PROJECT_URL and run this cell again")
        subprocess.run(["git", "clone", "--depth", "1", PROJECT_URL, "project"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", "project/requirements.txt"], check=True)
    os.chdir("project/tutorial")
    sys.path.insert(0, os.getcwd())'''


def cells_of(script):
    """The script's cells, in order: a list of (kind, text), kind "code" or "markdown"."""
    cells, kind, lines = [], None, []
    for line in open(script).read().splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                cells.append((kind, "\n".join(lines).strip("\n")))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind is not None:
            lines.append(line)
    if kind is not None:
        cells.append((kind, "\n".join(lines).strip("\n")))
    return cells


def notebook(cells):
    def cell(kind, text, **extra):
        source = text.splitlines(keepends=True)
        if kind == "markdown":
            return {"cell_type": "markdown", "metadata": extra, "source": source}
        return {"cell_type": "code", "execution_count": None, "metadata": extra, "outputs": [], "source": source}

    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}},
            "cells": [cell("code", SETUP, tags=["setup"])] + [cell(kind, text) for kind, text in cells]}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    only = [a for a in argv if not a.startswith("--")]
    for script in sorted(glob.glob(os.path.join(HERE, "step*.py"))):
        if only and not any(os.path.basename(script).startswith(name) for name in only):
            continue
        nb = notebook(cells_of(script))
        for i, c in enumerate(nb["cells"]):
            c["id"] = f"cell-{i}"
        path = script[:-3] + ".ipynb"
        if "--execute" in argv:
            import nbclient  # development tool: pip install nbclient ipykernel
            import nbformat

            nb = nbformat.reads(json.dumps(nb), as_version=4)
            nbclient.NotebookClient(nb, timeout=None, kernel_name="python3",
                                    resources={"metadata": {"path": HERE}}).execute()
            nbformat.write(nb, path)
        else:
            with open(path, "w") as f:
                json.dump(nb, f, indent=1, ensure_ascii=False)
                f.write("\n")
        print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
