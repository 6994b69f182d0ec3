# %% [markdown]
# # Step 1: the data, and what "disentangled" would mean on it
#
# Runtime: 3 s on a 2-core CPU (GPU: not measured). Reads alongside the paper's problem setting (sources, latents,
# disentanglement).
#
# Disentanglement is defined against **sources**: the few independent factors that generated the data. The paper
# evaluates on datasets whose sources are known because the images were rendered from them; here we render a
# procedural analogue of Shapes3D ourselves (`data.py`), so nothing has to be downloaded: six sources (floor hue,
# wall hue, object hue, scale, shape, orientation) with 10, 10, 10, 8, 4 and 15 values, every combination of
# them one image.

# %%
import torch

from _setup import FAST, check, fast, plt, savefig  # noqa: F401  (FAST: see tutorial/README.md)
import data
import train

dataset = data.Shapes3D(resolution=fast(64, 32))
print("sources:", dict(zip(dataset.factor_names, dataset.factor_sizes)))
print("images:", len(dataset), "of shape", dataset.image_shape)

# %% [markdown]
# Each image is a deterministic function of its source values. Below, one row per source: start from one
# image and change only that source through all its values. A **disentangled** representation would give each
# row its own latent (modularity: one latent per source; compactness: one source per latent) and would let a
# simple read-out recover each source from the latents (explicitness). Step 4 turns these three words into
# InfoM, InfoC and InfoE.

# %%
base = torch.tensor([2, 6, 0, 4, 1, 7])  # a reference image's source values
fig, axes = plt.subplots(len(dataset.factor_sizes), 15, figsize=(15, 6.5))
for i, (name, size) in enumerate(zip(dataset.factor_names, dataset.factor_sizes)):
    factors = base.repeat(size, 1)  # (size, n_s)
    factors[:, i] = torch.arange(size)
    images = dataset.render(factors)  # (size, 3, H, W) in [0, 1]
    for k in range(15):
        ax = axes[i, k]
        ax.set_xticks([]), ax.set_yticks([])
        if k < size:
            ax.imshow(images[k].permute(1, 2, 0).numpy())
        else:
            ax.axis("off")
    axes[i, 0].set_ylabel(name, rotation=0, ha="right", fontsize=9)
savefig(fig, "step1_sources.png")

# %% [markdown]
# Training draws uniformly random images (`dataset.sample`), rendered on the training device so the loop never
# waits for data; evaluation uses a fixed set of images (`data.eval_indices`; its size is train.py's
# `--eval-size`, printed below).

# %%
x, factors = dataset.sample(8, torch.Generator().manual_seed(0))
print("a batch:", tuple(x.shape), "with sources\n", factors)
print("evaluation set: the first", train.Args().eval_size, "images of data.eval_indices' fixed order")

# Checks: the claims above hold for this dataset.
check(x.min() >= 0 and x.max() <= 1, "pixels lie in [0, 1] (the reconstruction loss is a BCE on them)")
check(len(dataset) == 10 * 10 * 10 * 8 * 4 * 15, "one image per combination of source values (480 000)")
for i, name in enumerate(dataset.factor_names):
    other = base.clone()
    other[i] = (base[i] + 1) % dataset.factor_sizes[i]
    difference = (dataset.render(base[None]) - dataset.render(other[None])).abs().max().item()
    check(difference > 0.05, f"changing {name} alone changes the image (max pixel change {difference:.2f})")
again = dataset.render(factors)
check(torch.equal(again, x), "rendering is deterministic: the same sources give the same image")
