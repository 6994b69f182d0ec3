"""Executable specification of the baselines and ablations (lab/baselines.py: beta-VAE, beta-TCVAE, BioAE, VQ-VAE)
and of lab/sweep.py."""
import glob
import json
import math
import os
import shutil

import numpy as np
import pytest
import torch

import data
import train
from lab import baselines, runs, sweep
from lab.baselines import VectorQuantizer
from quantizer import commitment_loss, quantization_loss


def test_gaussian_kl_matches_torch_distributions():
    mu, sigma = torch.randn(5, 3), torch.rand(5, 3) + 0.1
    expected = torch.distributions.kl_divergence(torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0, 1))
    assert torch.allclose(baselines.gaussian_kl(mu, sigma), expected, atol=1e-6)


def test_tc_terms_match_a_brute_force_minibatch_weighted_sampling_estimate():
    torch.manual_seed(0)
    m, n_z, big_n = 4, 3, 100
    mu, sigma = torch.randn(m, n_z, dtype=torch.float64), torch.rand(m, n_z, dtype=torch.float64) + 0.5
    z = mu + sigma * torch.randn(m, n_z, dtype=torch.float64)
    normal = lambda a, b, c: torch.distributions.Normal(b, c).log_prob(a)
    mi = tc = dw = 0.0
    for i in range(m):  # the estimator of Chen et al. (2018), eq. (S6), written out with loops
        log_q_given_x = sum(normal(z[i, k], mu[i, k], sigma[i, k]) for k in range(n_z))
        log_qz = math.log(sum(math.exp(sum(normal(z[i, k], mu[j, k], sigma[j, k]) for k in range(n_z)))
                              for j in range(m))) - math.log(big_n * m)
        log_prod = sum(math.log(sum(math.exp(normal(z[i, k], mu[j, k], sigma[j, k])) for j in range(m)))
                       - math.log(big_n * m) for k in range(n_z))
        log_p = sum(normal(z[i, k], torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
                    for k in range(n_z))
        mi, tc, dw = mi + (log_q_given_x - log_qz) / m, tc + (log_qz - log_prod) / m, dw + (log_prod - log_p) / m
    got = baselines.tc_terms(z, mu, sigma, big_n)
    assert [g.item() for g in got] == pytest.approx([float(mi), float(tc), float(dw)], rel=1e-9)


def test_tc_decomposition_sums_to_the_sampled_kl():
    """MI + TC + dimension-wise KL = E[log q(z|x) - log p(z)], whatever log q(z) is estimated to be."""
    torch.manual_seed(1)
    mu, sigma = torch.randn(16, 4, dtype=torch.float64), torch.rand(16, 4, dtype=torch.float64) + 0.2
    z = mu + sigma * torch.randn_like(mu)
    total = sum(baselines.tc_terms(z, mu, sigma, 1000))
    expected = (baselines.log_normal(z, mu, sigma) - baselines.log_normal(z, 0 * z, 0 * z + 1)).sum(1).mean()
    assert total.item() == pytest.approx(expected.item(), rel=1e-10)


def test_vae_loss_is_reconstruction_plus_beta_kl_over_pixels():
    torch.manual_seed(2)
    m = train.build_model("vae", (16,), 3)
    x = torch.rand(8, 16)
    torch.manual_seed(5)
    loss, logs = baselines.vae_loss(m, x, beta=3.0)
    mu, sigma = m.gaussian(x)
    kl = baselines.gaussian_kl(mu, sigma).sum(1).mean() / 16
    assert logs["kl"] == pytest.approx(kl.item(), rel=1e-6)
    assert loss.item() == pytest.approx(logs["recon"] + 3.0 * logs["kl"], rel=1e-6)


def test_vae_is_evaluated_on_the_mean():
    torch.manual_seed(3)
    m = train.build_model("vae", (16,), 3)
    x = torch.rand(4, 16)
    assert torch.equal(m.codes(x), m.gaussian(x)[0]) and torch.equal(m.codes(x), m.codes(x))


def test_bioae_loss_penalises_negative_and_large_activity():
    torch.manual_seed(4)
    m = train.build_model("bioae", (16,), 3)
    x = torch.rand(8, 16)
    loss, logs = baselines.bioae_loss(m, x, activity_weight=0.01)
    z = m.encoder(x)
    assert logs["neg"] == pytest.approx(torch.relu(-z).mean().item(), rel=1e-6)
    assert loss.item() == pytest.approx(logs["recon"] + logs["neg"] + 0.01 * z.pow(2).mean().item(), rel=1e-5)


def test_vector_quantizer_snaps_each_slot_to_the_nearest_shared_code():
    torch.manual_seed(5)
    vq = VectorQuantizer(n_latents=3, n_codes=20, code_dim=4)
    z = torch.randn(6, 3, 4)
    z_q, idx = vq(z)
    brute = torch.stack([torch.stack([((vq.values - z[b, j]) ** 2).sum(1).argmin() for j in range(3)])
                         for b in range(6)])
    assert torch.equal(idx, brute) and torch.equal(z_q, vq.values[idx])
    assert vq.values.abs().max() <= math.sqrt(3 / 4)  # uniform +-sqrt(3 / code_dim) init


def test_vector_quantizer_losses_route_like_the_scalar_ones():
    vq = VectorQuantizer(2, 8, 4)
    z = torch.randn(5, 2, 4, requires_grad=True)
    z_q, _ = vq(z)
    quantization_loss(z, z_q).backward()
    assert z.grad is None and torch.count_nonzero(vq.values.grad) > 0
    vq.values.grad = None
    commitment_loss(z, z_q).backward()
    assert vq.values.grad is None and torch.count_nonzero(z.grad) > 0


@pytest.mark.parametrize("name", [m for m in train.MODELS if m not in train.GANS])  # GANs: tests/test_gan.py
def test_every_model_trains_a_few_steps_on_images_and_its_loss_falls(name):
    """40 steps of the real optimiser on one batch. The reconstruction falls for every model; the total loss too,
    except VQ-VAE's, whose codebook term (weight 1) swings while the 512 codes are first assigned."""
    torch.manual_seed(6)
    ds = data.Shapes3D(32)
    m = train.build_model(name, ds.image_shape, 12, "cpu")
    args = train.parse_args(["--model", name, "--out-dir", "x"])  # the paper's weight decay and loss weights
    opt = torch.optim.AdamW(train.param_groups(m, args.weight_decay), lr=1e-3)
    x, _ = ds.sample(16, torch.Generator().manual_seed(0))
    losses, recons = [], []
    for _ in range(40):
        loss, logs = train.model_loss(args, m, x, dataset_size=len(ds))
        losses.append(loss.item())
        recons.append(logs["recon"])
        opt.zero_grad()
        loss.backward()
        train.clip_decayed_gradients(opt)
        opt.step()
    assert sum(recons[-5:]) / 5 < 0.8 * recons[0], recons
    if name != "vqvae":
        assert sum(losses[-5:]) / 5 < 0.9 * losses[0], losses
    codes = m.codes(x)
    assert codes.shape == (16, 12) and (codes.dtype == torch.long) == (name in ("qlae", "vqvae"))


@pytest.mark.parametrize("name", ["vae", "tcvae", "bioae", "vqvae"])
def test_every_baseline_runs_end_to_end_through_train(tmp_path, name):
    out = str(tmp_path / name)
    result = train.main(["--model", name, "--steps", "3", "--batch-size", "8", "--log-every", "1",
                         "--eval-size", "300", "--out-dir", out])
    assert all(result[k] == result[k] for k in ("psnr", "infom", "infoe", "infoc"))
    assert os.path.exists(os.path.join(out, "reconstructions.png"))


def test_paper_hyperparameters_are_the_defaults_and_flags_override_them():
    a = train.parse_args(["--model", "tcvae", "--out-dir", "x"])
    assert (a.beta, a.beta_tc, a.activity_weight, a.weight_decay) == (3.0, 3.0, 0.01, 0.0)
    assert train.parse_args(["--model", "bioae", "--out-dir", "x"]).weight_decay == 1e-4
    assert train.parse_args(["--model", "vqvae", "--out-dir", "x"]).weight_decay == 0.01
    assert train.parse_args(["--model", "vae", "--beta", "10", "--out-dir", "x"]).beta == 10


def test_confidence_interval_arithmetic_on_hand_made_numbers():
    mean, hw = sweep.mean_ci([1.0, 2.0, 3.0])  # std 1, t_{0.975}(2) = 4.303
    assert mean == 2.0 and hw == pytest.approx(4.303 / math.sqrt(3))
    mean, hw = sweep.mean_ci([0.5, 0.7])  # std 0.1414, t(1) = 12.706
    assert hw == pytest.approx(12.706 * math.sqrt(0.02) / math.sqrt(2))
    assert math.isnan(sweep.mean_ci([4.0])[1])


def full_config(model, **changes):
    """A config.json as train.py writes it (every resolved flag), with some fields changed."""
    return {**runs.config_of(train.parse_args(["--model", model, "--out-dir", "x"])), **changes}


def test_table_groups_run_folders_by_their_flags(tmp_path):
    for i, (model, wd, infom) in enumerate([("qlae", 0.1, 0.8), ("qlae", 0.1, 0.9), ("qlae", 0.1, 1.0),
                                            ("qlae", 0.0, 0.5), ("ae", 0.0, 0.4)]):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        # seeds 0, 1, 2 for the three QLAE runs: a row holds each seed once (a seed twice is refused, see below)
        (folder / "config.json").write_text(json.dumps(full_config(model, weight_decay=wd, seed=i % 3)))
        (folder / "eval.json").write_text(json.dumps({"infom": infom, "infoe": 0.5, "infoc": 0.3, "psnr": 30.0}))
    text = sweep.table(sweep.ABLATION, sweep.load_runs(str(tmp_path)), "t")
    assert f"| QLAE | 3 | 0.90 ± {4.303 * 0.1 / math.sqrt(3):.2f} |" in text
    assert "| QLAE w/o weight decay | 1 | 0.50 |" in text
    assert "| QLAE w/ global codebook | 0 |" in text
    for name, config in (("gan", full_config("qlinfogan", weight_decay=0.0)),
                         ("odd", full_config("qlae", weight_decay=1.0, out_dir="odd")),  # no such row
                         ("long", full_config("ae", steps=9000))):  # a different length
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        (folder / "eval.json").write_text(json.dumps({"infom": 0.7, "infoe": 0.5, "infoc": 0.3, "psnr": 20.0}))
    text = sweep.tables(sweep.load_runs(str(tmp_path)))
    assert "| QLInfoWGAN-GP w/o weight decay | 1 | 0.70 |" in text and "| QLInfoWGAN-GP | 0 |" in text
    assert "| QLAE | 3 |" in text and "runs in no row" in text and "odd" in text  # weight decay 1.0: reported
    assert "note: the AE row mixes runs of different settings" in text


def test_table_rows_hold_one_setting_and_each_seed_once(tmp_path, capsys):
    """A backup copy of a run inside the root (root/old/ae-s0) is not counted again: the AE line is refused and
    both folders are named. Runs that differ in a flag defining the run (data_dir, n_latents, values_per_latent,
    eval_size) are never averaged: each setting gets its own line, named by what differs. Flags that do not
    change what a run computes (device, log_every, out_dir) do not split a row."""
    def put(path, model, infom, **changes):
        folder = tmp_path / path
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(full_config(model, out_dir=str(path), **changes)))
        (folder / "eval.json").write_text(json.dumps({"infom": infom, "infoe": 0.5, "infoc": 0.3, "psnr": 30.0}))
    put("ae-s0", "ae", 0.4, seed=0)
    put("ae-s1", "ae", 0.5, seed=1)
    put("old/ae-s0", "ae", 0.4, seed=0)  # the backup copy
    put("vae-s0", "vae", 0.3, seed=0, log_every=10, device="cpu")
    put("vae-s1", "vae", 0.5, seed=1, log_every=250, device="cuda")  # same setting: one line, n = 2
    put("qlae-s0", "qlae", 0.8, seed=0)
    put("qlae-s1", "qlae", 0.6, seed=1, n_latents=24)
    put("tcvae-s0", "tcvae", 0.2, seed=0, eval_size=300)
    put("tcvae-s1", "tcvae", 0.4, seed=1)
    put("bioae-s0", "bioae", 0.1, seed=0, data_dir="/data/shapes3d")
    put("bioae-s1", "bioae", 0.3, seed=1)
    put("qlae-global-s0", "qlae", 0.7, seed=0, global_codebook=True, values_per_latent=5)
    put("qlae-global-s1", "qlae", 0.9, seed=1, global_codebook=True)
    text = sweep.tables(sweep.load_runs(str(tmp_path)), ("standalone",))
    assert "| AE | refused |" in text and "| AE | 3 |" not in text
    assert f"seed 0 2 times ({tmp_path / 'ae-s0'}, {tmp_path / 'old' / 'ae-s0'})" in text
    assert "| β-VAE | 2 | 0.40 ±" in text
    assert "| QLAE (n_latents 0) | 1 | 0.80 |" in text and "| QLAE (n_latents 24) | 1 | 0.60 |" in text
    assert "| β-TCVAE (eval_size 300) | 1 | 0.20 |" in text and "| β-TCVAE (eval_size 10000) | 1 | 0.40 |" in text
    assert '| BioAE (data_dir "") | 1 | 0.30 |' in text and '| BioAE (data_dir "/data/shapes3d") | 1 | 0.10 |' in text
    assert "| QLAE w/ global codebook (values_per_latent 5) | 1 | 0.70 |" in text
    assert "| QLAE w/ global codebook (values_per_latent 10) | 1 | 0.90 |" in text
    assert "note: the QLAE row mixes runs of different settings (they differ in n_latents)" in text
    with pytest.raises(SystemExit, match="1 table lines refused.*AE: seed 0 in"):
        sweep.main(["table", str(tmp_path)])
    assert "| AE | refused |" in capsys.readouterr().out


