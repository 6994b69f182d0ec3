"""Executable specification of InfoWGAN-GP and QLInfoWGAN-GP (the paper's InfoGAN variants): where each loss's gradient
goes, the 5:1 update schedule, the code priors, and a smoke run of each variant through train.py."""
import json
import os

import pytest
import torch
import torch.nn as nn

import models
import train

SHAPE = (3, 32, 32)


def gan(name="qlinfogan", n_latents=4):
    torch.manual_seed(0)
    return train.build_model(name, SHAPE, n_latents, "cpu")


def test_gradient_penalty_equals_its_closed_form_for_a_linear_critic_and_reaches_its_weights():
    # D(x) = w . x + b has input gradient w everywhere, so the penalty is (||w|| - 1)^2 whatever real and fake are,
    # and its gradient with respect to w is 2 (||w|| - 1) w / ||w||: this needs the double backward.
    torch.manual_seed(0)
    critic = nn.Linear(3 * 8 * 8, 1)
    real, fake = torch.rand(5, 3, 8, 8), torch.rand(5, 3, 8, 8)
    gp = models.gradient_penalty(lambda x: critic(x.flatten(1)).squeeze(1), real, fake)
    w = critic.weight.detach().flatten()
    assert torch.allclose(gp, (w.norm() - 1) ** 2, atol=1e-6)
    gp.backward()
    expected = 2 * (w.norm() - 1) * w / w.norm()
    assert torch.allclose(critic.weight.grad.flatten(), expected, atol=1e-6)
    assert critic.bias.grad is None or critic.bias.grad.abs().max() == 0  # the bias does not move the gradient


def test_gradient_penalty_is_zero_for_a_unit_norm_critic_and_uses_the_whole_image_norm():
    critic = nn.Linear(12, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.full((1, 12), 1 / 12 ** 0.5))  # ||w|| = 1
    x = torch.rand(4, 3, 2, 2)
    gp = models.gradient_penalty(lambda x: critic(x.flatten(1)).squeeze(1), x, torch.rand(4, 3, 2, 2))
    assert gp.item() < 1e-12
    with torch.no_grad():
        critic.weight.mul_(3.0)  # ||w|| = 3: a per-pixel norm would give a different value than (3 - 1)^2 = 4
    gp = models.gradient_penalty(lambda x: critic(x.flatten(1)).squeeze(1), x, torch.rand(4, 3, 2, 2))
    assert abs(gp.item() - 4.0) < 1e-5


def test_gradient_penalty_reaches_the_conv_critics_parameters():
    m = gan()
    real, fake = torch.rand(3, *SHAPE), torch.rand(3, *SHAPE)
    gp = models.gradient_penalty(lambda x: m.critic(x)[0], real, fake)
    gp.backward()
    for name in ("encoder.convs.0.weight", "encoder.mlp.0.weight", "value_head.weight"):
        assert dict(m.named_parameters())[name].grad.abs().sum() > 0, name


def test_sampled_codes_lie_on_the_codebook_grids_and_infogan_codes_in_the_unit_cube():
    m = gan("qlinfogan", 6)
    with torch.no_grad():
        m.quantizer.values.add_(torch.randn_like(m.quantizer.values) * 0.1)  # a "learned", uneven grid
    z = m.sample_codes(500)  # (500, 6)
    books = m.quantizer.codebooks()  # (6, 10)
    for j in range(6):
        assert torch.isin(z[:, j], books[j]).all()
        assert len(torch.unique(z[:, j])) == 10  # every value is drawn (500 draws from 10 values)
    z.sum().backward()  # the codebook values get a gradient through the samples: they train with the generator
    assert m.quantizer.values.grad.abs().sum() > 0
    u = gan("infogan", 6).sample_codes(2000)
    assert u.min() >= 0 and u.max() <= 1 and abs(u.mean().item() - 0.5) < 0.02


@pytest.mark.parametrize("name", ["infogan", "qlinfogan"])
def test_latent_loss_is_zero_when_the_q_head_recovers_the_code(name):
    m = gan(name, 6)
    z = m.sample_codes(32).detach()  # (32, 6)
    latent, ql, cl = models.latent_terms(m, z.clone(), z)
    assert latent.item() == 0 and ql.item() == 0 and cl.item() == 0
    wrong = z + 0.3  # off the code (and, for QL, in another cell of the grid, spacing 1/9)
    assert models.latent_terms(m, wrong, z)[0].item() > 0.01
    if name == "qlinfogan":  # a prediction inside the right cell is already exact after quantization
        near = z + 0.02
        latent, ql, cl = models.latent_terms(m, near, z)
        assert latent.item() < 1e-12 and ql.item() > 0 and cl.item() > 0


def test_ql_latent_loss_reaches_the_q_head_straight_through():
    m = gan("qlinfogan", 4)
    z = m.sample_codes(16).detach()
    z_hat = (z + 0.3).requires_grad_(True)
    latent, _, _ = models.latent_terms(m, z_hat, z)
    latent.backward()
    assert z_hat.grad.abs().sum() > 0  # gradient passes the quantizer as if it were the identity


