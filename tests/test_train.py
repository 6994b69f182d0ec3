"""Executable specification of train.py: the optimiser setting (AdamW, two parameter groups, element-wise clipping) and the run plumbing."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import train
from lab import runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--dataset", "shapes3d", "--resolution", "32", "--steps", "6", "--batch-size", "8", "--log-every", "2",
        "--ckpt-every", "3", "--eval-size", "300"]


def qlae():
    torch.manual_seed(0)
    return train.build_model("qlae", (3, 32, 32), 4, "cpu")


def test_parameter_groups_follow_the_paper():
    m = qlae()
    groups = {g["name"]: {id(p) for p in g["params"]} for g in train.param_groups(m, 0.1)}
    names = {id(p): n for n, p in m.named_parameters()}
    decayed = {names[i] for i in groups["decayed"]}
    plain = {names[i] for i in groups["not_decayed"]}
    assert "decoder.const" in decayed  # the decoder's learned constant input
    assert "encoder.convs.1.weight" in decayed  # an InstanceNorm scale
    assert "encoder.convs.0.weight" in decayed and "encoder.head.weight" in decayed
    assert "encoder.convs.1.bias" in plain  # an InstanceNorm shift
    assert "encoder.head.bias" in plain and "quantizer.values" in plain
    assert decayed | plain == set(names.values()) and not decayed & plain


def test_weight_decay_shrinks_decayed_weights_and_leaves_biases_and_codebook_untouched():
    m = qlae()
    opt = torch.optim.AdamW(train.param_groups(m, 0.1), lr=1e-2)
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    for p in m.parameters():
        p.grad = torch.zeros_like(p)  # no loss gradient: only decay acts
    opt.step()
    for n, p in m.named_parameters():
        if n.endswith("bias") or n.startswith("quantizer."):
            assert torch.equal(p, before[n]), n
        else:
            assert torch.allclose(p, before[n] * (1 - 1e-2 * 0.1)), n


def test_clipping_is_element_wise_and_on_the_decayed_group_only():
    m = qlae()
    opt = torch.optim.AdamW(train.param_groups(m, 0.1), lr=1e-3)
    for p in m.parameters():
        p.grad = torch.linspace(-5, 5, p.numel()).view_as(p).clone()
    train.clip_decayed_gradients(opt)
    for n, p in m.named_parameters():
        raw = torch.linspace(-5, 5, p.numel()).view_as(p)
        if n.endswith("bias") or n.startswith("quantizer."):
            assert torch.equal(p.grad, raw), n  # untouched
        else:
            assert torch.equal(p.grad, raw.clamp(-1, 1)), n  # each element clamped, not rescaled as a whole


def run(tmp_path, name, *flags):
    out = str(tmp_path / name)
    result = train.main([*TINY, "--out-dir", out, *flags])
    return out, result


def test_train_runs_end_to_end_and_writes_its_run_folder(tmp_path):
    out, result = run(tmp_path, "qlae")
    for f in ("config.json", "metrics.jsonl", "ckpt.pt", "eval.json", "reconstructions.png", "traversals.png",
              "nmi.png"):
        assert os.path.getsize(os.path.join(out, f)) > 0, f
    ckpt = torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)
    assert set(ckpt) >= {"model", "optimizers", "args", "step", "metrics"} and ckpt["step"] == 6
    assert json.load(open(os.path.join(out, "config.json")))["weight_decay"] == 0.1
    lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    assert [l["step"] for l in lines] == [2, 4, 6]
    for key in ("psnr", "infom", "infoe", "infoc", "codebook_usage"):
        assert key in result and result[key] == result[key]  # present and not NaN


def test_two_runs_with_one_seed_give_identical_losses(tmp_path):
    a, _ = run(tmp_path, "a", "--seed", "3")
    b, _ = run(tmp_path, "b", "--seed", "3")
    strip = lambda out: [{k: v for k, v in json.loads(l).items() if k not in ("img_per_s", "data_share")}
                         for l in open(os.path.join(out, "metrics.jsonl"))]
    assert strip(a) == strip(b)


@pytest.mark.parametrize("model", ["qlae", "ae"])
def test_interrupted_and_resumed_run_ends_with_the_same_parameters(tmp_path, model):
    full, _ = run(tmp_path, "full", "--model", model)
    part = str(tmp_path / "part")
    train.main([*TINY, "--out-dir", part, "--model", model, "--steps", "3"])  # "interrupted" after step 3
    train.main([*TINY, "--out-dir", part, "--model", model, "--resume"])  # --steps 6 again
    a = torch.load(os.path.join(full, "ckpt.pt"), weights_only=False)
    b = torch.load(os.path.join(part, "ckpt.pt"), weights_only=False)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert [json.loads(l)["step"] for l in open(os.path.join(part, "metrics.jsonl"))] == [2, 3, 4, 6]


def test_a_crash_while_saving_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = str(tmp_path / "ckpt.pt")
    runs.atomic_save({"step": 1}, path)

    def broken_save(obj, f):  # (f: the temp file, opened; lab/files.write_atomically)
        (f if hasattr(f, "write") else open(f, "wb")).write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        runs.atomic_save({"step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path)["step"] == 1


def test_an_existing_run_is_not_overwritten_without_resume(tmp_path):
    run(tmp_path, "x")
    with pytest.raises(SystemExit, match="already holds a checkpoint"):
        run(tmp_path, "x")


def test_resume_with_different_flags_is_refused(tmp_path):
    run(tmp_path, "x")
    with pytest.raises(SystemExit, match="differ from the checkpoint"):
        run(tmp_path, "x", "--resume", "--weight-decay", "0")


@pytest.mark.parametrize("flags, message", [
    (["--steps", "0"], "--steps must be >= 1"),
    (["--lr", "-1"], "--lr must be a positive number"),
    (["--weight-decay", "-0.5"], "--weight-decay must be >= 0"),
    (["--resolution", "24"], "multiple of 16"),
    (["--model", "gan"], "--model must be one of"),
    (["--values-per-latent", "1"], "--values-per-latent must be >= 2"),
    (["--preset", "huge"], "--preset must be one of"),
    (["--no-such-flag"], "unrecognized arguments"),
])
def test_bad_flags_get_a_clear_error(flags, message, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(flags)
    assert message in capsys.readouterr().err


def test_paper_preset_sets_the_papers_scale_and_flags_still_override():
    a = train.parse_args(["--preset", "paper", "--out-dir", "x"])
    assert (a.net, a.resolution, a.batch_size, a.steps, a.weight_decay) == ("paper", 64, 128, 200_000, 0.1)
    assert train.parse_args(["--preset", "paper", "--steps", "10", "--out-dir", "x"]).steps == 10


def test_help_documents_every_flag():
    text = subprocess.run([sys.executable, "train.py", "--help"], cwd=ROOT, capture_output=True, text=True).stdout
    for f in train.dataclasses.fields(train.Args):
        assert "--" + f.name.replace("_", "-") in text


@pytest.mark.slow
def test_command_line_qlae_learns_the_vector_benchmark(tmp_path):
    """End to end through the command line, as a user runs it: QLAE reconstructs the tiny data from codes that
    determine every source (InfoE near 1). (Modularity is not asserted: on 120 points of a random mixing map it is
    a property of the benchmark as much as of the model; see results/README.md for the image benchmark.)"""
    cmd = [sys.executable, "train.py", "--dataset", "vector", "--steps", "3000", "--batch-size", "128",
           "--log-every", "1000", "--out-dir", str(tmp_path / "v")]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.load(open(tmp_path / "v" / "eval.json"))
    assert result["psnr"] > 30 and result["infoe"] > 0.95 and result["codebook_usage"] > 0.5, result


def test_speed_options_do_not_change_the_method(tmp_path):
    """channels-last only changes the memory layout: the same seed gives the same losses (to float round-off);
    bf16 autocast runs and stays finite. (torch.compile is timed by tests/bench_train.py, not tested here: it compiles
    for tens of seconds on a CPU.)"""
    losses = {}
    for name, flags in (("plain", []), ("nhwc", ["--channels-last"]), ("bf16", ["--bf16"])):
        out, _ = run(tmp_path, name, *flags)
        losses[name] = [json.loads(l)["loss"] for l in open(os.path.join(out, "metrics.jsonl"))]
    # Same losses up to round-off, which Adam's first, sign-like steps amplify step by step: ~1e-6 relative at
    # the first logged interval, ~2e-4 by step 6. A change to the method would differ at the first step already.
    assert losses["plain"][0] == pytest.approx(losses["nhwc"][0], rel=1e-5)
    assert losses["plain"] == pytest.approx(losses["nhwc"], rel=1e-3)
    assert all(math.isfinite(v) for v in losses["bf16"])


def test_compile_is_refused_for_the_gans_with_a_reason(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--model", "infogan", "--compile"])
    assert "double backward" in capsys.readouterr().err


@pytest.mark.slow
def test_the_prepared_gpu_session_runs_at_tiny_size_on_the_cpu(tmp_path):
    """lab/gpu_session.sh is what a lent GPU (minutes, rarely) is spent on, so it is rehearsed here at a tiny size:
    tests/gpu_check.py's table, then both weight-decay arms stopped by the clock mid-run, and the archives that
    come back (the runs' small files; the latents of the last curve point all runs reached)."""
    import tarfile

    out = tmp_path / "out"  # named relative to the caller's folder, as a user may
    env = {**os.environ, "TINY": "1", "SECONDS_WD": "25"}
    done = subprocess.run(["bash", os.path.join(ROOT, "lab", "gpu_session.sh"), "out"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    check = (out / "gpu_check.log").read_text()
    assert "| cpu qlae -: images/s (data share) |" in check and "| projected 200k steps at batch 8 |" in check
    last = int((out / "points.txt").read_text().split("every run reached: ")[1])
    assert last > 0  # every run reached a curve point before the clock stopped them
    with tarfile.open(out / "gpu-wd.tgz") as t:
        names = t.getnames()
    for run in ("qlae-s0", "qlae-s1", "qlae-nowd-s0", "qlae-nowd-s1"):
        assert f"gpu-wd/{run}/curves.jsonl" in names and f"gpu-wd/{run}/config.json" in names
    assert not any(n.endswith("ckpt.pt") for n in names)
    with tarfile.open(out / "gpu-wd-latents.tgz") as t:
        assert f"gpu-wd/qlae-nowd-s1/curve/latents-{last:07d}.npz" in t.getnames()


def test_the_speed_benchmark_leaves_out_an_option_that_fails_and_times_the_rest(monkeypatch, capsys):
    """On a GPU machine torch.compile can fail (no working C compiler, say): the benchmark names the failed option
    and times the others, so the one-shot GPU session does not lose its table to one option."""
    monkeypatch.syspath_prepend(os.path.join(ROOT, "tests"))
    import bench_train

    model_loss = train.model_loss

    def failing_when_compiled(run_args, *a, **k):
        if run_args.compile:
            raise RuntimeError("no C compiler")
        return model_loss(run_args, *a, **k)

    monkeypatch.setattr(train, "model_loss", failing_when_compiled)
    args = train.parse_args(["--net", "cpu", "--resolution", "32", "--batch-size", "4", "--out-dir", "-"])
    rows = bench_train.benchmark(args, ["cpu"], steps=1, repeats=1, compile=True)
    assert {r["options"] for r in rows} == {"-", "channels_last"}  # ae, qlae, qlae channels_last; compile left out
    assert "cpu compile: failed (RuntimeError: 'no C compiler'); left out" in capsys.readouterr().out


@pytest.mark.parametrize("model", ["qlae", "ae"])
def test_learning_curve_evaluations_leave_training_bit_identical(tmp_path, model):
    """--eval-every evaluates mid-run on the evaluation set; the trained weights must be exactly those of a run
    without it (evaluation uses no random stream of training's)."""
    plain, _ = run(tmp_path, "plain", "--model", model)
    curved, result = run(tmp_path, "curved", "--model", model, "--eval-every", "2")
    a = torch.load(os.path.join(plain, "ckpt.pt"), weights_only=False)["model"]
    b = torch.load(os.path.join(curved, "ckpt.pt"), weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = [json.loads(l) for l in open(os.path.join(curved, "curves.jsonl"))]
    assert [r["step"] for r in rows] == [2, 4, 6]
    assert rows[-1]["infom"] == result["infom"]  # the last point is the final evaluation
    for r in rows:
        assert {"infom", "infoe", "infoc", "psnr", "decayed_norm"} <= set(r)
        assert {"infom", "infoe", "infoc"} <= set(r["training_flavour"])
    assert ("codebook_range" in rows[0]) == (model == "qlae")
    assert os.path.getsize(os.path.join(curved, "curves.png")) > 0
    assert sorted(os.listdir(os.path.join(curved, "curve"))) == ["latents-0000002.npz", "latents-0000004.npz"]


def test_eval_json_holds_both_flavours_and_the_latents_to_rescore_them(tmp_path):
    out, result = run(tmp_path, "qlae")
    saved = json.load(open(os.path.join(out, "eval.json")))
    assert {"infom", "infoe", "infoc", "training_flavour"} <= set(saved)
    with np.load(os.path.join(out, "eval_latents.npz")) as f:
        sources, codes, values = f["sources"], f["latents"], f["values"]
    assert codes.dtype.kind == "i" and values.dtype == np.float32 and len(sources) == len(codes) == result["n_eval"]
    rescored, _ = runs.score_latents(sources, codes, values, discrete=True)
    assert rescored["infom"] == pytest.approx(saved["infom"], abs=1e-9)
    assert rescored["training_flavour"]["infoe"] == pytest.approx(saved["training_flavour"]["infoe"], abs=1e-6)