def test_strongest_prints_each_sources_largest_nmi_per_configuration(tmp_path, capsys):
    """`sweep.py strongest ROOT`: per source, the largest NMI any one latent has, per configuration of the tables
    and over every run, with the run that reaches it, in the flavour asked for (the figure results/README.md's
    salience sentence rests on)."""
    nmi = {"ae-s0": [[0.1, 0.2], [0.3, 0.0]] + [[0.0, 0.0]] * 4, "ae-s1": [[0.5, 0.1], [0.0, 0.2]] + [[0.0, 0.0]] * 4,
           "qlae-s0": [[0.05, 0.0], [0.0, 0.7]] + [[0.0, 0.1]] * 4}
    for name, matrix in nmi.items():
        (tmp_path / name).mkdir()
        config = full_config(name.split("-")[0], seed=int(name[-1]))
        (tmp_path / name / "config.json").write_text(json.dumps(config))
        training = [[v / 2 for v in row] for row in matrix]  # another flavour, other values
        (tmp_path / name / "eval.json").write_text(json.dumps({"nmi": matrix, "training_flavour": {"nmi": training}}))
    sweep.main(["strongest", str(tmp_path), "--flavour", "standalone"])
    out = capsys.readouterr().out
    assert "| configuration | floor_hue | wall_hue | object_hue | scale | shape | orientation |" in out
    assert "| AE | 0.500 ae-s1 | 0.300 ae-s0 | 0.000 " in out
    assert "| QLAE | 0.050 qlae-s0 | 0.700 qlae-s0 | 0.100 qlae-s0 |" in out
    assert "| any run | 0.500 ae-s1 | 0.700 qlae-s0 | 0.100 qlae-s0 |" in out
    sweep.main(["strongest", str(tmp_path)])  # both flavours, the training-time one first
    out = capsys.readouterr().out
    assert out.index("(training InfoMEC)") < out.index("(standalone InfoMEC)")
    assert "| any run | 0.250 ae-s1 | 0.350 qlae-s0 | 0.050 qlae-s0 |" in out


