"""A `values` array (a quantized model's z_q) whose shape does not match `latents` is refused, not scored (issue 28)."""
import numpy as np
import pytest

from lab import infomec_tools


def test_values_of_another_shape_than_latents_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    s = rng.integers(0, [4, 3], size=(200, 2))
    codes = np.stack([s[:, 0], s[:, 1], rng.integers(0, 5, 200)], 1)
    np.savez(tmp_path / "ok.npz", sources=s, latents=codes, values=codes / 4.0)
    assert infomec_tools.read_latents_file(str(tmp_path / "ok.npz"))[2].shape == codes.shape
    np.savez(tmp_path / "bad.npz", sources=s, latents=codes, values=codes[:, :2] / 4.0)
    with pytest.raises(ValueError, match=r"bad\.npz: `values` has shape \(200, 2\), `latents` \(200, 3\)"):
        infomec_tools.read_latents_file(str(tmp_path / "bad.npz"))
