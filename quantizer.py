"""Latent quantization: one small learnable scalar codebook per latent dimension.

Paper: Hsu et al., "Disentanglement via Latent Quantization", NeurIPS 2023, the method section ("latent quantization").

The idea in four lines:
  * latent dimension j has its own codebook V_j = {v_j1, ..., v_jn_v} of n_v scalars (default n_v = 10);
  * the encoder's continuous output z_c is snapped, coordinate by coordinate, to the nearest value in its
    own codebook, giving z_q; the latent space is the product V_1 x ... x V_n_z, a grid;
  * the decoder sees z_c + stopgrad(z_q - z_c): forward value z_q, gradient to z_c as if it were identity
    ("straight-through"); no gradient reaches the codebook through this path;
  * two auxiliary losses do the learning that straight-through cannot:
      quantization_loss = mean (stopgrad(z_c) - z_q)^2   moves only the codebook values,
      commitment_loss   = mean (z_c - stopgrad(z_q))^2   moves only the encoder.

Because every code is assembled from a few reusable scalars per dimension, and high weight decay (see
train.py) keeps the networks from memorising arbitrary combinations, the decoder must give each value a
consistent meaning: this is the inductive bias toward disentanglement.

Why initialise each codebook evenly from -0.5 to 0.5 (the authors' choice): a deterministic, ordered grid
centred on zero, at the small scale of a freshly initialised encoder head. It does not make every value used
from the start (a fresh encoder's outputs may span only part of the grid); the two losses pull the values and
the encodings together as training goes.

Shape legend: B batch, n_z latent dimensions, n_v values per latent.

The paper's ablations: one global codebook shared by every dimension is a flag here (global_codebook); the
vector-quantized VQ-VAE ablation lives in lab/baselines.py.

Deviations from the paper / reference code: none known. (The reference code is JAX; ties in the
nearest-value search go to the lowest index, as torch.argmin does.)
"""
import torch
import torch.nn as nn


class LatentQuantizer(nn.Module):
    """Per-dimension scalar codebooks (or one global codebook shared by every dimension, a paper ablation)."""

    def __init__(self, n_latents, values_per_latent=10, learnable=True, global_codebook=False):
        super().__init__()
        if n_latents < 1 or values_per_latent < 2:
            raise ValueError(f"need n_latents >= 1 and values_per_latent >= 2, got {n_latents}, {values_per_latent}")
        self.n_latents, self.values_per_latent, self.global_codebook = n_latents, values_per_latent, global_codebook
        rows = 1 if global_codebook else n_latents
        init = torch.linspace(-0.5, 0.5, values_per_latent).repeat(rows, 1)  # (n_z or 1, n_v)
        # A frozen codebook is still a Parameter (so it is saved and moved with the model) but gets no gradient.
        self.values = nn.Parameter(init, requires_grad=learnable)  # (n_z or 1, n_v)

    def codebooks(self):
        """The codebook of every dimension, (n_z, n_v); a view that shares memory for a global codebook."""
        return self.values.expand(self.n_latents, self.values_per_latent)  # (n_z, n_v)

    def forward(self, z_c):
        """Snap each coordinate to its codebook's nearest value.

        Returns z_q (B, n_z), whose gradient flows to the codebook values only (not to z_c),
        and the integer indices (B, n_z). Combine with `straight_through` for the decoder's input.
        """
        if z_c.ndim != 2 or z_c.shape[1] != self.n_latents:
            raise ValueError(f"expected z_c of shape (B, {self.n_latents}), got {tuple(z_c.shape)}")
        books = self.codebooks()  # (n_z, n_v)
        distance = (z_c.detach()[:, :, None] - books[None].detach()).abs()  # (B, n_z, n_v)
        indices = distance.argmin(dim=2)  # (B, n_z), first minimum on ties = lowest index
        z_q = self.lookup(indices)  # (B, n_z)
        return z_q, indices

    def lookup(self, indices):
        """Values for integer indices (B, n_z) -> (B, n_z); differentiable w.r.t. the codebook."""
        books = self.codebooks()  # (n_z, n_v)
        return torch.gather(books.expand(indices.shape[0], -1, -1), 2, indices[:, :, None]).squeeze(2)  # (B, n_z)

    def sample(self, n, generator=None):
        """n codes drawn independently and uniformly from each dimension's codebook (used by QLInfoWGAN-GP)."""
        device = self.values.device
        indices = torch.randint(self.values_per_latent, (n, self.n_latents), generator=generator,
                                device=device)  # (n, n_z)
        return self.lookup(indices), indices  # (n, n_z), (n, n_z)

    def usage(self, indices):
        """Fraction of each dimension's values that the given codes use, (n_z,)."""
        onehot = torch.zeros(self.n_latents, self.values_per_latent, device=indices.device)  # (n_z, n_v)
        onehot.scatter_(1, indices.t(), 1.0)
        return onehot.mean(dim=1)  # (n_z,)


def straight_through(z_c, z_q):
    """Forward value z_q; backward: identity to z_c, nothing to z_q (hence nothing to the codebook)."""
    return z_c + (z_q - z_c).detach()


def quantization_loss(z_c, z_q):
    """mean (stopgrad(z_c) - z_q)^2: pulls codebook values toward the encoder outputs that chose them."""
    return (z_c.detach() - z_q).pow(2).mean()


def commitment_loss(z_c, z_q):
    """mean (z_c - stopgrad(z_q))^2: pulls encoder outputs toward the value they were snapped to."""
    return (z_c - z_q.detach()).pow(2).mean()


if __name__ == "__main__":
    torch.manual_seed(0)
    q = LatentQuantizer(n_latents=3, values_per_latent=5)
    print("codebooks (one row per latent dimension, evenly spaced -0.5..0.5):")
    print(q.codebooks().detach())
    z_c = torch.tensor([[0.12, -0.40, 0.90], [-0.05, 0.31, -0.70]], requires_grad=True)
    z_q, idx = q(z_c)
    print("continuous z_c:\n", z_c.detach())
    print("quantized z_q (nearest value per dimension):\n", z_q.detach())
    print("integer indices (what InfoMEC scores):\n", idx)
    ql, cl = quantization_loss(z_c, z_q), commitment_loss(z_c, z_q)
    print(f"quantization_loss = {ql.item():.4f}  commitment_loss = {cl.item():.4f}")
    (ql + cl).backward()
    print("d(losses)/d z_c (from commitment only):\n", z_c.grad)
    print("d(losses)/d codebook (from quantization only; entries of unused values are 0):\n", q.values.grad)
    print("a uniform sample from the codebooks:\n", q.sample(2)[0].detach())
