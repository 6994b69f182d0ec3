"""QLAE and QLInfoWGAN-GP: the models, their objectives, and the networks they are built from.

Paper: Hsu et al., NeurIPS 2023, the QLAE objective, the InfoGAN variants, and the appendix on architectures.
  AE    loss = reconstruction
  QLAE  loss = reconstruction + 0.01 * quantization_loss + 0.01 * commitment_loss
where reconstruction is binary cross-entropy between decoder logits and the pixels in [0, 1], averaged over
pixels and then over the batch (so the 0.01 weights are relative to a per-pixel mean). The weights are the
defaults of train.py's Args (--quantization-weight, --commitment-weight, --gp-weight, ...), passed in.
  InfoWGAN-GP / QLInfoWGAN-GP: the decoder is the generator, fed only the code z; the encoder is the critic's
  trunk, and its latent head is InfoGAN's Q-head that predicts z from the image. (Every encoder below is a trunk
  `features(x)` followed by `head`, a Linear to n_z; the critic adds `value_head` on the same features.)

Networks (every model uses the same two classes):
  "paper"  12 conv layers (widths 32..256, kernels 3,3,4, strides 1,1,2), InstanceNorm + LeakyReLU(0.2), MLP
           [256, 256]; a StyleGAN-like decoder: a learned constant 256 x 4 x 4 input modulated in each of 12
           transposed-conv blocks by a style vector computed from z (widths 256..32; in each group of three the
           two k3/s1 blocks come first and the k4/s2 block that doubles the side last, as in the authors'
           code). Exactly 3,684,524 + 3,967,136 parameters for 3 x 64 x 64 images and 12 latents.
  "small"  the paper's small variant: 4 conv layers (k4 s2; widths 64, 128, 256, 512), MLP [512].
  "cpu"    a narrower 4-layer pair (widths 32, 64, 96, 128, MLP [256]) that learns the 32 px benchmark in
           minutes on two CPU cores; the same layer types, four k4/s2 layers as in "small".
  dense    MLP encoder / decoder for vector data (the `vector` dataset of the tests).
The baselines and the VQ-VAE ablation (beta-VAE, beta-TCVAE, BioAE, VQ-VAE) are built from these same classes
in lab/baselines.py.

Shape legend: B batch, C image channels, H = W image side, c channels of a layer, h its side,
n_z latents, D vector size, w style width.

Deviations from the paper / reference code:
  - the "cpu" widths are ours (for CPU speed); the paper's nets are one flag away (--net paper);
  - the decoder's constant input scales with the image (side / 16), so any side divisible by 16 works, as in
    the reference.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from quantizer import LatentQuantizer, commitment_loss, quantization_loss, straight_through


# ----------------------------------------------------------------------------------------------------------
# The models, by their paper names. Each is encoder -> (what sits between) -> decoder, as in the paper's figure;
# they differ only in the middle part, and so in two methods: latent(x), the decoder's input at evaluation, and
# codes(x), what InfoMEC scores.
class AE(nn.Module):
    """The plain autoencoder (also BioAE, which differs only in its loss): x -> encoder -> z -> decoder."""

    def __init__(self, image_shape, n_latents, net="cpu", enc_out=None, dec_in=None):
        super().__init__()
        self.n_latents, self.quantizer = n_latents, None  # (QLAE, VQ-VAE and QLInfoWGAN-GP have a quantizer)
        self.encoder, self.decoder = encoder_decoder(image_shape, enc_out or n_latents, dec_in or n_latents, net)

    @property
    def discrete(self):
        """Are the latents scored as integer codes (discrete InfoMEC)? Quantized models: yes."""
        return self.quantizer is not None

    @property
    def scalar_quantized(self):
        """Latents snapped to per-dimension scalar codebooks (QLAE, QLInfoWGAN-GP)?"""
        return isinstance(self.quantizer, LatentQuantizer)

    def latent(self, x):
        """The decoder's input at evaluation, (B, n_z)."""
        return self.encoder(x)

    def codes(self, x):
        """What InfoMEC scores, (B, n_z): here the continuous latent itself."""
        return self.latent(x)

    def reconstruct(self, x):
        """Decoder logits from the evaluation latent: (B, C, H, W) or (B, D)."""
        return self.decoder(self.latent(x))


class QLAE(AE):
    """The quantized-latent autoencoder: x -> encoder -> z_c -> LatentQuantizer -> z_q -> decoder."""

    def __init__(self, image_shape, n_latents, net="cpu", quantizer=None):
        super().__init__(image_shape, n_latents, net)
        self.quantizer = quantizer or LatentQuantizer(n_latents)

    def latent(self, x):
        return self.quantizer(self.encoder(x))[0]  # z_q, (B, n_z) values

    def codes(self, x):
        return self.quantizer(self.encoder(x))[1]  # (B, n_z) integer indices: evaluate on these, never on z_c


