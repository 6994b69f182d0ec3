"""Careless users, hostile files and faults: nothing a user loads runs code, a crash loses no finished work, stale
results never reach a table, and every refusal says what to fix."""
import json
import os

import pytest
import torch

import train
from lab import runs, sweep

TINY = ["--dataset", "shapes3d", "--resolution", "32", "--steps", "6", "--batch-size", "8", "--log-every", "2",
        "--ckpt-every", "3", "--eval-size", "300"]


def run(tmp_path, name, *flags):
    out = str(tmp_path / name)
    return out, train.main([*TINY, "--out-dir", out, *flags])


class Payload:
    """Unpickling this creates a file: if the marker appears, loading ran code from the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def plant_malicious_checkpoint(folder, marker):
    os.makedirs(folder, exist_ok=True)
    torch.save({"model": Payload(marker), "optimizers": {}, "args": {}, "step": 1, "data_rng": None,
                "torch_rng": None}, os.path.join(folder, "ckpt.pt"))


def test_a_malicious_checkpoint_runs_no_code_anywhere_it_is_loaded(tmp_path):
    marker = str(tmp_path / "pwned")
    folder = str(tmp_path / "qlae-s0")
    plant_malicious_checkpoint(folder, marker)
    with pytest.raises(SystemExit, match="not a readable checkpoint"):
        train.main([*TINY, "--out-dir", folder, "--resume"])
    with pytest.raises(SystemExit, match="not a readable checkpoint"):
        sweep.load_run(folder)
    with open(os.path.join(folder, "eval.json"), "w") as f, open(os.path.join(folder, "config.json"), "w") as g:
        json.dump({"steps": 6}, f), json.dump({"model": "qlae"}, g)
    sweep.rescore(str(tmp_path))  # reports the file and goes on
    assert not os.path.exists(marker)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04truncated"])
def test_a_corrupt_or_empty_checkpoint_is_named_with_what_to_do(tmp_path, content):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "ckpt.pt").write_bytes(content)
    with pytest.raises(SystemExit, match=r"ckpt.pt is not a readable checkpoint .*delete it"):
        train.main([*TINY, "--out-dir", str(folder), "--resume"])


def test_a_foreign_checkpoint_is_refused_by_name(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    torch.save({"weights": torch.zeros(3)}, str(folder / "ckpt.pt"))
    with pytest.raises(SystemExit, match="not a checkpoint of this project"):
        train.main([*TINY, "--out-dir", str(folder), "--resume"])


def test_a_torn_last_metrics_line_does_not_block_resume(tmp_path):
    out, _ = run(tmp_path, "x", "--steps", "3")
    with open(os.path.join(out, "metrics.jsonl"), "a") as f:
        f.write('{"step": 4, "lo')  # the disk filled up in the middle of an append
    train.main([*TINY, "--out-dir", out, "--resume"])
    assert [json.loads(l)["step"] for l in open(os.path.join(out, "metrics.jsonl"))] == [2, 3, 4, 6]


def test_non_finite_weights_are_never_checkpointed_and_a_smaller_lr_resumes(tmp_path, monkeypatch):
    out, _ = run(tmp_path, "x", "--steps", "3")  # a good checkpoint at step 3
    good = torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)
    real_update = train.update

    def diverging(optimizer, loss, clip):  # the update of step 6 (loss still finite) leaves NaN weights
        real_update(optimizer, loss, clip)
        if optimizer.state_dict()["state"][0]["step"] == 6:
            with torch.no_grad():
                next(p for g in optimizer.param_groups for p in g["params"]).fill_(float("nan"))

    monkeypatch.setattr(train, "update", diverging)
    with pytest.raises(SystemExit, match=r"NaN or inf by step 6.*--resume --lr"):
        train.main([*TINY, "--out-dir", out, "--resume"])
    kept = torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)
    assert kept["step"] == 3 and all(torch.equal(good["model"][k], kept["model"][k]) for k in good["model"])
    monkeypatch.setattr(train, "update", real_update)
    train.main([*TINY, "--out-dir", out, "--resume", "--lr", "3e-4"])  # the advice works
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["lr"] == 3e-4 and config["lr_changes"] == [[3, 3e-4]]
    saved = torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)
    assert saved["optimizers"]["model"]["param_groups"][0]["lr"] == 3e-4


def test_a_resumed_runs_training_time_counts_every_sitting(tmp_path):
    out, _ = run(tmp_path, "x", "--steps", "3")
    first = torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)["train_seconds"]
    assert first > 0
    _, result = run(tmp_path, "x", "--resume")
    resumed = torch.load(os.path.join(out, "ckpt.pt"), weights_only=True)["train_seconds"]
    assert first < resumed <= result["train_seconds"]


def test_a_finished_run_cannot_be_shortened_on_resume(tmp_path):
    out, _ = run(tmp_path, "x")
    before = open(os.path.join(out, "eval.json")).read()
    with pytest.raises(SystemExit, match="at step 6, beyond --steps 3; a run cannot be shortened"):
        train.main([*TINY, "--out-dir", out, "--resume", "--steps", "3"])
    assert open(os.path.join(out, "eval.json")).read() == before
    assert json.load(open(os.path.join(out, "config.json")))["steps"] == 6


def test_extending_a_finished_run_removes_its_stale_result_first(tmp_path, monkeypatch):
    out, _ = run(tmp_path, "x")

    def killed(*a, **k):
        raise KeyboardInterrupt  # the extension dies before it is evaluated

    monkeypatch.setattr(train, "evaluate", killed)
    with pytest.raises(KeyboardInterrupt):
        train.main([*TINY, "--out-dir", out, "--resume", "--steps", "9"])
    assert not os.path.exists(os.path.join(out, "eval.json"))  # no old result beside the newer checkpoint


def test_two_processes_cannot_train_into_one_folder_and_a_crash_leaves_no_lock(tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    with runs.run_folder_lock(str(out)):  # another trainer holds the folder
        with pytest.raises(SystemExit, match="another process is training in"):
            train.main([*TINY, "--out-dir", str(out)])
    with pytest.raises(RuntimeError):
        with runs.run_folder_lock(str(out)):
            raise RuntimeError("a crash while training")
    train.main([*TINY, "--out-dir", str(out)])  # nothing stuck


def test_sweep_refuses_a_folder_of_other_flags_instead_of_tabling_it(tmp_path, capsys):
    folder = tmp_path / "qlae-s0"
    folder.mkdir()
    config = runs.config_of(train.parse_args(["--model", "qlae", "--steps", "20", "--out-dir", str(folder)]))
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "eval.json").write_text(json.dumps({"steps": 20, "infom": 0.5}))
    commands = sweep.commands([0], str(tmp_path), ["--steps", "10"], ["qlae"])
    assert sweep.run_all(commands, 1) == [str(folder)]
    out = capsys.readouterr().out
    assert "REFUSED" in out and "'steps': (20, 10)" in out and "done already" not in out


def test_an_empty_or_broken_run_file_reaches_no_row_and_hides_no_good_run(tmp_path, capsys):
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.json").write_text(json.dumps(runs.config_of(train.parse_args(["--model", "ae", "--out-dir", "g"]))))
    (good / "eval.json").write_text(json.dumps({"infom": 0.4, "infoe": 0.8, "infoc": 0.2, "psnr": 30.0}))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    (empty / "eval.json").write_text(json.dumps({"infom": 0.9}))
    torn = tmp_path / "torn"
    torn.mkdir()
    (torn / "config.json").write_text(json.dumps({"model": "qlae"}))
    (torn / "eval.json").write_text('{"infom": 0.')
    text = sweep.tables(sweep.load_runs(str(tmp_path)), ("standalone",))
    assert "| AE | 1 | 0.40 |" in text and "| QLAE | 0 |" in text and "runs in no row" in text
    assert "torn/eval.json: unreadable" in capsys.readouterr().err


def test_a_full_disk_during_a_save_says_so_and_keeps_the_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / "ckpt.pt")
    runs.atomic_save({"step": 1}, path)

    def full(obj, f):
        raise RuntimeError("[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file "
                           "data/0: file write failed; unexpected pos 88576 vs 88528")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(SystemExit, match="the disk is full"):
        runs.atomic_save({"step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temp file left behind


def test_a_full_disk_during_the_evaluation_keeps_the_trained_weights_and_resume_evaluates(tmp_path, monkeypatch):
    import errno
    import numpy as np
    real = np.savez_compressed

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    with pytest.raises(SystemExit, match="No space left on device.*weights are safe in .*ckpt.pt.*--resume"):
        run(tmp_path, "x")
    monkeypatch.setattr(np, "savez_compressed", real)
    out, result = run(tmp_path, "x", "--resume")  # no training left: it evaluates the saved weights
    assert result["steps"] == 6 and os.path.exists(os.path.join(out, "eval.json"))


@pytest.mark.parametrize("flags, message", [
    (["--batch-size", "10000000"], "--batch-size must be at most"),
    (["--resolution", "4096"], "multiple of 16 from 32 to 1024"),
    (["--n-latents", "100000"], "--n-latents must be at most"),
    (["--values-per-latent", "100000"], "--values-per-latent must be at most"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--seed", str(2 ** 63)], "--seed must be at most 9,223,372,036,854,775,807"),
    (["--steps", "1" + "0" * 400], "--steps must be at most 1,000,000,000"),
    (["--gp-weight", "nan"], "--gp-weight must be >= 0"),
    (["--beta", "inf", "--model", "vae"], "--beta must be >= 0 (or -1 for the paper's)"),
    (["--critic-steps", "0", "--model", "infogan"], "--critic-steps must be >= 1"),
    (["--eval-size", "3"], "--eval-size must be >= 16"),
    (["--dataset", "dsprites", "--resolution", "32"], "cannot apply: dsprites is 64 px"),
    (["--dataset", "vector", "--resolution", "64"], "--resolution applies to image datasets"),
    (["--model", "ae", "--global-codebook"], "--global-codebook applies to --model qlae or qlinfogan"),
    (["--model", "qlae", "--beta", "4"], "--beta applies to --model vae"),
    (["--eval-every", "-5"], "--eval-every must be >= 0"),
])
def test_impossible_or_ignored_flags_are_refused_before_any_work(flags, message, capsys):
    with pytest.raises(SystemExit):
        train.parse_args([*flags, "--out-dir", "x"])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--seeds", "0", "-1"], ["--jobs", "0"]])
def test_sweep_refuses_impossible_seeds_or_jobs_before_starting_runs(flags, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["run", "unused", *flags])
    assert "--seeds must be >= 0 and --jobs >= 1" in capsys.readouterr().err


def test_a_run_folder_that_cannot_be_a_folder_is_one_line_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(SystemExit):
        train.parse_args(["--out-dir", str(blocker)])
    assert "is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="cannot create the run folder .* choose an --out-dir you can write to"):
        train.main([*TINY, "--out-dir", str(blocker / "run")])  # a folder inside a file


def test_sweep_reports_run_folders_it_cannot_write_and_stops_cleanly(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(SystemExit, match="2 runs failed"):
        sweep.main(["run", str(blocker), "--only", "qlae", "--seeds", "0", "1", "--", "--steps", "2"])
    assert capsys.readouterr().out.count("FAILED: cannot write the run folder") == 2


def test_a_default_run_folder_for_npz_data_is_named_by_the_files_name():
    out_dir = train.parse_args(["--dataset", "npz:/some/where/my_data.npz"]).out_dir
    assert os.path.dirname(out_dir) == "runs" and os.path.basename(out_dir).startswith("qlae-npz-my_data-s0-")


def test_a_dataset_smaller_than_the_figures_still_evaluates(tmp_path):
    """Fewer evaluation images than the reconstruction figure's 8 columns: the result is written, not lost."""
    import numpy as np
    path = str(tmp_path / "tiny.npz")
    rng = np.random.default_rng(0)
    factors = np.stack(np.meshgrid(np.arange(3), np.arange(2), indexing="ij"), -1).reshape(-1, 2)  # 6 images
    np.savez(path, images=rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8), factors=factors)
    out = str(tmp_path / "run")
    result = train.main(["--dataset", f"npz:{path}", "--steps", "2", "--batch-size", "4", "--out-dir", out,
                         "--eval-size", "16"])
    assert result["n_eval"] == 6 and os.path.exists(os.path.join(out, "eval.json"))


