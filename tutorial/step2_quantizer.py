# %% [markdown]
# # Step 2: latent quantization, where every gradient goes
#
# Runtime: 3.5 s on a 2-core CPU (GPU: not measured). Reads alongside the paper's method section (latent
# quantization) and `quantizer.py`.
#
# The first half of the method: each latent dimension j gets its **own** small scalar codebook V_j of n_v values
# (initialised evenly over a fixed interval, then learned; n_v and the initial grid are printed below, and the
# example uses a smaller n_v to stay readable). The encoder's continuous output z_c is snapped, coordinate by
# coordinate, to the nearest value of that coordinate's codebook. The latent space is therefore a
# grid, the product of the codebooks: few values per dimension, reused in every combination. The decoder can only
# ever see grid points, so a value must mean the same thing whatever the other coordinates are.

# %%
import torch

from _setup import check, plt, savefig
import train
from quantizer import LatentQuantizer, commitment_loss, quantization_loss, straight_through

print("n_v (train.py's --values-per-latent):", train.Args().values_per_latent, "; initial grid:",
      [round(v, 3) for v in LatentQuantizer(1, train.Args().values_per_latent).codebooks()[0].tolist()])
torch.manual_seed(0)
q = LatentQuantizer(n_latents=3, values_per_latent=5)
print("initial codebooks (n_z x n_v):\n", q.codebooks().detach())
z_c = torch.tensor([[0.07, -0.61, 0.24], [0.30, 0.12, -0.13]], requires_grad=True)  # (B=2, n_z=3)
z_q, indices = q(z_c)
print("z_c:", z_c.detach().numpy().round(2).tolist(), "\nz_q:", z_q.detach().numpy().round(2).tolist(),
      "\nindices:", indices.tolist())
check(torch.equal(indices, torch.tensor([[2, 0, 3], [3, 2, 1]])), "each coordinate snaps to its nearest value")

# %% [markdown]
# **Straight-through.** Snapping has zero gradient almost everywhere, so the decoder is fed
# z_c + stopgrad(z_q - z_c): its value is z_q, its gradient flows to z_c as if quantization were the identity.
# Nothing reaches the codebook through this path.

# %%
z_st = straight_through(z_c, z_q)
z_st.sum().backward()
print("d(sum z_st)/d z_c:", z_c.grad.tolist(), " codebook grad:", q.values.grad)
check(torch.equal(z_st, z_q), "the straight-through value equals z_q")
check(torch.equal(z_c.grad, torch.ones_like(z_c)), "its gradient reaches z_c as the identity")
check(q.values.grad is None, "and reaches no codebook value")

# %% [markdown]
# **The two losses** train what straight-through leaves untrained. Both equal the mean of (z_c - z_q)^2, but:
# - quantization loss = mean (stopgrad(z_c) - z_q)^2 moves only the codebook values (towards the encodings);
# - commitment loss = mean (z_c - stopgrad(z_q))^2 moves only the encoder (towards its values).
#
# QLAE adds both, each with a small weight (printed below), to the reconstruction loss. (Putting both on the
# straight-through output, as one popular library does, leaves the codebook untrained and makes the two encoder
# gradients cancel.)

# %%
print("QLAE's loss weights (train.Args):", {k: getattr(train.Args(), f"{k}_weight") for k in
                                          ("quantization", "commitment")})
grads = {}
for name, loss_fn in (("quantization", quantization_loss), ("commitment", commitment_loss)):
    q.values.grad, z_c.grad = None, None
    z_q, _ = q(z_c)
    loss_fn(z_c, z_q).backward()
    grads[name] = (z_c.grad, q.values.grad)
    print(f"{name:12s} loss: grad to encoder output {z_c.grad is not None}, to codebook {q.values.grad is not None}")
check(grads["quantization"][0] is None and grads["quantization"][1] is not None,
      "the quantization loss moves only the codebook")
check(grads["commitment"][0] is not None and grads["commitment"][1] is None,
      "the commitment loss moves only the encoder")

# %% [markdown]
# Learning the values: below, encodings of one latent are drawn from three clusters, and only the quantization
# loss trains the codebook (Adam; the count and the learning rate are printed). Each value moves to the mean of
# the encodings nearest to it, so the values leave the empty stretches between the clusters and split the
# clusters among themselves (the figure: blue the initial grid, red the learned values). With an encoder in the
# loop the commitment loss pulls the encodings onto the values at the same time, and weight decay (step 3)
# decides how many distinct values the encoder can afford to use.

# %%
torch.manual_seed(0)
q1 = LatentQuantizer(1, 10)
encodings = torch.cat([torch.randn(700) * 0.03 - 0.35, torch.randn(600) * 0.03 + 0.05,
                       torch.randn(700) * 0.03 + 0.4])[:, None]  # (2000, 1)
start = q1.codebooks().detach().clone()
opt = torch.optim.Adam(q1.parameters(), lr=0.01)
print(f"{len(encodings)} encodings in three clusters; Adam, lr {opt.param_groups[0]['lr']}")
for _ in range(300):
    z_q, _ = q1(encodings)
    opt.zero_grad()
    quantization_loss(encodings, z_q).backward()
    opt.step()
end = q1.codebooks().detach()
fig, ax = plt.subplots(figsize=(7, 2.2))
ax.hist(encodings[:, 0].numpy(), bins=80, color="0.8")
ax.vlines(start[0].numpy(), 0, 40, color="tab:blue", label="initial values")
ax.vlines(end[0].numpy(), 0, 80, color="tab:red", label="after training")
ax.legend(fontsize=8), ax.set_xlabel("latent value"), ax.set_yticks([])
savefig(fig, "step2_codebook.png")
used = q1.usage(q1(encodings)[1])[0].item()
distance = (encodings - q1(encodings)[0]).abs().mean().item()
initial_distance = (encodings - LatentQuantizer(1, 10)(encodings)[0]).abs().mean().item()
print(f"mean |z_c - z_q|: {initial_distance:.4f} at the initial grid, {distance:.4f} after; values used {used:.0%}")
print("learned values:", [round(v, 3) for v in end[0].tolist()])
check(distance < 0.5 * initial_distance, "the learned values sit closer to the encodings than the initial grid")
centres = torch.tensor([-0.35, 0.05, 0.4])
check(bool(((end[0][:, None] - centres).abs().min(1).values < 0.1).all()), "every value moved into a cluster")
