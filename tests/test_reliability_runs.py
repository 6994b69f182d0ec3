"""Hostile run folders, switched data and files that are not what their name says (issue 28): nothing the project
writes follows a link planted in a folder it was given, a resume refuses other data by name, no reader waits
forever on a FIFO, and --plot's path problems are one line, not a traceback."""
import json
import os
import shutil
import sys
import threading

import numpy as np
import pytest
import torch

import train
from lab import figures, infomec_tools, real_data, runs, sweep

TINY = ["--dataset", "shapes3d", "--resolution", "32", "--steps", "6", "--batch-size", "8", "--log-every", "2",
        "--ckpt-every", "3", "--eval-size", "300", "--eval-every", "3"]
PRECIOUS = b"a file outside the run folder, not to be touched"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished tiny QLAE run with a learning curve: every file a run folder holds."""
    out = str(tmp_path_factory.mktemp("finished") / "qlae-s0")
    train.main([*TINY, "--out-dir", out])
    return out


def copy_run(finished, where):
    shutil.copytree(finished, where, symlinks=True)
    return str(where)


def plant(link, victim, content=PRECIOUS):
    """A link at `link` to a file (or folder) outside, which must stay as it is."""
    os.makedirs(os.path.dirname(victim), exist_ok=True)
    if content is not None:
        with open(victim, "wb") as f:
            f.write(content)
    os.symlink(victim, link)


def snapshot_of(path):
    """Bytes of a file, or {name: bytes} of a folder: to show that nothing outside was written."""
    if os.path.isdir(path):
        return {n: snapshot_of(os.path.join(path, n)) for n in sorted(os.listdir(path))}
    with open(path, "rb") as f:
        return f.read()


# ----------------------------------------------------------------------------------------------------------
# A crafted folder writes outside itself: every write refuses a planted link, temp files get fresh names.
@pytest.mark.parametrize("name", [".lock", "metrics.jsonl", "curves.jsonl", "config.json", "eval.json", "ckpt.pt",
                                  "eval_latents.npz", "nmi.png", "curve"])
def test_a_run_folder_holding_a_link_is_refused_by_name_and_nothing_outside_changes(finished, tmp_path, name):
    out = copy_run(finished, tmp_path / "run")
    victim = str(tmp_path / "outside" / name)
    os.makedirs(os.path.dirname(victim))
    if name == ".lock":  # (an empty file in a real run: give it bytes to lose)
        with open(os.path.join(out, name), "wb") as f:
            f.write(PRECIOUS)
    shutil.move(os.path.join(out, name), victim)  # the link points to a real file of a run
    os.symlink(victim, os.path.join(out, name))
    before = snapshot_of(victim)
    with pytest.raises(SystemExit, match=f"{name} is a symbolic link"):
        train.main([*TINY, "--out-dir", out, "--resume", "--steps", "9"])
    assert snapshot_of(victim) == before


def test_a_user_s_own_symlinked_run_folder_is_allowed(finished, tmp_path):
    """The folder named on the command line may be a link (a run kept on another disk); links inside are refused."""
    real = copy_run(finished, tmp_path / "disk2" / "run")
    os.symlink(real, tmp_path / "run")
    result = train.main([*TINY, "--out-dir", str(tmp_path / "run"), "--resume", "--steps", "9"])
    assert result["steps"] == 9 and json.load(open(os.path.join(real, "eval.json")))["steps"] == 9


def linked_writers(tmp_path):
    z = np.zeros((20, 2), np.int16)
    result = {"nmi": np.zeros((2, 2)), "active": np.ones(2, bool), "infom": 0.0, "infoe": 0.0, "infoc": 0.0}
    return {"write_json": lambda p: runs.write_json({"a": 1}, p),
            "append_jsonl": lambda p: runs.append_jsonl({"step": 1}, p),
            "save_latents": lambda p: runs.save_latents(p, z, z, None),
            "atomic_save": lambda p: runs.atomic_save({"step": 1}, p),
            "plot_nmi": lambda p: infomec_tools.plot_nmi(result, p),
            "plot_curves": lambda p: figures.plot_curves([[[{"step": 1, "infom": 0.5}]]], p, ["x"])}


@pytest.mark.parametrize("writer", ["write_json", "append_jsonl", "save_latents", "atomic_save", "plot_nmi",
                                    "plot_curves"])
def test_no_writer_writes_through_a_link_at_its_path(tmp_path, writer):
    link, victim = str(tmp_path / "run" / "file"), str(tmp_path / "outside" / "victim")
    os.makedirs(tmp_path / "run")
    plant(link, victim)
    with pytest.raises(SystemExit, match=f"{link} is a symbolic link"):
        linked_writers(tmp_path)[writer](link)
    assert snapshot_of(victim) == PRECIOUS and os.path.islink(link)


@pytest.mark.parametrize("writer, temp", [("write_json", "{path}.{pid}.tmp"), ("atomic_save", "{path}.{pid}.tmp"),
                                          ("save_latents", "{path}.tmp")])
def test_temp_files_have_fresh_names_so_a_planted_temp_link_is_never_followed(tmp_path, writer, temp):
    """The temp file's name is new and created exclusively: a link at any name it could have is never written."""
    path, victim = str(tmp_path / "run" / "file"), str(tmp_path / "outside" / "victim")
    os.makedirs(tmp_path / "run")
    plant(temp.format(path=path, pid=os.getpid()), victim)
    linked_writers(tmp_path)[writer](path)
    assert snapshot_of(victim) == PRECIOUS and os.path.isfile(path) and not os.path.islink(path)


