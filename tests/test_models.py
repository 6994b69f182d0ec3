"""Executable specification of models.py: objectives and where their gradients go (the objectives and the authors' nets)."""
import math

import pytest
import torch

import models
import train
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
    m = train.build_model("qlae", (16,), 4)
    x = torch.rand(8, 16)
    loss, logs = models.qlae_loss(m, x, 0.01, 0.01)
    assert loss.item() == pytest.approx(logs["recon"] + 0.01 * logs["quant"] + 0.01 * logs["commit"], rel=1e-5)


def test_codebook_gradient_comes_only_from_the_quantization_loss():
    torch.manual_seed(1)
    m = train.build_model("qlae", (16,), 4)
    x = torch.rand(8, 16)
    loss, _ = models.qlae_loss(m, x, 0.01, 0.01)
    loss.backward()
    full = m.quantizer.values.grad.clone()
    m.zero_grad()
    z_c = m.encoder(x)
    z_q, _ = m.quantizer(z_c)
    (0.01 * quantization_loss(z_c, z_q)).backward()
    assert torch.allclose(full, m.quantizer.values.grad)  # reconstruction added nothing to the codebook


def test_encoder_gets_reconstruction_and_commitment_gradients():
    torch.manual_seed(2)
    m = train.build_model("qlae", (16,), 4)
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


def recording_qlae(seed):
    """A small QLAE whose encoder output z_c and decoder input are kept (forward hooks), with z_c's gradient."""
    torch.manual_seed(seed)
    m = train.build_model("qlae", (16,), 4)
    seen = {}

    def keep_z_c(module, inputs, z_c):
        z_c.retain_grad()
        seen["z_c"] = z_c

    def keep_decoder_input(module, inputs):
        inputs[0].retain_grad()
        seen["decoder_in"] = inputs[0]

    m.encoder.register_forward_hook(keep_z_c)
    m.decoder.register_forward_pre_hook(keep_decoder_input)
    return m, seen


def test_qlae_decoder_receives_the_quantized_value_and_passes_its_gradient_to_z_c():
    """The decoder is fed z_c + stopgrad(z_q - z_c): in value z_q (a point of the grid), never the continuous z_c;
    in the backward pass its input gradient reaches z_c unchanged (straight-through)."""
    m, seen = recording_qlae(4)
    x = torch.rand(8, 16)
    loss, _ = models.qlae_loss(m, x, 0.0, 0.0)  # reconstruction only: z_c's gradient is the decoder input's
    z_q, _ = m.quantizer(seen["z_c"])
    assert torch.allclose(seen["decoder_in"], z_q, atol=1e-6)
    assert not torch.allclose(seen["decoder_in"], seen["z_c"], atol=1e-3)  # z_c itself is off the grid
    loss.backward()
    assert seen["decoder_in"].grad.abs().sum() > 0
    assert torch.allclose(seen["z_c"].grad, seen["decoder_in"].grad)


def test_quantization_weight_scales_the_codebook_gradient_and_commitment_weight_the_encoders_pull():
    """Distinct weights (0.3, 0.05), so a swap shows: the codebook's gradient is 0.3 x that of the quantization loss
    (reconstruction and commitment add nothing to it), and z_c's gradient is the reconstruction's plus 0.05 x the
    commitment loss's, 0.05 x 2 (z_c - z_q) / numel."""
    x = torch.rand(8, 16)
    m, seen = recording_qlae(5)
    models.qlae_loss(m, x, 0.3, 0.05)[0].backward()
    full_codebook, full_z_c = m.quantizer.values.grad.clone(), seen["z_c"].grad.clone()
    z_c = seen["z_c"].detach()
    z_q, _ = m.quantizer(z_c)
    m.zero_grad()
    quantization_loss(z_c, z_q).backward()
    assert torch.allclose(full_codebook, 0.3 * m.quantizer.values.grad, atol=1e-8)
    m, seen = recording_qlae(5)
    models.qlae_loss(m, x, 0.0, 0.0)[0].backward()  # the same model and data, reconstruction only
    commitment_part = full_z_c - seen["z_c"].grad
    assert torch.allclose(commitment_part, 0.05 * 2 * (z_c - z_q.detach()) / z_c.numel(), atol=1e-8)
    assert commitment_part.abs().sum() > 0


@pytest.mark.parametrize("net", ["cpu", "small", "paper"])
def test_conv_nets_map_images_to_latents_and_back(net):
    m = train.build_model("qlae", (3, 32, 32), 12, net)
    x = torch.rand(2, 3, 32, 32)
    assert m.reconstruct(x).shape == x.shape
    codes = m.codes(x)
    assert codes.dtype == torch.long and codes.shape == (2, 12)