def test_sweep_prints_one_command_per_run(capsys):
    sweep.main(["print", "out", "--seeds", "0", "1", "--", "--steps", "5"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 * 12  # 5 main + 5 ablation + 3 GAN rows, "QLAE" in two: 12 distinct settings per seed
    assert all(l.startswith("python train.py --model") and l.endswith("--steps 5") for l in lines)


def test_rescore_evaluates_a_finished_run_again_and_keeps_its_training_record(tmp_path, capsys):
    out = str(tmp_path / "qlae-s0")
    first = train.main(["--model", "qlae", "--steps", "3", "--batch-size", "8", "--log-every", "1",
                        "--eval-size", "300", "--out-dir", out])
    path = os.path.join(out, "eval.json")
    with open(path) as f:
        stale = {**json.load(f), "infom": -1.0, "train_seconds": 123.0}  # as if scored by an older InfoMEC
    runs.write_json(stale, path)
    sweep.main(["rescore", str(tmp_path)])
    with open(path) as f:
        again = json.load(f)
    assert again["infom"] == pytest.approx(first["infom"], abs=1e-9)  # same checkpoint, same (deterministic) score
    assert again["train_seconds"] == 123.0 and again["steps"] == 3
    assert "InfoM -1.000 ->" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        sweep.main(["rescore", str(tmp_path / "nothing")])


def test_rescore_needs_only_the_saved_latents_and_tables_show_both_flavours(tmp_path, capsys):
    """What the repository keeps of a published run (config.json, eval.json, eval_latents.npz) is enough to score
    it again in either flavour: no checkpoint, no model."""
    out = str(tmp_path / "qlae-s0")
    first = train.main(["--model", "qlae", "--steps", "3", "--batch-size", "8", "--log-every", "1",
                        "--eval-size", "300", "--out-dir", out])
    os.remove(os.path.join(out, "ckpt.pt"))
    path = os.path.join(out, "eval.json")
    with open(path) as f:
        stale = json.load(f)
    stale.pop("training_flavour")
    runs.write_json({**stale, "infom": -1.0}, path)
    sweep.main(["rescore", str(tmp_path)])
    with open(path) as f:
        again = json.load(f)
    assert again["infom"] == pytest.approx(first["infom"], abs=1e-9)
    assert again["training_flavour"]["infoe"] == pytest.approx(first["training_flavour"]["infoe"], abs=1e-9)
    text = capsys.readouterr().out
    assert "(standalone InfoMEC)" in text and "(training InfoMEC)" in text
    sweep.main(["table", str(tmp_path), "--flavour", "training"])
    text = capsys.readouterr().out
    assert f"| QLAE | 1 | {first['training_flavour']['infom']:.2f} |" in text and "standalone" not in text
    # the README's heatmap figures are drawn from the same files: one panel per run folder
    sweep.main(["heatmaps", str(tmp_path), "--runs", "qlae-s0", "qlae-s0", "--out", str(tmp_path / "nmi.png")])
    assert os.path.getsize(tmp_path / "nmi.png") > 0
    assert f"qlae-s0: InfoM {first['infom']:.3f}" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="eval_latents.npz"):
        sweep.main(["heatmaps", str(tmp_path), "--runs", "nothing-s0"])


def test_rescore_scores_the_learning_curve_again_from_each_points_latents(tmp_path, capsys):
    """A curve logged by an older InfoMEC is scored again point by point from the latents kept for it (curve/, or
    beside eval.json as the repository keeps them, or eval_latents.npz for the last step); a point whose latents
    are gone keeps its old score and is marked, and the other fields (PSNR, weight norms) are untouched."""
    out = str(tmp_path / "qlae-s0")
    train.main(["--model", "qlae", "--steps", "6", "--batch-size", "8", "--log-every", "1", "--eval-size", "300",
                "--eval-every", "2", "--out-dir", out])
    path = os.path.join(out, "curves.jsonl")
    fresh = runs.read_jsonl(path)
    stale = [{**r, "infom": -1.0, "infoe": -1.0, "training_flavour": {**r["training_flavour"], "infoe": -1.0}}
             for r in fresh]
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in stale)
    os.replace(os.path.join(out, "curve", "latents-0000004.npz"), os.path.join(out, "latents-0000004.npz"))
    os.remove(os.path.join(out, "curve", "latents-0000002.npz"))
    sweep.main(["rescore", str(tmp_path)])
    again = runs.read_jsonl(path)
    assert [r["step"] for r in again] == [2, 4, 6]
    assert again[0]["infom"] == -1.0 and again[0]["rescored"] is False  # its latents are gone
    for new, old in zip(again[1:], fresh[1:]):
        assert new["rescored"] is True
        assert new["infom"] == pytest.approx(old["infom"], abs=1e-9)
        assert new["training_flavour"]["infoe"] == pytest.approx(old["training_flavour"]["infoe"], abs=1e-9)
        assert new["psnr"] == old["psnr"] and new["decayed_norm"] == old["decayed_norm"]
    assert "learning curve: 2 points rescored, 1 without latents kept as they were" in capsys.readouterr().out


def test_a_longer_runs_curve_point_is_the_shorter_run_and_snapshot_makes_it_one(tmp_path, capsys):
    """Step 2 of a 4-step run with curves is exactly a 2-step run (same latents, bit for bit: training does not
    depend on --steps), and `sweep.py snapshot` turns that point into a finished 2-step run folder that the tables
    read like the real one; a folder holding a trained run is never overwritten."""
    flags = ["--model", "qlae", "--batch-size", "8", "--log-every", "1", "--eval-size", "300"]
    train.main([*flags, "--steps", "4", "--eval-every", "2", "--out-dir", str(tmp_path / "long" / "qlae-s0")])
    short = train.main([*flags, "--steps", "2", "--out-dir", str(tmp_path / "short" / "qlae-s0")])
    sweep.main(["snapshot", str(tmp_path / "long"), "--step", "2", "--into", str(tmp_path / "snap")])
    with np.load(tmp_path / "short" / "qlae-s0" / "eval_latents.npz") as a, \
            np.load(tmp_path / "snap" / "qlae-s0" / "eval_latents.npz") as b:
        assert all(np.array_equal(a[k], b[k]) for k in ("sources", "latents", "values"))
    made = json.load(open(tmp_path / "snap" / "qlae-s0" / "eval.json"))
    assert made["infom"] == pytest.approx(short["infom"], abs=1e-12) and made["steps"] == 2
    assert made["psnr"] == pytest.approx(short["psnr"], abs=1e-6)
    config = json.load(open(tmp_path / "snap" / "qlae-s0" / "config.json"))
    assert config["steps"] == 2 and config["snapshot_of"] == "qlae-s0 at step 2"
    capsys.readouterr()
    sweep.main(["table", str(tmp_path / "snap"), "--flavour", "standalone"])
    assert f"| QLAE | 1 | {short['infom']:.2f} |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="hold trained runs"):
        sweep.main(["snapshot", str(tmp_path / "long"), "--step", "2", "--into", str(tmp_path / "short")])
    assert json.load(open(tmp_path / "short" / "qlae-s0" / "config.json"))["steps"] == 2
    assert "snapshot_of" not in json.load(open(tmp_path / "short" / "qlae-s0" / "config.json"))
    with pytest.raises(SystemExit, match="kept its latents at step 3"):
        sweep.main(["snapshot", str(tmp_path / "long"), "--step", "3", "--into", str(tmp_path / "x")])
    # Only the seeds asked for (default 0 1 2, the CPU tables' seeds): a seed-5 copy is left out unless named.
    shutil.copytree(tmp_path / "long" / "qlae-s0", tmp_path / "long" / "qlae-s5")
    sweep.main(["snapshot", str(tmp_path / "long"), "--step", "2", "--into", str(tmp_path / "default")])
    assert sorted(os.listdir(tmp_path / "default")) == ["qlae-s0"]
    sweep.main(["snapshot", str(tmp_path / "long"), "--step", "2", "--into", str(tmp_path / "five"), "--seeds", "5"])
    assert sorted(os.listdir(tmp_path / "five")) == ["qlae-s5"]
    with pytest.raises(SystemExit, match="no run of seeds 7 under"):
        sweep.main(["snapshot", str(tmp_path / "long"), "--step", "2", "--into", str(tmp_path / "x"), "--seeds", "7"])


def test_population_std_interval_is_narrower_by_sqrt_of_n_minus_1_over_n():
    _, sample = sweep.mean_ci([1.0, 2.0, 3.0])
    _, population = sweep.mean_ci([1.0, 2.0, 3.0], population_std=True)
    assert population == pytest.approx(sample * math.sqrt(2 / 3))


