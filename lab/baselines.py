"""The paper's baselines and its VQ-VAE ablation, built from models.py's nets: beta-VAE, beta-TCVAE, BioAE, VQ-VAE.

Not needed to follow the method (QLAE lives in quantizer.py and models.py); these are what the paper's tables
compare it with. Weights are chosen in train.py's recipe block (beta, beta_TC, activity weight per dataset).
  beta-VAE    loss = reconstruction of a sampled z + beta * KL(q(z|x) || N(0, I)) / (C * H * W)
  beta-TCVAE  loss = reconstruction + (index-code MI + beta_TC * total correlation + dimension-wise KL) / (C * H * W)
  BioAE       loss = reconstruction + 1.0 * mean relu(-z) + activity_weight * mean z^2
  VQ-VAE      loss = reconstruction + 1.0 * codebook loss + 0.25 * commitment loss (van den Oord et al. 2017)

Shape legend: B batch (M in beta-TCVAE's minibatch estimate), n_z latents, C x H x W an image.

Deviations from the paper / reference code: none known.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from models import AE, reconstruction_loss
from quantizer import commitment_loss, quantization_loss, straight_through


class VAE(AE):
    """beta-VAE and beta-TCVAE (their losses differ): the encoder gives mu and a softplus sigma per latent."""

    def __init__(self, image_shape, n_latents, net="cpu"):
        super().__init__(image_shape, n_latents, net, enc_out=2 * n_latents)

    def gaussian(self, x):
        mu, raw = self.encoder(x).chunk(2, dim=1)  # (B, n_z) each
        return mu, F.softplus(raw) + 1e-6  # sigma > 0

    def latent(self, x):
        return self.gaussian(x)[0]  # evaluated on the mean


class VectorQuantizer(nn.Module):
    """The VQ-VAE ablation (van den Oord et al. 2017): n_codes shared code VECTORS of size code_dim; each of the
    n_z latent slots snaps to its nearest vector. Its integer indices (B, n_z) are what InfoMEC scores. Unlike
    the scalar codebooks, a vector code has no per-dimension structure to reuse, which the paper finds much
    worse for modularity. Init uniform in +-sqrt(3 / code_dim) (unit variance per coordinate)."""

    def __init__(self, n_latents, n_codes=512, code_dim=64):
        super().__init__()
        self.n_latents, self.n_codes, self.code_dim = n_latents, n_codes, code_dim
        bound = (3 / code_dim) ** 0.5
        self.values = nn.Parameter(torch.empty(n_codes, code_dim).uniform_(-bound, bound))  # (n_codes, code_dim)

    def forward(self, z_e):
        """z_e (B, n_z, code_dim) -> z_q (B, n_z, code_dim) (gradient to the codes only), indices (B, n_z)."""
        if z_e.ndim != 3 or z_e.shape[1:] != (self.n_latents, self.code_dim):
            raise ValueError(f"expected z_e of shape (B, {self.n_latents}, {self.code_dim}), got {tuple(z_e.shape)}")
        distance = torch.cdist(z_e.detach().flatten(0, 1), self.values.detach())  # (B * n_z, n_codes)
        indices = distance.argmin(dim=1).view(z_e.shape[:2])  # (B, n_z)
        return self.values[indices], indices  # (B, n_z, code_dim), (B, n_z)

    def usage(self, indices):
        """Fraction of the shared codes used anywhere in the batch, as a 1-element tensor."""
        return torch.tensor([indices.unique().numel() / self.n_codes])


class VQVAE(AE):
    """The VQ-VAE ablation: the encoder gives n_z slots of code_dim numbers, each snapped to the nearest of 512
    shared code vectors."""

    def __init__(self, image_shape, n_latents, net="cpu", code_dim=64):
        codes = VectorQuantizer(n_latents)  # drawn first: a seed gives the same weights as in earlier versions
        super().__init__(image_shape, n_latents, net, enc_out=n_latents * code_dim, dec_in=n_latents * code_dim)
        self.quantizer = codes

    def quantize(self, x):
        return self.quantizer(self.encoder(x).view(len(x), self.n_latents, -1))  # (B, n_z, code_dim), (B, n_z)

    def latent(self, x):
        return self.quantize(x)[0].flatten(1)  # (B, n_z * code_dim)

    def codes(self, x):
        return self.quantize(x)[1]  # (B, n_z) indices of the shared codes


def vqvae_loss(model, x, codebook_weight, commitment_weight):
    """VQ-VAE: the same two routed losses as QLAE, on vectors, with the original paper's weights 1 and 0.25."""
    z_e = model.encoder(x).view(len(x), model.n_latents, -1)  # (B, n_z, code_dim)
    z_q, indices = model.quantizer(z_e)  # (B, n_z, code_dim), (B, n_z)
    recon = reconstruction_loss(model.decoder(straight_through(z_e, z_q).flatten(1)), x)
    ql, cl = quantization_loss(z_e, z_q), commitment_loss(z_e, z_q)
    loss = recon + codebook_weight * ql + commitment_weight * cl
    return loss, {"recon": recon.item(), "quant": ql.item(), "commit": cl.item(),
                  "usage": model.quantizer.usage(indices).item()}