def test_paper_nets_have_the_authors_exact_parameter_counts():
    """The authors' nets for 3 x 64 x 64 images and 12 latents: encoder 3,684,524, decoder 3,967,136 parameters.
    (The decoder with its upsampling block FIRST in each group of three would have about 150 k more.)"""
    m = train.build_model("ae", (3, 64, 64), 12, "paper")
    assert sum(p.numel() for p in m.encoder.parameters()) == 3_684_524
    assert sum(p.numel() for p in m.decoder.parameters()) == 3_967_136
    assert len([l for l in m.encoder.convs if isinstance(l, torch.nn.Conv2d)]) == 12
    assert all(l.bias is None for l in m.encoder.convs if isinstance(l, torch.nn.Conv2d))


def feature_maps(m, x):
    """(channels, side) after each encoder conv layer and after each decoder block."""
    enc, h = [], x
    for layer in m.encoder.convs:
        h = layer(h)
        if isinstance(layer, torch.nn.LeakyReLU):
            enc.append((h.shape[1], h.shape[2]))
    dec, w = [], m.decoder.mlp(torch.zeros(len(x), m.n_latents))
    h = m.decoder.const.expand(len(x), -1, -1, -1)
    for block in m.decoder.blocks:
        h = block(h, w)
        dec.append((h.shape[1], h.shape[2]))
    return enc, dec


def test_paper_decoder_upsamples_last_in_each_group_of_three():
    """Encoder: k3/s1, k3/s1, k4/s2 per group, 64 -> 4. Decoder: widths reversed, but the two k3/s1 blocks run
    first at the lower resolution and the k4/s2 block that doubles it comes last (the authors' forward order)."""
    enc, dec = feature_maps(train.build_model("ae", (3, 64, 64), 12, "paper"), torch.rand(1, 3, 64, 64))
    assert enc == [(32, 64), (32, 64), (32, 32), (64, 32), (64, 32), (64, 16),
                   (128, 16), (128, 16), (128, 8), (256, 8), (256, 8), (256, 4)]
    assert dec == [(256, 4), (256, 4), (256, 8), (128, 8), (128, 8), (128, 16),
                   (64, 16), (64, 16), (64, 32), (32, 32), (32, 32), (32, 64)]


@pytest.mark.parametrize("net, enc_widths, mlp", [("small", [64, 128, 256, 512], 512), ("cpu", [32, 64, 96, 128], 256)])
def test_small_and_cpu_nets_are_four_stride_two_layers_mirrored(net, enc_widths, mlp):
    """small: the authors' small variant (k4/s2, widths 64..512, MLP [512], decoder widths reversed);
    cpu: the same structure, narrower (ours). Both halve the side four times and double it back."""
    m = train.build_model("ae", (3, 64, 64), 12, net)
    enc, dec = feature_maps(m, torch.rand(1, 3, 64, 64))
    assert enc == [(w, 64 // 2 ** (i + 1)) for i, w in enumerate(enc_widths)]
    assert dec == [(w, 4 * 2 ** (i + 1)) for i, w in enumerate(enc_widths[::-1])]
    assert m.encoder.head.in_features == mlp and m.decoder.blocks[0].style.in_features == mlp


def test_style_modulation_scale_and_shift_are_non_negative():
    block = models.StyleBlock(4, 4, 3, 1, 8)
    with torch.no_grad():
        block.style.bias.fill_(-100.0)  # ReLU(Linear(w)) = 0 -> the block outputs exactly zero
    assert torch.count_nonzero(block(torch.randn(2, 4, 4, 4), torch.randn(2, 8))) == 0


@pytest.mark.parametrize("name", ["ae", "qlae"])
def test_every_model_trains_and_its_loss_falls(name):
    import data

    torch.manual_seed(3)
    ds = data.Vector()
    m = train.build_model(name, ds.image_shape, 6)
    args = train.parse_args(["--model", name, "--out-dir", "x"])  # the paper's weight decay and loss weights
    opt = torch.optim.AdamW(train.param_groups(m, args.weight_decay), lr=1e-3)
    x, _ = ds.sample(256, torch.Generator().manual_seed(0))
    losses = []
    for _ in range(100):
        loss, _ = train.model_loss(args, m, x)
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
        train.build_model("gan", (16,), 4)
    with pytest.raises(ValueError, match="multiple of 16"):
        train.build_model("ae", (3, 40, 40), 4)


def test_norms_and_transposed_conv_init_follow_the_authors_layers():
    """InstanceNorm eps 1e-6 everywhere; transposed-conv kernels U(-b, b) with b = 1/sqrt(c_in * k * k) (the fan-in
    of each output), not PyTorch's default for transposed convs (which uses c_out)."""
    torch.manual_seed(0)
    m = train.build_model("ae", (3, 64, 64), 12, "paper")
    assert all(mod.eps == 1e-6 for mod in m.modules() if isinstance(mod, torch.nn.InstanceNorm2d))
    for block in m.decoder.blocks:
        c_in, _, k, _ = block.conv.weight.shape
        bound = 1 / math.sqrt(c_in * k * k)
        assert block.conv.weight.abs().max() <= bound
        assert block.conv.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)  # uniform's std