def test_sweep_rescore_writes_through_no_temp_link_and_skips_a_linked_eval_json(finished, tmp_path, capsys):
    root = tmp_path / "root"
    a, b = copy_run(finished, root / "qlae-s0"), copy_run(finished, root / "qlae-s1")
    plant(os.path.join(a, "curves.jsonl.tmp"), str(tmp_path / "outside" / "a"))  # main's fixed temp name
    shutil.move(os.path.join(b, "eval.json"), tmp_path / "outside" / "b")
    os.symlink(tmp_path / "outside" / "b", os.path.join(b, "eval.json"))
    before = snapshot_of(str(tmp_path / "outside"))
    sweep.rescore(str(root))
    assert snapshot_of(str(tmp_path / "outside")) == before
    assert f"{b}/eval.json is a symbolic link" in capsys.readouterr().err
    assert not any(n.endswith(".tmp") for n in os.listdir(a) if not os.path.islink(os.path.join(a, n)))


def test_sweep_snapshot_writes_through_no_temp_link_and_refuses_a_linked_folder(finished, tmp_path, capsys):
    root, into = tmp_path / "root", tmp_path / "into"
    copy_run(finished, root / "qlae-s0")
    os.makedirs(into / "qlae-s0")
    plant(str(into / "qlae-s0" / "eval_latents.npz.tmp"), str(tmp_path / "outside" / "a"))  # main's temp name
    sweep.main(["snapshot", str(root), "--step", "3", "--into", str(into)])
    assert snapshot_of(str(tmp_path / "outside")) == {"a": PRECIOUS}
    assert json.load(open(into / "qlae-s0" / "eval.json"))["steps"] == 3
    shutil.rmtree(into)
    os.makedirs(into)
    os.makedirs(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", into / "qlae-s0")  # a planted folder link inside --into
    with pytest.raises(SystemExit, match="qlae-s0 is a symbolic link"):
        sweep.main(["snapshot", str(root), "--step", "3", "--into", str(into)])
    assert os.listdir(tmp_path / "elsewhere") == []


def test_sweep_run_appends_to_no_linked_train_log(tmp_path, capsys):
    folder = tmp_path / "root" / "qlae-s0"
    os.makedirs(folder)
    plant(str(folder / "train.log"), str(tmp_path / "outside" / "log"))
    flags = ["--steps", "2", "--batch-size", "8", "--eval-size", "300", "--resolution", "32"]
    assert sweep.run_all(sweep.commands([0], str(tmp_path / "root"), flags, ["qlae"]), 1) == [str(folder)]
    assert snapshot_of(str(tmp_path / "outside" / "log")) == PRECIOUS
    assert "train.log is a symbolic link" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------------------
# Resume switches the data under a run: a fingerprint of the data is kept, and a resume on other data refused.
def own_npz(path, seed):
    images = np.random.default_rng(seed).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    np.savez(path, images=images, factors=np.stack(np.unravel_index(np.arange(24), (4, 6)), 1))


NPZ_FLAGS = ["--steps", "3", "--batch-size", "8", "--log-every", "1", "--ckpt-every", "1", "--eval-size", "16"]


def test_resume_refuses_an_npz_replaced_at_the_same_path_naming_both(tmp_path):
    path, out = str(tmp_path / "mine.npz"), str(tmp_path / "run")
    own_npz(path, 0)
    train.main(["--dataset", f"npz:{path}", *NPZ_FLAGS, "--out-dir", out])
    saved = open(path, "rb").read()
    own_npz(path, 1)  # other images, same path, same size
    with pytest.raises(SystemExit, match=f"other data.*saved .*{path}.*given .*{path}"):
        train.main(["--dataset", f"npz:{path}", *NPZ_FLAGS, "--out-dir", out, "--resume", "--steps", "5"])
    with open(path, "wb") as f:
        f.write(saved)  # the original data back: the resume goes on
    assert train.main(["--dataset", f"npz:{path}", *NPZ_FLAGS, "--out-dir", out, "--resume", "--steps", "5"])


def tiny_dsprites(folder, monkeypatch):
    """A dsprites file of the release's layout, 48 images (load_real's `sizes` makes it tiny)."""
    sizes = (3, 2, 2, 2, 2)
    n = int(np.prod(sizes))
    os.makedirs(folder, exist_ok=True)
    grid = np.stack(np.unravel_index(np.arange(n), sizes), 1)
    np.savez_compressed(os.path.join(folder, real_data.REAL["dsprites"][0]),
                        imgs=np.random.default_rng(0).integers(0, 2, (n, 64, 64), dtype=np.uint8),
                        latents_classes=np.concatenate([np.zeros((n, 1), int), grid], 1))
    load_real = real_data.load_real
    monkeypatch.setattr(real_data, "load_real", lambda name, data_dir: load_real(name, data_dir, sizes))


DSPRITES = ["--dataset", "dsprites", "--steps", "2", "--batch-size", "8", "--log-every", "1", "--ckpt-every", "1",
            "--eval-size", "16", "--net", "cpu"]


def test_resume_refuses_a_procedural_run_switched_to_a_data_dir(tmp_path, monkeypatch):
    out = str(tmp_path / "run")
    train.main([*DSPRITES, "--out-dir", out])  # the procedural dsprites analogue
    tiny_dsprites(str(tmp_path / "data"), monkeypatch)
    with pytest.raises(SystemExit, match=r"other data.*saved procedural dsprites.*given .*data"):
        train.main([*DSPRITES, "--out-dir", out, "--resume", "--steps", "4", "--data-dir", str(tmp_path / "data")])
    assert json.load(open(os.path.join(out, "config.json")))["data_dir"] == ""


def test_resume_accepts_the_same_data_moved_to_another_folder(tmp_path, monkeypatch):
    tiny_dsprites(str(tmp_path / "data"), monkeypatch)
    out = str(tmp_path / "run")
    train.main([*DSPRITES, "--out-dir", out, "--data-dir", str(tmp_path / "data")])
    shutil.move(tmp_path / "data", tmp_path / "moved")
    moved = ["--resume", "--steps", "4", "--data-dir", str(tmp_path / "moved")]
    result = train.main([*DSPRITES, "--out-dir", out, *moved])
    assert result["steps"] == 4


def test_an_old_checkpoint_without_a_fingerprint_resumes_with_a_note(finished, tmp_path, capsys):
    out = copy_run(finished, tmp_path / "run")
    ckpt = torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)
    ckpt["args"].pop("data_fingerprint", None)  # as checkpoints written before fingerprints were kept
    torch.save(ckpt, os.path.join(out, "ckpt.pt"))
    capsys.readouterr()
    assert train.main([*TINY, "--out-dir", out, "--resume", "--steps", "9"])["steps"] == 9
    assert "note: the checkpoint records no fingerprint of its data" in capsys.readouterr().out
    assert torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)["args"]["data_fingerprint"]