def gaussian_kl(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) per dimension, (B, n_z): 0.5 (mu^2 + sigma^2 - 1) - log sigma."""
    return 0.5 * (mu.pow(2) + sigma.pow(2) - 1) - torch.log(sigma)


def vae_loss(model, x, beta):
    """beta-VAE: reconstruction of a SAMPLE z + beta * KL (summed over dims) / (C * H * W), batch mean."""
    mu, sigma = model.gaussian(x)  # (B, n_z) each
    z = mu + sigma * torch.randn_like(mu)  # (B, n_z) reparameterised sample
    recon = reconstruction_loss(model.decoder(z), x)
    kl = gaussian_kl(mu, sigma).sum(1).mean() / x[0].numel()
    return recon + beta * kl, {"recon": recon.item(), "kl": kl.item()}


def log_normal(z, mu, sigma):
    """log N(z; mu, sigma^2), element-wise."""
    return -0.5 * ((z - mu) / sigma).pow(2) - torch.log(sigma) - 0.5 * math.log(2 * math.pi)


def tc_terms(z, mu, sigma, dataset_size):
    """beta-TCVAE's decomposition of the KL, by minibatch-weighted sampling (Chen et al. 2018, eq. 5):
    log q(z_i) ~ logsumexp_j log q(z_i | x_j) - log(N M), the same per dimension for log q(z_ik).
    Returns (index-code MI, total correlation, dimension-wise KL), each a batch mean in nats."""
    m = z.shape[0]
    pairwise = log_normal(z[:, None], mu[None], sigma[None])  # (M, M, n_z): log q(z_ik | x_j)
    log_qz_given_x = log_normal(z, mu, sigma).sum(1)  # (M,)
    log_qz = torch.logsumexp(pairwise.sum(2), dim=1) - math.log(dataset_size * m)  # (M,)
    log_prod_qzk = (torch.logsumexp(pairwise, dim=1) - math.log(dataset_size * m)).sum(1)  # (M,)
    log_pz = log_normal(z, torch.zeros_like(z), torch.ones_like(z)).sum(1)  # (M,)
    return ((log_qz_given_x - log_qz).mean(), (log_qz - log_prod_qzk).mean(), (log_prod_qzk - log_pz).mean())


def tcvae_loss(model, x, beta_tc, dataset_size):
    """beta-TCVAE: reconstruction + (MI + beta_TC * TC + dimension-wise KL) / (C * H * W)."""
    mu, sigma = model.gaussian(x)  # (B, n_z)
    z = mu + sigma * torch.randn_like(mu)  # (B, n_z)
    recon = reconstruction_loss(model.decoder(z), x)
    mi, tc, dwkl = (t / x[0].numel() for t in tc_terms(z, mu, sigma, dataset_size))
    return recon + mi + beta_tc * tc + dwkl, {"recon": recon.item(), "mi": mi.item(), "tc": tc.item(),
                                             "dwkl": dwkl.item()}


def bioae_loss(model, x, activity_weight):
    """BioAE (Whittington et al. 2023): non-negative, sparse, energy-efficient latents:
    reconstruction + 1.0 * mean relu(-z) + activity_weight * mean z^2. (The model is models.AE.)"""
    z = model.encoder(x)  # (B, n_z)
    recon = reconstruction_loss(model.decoder(z), x)
    negative, activity = F.relu(-z).mean(), z.pow(2).mean()
    return recon + negative + activity_weight * activity, {"recon": recon.item(), "neg": negative.item(),
                                                          "act": activity.item()}