def reconstruction_loss(logits, x):
    """Binary cross-entropy on logits with soft targets: mean over pixels, then over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).mean(1).mean()


def ae_loss(model, x):
    z = model.encoder(x)  # (B, n_z)
    recon = reconstruction_loss(model.decoder(z), x)
    return recon, {"recon": recon.item()}


def qlae_loss(model, x, quantization_weight, commitment_weight):
    """reconstruction of the decoder fed z_q straight-through + the two stop-gradient losses (the paper: 0.01 each)."""
    z_c = model.encoder(x)  # (B, n_z) continuous
    z_q, indices = model.quantizer(z_c)  # (B, n_z) values, (B, n_z) integers
    recon = reconstruction_loss(model.decoder(straight_through(z_c, z_q)), x)
    ql, cl = quantization_loss(z_c, z_q), commitment_loss(z_c, z_q)
    loss = recon + quantization_weight * ql + commitment_weight * cl
    usage = model.quantizer.usage(indices).mean().item()
    return loss, {"recon": recon.item(), "quant": ql.item(), "commit": cl.item(), "usage": usage}


# ----------------------------------------------------------------------------------------------------------
# InfoWGAN-GP and QLInfoWGAN-GP (the paper's InfoGAN variants). The same encoder and decoder as above:
# the decoder is the generator, fed ONLY the code z (no separate noise vector); the encoder is the critic's trunk,
# with a value head on its features, and its own latent head is InfoGAN's Q-head that predicts z from the image.
class InfoGAN(AE):
    """InfoWGAN-GP (quantizer None): z ~ U[0, 1]^n_z. QLInfoWGAN-GP (a LatentQuantizer): z drawn uniformly from
    each learned codebook, and the Q-head's prediction quantized (straight-through) before the latent loss.
    latent() / codes() are the autoencoders': evaluation encodes real images with the trunk and reconstructs them
    through the generator."""

    def __init__(self, image_shape, n_latents, net="cpu", quantizer=None):
        super().__init__(image_shape, n_latents, net)
        self.quantizer = quantizer
        self.value_head = nn.Linear(self.encoder.head.in_features, 1)

    def latent(self, x):
        z = self.encoder(x)
        return z if self.quantizer is None else self.quantizer(z)[0]

    def codes(self, x):
        z = self.encoder(x)
        return z if self.quantizer is None else self.quantizer(z)[1]

    def sample_codes(self, n, generator=None):
        """(n, n_z) codes for the generator."""
        if self.quantizer is None:
            device = self.value_head.weight.device
            return torch.rand(n, self.n_latents, generator=generator, device=device)
        return self.quantizer.sample(n, generator)[0]  # differentiable w.r.t. the codebook values

    def critic(self, x):
        """x (B, ...) -> critic value (B,) and the Q-head's predicted code (B, n_z), from one shared trunk."""
        h = self.encoder.features(x)  # (B, feature width)
        return self.value_head(h).squeeze(1), self.encoder.head(h)


def gradient_penalty(critic_value, real, fake, generator=None):
    """WGAN-GP's two-sided penalty (Gulrajani et al. 2017): mean over examples of (||grad_x D(x_hat)||_2 - 1)^2,
    at x_hat = eps * real + (1 - eps) * fake with eps ~ U[0, 1] per example; the norm is over the whole image.
    create_graph=True keeps the graph of the gradient, so the penalty's own gradient (a double backward) reaches
    the critic's parameters."""
    eps = torch.rand((len(real),) + (1,) * (real.ndim - 1), generator=generator, device=real.device)  # (B, 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)  # (B, C, H, W)
    (grad,) = torch.autograd.grad(critic_value(x_hat).sum(), x_hat, create_graph=True)  # (B, C, H, W)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def latent_terms(model, z_hat, z):
    """InfoGAN's latent loss mean (z_hat - z)^2 over dims and batch, and for QLInfoWGAN-GP the quantization and
    commitment losses of the Q-head's prediction (zero tensors otherwise). For QL, z_hat is first snapped to its
    codebook straight-through, so a prediction in the right cell already costs nothing."""
    if model.quantizer is None:
        zero = z_hat.new_zeros(())
        return (z_hat - z).pow(2).mean(), zero, zero
    z_q, _ = model.quantizer(z_hat)  # (B, n_z)
    latent = (straight_through(z_hat, z_q) - z).pow(2).mean()
    return latent, quantization_loss(z_hat, z_q), commitment_loss(z_hat, z_q)