@pytest.mark.parametrize("kwargs, message", [({"k": 0}, "k .* must be a positive integer"),
                                             ({"active_fraction": 1.0}, "active_fraction must be in"),
                                             ({"active_fraction": 0}, "active_fraction must be in")])
def test_infomec_refuses_impossible_parameters(kwargs, message):
    import infomec
    from lab import infomec_tools
    s, z, _ = infomec_tools.synthetic("identity", n=200)
    with pytest.raises(ValueError, match=message):
        infomec.infomec(s, z, False, **kwargs)


def test_infomec_refuses_continuous_values_scored_as_codes_instead_of_allocating_them():
    import numpy as np
    import infomec
    s = np.random.default_rng(0).integers(0, 3, (20_000, 2))
    z = np.arange(20_000)[:, None] * np.ones((1, 3), int)  # 20 000 distinct "codes" per latent
    with pytest.raises(ValueError, match="continuous latents\\? pass discrete=False"):
        infomec.infomec(s, z, True)
    with pytest.raises(ValueError, match="fewer than 1000 values"):
        infomec.infomec(z[:, :2], z, False)


def write_unreadable_npz(path, content):
    """A file named .npz that is not one of plain arrays: `content` says how."""
    import zipfile
    import numpy as np
    if content == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros((3, 3)))
    elif content == "objects":  # would need pickle to load
        np.savez(path, sources=np.array([{"a": 1}], dtype=object), latents=np.zeros((1, 2)))
    elif content == "torn member":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("sources.npy", b"\x93NUMPY\x01\x00torn")
    elif content == "no latents":
        np.savez(path, sources=np.zeros((3, 2), int))
    else:
        open(path, "w").write("hello" if content == "text" else "")


