"""Executable specification of the baselines and ablations (lab/baselines.py: beta-VAE, beta-TCVAE, BioAE, VQ-VAE)
and of lab/sweep.py."""
import json
import math
import os

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


def test_the_published_cpu_tables_are_what_sweep_prints_from_the_kept_artefacts():
    """Every table of the CPU sweep in results/README.md, in both flavours, is `python sweep.py table
    results/cpu-sweep` verbatim (from the kept config.json and eval.json of all 36 runs), and so are the GAN rows
    seed by seed (`--per-seed`): no number there is typed by hand."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    printed = sweep.tables(sweep.load_runs(os.path.join(root, "results", "cpu-sweep")))
    blocks = re.findall(r"\| model \|.*?(?=\n\n|\Z)", printed, re.S)
    assert len(blocks) == 6  # main, ablations, GANs x standalone, training-time
    with open(os.path.join(root, "results", "README.md")) as f:
        readme = f.read()
    for block in blocks:
        assert block.strip() in readme, block
    by_seed = [line for line in sweep.tables(sweep.load_runs(os.path.join(root, "results", "cpu-sweep")),
                                             per_seed=True).splitlines() if line.startswith("- ") and "GAN" in line]
    assert len(by_seed) == 6 and all("(seeds 0, 1, 2)" in line for line in by_seed)  # both flavours, seed order
    for line in by_seed:  # the GAN section lists them verbatim
        assert line in readme, line