# ----------------------------------------------------------------------------------------------------------
# Files that are not what their name says, and output paths.
def returns_promptly(call, fifo, seconds=20):
    """call() in a thread; if it still waits after `seconds` (a reader blocked on the FIFO), release it by opening
    the FIFO's other end, so the test fails instead of hanging the run."""
    box = {}

    def target():
        try:
            box["value"] = call()
        except BaseException as e:  # SystemExit too
            box["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    hung = thread.is_alive()
    if hung:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
    assert not hung, f"waited on the FIFO {fifo}"
    return box


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("reader", ["read_latents_file", "read_json", "read_jsonl", "load_checkpoint"])
def test_a_fifo_named_like_a_data_file_is_refused_not_waited_on(tmp_path, reader, capsys):
    fifo = str(tmp_path / "x.npz")
    os.mkfifo(fifo)
    call = {"read_latents_file": infomec_tools.read_latents_file, "read_json": sweep.read_json,
            "read_jsonl": runs.read_jsonl, "load_checkpoint": runs.load_checkpoint}[reader]
    box = returns_promptly(lambda: call(fifo), fifo)
    said = str(box.get("error", "")) + capsys.readouterr().err
    assert "not a regular file" in said and box.get("value") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_planted_in_a_run_folder_is_refused_before_any_work(finished, tmp_path):
    out = copy_run(finished, tmp_path / "run")
    os.remove(os.path.join(out, "metrics.jsonl"))
    os.mkfifo(os.path.join(out, "metrics.jsonl"))
    box = returns_promptly(lambda: train.main([*TINY, "--out-dir", out, "--resume", "--steps", "9"]),
                           os.path.join(out, "metrics.jsonl"))
    assert "metrics.jsonl is not a regular file" in str(box.get("error"))


def test_sweep_figure_paths_that_cannot_be_written_are_one_line_before_the_work(finished, tmp_path):
    copy_run(finished, tmp_path / "root" / "qlae-s0")
    for out, message in ((tmp_path / "nmi.xyz", "--out .*unknown figure format"), (tmp_path, "--out .*is a folder")):
        with pytest.raises(SystemExit, match=message):
            sweep.main(["heatmaps", str(tmp_path / "root"), "--runs", "qlae-s0", "--out", str(out)])
    sweep.main(["heatmaps", str(tmp_path / "root"), "--runs", "qlae-s0", "--out", str(tmp_path / "new" / "h.png")])
    assert os.path.exists(tmp_path / "new" / "h.png")


def cli(monkeypatch, *argv):
    monkeypatch.setattr(sys, "argv", ["infomec_tools", *argv])
    return infomec_tools.main()


@pytest.fixture
def latents_file(tmp_path):
    s, z, _ = infomec_tools.synthetic("codes_identity", n=400)
    np.savez(tmp_path / "z.npz", sources=s, latents=z)
    return str(tmp_path / "z.npz")


def test_plot_into_a_missing_folder_creates_it(latents_file, tmp_path, monkeypatch):
    cli(monkeypatch, latents_file, "--discrete", "--plot", str(tmp_path / "new" / "deeper" / "nmi.png"))
    assert open(tmp_path / "new" / "deeper" / "nmi.png", "rb").read(4) == b"\x89PNG"


@pytest.mark.parametrize("plot, message", [("nmi.xyz", "unknown figure format '.xyz'"),
                                           ("nmi", "has no extension"),
                                           ("", "is a folder")])
def test_a_plot_path_that_cannot_be_written_is_one_line_before_scoring(latents_file, tmp_path, monkeypatch, plot,
                                                                        message):
    scored = []
    monkeypatch.setattr(infomec_tools, "infomec", lambda *a, **k: scored.append(1))
    with pytest.raises(SystemExit, match=message):
        cli(monkeypatch, latents_file, "--discrete", "--plot", str(tmp_path / plot) if plot else str(tmp_path))
    assert not scored


def test_a_small_evaluation_set_is_scored_with_a_warning_kept_in_eval_json(capsys):
    """--eval-size 2 on a large dataset (or any evaluation set under 1 000 samples): InfoMEC is still computed, but
    the warning is printed and kept beside the scores, where a reader of eval.json meets it."""
    import numpy as np

    from lab import runs
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, (40, 2))
    result = {}
    runs.score_into(result, s, s.copy(), None, True, 1 / 20)
    assert "infom" in result and "scored on 40 samples" in result["infomec_warning"]
    assert "InfoMEC scored on 40 samples" in capsys.readouterr().err
    big = rng.integers(0, 3, (1000, 2))
    result = {}
    runs.score_into(result, big, big.copy(), None, True, 1 / 20)
    assert "infomec_warning" not in result