UNREADABLE = ["npy", "text", "empty", "objects", "torn member", "no latents"]


@pytest.mark.parametrize("content", UNREADABLE)
def test_infomec_command_line_names_a_file_it_cannot_read(tmp_path, content):
    """One line that names the file and what was expected; never numpy's advice to load a file unsafely."""
    import subprocess
    import sys
    path = str(tmp_path / "f.npz")
    write_unreadable_npz(path, content)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, "-m", "lab.infomec_tools", path], cwd=root, capture_output=True, text=True)
    assert p.returncode != 0 and "Traceback" not in p.stderr and "unsafe" not in p.stderr
    assert f"error: {path}" in p.stderr and "sources" in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content", ["text", "objects", "no latents"])
def test_sweep_names_a_run_whose_kept_latents_it_cannot_read(tmp_path, content, capsys):
    """rescore reports the run and goes on (its eval.json untouched); heatmaps stops with one line."""
    folder = tmp_path / "qlae-s0"
    folder.mkdir()
    config = runs.config_of(train.parse_args(["--model", "qlae", "--out-dir", str(folder)]))
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "eval.json").write_text(json.dumps({"infom": 0.5, "steps": 6000}))
    write_unreadable_npz(str(folder / "eval_latents.npz"), content)
    sweep.rescore(str(tmp_path))
    err = capsys.readouterr().err
    assert f"skipped {folder}" in err and "eval_latents.npz" in err and "unsafe" not in err
    assert json.loads((folder / "eval.json").read_text()) == {"infom": 0.5, "steps": 6000}
    with pytest.raises(SystemExit, match="eval_latents.npz .*expected `sources` .N x n_s."):
        sweep.heatmaps(str(tmp_path), ["qlae-s0"], str(tmp_path / "x.png"))