def args_for(name, **kw):
    return train.parse_args(["--model", name, "--out-dir", "unused", *sum(([f"--{k}", str(v)] for k, v in kw.items()),
                                                                         [])])


def snapshot(m, prefixes):
    return {n: p.detach().clone() for n, p in m.named_parameters() if n.startswith(prefixes)}


def changed(m, before):
    params = dict(m.named_parameters())
    return {n for n, p in before.items() if not torch.equal(params[n], p)}


CRITIC, GENERATOR = ("encoder.", "value_head."), ("decoder.", "quantizer.")


def test_gan_optimisers_split_the_parameters_and_use_the_papers_setting():
    m = gan()
    args = args_for("qlinfogan")
    assert args.lr == 2e-4 and args.weight_decay == 1e-3 and args.batch_size == 64
    assert args_for("infogan").weight_decay == 1e-4
    opts = train.make_optimizers(args, m)
    ids = {k: {id(p) for g in o.param_groups for p in g["params"]} for k, o in opts.items()}
    names = {id(p): n for n, p in m.named_parameters()}
    assert all(names[i].startswith(CRITIC) for i in ids["critic"])
    assert all(names[i].startswith(GENERATOR) for i in ids["generator"])
    assert ids["critic"] | ids["generator"] == set(names) and not ids["critic"] & ids["generator"]
    for o in opts.values():
        assert o.defaults["betas"] == (0.0, 0.9) and o.defaults["lr"] == 2e-4
    paper = train.parse_args(["--model", "qlinfogan", "--preset", "paper", "--out-dir", "x"])
    assert paper.batch_size == 64 and paper.lr == 2e-4 and paper.net == "paper"


@pytest.mark.parametrize("name", ["infogan", "qlinfogan"])
def test_schedule_one_generator_update_per_five_critic_updates(name, monkeypatch):
    m = gan(name)
    args = args_for(name)
    opts = train.make_optimizers(args, m)
    counts = {"critic": 0, "generator": 0}
    for key, opt in opts.items():
        original = opt.step

        def counted(*a, _key=key, _original=original, **kw):
            counts[_key] += 1
            return _original(*a, **kw)

        monkeypatch.setattr(opt, "step", counted)
    g = torch.Generator().manual_seed(0)
    for step in range(1, 16):
        x = torch.rand(4, *SHAPE)
        critic_before, generator_before = snapshot(m, CRITIC), snapshot(m, GENERATOR)
        _, logs = train.gan_step(args, m, opts, x, step, g)
        if step % 5:  # a critic-only step leaves the generator and the codebooks exactly as they were
            assert not changed(m, generator_before) and "g_loss" not in logs
        else:
            assert "quantizer.values" in changed(m, generator_before) or name == "infogan"
            assert "decoder.const" in changed(m, generator_before) and "g_loss" in logs
        assert "value_head.weight" in changed(m, critic_before)
    assert counts == {"critic": 15, "generator": 3}


def test_generator_update_leaves_the_critic_unchanged():
    m = gan()
    opts = train.make_optimizers(args_for("qlinfogan"), m)
    for p in m.parameters():  # stray gradients from an earlier backward must not move the critic
        p.grad = torch.ones_like(p)
    before = snapshot(m, CRITIC)
    weights = vars(train.parse_args(["--model", "qlinfogan", "--out-dir", "x"]))  # the loss weights, by name
    loss, _ = models.generator_loss(m, m.sample_codes(4), weights)
    train.update(opts["generator"], loss, 1.0)
    assert not changed(m, before)


@pytest.mark.parametrize("name", ["infogan", "qlinfogan"])
def test_each_gan_runs_end_to_end_through_train(tmp_path, name):
    out = str(tmp_path / name)
    result = train.main(["--model", name, "--steps", "10", "--batch-size", "8", "--log-every", "5",
                         "--eval-size", "300", "--out-dir", out])
    for f in ("samples.png", "traversals.png", "reconstructions.png", "nmi.png", "eval.json", "ckpt.pt"):
        assert os.path.getsize(os.path.join(out, f)) > 0, f
    lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    assert all(k in lines[-1] for k in ("gap", "gp", "latent", "g_loss", "img_per_s"))
    for key in ("psnr", "infom", "infoe", "infoc"):
        assert result[key] == result[key]
    assert ("codebook_usage" in result) == (name == "qlinfogan")


def test_an_interrupted_gan_run_resumes_to_the_same_parameters(tmp_path):
    flags = ["--model", "qlinfogan", "--batch-size", "4", "--log-every", "5", "--ckpt-every", "5",
             "--eval-size", "200"]
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    train.main([*flags, "--steps", "10", "--out-dir", full])
    train.main([*flags, "--steps", "5", "--out-dir", part])
    train.main([*flags, "--steps", "10", "--out-dir", part, "--resume"])
    a = torch.load(os.path.join(full, "ckpt.pt"), weights_only=False)
    b = torch.load(os.path.join(part, "ckpt.pt"), weights_only=False)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
