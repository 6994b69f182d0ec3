"""The figures of a run: reconstructions, GAN samples, latent traversals, and learning curves. (The NMI heatmap is
lab/infomec_tools.plot_nmi.) Not part of the method; train.py and lab/sweep.py call these.
"""
import os

import numpy as np
import torch

from lab.baselines import VQVAE
from lab.files import save_figure
from models import InfoGAN


@torch.no_grad()
def draw_figures(model, dataset, indices, codes, out_dir):
    """reconstructions.png (the images `indices`, at most 8, over their reconstructions), samples.png (GANs: 64
    samples from the code prior) and traversals.png (each latent swept in turn; not for VQ-VAE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def show(ax, img):  # img (C, H, W) in [0, 1]
        ax.imshow(img.permute(1, 2, 0).cpu().numpy().squeeze(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])

    x = dataset.render_index(indices)  # (n <= 8, C, H, W): a small user dataset may have fewer
    recon = torch.sigmoid(model.reconstruct(x))  # (n, C, H, W)
    fig, axes = plt.subplots(2, len(x), figsize=(8, 2.2), squeeze=False)
    for i in range(len(x)):
        show(axes[0, i], x[i]), show(axes[1, i], recon[i])
    axes[0, 0].set_ylabel("input"), axes[1, 0].set_ylabel("recon")
    fig.tight_layout(), save_figure(fig, os.path.join(out_dir, "reconstructions.png"), dpi=100)

    if isinstance(model, InfoGAN):  # a GAN: 64 samples from the code prior (U[0,1] or the codebook grid)
        device = next(model.parameters()).device  # own stream: drawing samples leaves training's untouched
        samples = torch.sigmoid(model.decoder(model.sample_codes(64, torch.Generator(device).manual_seed(0))))
        fig, axes = plt.subplots(8, 8, figsize=(8, 8))
        for ax, img in zip(axes.flat, samples):
            show(ax, img)
        fig.tight_layout(pad=0.1), save_figure(fig, os.path.join(out_dir, "samples.png"), dpi=80)

    # Traversals: start from the first image's latent and sweep one latent at a time. QLAE: over every value
    # of that latent's learned codebook (sorted); AE: over the range the evaluation set covers, in 10 steps.
    if isinstance(model, VQVAE):
        return  # a VQ-VAE slot holds a 64-d vector: there is no single axis to sweep
    z = model.latent(x[:1])  # (1, n_z): z_q, mu or z
    n_z = z.shape[1]
    if model.scalar_quantized:
        sweeps = model.quantizer.codebooks().sort(dim=1).values  # (n_z, n_v)
    else:
        lo, hi = codes.min(0).values, codes.max(0).values  # (n_z,)
        sweeps = torch.stack([torch.linspace(a, b, 10) for a, b in zip(lo.tolist(), hi.tolist())]).to(z.device)
    n_v = sweeps.shape[1]
    fig, axes = plt.subplots(n_z, n_v, figsize=(n_v * 0.8, n_z * 0.8), squeeze=False)
    for j in range(n_z):
        zs = z.repeat(n_v, 1)  # (n_v, n_z)
        zs[:, j] = sweeps[j]
        imgs = torch.sigmoid(model.decoder(zs))  # (n_v, C, H, W)
        for k in range(n_v):
            show(axes[j, k], imgs[k])
        axes[j, 0].set_ylabel(f"z{j}", rotation=0, labelpad=12, fontsize=8)
    fig.tight_layout(pad=0.1), save_figure(fig, os.path.join(out_dir, "traversals.png"), dpi=80)


CURVE_PANELS = (("infom", "InfoM"), ("infoe", "InfoE"), ("infoc", "InfoC"), ("psnr", "PSNR (dB)"),
                ("decayed_norm", "norm of the decayed weights"), ("codebook_range", "codebook range (mean)"))


def plot_curves(groups, path, labels, title=""):
    """Learning curves from curves.jsonl rows. groups: one list of runs (each a list of rows) per label; a group of
    several runs (seeds) is drawn as its mean and a band from its lowest to its highest run. InfoMEC panels: the
    standalone flavour solid, the training-time flavour dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for (key, name), ax in zip(CURVE_PANELS, axes.flat):
        for i, (runs, label) in enumerate(zip(groups, labels)):
            colour = f"C{i}"
            flavours = [(False, "-")] + [(True, "--")] * (key in ("infom", "infoe", "infoc"))
            for training, style in flavours:
                get = (lambda r: r.get("training_flavour", {}).get(key)) if training else (lambda r: r.get(key))
                steps = sorted({r["step"] for run in runs for r in run if get(r) is not None})
                if not steps:
                    continue
                table = np.array([[next((get(r) for r in run if r["step"] == s and get(r) is not None), np.nan)
                                   for s in steps] for run in runs])  # (runs, steps)
                mean = np.nanmean(table, 0)
                ax.plot(steps, mean, style, color=colour,
                        label=None if training else f"{label} (n={len(runs)})")
                if len(runs) > 1 and not training:
                    ax.fill_between(steps, np.nanmin(table, 0), np.nanmax(table, 0), color=colour, alpha=0.2)
        ax.set_title(name + (" (solid: standalone, dashed: training-time)" if key == "infom" else ""), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)  # (never through a link planted at `path`: lab/files.py)