def critic_loss(model, real, z, w, generator=None):
    """D(fake) - D(real) + 10 GP + 200 latent (+ 0.01 quantization + 0.01 commitment for QL); the weights come in
    the dict w (train.py's Args). The fake batch is made from z without a graph: this trains the critic (and
    Q-head) only. So here the commitment term pulls the Q-head's prediction to its value, and the quantization
    term, whose gradient reaches only the codebook (held by the generator's optimiser), has no effect."""
    with torch.no_grad():
        fake = torch.sigmoid(model.decoder(z))  # (B, C, H, W) in [0, 1], like the data
    d_real, _ = model.critic(real)  # (B,)
    d_fake, z_hat = model.critic(fake)  # (B,), (B, n_z)
    gp = gradient_penalty(lambda x: model.critic(x)[0], real, fake, generator)
    latent, ql, cl = latent_terms(model, z_hat, z)
    loss = (d_fake.mean() - d_real.mean() + w["gp_weight"] * gp + w["latent_weight"] * latent
            + w["quantization_weight"] * ql + w["commitment_weight"] * cl)
    return loss, {"gap": (d_real.mean() - d_fake.mean()).item(), "gp": gp.item(), "latent": latent.item()}


def generator_loss(model, z, w):
    """-D(fake) + 200 latent (+ the two QL terms). Trains the generator and, through z, the codebook values."""
    d_fake, z_hat = model.critic(torch.sigmoid(model.decoder(z)))  # (B,), (B, n_z)
    latent, ql, cl = latent_terms(model, z_hat, z)
    loss = -d_fake.mean() + w["latent_weight"] * latent + w["quantization_weight"] * ql + w["commitment_weight"] * cl
    return loss, {"g_loss": loss.item(), "g_latent": latent.item()}


