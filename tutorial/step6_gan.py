# %% [markdown]
# # Step 6: QLInfoWGAN-GP, latent quantization in a GAN
#
# Runtime: 8 min on a 2-core CPU (3 000 critic steps; one thread, the other core busy), GPU: not measured;
# fast mode: about 15 s.
# Reads alongside the paper's InfoGAN experiments and the GAN part of `models.py`.
#
# Latent quantization is not tied to autoencoders. The paper adds it to InfoWGAN-GP, a GAN that must be able to
# read its own code back from what it generates:
# - the **generator** is the decoder of the autoencoders, fed *only* the code z (no separate noise vector);
# - the **critic** and InfoGAN's **Q-head** share one trunk (the encoder): a value head on its features scores
#   realism, the encoder's own latent head predicts z from an image;
# - the critic is trained as a Wasserstein critic with a gradient penalty (WGAN-GP), and both players add the
#   latent loss mean (z_hat - z)^2 with a large weight (`latent_weight`, printed below), so the generator must
#   make z recoverable from its image;
# - InfoWGAN-GP draws z ~ U[0, 1]^n_z. **QLInfoWGAN-GP** draws each coordinate uniformly from its own learned
#   codebook and snaps the Q-head's prediction onto the codebooks (straight-through) before the latent loss;
#   the codebooks train with the generator, and AdamW's weight decay (`train.WEIGHT_DECAY`, printed below) does
#   the rest.

# %%
import json
import os

import numpy as np
import torch
import torch.nn as nn

from _setup import FAST, check, fast, plt, savefig, train_or_load
import models
import train

gan = train.parse_args(["--model", "qlinfogan", "--out-dir", "unused"])  # the flags' values for this model
print({k: getattr(gan, k) for k in ("latent_weight", "gp_weight", "weight_decay", "critic_steps", "lr",
                                    "adam_beta1", "adam_beta2")})

# %% [markdown]
# ## The gradient penalty, checked on a critic whose gradient we know
# WGAN-GP keeps the critic 1-Lipschitz by penalising (||grad_x D(x_hat)|| - 1)^2 at random interpolates x_hat
# between real and fake images. For a linear critic D(x) = w . x + b the input gradient is w everywhere, so the
# penalty must be (||w|| - 1)^2 whatever the images are, and its gradient with respect to w (a double backward)
# must be 2 (||w|| - 1) w / ||w||.

# %%
torch.manual_seed(0)
critic = nn.Linear(3 * 8 * 8, 1)
real, fake = torch.rand(16, 3, 8, 8), torch.rand(16, 3, 8, 8)
gp = models.gradient_penalty(lambda x: critic(x.flatten(1)).squeeze(1), real, fake)
w = critic.weight.detach().flatten()
gp.backward()
print(f"penalty {gp.item():.6f}, closed form {(w.norm() - 1).item() ** 2:.6f}")
check(abs(gp.item() - (w.norm() - 1).item() ** 2) < 1e-6, "the penalty equals (||w|| - 1)^2")
check(torch.allclose(critic.weight.grad.flatten(), 2 * (w.norm() - 1) * w / w.norm(), atol=1e-6),
      "its gradient reaches the critic's weights (double backward)")

# %% [markdown]
# ## The code priors

# %%
torch.manual_seed(0)
ql = train.build_model("qlinfogan", (3, 32, 32), 12, "cpu")
z = ql.sample_codes(1000)
on_grid = all(torch.isin(z[:, j], ql.quantizer.codebooks()[j]).all() for j in range(12))
print("QLInfoWGAN-GP codes, first row:", [round(v, 3) for v in z[0, :6].tolist()])
check(on_grid, "QLInfoWGAN-GP's codes lie on the codebook grid")
u = train.build_model("infogan", (3, 32, 32), 12, "cpu").sample_codes(1000)
check(bool(u.min() >= 0) and bool(u.max() <= 1), "InfoWGAN-GP's codes lie in the unit cube")

# %% [markdown]
# ## Training
# One critic update per step, and one generator update every `critic_steps`-th step (steps count critic
# updates); Adam(W) with the GANs' learning rate and betas for both players (`train.GAN_OPTIMISER`; the values
# printed above). Each progress line shows the critic's value gap D(real) - D(fake), an estimate of the
# Wasserstein distance that should shrink as the generator improves.

# %%
flags = ["--model", "qlinfogan", "--steps", str(fast(3000, 10)), "--batch-size", str(fast(64, 8)),
         "--eval-size", str(fast(10_000, 300)), "--log-every", str(fast(250, 5))]
print("train.py flags of this run:", " ".join(flags))
result = train_or_load("qlinfogan", flags)
lines = [json.loads(l) for l in open(os.path.join(result["run_dir"], "metrics.jsonl"))]
print(f"PSNR of G(E(x)) {result['psnr']:.1f} dB, InfoM {result['infom']:.2f}, InfoE {result['infoe']:.2f}, "
      f"InfoC {result['infoc']:.2f}, codebook usage {result['codebook_usage']:.2f}")
peak = max(lines, key=lambda l: l["gap"])
print(f"{lines[-1]['step']:,} critic steps = {lines[-1]['step'] // gan.critic_steps:,} generator steps; value gap: "
      f"peak {peak['gap']:.3f} at step {peak['step']:,}, last {lines[-1]['gap']:.3f}; latent loss: first "
      f"{lines[0]['latent']:.4f}, last {lines[-1]['latent']:.4f}")

fig, axes = plt.subplots(1, 3, figsize=(17, 5.5), gridspec_kw={"width_ratios": [1, 1, 1.2]})
axes[0].plot([l["step"] for l in lines], [l["gap"] for l in lines], label="value gap D(real) - D(fake)")
axes[0].plot([l["step"] for l in lines], [l["latent"] for l in lines], label="latent loss")
axes[0].set_yscale("log"), axes[0].set_xlabel("critic step"), axes[0].legend(fontsize=8)
for ax, name in zip(axes[1:], ("samples.png", "traversals.png")):
    ax.imshow(plt.imread(os.path.join(result["run_dir"], name))), ax.axis("off"), ax.set_title(name)
savefig(fig, "step6_gan.png")

# %% [markdown]
# Reading it (a normal-mode run; the fast mode's few steps show none of this). This is a young GAN (its
# length: the last line above). The value gap has peaked and is falling,
# the latent loss has dropped by orders of magnitude, and the samples are still dark, noisy colour fields with
# a rough wall/floor split. Twice as long (the runs of results/README.md) gives recognisable wall and floor
# colours and a blob for the object, and traversals in which single latents change a wall or floor hue on
# their own. The paper trains far longer on larger images (`--preset paper`); step 7 gives the commands.

# %%
check(all(result[k] == result[k] for k in ("psnr", "infom", "infoe", "infoc")), "every metric is a number")
check(os.path.exists(os.path.join(result["run_dir"], "samples.png")), "the run wrote its sample grid")
gaps = np.array([l["gap"] for l in lines])
if not FAST:
    check(gaps[-1] < gaps.max() / 2, "the critic's value gap fell from its peak as the generator caught up")
    check(result["codebook_usage"] > 0.9, "the generator's codes use (nearly) every codebook value")
