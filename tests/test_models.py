"""Executable specification of models.py: objectives and where their gradients go (method.md sections 2 and 4)."""
import math

import pytest
import torch

import models
from quantizer import quantization_loss


def test_reconstruction_loss_is_per_pixel_mean_bce_then_batch_mean():
    logits = torch.tensor([[[[0.0, 2.0]]], [[[-1.0, 3.0]]]])  # (2, 1, 1, 2)
    x = torch.tensor([[[[0.5, 1.0]]], [[[0.0, 0.25]]]])

    def bce(l, t):  # independent formula: -(t log sigmoid(l) + (1 - t) log(1 - sigmoid(l)))
        p = 1 / (1 + math.exp(-l))
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    expected = ((bce(0, 0.5) + bce(2, 1)) / 2 + (bce(-1, 0) + bce(3, 0.25)) / 2) / 2
    assert models.reconstruction_loss(logits, x).item() == pytest.approx(expected, rel=1e-6)


def test_qlae_loss_is_reconstruction_plus_one_hundredth_of_each_aux_loss():
    torch.manual_seed(0)
    m = models.build_model("qlae", (16,), 4)
    x = torch.rand(8, 16)
    loss, logs = models.qlae_loss(m, x)
    assert loss.item() == pytest.approx(logs["recon"] + 0.01 * logs["quant"] + 0.01 * logs["commit"], rel=1e-5)


def test_codebook_gradient_comes_only_from_the_quantization_loss():
    torch.manual_seed(1)
    m = models.build_model("qlae", (16,), 4)
    x = torch.rand(8, 16)
    loss, _ = models.qlae_loss(m, x)
    loss.backward()
    full = m.quantizer.values.grad.clone()
    m.zero_grad()
    z_c = m.encoder(x)
    z_q, _ = m.quantizer(z_c)
    (0.01 * quantization_loss(z_c, z_q)).backward()
    assert torch.allclose(full, m.quantizer.values.grad)  # reconstruction added nothing to the codebook


def test_encoder_gets_reconstruction_and_commitment_gradients():
    torch.manual_seed(2)
    m = models.build_model("qlae", (16,), 4)
    x = torch.rand(8, 16)
    z_c = m.encoder(x).detach().requires_grad_(True)
    z_q, _ = m.quantizer(z_c)
    from quantizer import commitment_loss, straight_through
    recon = models.reconstruction_loss(m.decoder(straight_through(z_c, z_q)), x)
    (recon + 0.01 * quantization_loss(z_c, z_q) + 0.01 * commitment_loss(z_c, z_q)).backward()
    g_total = z_c.grad.clone()
    z2 = z_c.detach().clone().requires_grad_(True)
    models.reconstruction_loss(m.decoder(z_q.detach() + (z2 - z2.detach())), x).backward()
    expected = z2.grad + 0.01 * 2 * (z_c - z_q).detach() / z_c.numel()
    assert torch.allclose(g_total, expected, atol=1e-7)


@pytest.mark.parametrize("net", ["cpu", "small", "paper"])
def test_conv_nets_map_images_to_latents_and_back(net):
    m = models.build_model("qlae", (3, 32, 32), 12, net)
    x = torch.rand(2, 3, 32, 32)
    assert m.reconstruct(x).shape == x.shape
    codes = m.codes(x)
    assert codes.dtype == torch.long and codes.shape == (2, 12)


def test_paper_nets_have_the_papers_parameter_counts():
    m = models.build_model("ae", (3, 64, 64), 12, "paper")
    n_enc = sum(p.numel() for p in m.encoder.parameters())
    n_dec = sum(p.numel() for p in m.decoder.parameters())
    assert 3.5e6 < n_enc < 3.9e6 and 3.8e6 < n_dec < 4.3e6  # "about 3.7 M" and "about 4 M"
    assert len([l for l in m.encoder.convs if isinstance(l, torch.nn.Conv2d)]) == 12
    assert all(l.bias is None for l in m.encoder.convs if isinstance(l, torch.nn.Conv2d))


def test_style_modulation_scale_and_shift_are_non_negative():
    block = models.StyleBlock(4, 4, 3, 1, 8)
    with torch.no_grad():
        block.style.bias.fill_(-100.0)  # ReLU(Linear(w)) = 0 -> the block outputs exactly zero
    assert torch.count_nonzero(block(torch.randn(2, 4, 4, 4), torch.randn(2, 8))) == 0


@pytest.mark.parametrize("name", ["ae", "qlae"])
def test_every_model_trains_and_its_loss_falls(name):
    import data
    import train

    torch.manual_seed(3)
    ds = data.Vector()
    m = models.build_model(name, ds.image_shape, 6)
    opt = torch.optim.AdamW(train.param_groups(m, train.DEFAULT_WEIGHT_DECAY[name]), lr=1e-3)
    x, _ = ds.sample(256, torch.Generator().manual_seed(0))
    losses = []
    for _ in range(100):
        loss, _ = models.model_loss(name, m, x)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        train.clip_decayed_gradients(opt)
        opt.step()
    assert sum(losses[-10:]) < 0.95 * sum(losses[:10])


def test_psnr_of_a_perfect_and_a_known_reconstruction():
    x = torch.full((2, 1, 2, 2), 0.5)
    assert models.psnr(torch.zeros_like(x), x) > 90  # sigmoid(0) = 0.5 exactly: MSE 0, clamped
    logits = torch.full_like(x, math.log(0.6 / 0.4))  # sigmoid = 0.6 -> MSE 0.01 -> 20 dB
    assert models.psnr(logits, x) == pytest.approx(20.0, abs=1e-4)


def test_unknown_model_and_bad_image_size_are_clear_errors():
    with pytest.raises(ValueError, match="unknown model"):
        models.build_model("gan", (16,), 4)
    with pytest.raises(ValueError, match="multiple of 16"):
        models.build_model("ae", (3, 40, 40), 4)