def psnr(logits, x):
    """Mean over images of 10 log10(1 / MSE) of the sigmoid output, in dB."""
    mse = (torch.sigmoid(logits) - x).pow(2).flatten(1).mean(1)  # (B,)
    return (10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item()


# ----------------------------------------------------------------------------------------------------------
# The networks (the paper's appendix). Each named net: the encoder's conv layers as (width, kernel, stride), in
# forward order, and its MLP widths. The decoder mirrors the encoder's WIDTHS (reversed) but keeps the layers'
# kernel and stride pattern in forward order, as the authors' decoder lists it: in the paper net each group of
# three is k3/s1, k3/s1 at the lower resolution, then the k4/s2 block that doubles it (see decoder_layers).
PAPER_LAYERS = [
    (32, 3, 1), (32, 3, 1), (32, 4, 2),  # 64 px -> 32 px
    (64, 3, 1), (64, 3, 1), (64, 4, 2),  # 32 -> 16
    (128, 3, 1), (128, 3, 1), (128, 4, 2),  # 16 -> 8
    (256, 3, 1), (256, 3, 1), (256, 4, 2),  # 8 -> 4
]
NETS = {
    "paper": (PAPER_LAYERS, (256, 256)),
    "small": ([(64, 4, 2), (128, 4, 2), (256, 4, 2), (512, 4, 2)], (512,)),
    "cpu": ([(32, 4, 2), (64, 4, 2), (96, 4, 2), (128, 4, 2)], (256,)),
}
INSTANCE_NORM_EPS = 1e-6  # the authors' value (PyTorch's default is 1e-5)


def decoder_layers(net):
    """The decoder's transposed-conv blocks as (width, kernel, stride): widths reversed, kernels and strides not.
    paper: (256, 3, 1), (256, 3, 1), (256, 4, 2), (128, 3, 1), ... (32, 4, 2)."""
    layers, _ = NETS[net]
    return [(width, k, s) for (width, _, _), (_, k, s) in zip(layers[::-1], layers)]


def relu_mlp(dims):
    """Linear -> ReLU for each consecutive pair of widths in dims."""
    return nn.Sequential(*[m for a, b in zip(dims[:-1], dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())])


class ConvEncoder(nn.Module):
    """x (B, C, H, W) -> (B, out_dim). Conv (no bias) -> InstanceNorm(affine) -> LeakyReLU(0.2), then an MLP."""

    def __init__(self, image_shape, out_dim, net="paper"):
        super().__init__()
        conv_layers, mlp = NETS[net]
        c, side = image_shape[0], image_shape[1]
        layers = []
        for width, k, s in conv_layers:
            layers += [nn.Conv2d(c, width, k, s, padding=1, bias=False),
                       nn.InstanceNorm2d(width, eps=INSTANCE_NORM_EPS, affine=True), nn.LeakyReLU(0.2)]
            c, side = width, side // s
        self.convs = nn.Sequential(*layers)
        self.mlp = relu_mlp([c * side * side, *mlp])
        self.head = nn.Linear(mlp[-1], out_dim)  # linear head: no tanh, the latent is unbounded

    def features(self, x):
        return self.mlp(self.convs(x).flatten(1))  # (B, mlp[-1])

    def forward(self, x):
        return self.head(self.features(x))  # (B, out_dim)


class StyleBlock(nn.Module):
    """convT -> LeakyReLU(0.2) -> InstanceNorm (no affine) -> x * scale + shift, [scale, shift] = ReLU(Linear(w))."""

    def __init__(self, c_in, c_out, k, s, style_dim):
        super().__init__()
        self.conv = nn.ConvTranspose2d(c_in, c_out, k, s, padding=1, bias=False)
        # Initialised as the authors' (Equinox) layers are: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
        # c_in * k * k, the inputs each output sums over. (PyTorch's default for a TRANSPOSED conv takes c_out
        # * k * k, a larger bound wherever the decoder narrows.)
        bound = 1 / math.sqrt(c_in * k * k)
        nn.init.uniform_(self.conv.weight, -bound, bound)
        self.norm = nn.InstanceNorm2d(c_out, eps=INSTANCE_NORM_EPS, affine=False)
        self.style = nn.Linear(style_dim, 2 * c_out)

    def forward(self, h, w):
        h = self.norm(F.leaky_relu(self.conv(h), 0.2))  # (B, c_out, h', h')
        scale, shift = F.relu(self.style(w)).chunk(2, dim=1)  # (B, c_out) each, non-negative
        return h * scale[:, :, None, None] + shift[:, :, None, None]  # (B, c_out, h', h')


class StyleDecoder(nn.Module):
    """z (B, n_z) -> logits (B, C, H, W). A learned constant input, modulated block by block by w = MLP(z)."""

    def __init__(self, image_shape, n_latents, net="paper"):
        super().__init__()
        layers, mlp = decoder_layers(net), NETS[net][1]
        side = image_shape[1] // math.prod(s for _, _, s in layers)  # 64 px, four stride-2 blocks: 4
        c = layers[0][0]
        self.const = nn.Parameter(torch.full((c, side, side), 0.1))  # (c, h, h), decayed like a weight
        self.mlp = relu_mlp([n_latents, *mlp])
        blocks = []
        for width, k, s in layers:
            blocks.append(StyleBlock(c, width, k, s, mlp[-1]))
            c = width
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(c, image_shape[0], 3, padding=1, bias=False)

    def forward(self, z):
        w = self.mlp(z)  # (B, w)
        h = self.const.expand(z.shape[0], -1, -1, -1)  # (B, c, h, h)
        for block in self.blocks:
            h = block(h, w)  # (B, c', h', h')
        return self.out(h)  # (B, C, H, W) logits


class DenseEncoder(nn.Module):
    def __init__(self, dim, out_dim, hidden=(128, 128)):
        super().__init__()
        self.mlp = relu_mlp([dim, *hidden])
        self.head = nn.Linear(hidden[-1], out_dim)

    def features(self, x):
        return self.mlp(x)  # (B, hidden[-1])

    def forward(self, x):
        return self.head(self.features(x))  # (B, out_dim)


class DenseDecoder(nn.Module):
    def __init__(self, dim, n_latents, hidden=(128, 128)):
        super().__init__()
        self.mlp = nn.Sequential(*relu_mlp([n_latents, *hidden]), nn.Linear(hidden[-1], dim))

    def forward(self, z):
        return self.mlp(z)  # (B, D) logits


def encoder_decoder(image_shape, enc_out, dec_in, net):
    """The paper's conv encoder and style decoder for images, a dense pair for vectors."""
    if len(image_shape) == 1:
        return DenseEncoder(image_shape[0], enc_out), DenseDecoder(image_shape[0], dec_in)
    if image_shape[1] % 16 or image_shape[1] < 32:  # 64 px -> 4 x 4 features; 16 px would give 1 x 1
        raise ValueError(f"image side must be a multiple of 16 and >= 32, got {image_shape[1]}")
    return ConvEncoder(image_shape, enc_out, net), StyleDecoder(image_shape, dec_in, net)


if __name__ == "__main__":
    for net in NETS:
        m = QLAE((3, 64, 64), 12, net)
        x = torch.rand(2, 3, 64, 64)
        loss, logs = qlae_loss(m, x, 0.01, 0.01)
        n_enc = sum(p.numel() for p in m.encoder.parameters())
        n_dec = sum(p.numel() for p in m.decoder.parameters())
        print(f"{net:6s} 64 px: encoder {n_enc / 1e6:.2f} M, decoder {n_dec / 1e6:.2f} M params; "
              f"initial QLAE loss {loss.item():.4f} {logs}")
