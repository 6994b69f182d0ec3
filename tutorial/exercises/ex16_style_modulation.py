"""Exercise 16 (step 2 and models.py): how the latent steers the decoder.

The decoder (models.StyleDecoder) does not feed the latent in as an image: it starts from a learned constant,
and in every block the latent w sets, per channel, a scale and a shift applied to the block's normalised
features. Write the modulation of one block:

    modulate(h, w, style) -> (B, C, H, W)
        h: features (B, C, H, W); w: latent (B, n_z); style: a torch.nn.Linear(n_z, 2 * C)
        1. normalise h per example and channel over its H x W positions (zero mean, unit variance, eps 1e-6 in
           the variance; no learned affine),
        2. scale, shift = ReLU(style(w)) split into two halves (first C: scale, last C: shift),
        3. return normalised h * scale + shift, each broadcast over the positions.

The grader checks properties, not code: what mean and standard deviation must each output channel have? Which
values of w switch a channel off (make it constant over the image), and why does the ReLU make that easy?

Grade it:  python -m pytest tutorial/exercises -k ex16
"""
import torch  # noqa: F401


def modulate(h, w, style):
    raise NotImplementedError