def test_curves_draw_the_runs_and_tabulate_them_at_chosen_steps(tmp_path, capsys):
    """Two seeds of QLAE and one without weight decay, curves at steps 3 and 6: the figure is written, and the table
    gives mean ± 95% CI over seeds (t with 1 degree of freedom: 12.706 * std / sqrt 2), a bare mean for one seed."""
    values = {"qlae-s0": (0.5, 0.7), "qlae-s1": (0.7, 0.9), "qlae-nowd-s0": (0.4, 0.6)}
    for name, (at3, at6) in values.items():
        os.makedirs(tmp_path / name)
        with open(tmp_path / name / "curves.jsonl", "w") as f:
            for step, v in ((3, at3), (6, at6)):
                f.write(json.dumps({"step": step, "infom": v, "infoe": 1.0, "infoc": 0.5, "psnr": 30.0,
                                    "decayed_norm": 10.0, "codebook_range": 2.0}) + "\n")
    sweep.main(["curves", str(tmp_path), "--only", "qlae", "qlae-nowd", "--out", str(tmp_path / "c.png"),
                "--table-at", "6"])
    out = capsys.readouterr().out
    assert os.path.getsize(tmp_path / "c.png") > 0
    half = 12.706 * math.sqrt(2 * 0.1 ** 2) / math.sqrt(2)  # sample std of (0.7, 0.9) is 0.1 * sqrt 2
    assert f"| QLAE | 6 | 2 | 0.800 ± {half:.3f} |" in out
    assert "| QLAE w/o weight decay | 6 | 1 | 0.600 |" in out
    assert "| 3 |" not in out  # only the steps asked for
    assert "QLAE                     step      6: s0 0.700  s1 0.900" in out  # and each seed's value


def write_curve(folder, rows):
    os.makedirs(folder)
    with open(folder / "curves.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def test_paired_compares_the_arms_seed_by_seed_in_the_chosen_flavour(tmp_path, capsys):
    """The weight-decay study's headline test: at a step, the paired differences a - b over the seeds present in
    both arms, mean ± t(n-1) std / sqrt(n), the side of 0 the interval lies on, and how many pairs favour a. The
    training-time flavour is read from each row's "training_flavour" (its standalone InfoM is a decoy here); a seed
    with one arm only (s9) is left out; curves --flavour training tabulates the same values."""
    with_wd, without = {0: 0.80, 1: 0.82, 2: 0.84}, {0: 0.70, 1: 0.70, 2: 0.70}
    for name, values in (("qlae", with_wd), ("qlae-nowd", without)):
        for seed, v in values.items():  # InfoE: seed 0's pair differs by 0.0003, a tie at the 3 decimals printed
            infoe = 0.9003 if (name, seed) == ("qlae", 0) else 0.95 if (name, seed) == ("qlae", 1) else 0.9
            write_curve(tmp_path / f"{name}-s{seed}", [{"step": 30, "infom": 0.0, "psnr": 30.0 + seed,
                                                        "training_flavour": {"infom": v, "infoe": infoe}}])
    write_curve(tmp_path / "qlae-s9", [{"step": 30, "infom": 0.0, "training_flavour": {"infom": 0.1}}])
    sweep.main(["paired", str(tmp_path), "--only", "qlae", "qlae-nowd", "--table-at", "30"])
    out = capsys.readouterr().out
    d = np.array([0.10, 0.12, 0.14])
    half = 4.303 * d.std(ddof=1) / math.sqrt(3)
    assert f"| infom | 30 | 3 | 0 1 2 | +{d.mean():.3f} ± {half:.3f} | above 0 | 3/3 |" in out
    e = np.array([0.0003, 0.05, 0.0])
    assert f"| infoe | 30 | 3 | 0 1 2 | +{e.mean():.3f} ± {4.303 * e.std(ddof=1) / math.sqrt(3):.3f} | includes 0 | " \
        "1/3 (2 tied) |" in out
    assert "| psnr | 30 | 3 | 0 1 2 | +0.000 ± 0.000 | includes 0 | 0/3 (3 tied) |" in out
    sweep.main(["paired", str(tmp_path), "--only", "qlae", "qlae-nowd", "--table-at", "30", "--flavour", "standalone"])
    assert "| infom | 30 | 3 | 0 1 2 | +0.000 ± 0.000 | includes 0 | 0/3 (3 tied) |" in capsys.readouterr().out
    sweep.main(["curves", str(tmp_path), "--only", "qlae", "--out", str(tmp_path / "c.png"), "--table-at", "30",
                "--flavour", "training"])
    assert "QLAE                     step     30: s0 0.800  s1 0.820  s2 0.840  s9 0.100" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="paired needs --only A B"):
        sweep.main(["paired", str(tmp_path), "--only", "qlae"])
    with pytest.raises(SystemExit, match="no seed has curves.jsonl"):
        sweep.main(["paired", str(tmp_path), "--only", "qlae", "ae"])


# ----------------------------------------------------------------------------------------------------------
# The published numbers: every figure that comes from a run in results/README.md and results/wd-study/README.md is
# either a command's output, verbatim (tables, seed-by-seed lines, the study's curve tables), or a phrase of prose
# that the tests below rebuild from the kept artefacts (eval.json, curves.jsonl, eval_latents.npz), so that editing
# one digit of any of them fails a test. Nothing is refitted: the kept eval.json hold the rescored values.

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T, S = "training", "standalone"


def read_doc(*path):
    with open(os.path.join(REPO, *path)) as f:
        return f.read()


def spaced(number):
    """A step count as the documents write it: 12 000."""
    return f"{number:,}".replace(",", " ")


def flat(text):
    """Text with every run of whitespace (line breaks included) as one space: prose wraps anywhere."""
    return " ".join(text.split())


def kept_evals(study):
    root = os.path.join(REPO, "results", study)
    return {name: json.load(open(os.path.join(root, name, "eval.json"))) for name in sorted(os.listdir(root))
            if os.path.exists(os.path.join(root, name, "eval.json"))}


def metric(result, name, flavour):
    return sweep.flavour_of(result, flavour)[name]


class Sweep:
    """The CPU sweep's kept scores, per configuration (folder name less -sN) and seed, in both flavours."""

    def __init__(self):
        self.evals = kept_evals("cpu-sweep")

    def seeds(self, config, name, flavour=S):
        return [metric(self.evals[f"{config}-s{seed}"], name, flavour) for seed in range(3)]

    def mean(self, config, name, flavour=S):
        return sweep.mean_ci(self.seeds(config, name, flavour))[0]

    def cell(self, config, name, flavour=S):
        """As the tables print it: mean ± 95% half-width."""
        mean, half = sweep.mean_ci(self.seeds(config, name, flavour))
        digits = 1 if name == "psnr" else 2
        return f"{mean:.{digits}f} ± {half:.{digits}f}"


def check_phrases(doc, phrases):
    """Every phrase, rebuilt from the artefacts, is in the document word for word; returns the document's text with
    the phrases taken out (for the coverage check)."""
    text = flat(doc)
    missing = [p for p in phrases if flat(p) not in text]
    assert not missing, "\n".join(["published figures that the kept artefacts no longer give:"] + missing)
    for p in phrases:
        text = text.replace(flat(p), " ")
    return text


def check_coverage(text, allowed):
    """No decimal number is left in the text once the verified blocks and phrases are out, but the constants of the
    method and the recipe (not measured by a run) in `allowed`: a run figure added later without a check fails."""
    import re
    left = sorted(set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", text)) - set(allowed))
    assert not left, f"decimal numbers in the results documents that no test rebuilds: {left}"


def sections(doc, titles):
    """The named '## ' sections of a markdown document, joined."""
    parts = doc.split("\n## ")
    chosen = [p for p in parts if p.split("\n", 1)[0] in titles]
    assert len(chosen) == len(titles), [p.split("\n", 1)[0] for p in parts]
    return "\n## ".join(chosen)


def test_the_published_cpu_tables_are_what_sweep_prints_from_the_kept_artefacts():
    """Every table of the CPU sweep in results/README.md, in both flavours, is `python lab/sweep.py table
    results/cpu-sweep` verbatim (from the kept config.json and eval.json of all 36 runs), in the order it prints
    them (the training-time flavour first, the one to hold against the paper), and so is every line of
    `--per-seed`: no number there is typed by hand."""
    import re
    runs = sweep.load_runs(os.path.join(REPO, "results", "cpu-sweep"))
    assert len(runs) == 36
    printed = sweep.tables(runs)
    blocks = re.findall(r"\*\*[^*]+\*\* \((?:training|standalone) InfoMEC\)\n\n\| model \|.*?(?=\n\n|\Z)", printed,
                        re.S)
    assert len(blocks) == 6  # main, ablations, GANs x training-time, standalone
    assert blocks[0].startswith("**Main comparison** (training InfoMEC)")  # the paper's flavour first
    readme = read_doc("results", "README.md")
    where = [readme.find(block) for block in blocks]
    assert -1 not in where, [b.splitlines()[0] for b, w in zip(blocks, where) if w < 0]
    main_t, abl_t, gan_t, main_s, abl_s, gan_s = where
    assert main_t < abl_t < main_s < abl_s and gan_t < gan_s  # the README's order: training-time first
    by_seed = [line for line in sweep.tables(runs, per_seed=True).splitlines() if line.startswith("- ")]
    assert len(by_seed) == 26 and all("(seeds 0, 1, 2)" in line for line in by_seed)  # 13 rows x 2 flavours
    for line in by_seed:
        assert line in readme, line


def test_every_run_figure_in_results_readme_is_rebuilt_from_the_kept_artefacts(capsys):
    """The prose of results/README.md: each figure in it that a run produced is rebuilt here from the kept
    eval.json / eval_latents.npz or from a command's output (`sweep.py strongest`), and the sections about the
    runs hold no other decimal number. (Out of scope, and said so in the document: the timings of the speed
    sections, which are measurements of this machine with the command that measures them, and the authors'
    figures in brackets, pinned by tests/test_infomec.py.)"""
    runs, cpu = sweep.load_runs(os.path.join(REPO, "results", "cpu-sweep")), Sweep()
    readme = read_doc("results", "README.md")
    f2 = lambda values: ", ".join(f"{v:.2f}" for v in values)
    span = lambda values, digits=2: f"{min(values):.{digits}f}–{max(values):.{digits}f}"
    phrases = []

    # The default run (QLAE, seed 0) and its heatmap.
    q0, a0 = cpu.evals["qlae-s0"], cpu.evals["ae-s0"]
    n, m = np.array(q0["nmi"]), np.array(a0["nmi"])  # sources: floor, wall, object hue, scale, shape, orientation
    assert q0["codebook_usage"] == 1.0 and json.load(open(os.path.join(REPO, "results", "cpu-sweep", "qlae-s0",
                                                                       "config.json")))["values_per_latent"] == 10
    assert set(np.argsort(n[1])[-2:]) == {2, 8} and n[0].argmax() == 7 and m.max() == m[2, 8]
    phrases += [
        f"The trained QLAE reconstructs the scenes (PSNR {q0['psnr']:.1f} dB) and every latent uses all ten of its "
        "values.",
        f"wall hue sits in two latents of its own (z2 and z8, NMI {n[1, 2]:.2f} and {n[1, 8]:.2f}) and floor hue "
        f"mostly in one (z7, {n[0, 7]:.2f}), while object hue (z1 {n[2, 1]:.2f}, z4 {n[2, 4]:.2f}), "
        f"shape (z5 {n[4, 5]:.2f}) and orientation (z10 {n[5, 10]:.2f}) are only partly captured and scale not at "
        f"all (at most {n[3].max():.2f}).",
        f"(same `eval_latents.npz`: InfoM {q0['infom']:.4f}, InfoE {q0['infoe']:.4f}, InfoC {q0['infoc']:.4f})",
        f"the QLAE puts wall hue into z2 and z8 ({n[1, 2]:.2f}, {n[1, 8]:.2f}) and floor hue into z7 ({n[0, 7]:.2f}); "
        f"the AE's largest NMI is {m.max():.2f} (object hue in z8), and its floor hue is spread over z4, z5 and z7 "
        f"({m[0, 4]:.2f}, {m[0, 5]:.2f}, {m[0, 7]:.2f}).",
    ]

    # Modularity.
    others = [v for c in ("ae", "vae", "tcvae", "bioae") for v in cpu.seeds(c, "infom")]
    assert min(cpu.seeds("qlae", "infom")) > max(others)
    active = {f: [metric(cpu.evals[f"{c}-s{s}"], "n_active", f) for c in ("vae", "tcvae") for s in range(3)]
              for f in (T, S)}
    phrases += [
        f"Training-time InfoM: QLAE {cpu.cell('qlae', 'infom', T)}, β-TCVAE {cpu.cell('tcvae', 'infom', T)} (seed by "
        f"seed {f2(cpu.seeds('qlae', 'infom', T))} against {f2(cpu.seeds('tcvae', 'infom', T))}), β-VAE "
        f"{cpu.cell('vae', 'infom', T)}, BioAE {cpu.cell('bioae', 'infom', T)}, AE {cpu.cell('ae', 'infom', T)}.",
        f"its InfoM is the same ({cpu.cell('qlae', 'infom')}), every QLAE seed ({span(cpu.seeds('qlae', 'infom'))}) "
        f"is above every seed of every other model of the main table (at most {max(others):.2f}), and its interval "
        f"separates from the AE's ({cpu.cell('ae', 'infom')}) but, with three seeds, not from β-TCVAE's "
        f"({cpu.cell('tcvae', 'infom')}), BioAE's ({cpu.cell('bioae', 'infom')}) or β-VAE's "
        f"({cpu.cell('vae', 'infom')}).",
        f"leaving {min(active[T])}–{max(active[T])} active latents of 12 instead of "
        f"{min(active[S])}–{max(active[S])}",
    ]
    # Explicitness, reconstruction.
    wd, study = kept_evals("wd-study"), WdStudy()
    wd_seeds = study.seeds  # every seed the study holds
    wd_mean = lambda arm, name, flavour: np.mean([metric(wd[f"{arm}-s{s}"], name, flavour) for s in wd_seeds[arm]])
    assert cpu.cell("ae", "infoe", T) == cpu.cell("ae", "infoe", S) and f"{wd_mean('ae', 'infoe', T):.2f}" == \
        f"{wd_mean('ae', 'infoe', S):.2f}"
    gain = [s - t for s, t in zip(cpu.seeds("qlae", "infoe", S), cpu.seeds("qlae", "infoe", T))]
    assert f"{cpu.mean('vae', 'psnr'):.1f}" == f"{cpu.mean('tcvae', 'psnr'):.1f}"
    phrases += [
        f"QLAE's InfoE is {cpu.cell('qlae', 'infoe', T)}, below the AE's {cpu.cell('ae', 'infoe', T)} (the same in "
        f"both flavours: a continuous latent is read out linearly in both) and BioAE's "
        f"{cpu.cell('bioae', 'infoe', T)}; the VAEs' are {span([cpu.mean(c, 'infoe', T) for c in ('vae', 'tcvae')])}.",
        f"QLAE's rises to {cpu.cell('qlae', 'infoe', S)} ({span(gain)} higher seed by seed), level with the AE's.",
        f"QLAE reaches InfoE {wd_mean('qlae', 'infoe', T):.2f} training-time and {wd_mean('qlae', 'infoe', S):.2f} "
        f"standalone, against the AE's {wd_mean('ae', 'infoe', S):.2f} in both.",
        f"QLAE {cpu.mean('qlae', 'psnr'):.1f} dB, {cpu.mean('ae', 'psnr') - cpu.mean('qlae', 'psnr'):.1f} dB below the "
        f"AE ({cpu.mean('ae', 'psnr'):.1f}), like the VAEs ({cpu.mean('vae', 'psnr'):.1f}) and BioAE "
        f"({cpu.mean('bioae', 'psnr'):.1f}).",
    ]
    # Weight decay and the other ablations.
    assert all(cpu.seeds(c, "infom", T) == cpu.seeds(c, "infom", S) for c in ("qlae", "qlae-nowd"))
    lower = [a - b for a, b in zip(cpu.seeds("qlae", "infom"), cpu.seeds("qlae-nowd", "infom"))]
    usage = [100 * cpu.evals[f"{c}-s{s}"]["codebook_usage"] for c in ("vqvae", "vqvae-nowd") for s in range(3)]
    vq_infoe = [cpu.mean(c, "infoe") for c in ("vqvae", "vqvae-nowd")]
    vq_psnr = [cpu.mean(c, "psnr") for c in ("vqvae", "vqvae-nowd")]
    ablation = ("qlae", "qlae-global", "qlae-nowd")
    assert min(vq_infoe) > max(cpu.mean(c, "infoe") for c in ablation)
    assert min(vq_psnr) > max(cpu.mean(c, "psnr") for c in ablation)
    below = [cpu.mean("qlae", "infom") - cpu.mean(c, "infom") for c in ("vqvae", "vqvae-nowd")]
    phrases += [
        f"QLAE without it scores InfoM {cpu.cell('qlae-nowd', 'infom')} against {cpu.cell('qlae', 'infom')} (seed by "
        f"seed {lower[0]:.2f}, {lower[1]:.2f} and {lower[2]:.2f} lower; the same in both flavours)",
        f"show the gap growing to {study.gap_of_means(30000):.2f} by 30 000 steps; paired by seed (the test fixed "
        f"before the last four seeds ran), its 95% interval lies above 0 from step {spaced(study.steps_shown()[0])} on "
        f"({signed(study.paired(30000))} at 30 000, {sum(d > 0 for d in study.differences(30000))} of the "
        f"{len(study.seeds['qlae'])} pairs favouring weight decay;",
        f"The global codebook scores InfoM {cpu.cell('qlae-global', 'infom')}, the same as per-dimension QLAE. VQ-VAE "
        f"scores {cpu.cell('vqvae', 'infom')} with weight decay and {cpu.cell('vqvae-nowd', 'infom')} without: "
        f"{span(below)} below QLAE",
        f"it has the highest InfoE ({span(vq_infoe)}) and PSNR ({span(vq_psnr, 1)} dB) of the ablation table, and uses "
        f"{span(usage, 0)} % of its 512 vectors in all",
    ]
    # VQ-VAE's codes: values per slot, the fit's columns, convergence.
    per_slot, columns = [], []
    for c in ("vqvae", "vqvae-nowd"):
        for s in range(3):
            with np.load(os.path.join(REPO, "results", "cpu-sweep", f"{c}-s{s}", "eval_latents.npz")) as f:
                used = [len(np.unique(f["latents"][:, j])) for j in range(f["latents"].shape[1])]
            per_slot += used
            columns.append(sum(used) + 1)  # one column per (slot, value), and the intercept
            assert all(metric(cpu.evals[f"{c}-s{s}"], "infoe_converged", fl) for fl in (T, S))
    phrases += [f"Each VQ-VAE slot uses {span(per_slot, 0)} of its 512 vectors",
                f"so a source's one-hot fit has {span(columns, 0)} columns per class (with the intercept)",
                f"VQ-VAE's codes ({span(per_slot, 0)} values per slot, against QLAE's 10)"]

    # Salience: what `sweep.py strongest` prints, in both flavours.
    def strongest(flavour):
        lines = sweep.strongest(runs, os.path.join(REPO, "results", "cpu-sweep"), flavour).splitlines()
        sources = lines[2].strip("| ").split(" | ")[1:]
        cells = {}
        for line in lines[4:]:
            label, *rest = line.strip("| ").split(" | ")
            cells.update({(label, src): (float(c.split()[0]), c.split()[1]) for src, c in zip(sources, rest)})
        return cells
    best, best_s = strongest(T), strongest(S)
    assert max(abs(best[k][0] - best_s[k][0]) for k in best) <= 0.01  # "the standalone one agrees to 0.01"
    others = [label for label, src in best if src == "scale" and not label.startswith(("VQ-VAE", "any run"))]
    top = lambda src: max(others, key=lambda label: best[label, src][0])
    v = lambda label, src: f"{best[label, src][0]:.3f}"  # as the command prints it
    vq, vqn = "VQ-VAE w/ weight decay", "VQ-VAE w/o weight decay"
    assert top("object_hue") == "QLAE w/ global codebook"
    sources = sorted({src for _, src in best})
    for label in {label for label, _ in best} - {"any run"}:  # scale least in every autoencoder, shape in the GANs
        assert min(sources, key=lambda src: best[label, src][0]) == ("shape" if "GAN" in label else "scale"), label
    assert all(best["any run", src][1].startswith("vqvae") == (src != "orientation") for _, src in best if _ == "QLAE")
    phrases += [
        f"VQ-VAE holds the most of it, {v(vq, 'scale')} ({best[vq, 'scale'][1]}; {v(vqn, 'scale')} without weight "
        f"decay, {best[vqn, 'scale'][1]}); every other model at most {v(top('scale'), 'scale')} (QLAE "
        f"{v('QLAE', 'scale')}, β-TCVAE {v('β-TCVAE', 'scale')}).",
        f"Object hue reaches {v(vq, 'object_hue')} in VQ-VAE ({best[vq, 'object_hue'][1]}; {v(vqn, 'object_hue')} "
        f"without weight decay, {best[vqn, 'object_hue'][1]}) and at most {v(top('object_hue'), 'object_hue')} in "
        f"every other model (the global-codebook QLAE; QLAE {v('QLAE', 'object_hue')}).",
        f"is the source β-TCVAE captures strongly (up to {v('β-TCVAE', 'orientation')}; β-VAE "
        f"{v('β-VAE', 'orientation')}) and QLAE weakly ({v('QLAE', 'orientation')}); VQ-VAE reaches "
        f"{v(vq, 'orientation')}.",
        "training-time flavour, the standalone one agrees to 0.01)",
    ]
    assert sorted({best[vq, "scale"][1], best[vq, "object_hue"][1]}) == ["vqvae-s1"]  # the runs the issue named

    # The GANs.
    gans = [cpu.evals[f"{c}-s{s}"] for c in ("infogan", "qlinfogan", "qlinfogan-nowd") for s in range(3)]
    minutes = [g["train_seconds"] / 60 for g in gans]
    interval = lambda c: "–".join(f"{x:.2f}" for x in (lambda mh: (mh[0] - mh[1], mh[0] + mh[1]))(
        sweep.mean_ci(cpu.seeds(c, "infoe"))))
    assert all(cpu.cell(c, "infom", T) == cpu.cell(c, "infom", S) for c in ("infogan", "qlinfogan"))
    assert min(cpu.seeds("qlinfogan", "infoe", T)) < max(cpu.seeds("infogan", "infoe", T))
    assert min(cpu.seeds("qlinfogan", "infoe")) > max(cpu.seeds("infogan", "infoe"))
    for name in ("infoe",):
        assert f"{cpu.mean('qlinfogan', name, T):.2f}" == f"{cpu.mean('qlinfogan-nowd', name, T):.2f}"
        assert f"{cpu.mean('qlinfogan', name):.2f}" == f"{cpu.mean('qlinfogan-nowd', name):.2f}"
    norms = [cpu.evals[f"{c}-s{s}"]["decayed_norm"] for c in ("qlinfogan", "qlinfogan-nowd") for s in range(3)]
    largest = {f: [np.max(metric(g, "nmi", f)) for g in gans] for f in (T, S)}
    assert span(largest[T]) == span(largest[S])
    assert all(metric(g, "infoe_converged", f) for g in gans for f in (T, S))
    phrases += [
        f"nets; {span(minutes, 0)} min per run with one thread",
        f"QLInfoWGAN-GP's InfoE is {cpu.cell('qlinfogan', 'infoe', T)} against InfoWGAN-GP's "
        f"{cpu.cell('infogan', 'infoe', T)}, and the seeds overlap (the lowest quantized seed, "
        f"{min(cpu.seeds('qlinfogan', 'infoe', T)):.3f}, is below the best plain one, "
        f"{max(cpu.seeds('infogan', 'infoe', T)):.3f}).",
        f"the gain grows to {cpu.cell('qlinfogan', 'infoe')} against {cpu.cell('infogan', 'infoe')}: every quantized "
        f"seed ({span(cpu.seeds('qlinfogan', 'infoe'))}) is above every plain one "
        f"({span(cpu.seeds('infogan', 'infoe'))}), though with three seeds the intervals overlap "
        f"({interval('qlinfogan')} against {interval('infogan')}).",
        f"InfoM {cpu.cell('qlinfogan', 'infom', T)} against {cpu.cell('infogan', 'infom', T)} (seeds "
        f"{span(cpu.seeds('qlinfogan', 'infom', T))} against {span(cpu.seeds('infogan', 'infom', T))}), inside the "
        "seed spread, the same in both flavours.",
        f"G(E(x)) reconstructs {cpu.mean('qlinfogan', 'psnr') - cpu.mean('infogan', 'psnr'):.1f} dB better with "
        f"quantization ({cpu.mean('qlinfogan', 'psnr'):.1f} against {cpu.mean('infogan', 'psnr'):.1f}).",
        f"(InfoM {cpu.mean('qlinfogan-nowd', 'infom'):.2f} without it against {cpu.mean('qlinfogan', 'infom'):.2f}; "
        f"InfoE {cpu.mean('qlinfogan', 'infoe', T):.2f} in both, {cpu.mean('qlinfogan', 'infoe'):.2f} in both "
        "standalone)",
        f"The decayed weights' norm ends at {span(norms, 1)} in every QLInfoWGAN-GP run",
        f"the largest NMI between a source and a latent of E(x) is {span(largest[S])} over the nine runs (`eval.json`, "
        f"`nmi`), hence PSNR {span([g['psnr'] for g in gans], 0)} dB. InfoE of every run converged, in both flavours.",
    ]
    # The two trained QLAE rows of the comparison with the authors' metric: ours, first in each cell.
    step30 = wd["qlae-s0"]
    for label, result in (("step 6 000", q0), ("step 30 000", step30)):
        row = next(line for line in readme.splitlines() if line.startswith(f"| QLAE codes, {label} (discrete) |"))
        ours = [cell.split(" (")[0] for cell in row.strip("| ").split(" | ")[1:4]]
        assert ours == [f"{result[k]:.4f}" for k in ("infom", "infoe", "infoc")], row

    # The speed sections time this machine (out of scope), but one score is quoted there: the default run's.
    check_phrases(readme, [f"Both runs end in the same scores (InfoM {q0['infom']:.4f})"])

    # Out with what the tests above verified: the tables, the seed-by-seed lines, the phrases.
    about_runs = sections(readme, ("The default run, looked at", "The paper's tables at CPU scale (both flavours)",
                                   "The GAN family at CPU scale (both flavours)"))
    verified = set(sweep.tables(runs, per_seed=True).splitlines())
    about_runs = "\n".join(line for line in about_runs.splitlines() if line not in verified)
    text = check_phrases(about_runs, phrases)
    check_coverage(text, RECIPE_CONSTANTS)


# Decimal numbers in the results documents' run sections that no run produced: the recipe (learning rates, weight
# decays, Adam's betas, the active-latent fractions), the t quantile, the arithmetic of the decay's time constant.
RECIPE_CONSTANTS = ("0.9", "0.01", "0.1", "0.02", "0.8", "2.447")


class WdStudy:
    """The weight-decay study's learning curves (curves.jsonl, rescored), per arm, seed and step."""

    def __init__(self):
        root = os.path.join(REPO, "results", "wd-study")
        # Each arm's seeds as its folders give them (the AE has 0-2, the QLAE arms 0-6), in seed order:
        # curves[arm][i] is seed seeds[arm][i].
        found = {arm: [sweep.seed_of(d) for d in glob.glob(os.path.join(root, f"{arm}-s*"))]
                 for arm in ("ae", "qlae", "qlae-nowd")}
        self.seeds = {arm: sorted(s for s in seeds if s is not None) for arm, seeds in found.items()}
        self.curves = {arm: [{r["step"]: r for r in runs.read_jsonl(os.path.join(root, f"{arm}-s{s}", "curves.jsonl"))}
                             for s in seeds] for arm, seeds in self.seeds.items()}
        self.steps = sorted(self.curves["qlae"][0])

    def values(self, arm, step, key="infom", flavour="standalone"):
        return [sweep.curve_value(curve[step], key, flavour) for curve in self.curves[arm]]

    def mean(self, arm, step, key="infom"):
        return float(np.mean(self.values(arm, step, key)))

    def gap_of_means(self, step):
        return self.mean("qlae", step) - self.mean("qlae-nowd", step)

    def differences(self, step, key="infom", seeds=None, flavour="training"):
        """QLAE minus QLAE without weight decay, seed by seed (the two arms share each seed's batches)."""
        assert self.seeds["qlae"] == self.seeds["qlae-nowd"]
        pairs = zip(self.seeds["qlae"], *(self.values(arm, step, key, flavour) for arm in ("qlae", "qlae-nowd")))
        return [a - b for s, a, b in pairs if seeds is None or s in seeds]

    def paired(self, step, key="infom", seeds=None, flavour="training"):
        """The paired comparison `sweep.py paired` prints (by default in the training-time flavour, like it): the
        mean difference and its 95% half-width, t(n-1)."""
        return sweep.mean_ci(self.differences(step, key, seeds, flavour))

    def steps_above(self, key="infom"):
        """The steps at which the paired 95% interval lies above 0."""
        return [s for s in self.steps if (lambda mh: mh[0] - mh[1] > 0)(self.paired(s, key))]

    def steps_shown(self, key="infom"):
        """The steps from which on the paired 95% interval lies above 0 at every point."""
        above = self.steps_above(key)
        return [s for s in self.steps if all(t in above for t in self.steps if t >= s)]


def signed(mean_half, digits=3):
    """A paired difference as `sweep.py paired` prints it: +0.078 ± 0.060."""
    return f"{mean_half[0]:+.{digits}f} ± {mean_half[1]:.{digits}f}"


def test_every_run_figure_in_the_wd_study_readme_is_rebuilt_from_the_kept_curves(tmp_path, capsys):
    """results/wd-study/README.md: its tables and seed-by-seed blocks, in both flavours, are `python lab/sweep.py
    curves results/wd-study --only ae qlae qlae-nowd --table-at 6000 30000 --flavour both` verbatim, its paired
    tables are `python lab/sweep.py paired results/wd-study --only qlae qlae-nowd` with and without `--table-at
    30000` verbatim, its table at every curve point is the `curves` command's at every step, and each figure of its
    prose is rebuilt from the kept curves.jsonl and eval.json; no other decimal number is left in it."""
    doc = read_doc("results", "wd-study", "README.md")
    root = os.path.join(REPO, "results", "wd-study")
    sweep.main(["curves", root, "--only", "ae", "qlae", "qlae-nowd", "--out", str(tmp_path / "curves.png"),
                "--table-at", "6000", "30000", "--flavour", "both"])
    printed = capsys.readouterr().out.split("\n", 1)[1]  # (the first line names the figure written)
    verbatim = set()  # every line the commands printed, to leave out of the coverage check
    for flavour in (T, S):  # each: a heading, the table as markdown, the seed-by-seed lines as a text block
        part = printed.split(f"**{flavour} InfoMEC**")[1].split("**")[0].strip()
        table, by_seed = part.split("\n\nInfoM, seed by seed:")
        assert len(table.splitlines()) == 8 and f"**{flavour} InfoMEC**\n\n{table}\n\n```text\nInfoM, seed by seed:" \
            f"{by_seed}\n```" in doc, flavour
        verbatim |= set(part.splitlines())
    study, wd = WdStudy(), kept_evals("wd-study")
    sweep.main(["curves", root, "--only", "qlae", "qlae-nowd", "--out", str(tmp_path / "curves-qlae.png"),
                "--table-at", *map(str, study.steps), "--flavour", "training"])
    every_point = capsys.readouterr().out.split("\n", 1)[1].split("\n\nInfoM, seed by seed:")[0].strip()
    assert f"\n\n{every_point}\n\n</details>" in doc and len(every_point.splitlines()) == 2 + 2 * len(study.steps)
    verbatim |= set(every_point.splitlines())
    for table_at in (["--table-at", "30000"], []):
        sweep.main(["paired", root, "--only", "qlae", "qlae-nowd", *table_at])
        paired = capsys.readouterr().out.strip()
        assert paired in doc
        verbatim |= set(paired.splitlines())

    assert study.seeds == {"ae": [0, 1, 2], "qlae": list(range(7)), "qlae-nowd": list(range(7))}
    # The headline test, fixed before seeds 3-6 ran: paired InfoM at 30 000 steps, the interval above 0.
    last = study.steps[-1]
    assert last == 30000
    headline = study.paired(last)
    assert headline[0] - headline[1] > 0
    for arm in ("qlae", "qlae-nowd"):  # every latent active: InfoM the same in both flavours
        assert all(metric(wd[f"{arm}-s{s}"], "infom", T) == metric(wd[f"{arm}-s{s}"], "infom", S)
                   for s in study.seeds[arm])
    d30 = study.differences(last)
    against = [s for s, d in zip(study.seeds["qlae"], d30) if d <= 0]
    assert len(against) == 1  # "6 of the 7 pairs", "in six pairs of seven"
    seed_against = against[0]
    # When: the paired interval above 0 from one time constant on, at eight points; not at 3 000 and 6 000 steps.
    shown = study.steps_shown()
    assert shown[-1] == last and len(shown) == 8
    shown_means = [study.paired(s)[0] for s in shown]
    # Unpaired, the arms' intervals overlap at every point but the last, where they only just part; the bands too.
    interval = lambda arm, step: (lambda mh: (mh[0] - mh[1], mh[0] + mh[1]))(sweep.mean_ci(study.values(arm, step)))
    overlap = {s: interval("qlae-nowd", s)[1] - interval("qlae", s)[0] for s in study.steps}
    assert all(overlap[s] > 0 for s in study.steps[:-1]) and -0.01 < overlap[last] < 0
    assert all(min(study.values("qlae", s)) < max(study.values("qlae-nowd", s)) for s in study.steps)
    first3 = study.paired(last, seeds={0, 1, 2})
    assert min(study.differences(last, seeds={0, 1, 2})) > 0 and first3[0] > headline[0]
    span3 = lambda lo_hi: f"{lo_hi[0]:.3f}–{lo_hi[1]:.3f}"
    # Explicitness, compactness.
    at = lambda arm, key, flavour=S: np.mean([metric(wd[f"{arm}-s{s}"], key, flavour) for s in study.seeds[arm]])
    assert f"{at('qlae', 'infoe'):.2f}" == f"{at('qlae-nowd', 'infoe'):.2f}"
    assert f"{at('ae', 'infoe', T):.2f}" == f"{at('ae', 'infoe'):.2f}"
    assert study.steps_above("infoe") == [15000]  # "only at 15 000"
    infoc = {s: study.paired(s, "infoc") for s in study.steps}
    assert study.steps_above("infoc") == [6000, 9000, 12000, 15000, 18000, 24000]  # "from 6 000 to 18 000 steps and at 24 000"
    assert all(min(study.differences(s, "infoc")) > 0 for s in study.steps if 6000 <= s <= 15000)
    # Reconstruction: the falls in PSNR between two points, run by run.
    falls = {arm: {(seed, s): curve[p]["psnr"] - curve[s]["psnr"] for seed, curve in zip(study.seeds[arm],
                                                                                        study.curves[arm])
                   for p, s in zip(study.steps, study.steps[1:])} for arm in ("qlae", "qlae-nowd")}
    big = {k: v for k, v in falls["qlae"].items() if v >= 5}
    assert set(big) == {(0, 18000), (0, 24000), (5, 24000), (3, 30000)}
    psnr3 = {s: study.curves["qlae"][3][s]["psnr"] for s in study.steps}
    psnr_paired = study.paired(last, "psnr")
    assert psnr3[last] < psnr3[27000] - 5 and psnr_paired[0] + psnr_paired[1] > 0
    psnr_end = lambda arm, skip=(): [metric(wd[f"{arm}-s{s}"], "psnr", S) for s in study.seeds[arm] if s not in skip]
    span1 = lambda values: f"{min(values):.1f}–{max(values):.1f}"
    # The weights and the codebooks.
    norm = lambda arm, step: study.mean(arm, step, "decayed_norm")
    ranges = {arm: {s: study.mean(arm, s, "codebook_range") for s in study.steps} for arm in ("qlae", "qlae-nowd")}
    # "grows to about 7.9 by step 12 000 (8.6 by step 15 000 without) and then shrinks in both arms"
    assert max(ranges["qlae"], key=ranges["qlae"].get) == 12000
    assert max(ranges["qlae-nowd"], key=ranges["qlae-nowd"].get) == 15000
    assert all(ranges[arm][s] > ranges[arm][s + 3000] for arm in ranges for s in study.steps if 15000 <= s < 30000)
    assert all(ranges["qlae"][s] < ranges["qlae-nowd"][s] for s in study.steps)  # "at every point"
    lead = study.mean("qlae", last) - study.mean("ae", last)
    assert 0.15 < headline[0] / lead < 0.25  # "a fifth"
    phrases = [
        f"At 30 000 steps QLAE with weight decay scores InfoM {signed(headline)} above the same seed without it "
        f"(mean of the seven paired differences, 95% interval {headline[0] - headline[1]:+.3f} to "
        f"{headline[0] + headline[1]:+.3f}: above 0), the same in both flavours; 6 of the 7 pairs favour weight "
        f"decay (seed {seed_against} does not: {study.values('qlae', last)[seed_against]:.3f} against "
        f"{study.values('qlae-nowd', last)[seed_against]:.3f}).",
        f"lies above 0 at every one of the eight points from step {spaced(shown[0])} to 30 000, the mean paired "
        f"difference {min(shown_means):+.3f} to {max(shown_means):+.3f} there; at 3 000 and 6 000 steps it includes 0 "
        f"({signed(study.paired(3000))} and {signed(study.paired(6000))}),",
        f"at 30 000 they only just part ({span3(interval('qlae', last))} against {span3(interval('qlae-nowd', last))})",
        f"with a larger gap ({signed(first3)} at 30 000, every pair favouring weight decay); four more seeds shrank "
        f"it to {headline[0]:.3f}.",
        f"training-time InfoE (read out linearly) reaches {at('qlae', 'infoe', T):.2f} with weight decay and "
        f"{at('qlae-nowd', 'infoe', T):.2f} without, the AE's {at('ae', 'infoe', T):.2f}, the paired difference "
        f"{signed(study.paired(last, 'infoe'))} (standalone: InfoE {at('qlae', 'infoe'):.2f} in both arms, the AE's "
        f"the same {at('ae', 'infoe'):.2f}, paired {signed(study.paired(last, 'infoe', flavour=S))});",
        f"{at('qlae', 'infoc'):.2f} against {at('qlae-nowd', 'infoc'):.2f} (paired {signed(infoc[last])}, including 0)",
        f"lose {min(big.values()):.1f} to {max(big.values()):.1f} dB between two points and recover",
        f"seed 3 ends in such a dip ({psnr3[last]:.1f} dB at 30 000, from {psnr3[27000]:.1f} at 27 000); the most any "
        f"run without weight decay loses between two points is {max(falls['qlae-nowd'].values()):.3f} dB. So the mean "
        f"PSNR at 30 000 is {at('qlae', 'psnr'):.1f} against {at('qlae-nowd', 'psnr'):.1f} dB (paired "
        f"{signed(psnr_paired, 1)} dB, including 0), while the other six seeds with weight decay end "
        f"at {span1(psnr_end('qlae', skip={3}))} dB, like those without ({span1(psnr_end('qlae-nowd'))}).",
        f"their norm levels off near {norm('qlae', last):.0f} ({norm('qlae', 6000):.0f} at 6 000 steps, "
        f"{norm('qlae', last):.0f} at 30 000); without it, it keeps growing, like the AE's, to "
        f"{norm('qlae-nowd', last):.0f}.",
        f"grows to about {ranges['qlae'][12000]:.1f} by step 12 000 with weight decay "
        f"({ranges['qlae-nowd'][15000]:.1f} by step 15 000 without)",
        f"about {headline[0]:.2f} InfoM (at least {headline[0] - headline[1]:.3f} by its interval; a fifth of the "
        f"{lead:.2f} by which QLAE leads the AE at 30 000)",
    ]
    doc_left = "\n".join(line for line in doc.splitlines() if not line.strip() or line not in verbatim)
    check_coverage(check_phrases(doc_left, phrases), RECIPE_CONSTANTS)


def test_the_wd_study_seeds_added_later_are_the_studys_runs():
    """Seeds 3-6 of the study's two QLAE arms, added with a test fixed before they ran: every such run has the flags
    of its arm's seed-0 run (seed, folder and resume apart), 30 000 steps, ten curve points scored again with this
    release's InfoMEC and the five files every run of the study keeps."""
    root = os.path.join(REPO, "results", "wd-study")
    kept = {"config.json", "eval.json", "curves.jsonl", "eval_latents.npz", "latents-0006000.npz"}
    for name in sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))):
        assert set(os.listdir(os.path.join(root, name))) == kept, name
    for arm in ("qlae", "qlae-nowd"):
        like = json.load(open(os.path.join(root, f"{arm}-s0", "config.json")))
        result0 = json.load(open(os.path.join(root, f"{arm}-s0", "eval.json")))
        for seed in range(3, 7):
            folder = os.path.join(root, f"{arm}-s{seed}")
            config, result = (json.load(open(os.path.join(folder, f))) for f in ("config.json", "eval.json"))
            assert config["seed"] == seed and config["out_dir"].endswith(f"{arm}-s{seed}")
            apart = ("seed", "out_dir", "resume")  # resume: how the last sitting began (a resumed run trains bit for
            # bit like an unbroken one, tests/test_train.py); the study's own qlae-s1 was resumed too
            assert {k: v for k, v in config.items() if k not in apart} == \
                {k: v for k, v in like.items() if k not in apart}, folder
            assert result["steps"] == 30000 and set(result) == set(result0), folder
            curve = runs.read_jsonl(os.path.join(folder, "curves.jsonl"))
            assert [r["step"] for r in curve] == list(range(3000, 30001, 3000)) and all(r["rescored"] for r in curve)


def test_the_results_documents_name_the_sweep_script_where_it_is():
    """lab/sweep.py moved from the top level: every command in the results documents says so, except those run in
    a checkout of commit 476ede3, where sweep.py sat at the top level."""
    for path in (("results", "README.md"), ("results", "wd-study", "README.md")):
        for line in read_doc(*path).splitlines():
            assert "python sweep.py" not in line or "code-476ede3" in line or "for s in 3 4 5 6" in line, line
