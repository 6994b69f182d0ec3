"""Loaders for the real datasets and for bring-your-own .npz files, tested on tiny fabricated files with the real
layout (as each dataset is released): a known image planted at a known index must come back at that index's factors."""
import os

import numpy as np
import pytest
import torch

import train
from lab import real_data


def planted(n, shape, index, seed=0):
    """n random uint8 images of `shape`, with a recognisable one (a gradient) at `index`."""
    images = np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)
    images[index] = (np.arange(np.prod(shape)) % 251).reshape(shape).astype(np.uint8)
    return images


def check_round_trip(ds, images, index, scale=255.0):
    factors = ds.index_to_factors(torch.tensor([index]))
    assert ds.factors_to_index(factors).item() == index
    x = ds.render(factors)[0]  # (C, H, W)
    expected = torch.from_numpy(images[index]).float() / scale
    expected = expected[None] if expected.ndim == 2 else expected.permute(2, 0, 1)
    assert torch.equal(x, expected)


def test_dsprites_npz_round_trips_and_drops_colour(tmp_path):
    sizes = (3, 2, 2, 2, 2)
    n = int(np.prod(sizes))
    images = (planted(n, (64, 64), 17) % 2).astype(np.uint8)  # 0/1 pixels, as in the release
    grid = np.stack(np.unravel_index(np.arange(n), sizes), 1)
    np.savez_compressed(tmp_path / real_data.REAL["dsprites"][0], imgs=images,
                        latents_classes=np.concatenate([np.zeros((n, 1), int), grid], 1))
    ds = real_data.load_real("dsprites", str(tmp_path), sizes)
    assert ds.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y") and ds.image_shape == (1, 64, 64)
    check_round_trip(ds, images, 17, scale=1.0)


def test_shapes3d_h5_maps_float_labels_to_indices(tmp_path):
    h5py = pytest.importorskip("h5py")  # an optional dependency; CI installs it so this runs there
    sizes = (2, 2, 2, 2, 2, 3)
    n = int(np.prod(sizes))
    images = planted(n, (64, 64, 3), 29)
    grid = np.stack(np.unravel_index(np.arange(n), sizes), 1)
    labels = grid * np.array([0.1, 0.1, 0.1, 0.25, 1.0, 15.0]) + np.array([0, 0, 0, 0.75, 0, -30])  # float VALUES
    with h5py.File(tmp_path / "3dshapes.h5", "w") as f:
        f["images"], f["labels"] = images, labels
    ds = real_data.load_real("shapes3d", str(tmp_path), sizes)
    check_round_trip(ds, images, 29)
    assert ds.index_to_factors(torch.tensor([29]))[0].tolist() == list(grid[29])


@pytest.mark.parametrize("name", ["mpi3d_toy", "mpi3d_realistic", "mpi3d_real", "mpi3d_complex"])
def test_mpi3d_npz_is_read_lazily_and_round_trips(tmp_path, name):
    sizes = (2, 2, 2, 1, 1, 3, 2)
    n = int(np.prod(sizes))
    images = planted(n, (64, 64, 3), 41)
    np.savez(tmp_path / real_data.REAL[name][0], images=images)  # stored uncompressed, like the release
    ds = real_data.load_real(name, str(tmp_path), sizes)
    assert isinstance(ds.images, real_data.RawArray)  # not loaded into memory
    check_round_trip(ds, images, 41)


def test_mpi3d_factor_sizes_are_the_right_ones():
    assert real_data.REAL["mpi3d_toy"][2] == (6, 6, 2, 3, 3, 40, 40)  # [4, 4, ...] is only the complex file's
    assert real_data.REAL["mpi3d_complex"][2] == (4, 4, 2, 3, 3, 40, 40)
    assert np.prod(real_data.REAL["mpi3d_real"][2]) == 1_036_800
    assert np.prod(real_data.REAL["mpi3d_complex"][2]) == 460_800
    assert np.prod(real_data.REAL["falcor3d"][2]) == 233_280 and np.prod(real_data.REAL["isaac3d"][2]) == 737_280


def test_a_compressed_npz_is_read_whole(tmp_path):
    sizes = (2, 1, 1, 1, 1, 2, 2)
    images = planted(8, (64, 64, 3), 5)
    np.savez_compressed(tmp_path / "mpi3d_toy.npz", images=images)
    check_round_trip(real_data.load_real("mpi3d_toy", str(tmp_path), sizes), images, 5)


@pytest.mark.parametrize("name", ["falcor3d", "isaac3d"])
def test_png_folders_are_halved_to_64_px_with_antialiasing(tmp_path, name):
    from PIL import Image

    sizes = (2, 1, 1, 1, 1, 1, 3) if name == "falcor3d" else (1, 1, 1, 1, 1, 1, 2, 1, 3)
    n = int(np.prod(sizes))
    small = planted(n, (64, 64, 3), 4)
    folder = tmp_path / real_data.REAL[name][0]
    folder.mkdir()
    for i in range(n):  # the 128 px release: each 64 px pixel becomes a 2x2 block, so halving recovers it
        Image.fromarray(small[i].repeat(2, 0).repeat(2, 1)).save(folder / f"{i:06d}.png")
    ds = real_data.load_real(name, str(tmp_path), sizes)
    check_round_trip(ds, small, 4)


@pytest.mark.parametrize("channels, dtype", [(None, np.uint8), (None, np.float32), (3, np.uint8), (1, np.float64)])
def test_bring_your_own_npz_with_grayscale_rgb_uint8_and_float(tmp_path, channels, dtype):
    shape = (32, 32) if channels is None else (32, 32, channels)
    images = planted(12, shape, 7)
    stored = images if dtype == np.uint8 else (images / 255.0).astype(dtype)
    factors = np.stack(np.unravel_index(np.random.default_rng(0).permutation(12), (3, 4)), 1)  # any order
    np.savez(tmp_path / "mine.npz", images=stored, factors=factors)
    ds = real_data.open_dataset(f"npz:{tmp_path / 'mine.npz'}")
    assert ds.image_shape == ((3, 32, 32) if channels == 3 else (1, 32, 32)) and ds.factor_sizes == (3, 4)
    x = ds.render(torch.as_tensor(factors[7:8]))[0]
    expected = torch.from_numpy(np.asarray(stored[7], np.float64)).float() / (255.0 if dtype == np.uint8 else 1.0)
    expected = expected.reshape(32, 32, -1).permute(2, 0, 1)
    assert torch.allclose(x, expected, atol=1e-6)


def test_train_runs_on_a_bring_your_own_npz(tmp_path):
    images = planted(24, (32, 32, 3), 0)
    factors = np.stack(np.unravel_index(np.arange(24), (4, 6)), 1)
    np.savez(tmp_path / "mine.npz", images=images, factors=factors)
    result = train.main(["--dataset", f"npz:{tmp_path / 'mine.npz'}", "--steps", "3", "--batch-size", "8",
                         "--out-dir", str(tmp_path / "run")])
    assert result["n_eval"] == 24 and result["psnr"] == result["psnr"]


def test_bring_your_own_images_need_not_form_a_grid(tmp_path):
    """Repeated combinations and missing ones: training samples images (not combinations) and the evaluation set
    is a set of images, so every image is used and each keeps its own label."""
    rng = np.random.default_rng(1)
    factors = np.stack([rng.integers(0, 3, 40), rng.integers(0, 5, 40)], 1)  # 40 images, 15 combinations: repeats
    factors[factors[:, 0] == 2, 1] = 0  # and combinations (2, 1..4) missing
    images = planted(40, (32, 32, 3), 3)
    np.savez(tmp_path / "mine.npz", images=images, factors=factors)
    ds = real_data.open_dataset(f"npz:{tmp_path / 'mine.npz'}")
    assert len(ds) == 40
    x = ds.render_index(torch.tensor([5, 17]))
    assert torch.allclose(x[1], torch.from_numpy(images[17]).float().permute(2, 0, 1) / 255)
    assert torch.equal(ds.index_to_factors(torch.tensor([17]))[0], torch.as_tensor(factors[17]))
    result = train.main(["--dataset", f"npz:{tmp_path / 'mine.npz'}", "--steps", "3", "--batch-size", "8",
                         "--out-dir", str(tmp_path / "run"), "--eval-size", "16"])
    assert result["n_eval"] == 16 and result["infom"] == result["infom"]


def test_an_evaluation_set_with_a_constant_factor_still_finishes_the_run(tmp_path):
    images = planted(8, (32, 32, 3), 0)
    np.savez(tmp_path / "mine.npz", images=images, factors=np.stack([np.arange(8), np.zeros(8, int)], 1))
    result = train.main(["--dataset", f"npz:{tmp_path / 'mine.npz'}", "--steps", "2", "--batch-size", "4",
                         "--out-dir", str(tmp_path / "run")])
    assert "constant" in result["infomec_error"] and result["psnr"] == result["psnr"]
    assert (tmp_path / "run" / "eval.json").exists() and (tmp_path / "run" / "ckpt.pt").exists()


# --- validation: every error names the file and says what was expected ---------------------------------------
def test_missing_file_names_it_and_where_to_download(tmp_path):
    with pytest.raises(ValueError, match=r"mpi3d_toy\.npz: file not found.*rr-learning"):
        real_data.load_real("mpi3d_toy", str(tmp_path))
    with pytest.raises(ValueError, match="Falcor3D: folder not found"):
        real_data.load_real("falcor3d", str(tmp_path))


def test_wrong_key_wrong_shape_wrong_dtype_and_wrong_count(tmp_path):
    sizes = (2, 1, 1, 1, 1, 2, 2)
    np.savez(tmp_path / "mpi3d_toy.npz", pictures=planted(8, (64, 64, 3), 0))
    with pytest.raises(ValueError, match=r"no array 'images' \(found \['pictures'\]\)"):
        real_data.load_real("mpi3d_toy", str(tmp_path), sizes)
    np.savez(tmp_path / "mpi3d_toy.npz", images=planted(8, (32, 32, 3), 0))
    with pytest.raises(ValueError, match=r"should have shape \(8, 64, 64, 3\).*found \(8, 32, 32, 3\)"):
        real_data.load_real("mpi3d_toy", str(tmp_path), sizes)
    np.savez(tmp_path / "mpi3d_toy.npz", images=planted(8, (64, 64, 3), 0).astype(np.float32))
    with pytest.raises(ValueError, match="dtype uint8"):
        real_data.load_real("mpi3d_toy", str(tmp_path), sizes)
    np.savez(tmp_path / "mpi3d_toy.npz", images=planted(9, (64, 64, 3), 0))  # count disagrees with the sizes
    with pytest.raises(ValueError, match=r"should have shape \(8,"):
        real_data.load_real("mpi3d_toy", str(tmp_path), sizes)


def test_truncated_and_corrupt_files_are_clear_errors(tmp_path):
    sizes = (2, 1, 1, 1, 1, 2, 2)
    path = tmp_path / "mpi3d_toy.npz"
    np.savez(path, images=planted(8, (64, 64, 3), 0))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])  # a download cut in half
    with pytest.raises(ValueError, match="truncated or corrupt"):
        real_data.load_real("mpi3d_toy", str(tmp_path), sizes)
    path.write_bytes(b"this is not a zip file at all" * 100)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        real_data.load_real("mpi3d_toy", str(tmp_path), sizes)


@pytest.mark.parametrize("fault, message", [("stray", "unexpected file"), ("size", "square with a side"),
                                             ("broken", "not a readable PNG")])
def test_png_folder_faults_are_named(tmp_path, fault, message):
    """A stray file or an odd-sized first image is found when the folder is opened; a broken PNG when it is read,
    with its path in the message (not a reshape traceback)."""
    from PIL import Image

    sizes = (1, 1, 1, 1, 1, 1, 2, 1, 2)
    folder = tmp_path / "Isaac3D"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.zeros((128, 128 if fault != "size" else 96, 3), np.uint8)).save(folder / f"{i:06d}.png")
    if fault == "stray":
        (folder / "notes.txt").write_text("x")
        (folder / "000003.png").rename(folder / "000004.png")
    if fault == "broken":
        (folder / "000002.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=message):
        ds = real_data.load_real("isaac3d", str(tmp_path), sizes)
        ds.render_index(torch.arange(4))


def test_png_folder_with_the_wrong_count(tmp_path):
    (tmp_path / "Isaac3D").mkdir()
    with pytest.raises(ValueError, match="expected 737280 PNG files"):
        real_data.load_real("isaac3d", str(tmp_path))


def test_dsprites_with_classes_in_the_wrong_order(tmp_path):
    sizes = (3, 2, 2, 2, 2)
    n = int(np.prod(sizes))
    grid = np.stack(np.unravel_index(np.arange(n), sizes), 1)[::-1]
    np.savez_compressed(tmp_path / real_data.REAL["dsprites"][0], imgs=np.zeros((n, 64, 64), np.uint8),
                        latents_classes=np.concatenate([np.zeros((n, 1), int), grid], 1))
    with pytest.raises(ValueError, match="disagree with the index order"):
        real_data.load_real("dsprites", str(tmp_path), sizes)


@pytest.mark.parametrize("arrays, message", [
    ({"images": np.zeros((4, 8, 8, 2), np.uint8), "factors": np.zeros((4, 1), int)}, "C 1 or 3"),
    ({"images": np.zeros((4, 8, 8), np.int16), "factors": np.arange(4)[:, None]}, "uint8"),
    ({"images": np.zeros((4, 8, 8), np.uint8), "factors": np.zeros((3, 1), int)}, r"factors should be \(4, n_s\)"),
    ({"images": np.zeros((4, 8, 8), np.uint8), "factors": np.zeros((4, 1), float)}, "integers"),
    ({"images": np.zeros((4, 32, 48), np.uint8), "factors": np.arange(4)[:, None]}, "square with a side"),
    ({"images": np.zeros((4, 40, 40), np.uint8), "factors": np.arange(4)[:, None]}, "multiple of 16"),
    ({"images": np.full((4, 32, 32), 200.0, np.float32), "factors": np.arange(4)[:, None]}, "0..255 scale"),
    ({"images": np.zeros((4, 32, 32), np.uint8), "factors": np.arange(4)[:, None] * 10 ** 9}, "class indices"),
])
def test_bring_your_own_npz_validation(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        real_data.load_npz(str(tmp_path / "bad.npz"))


def test_real_names_need_a_data_dir_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="pass --data-dir"):
        real_data.open_dataset("mpi3d_toy")
    with pytest.raises(ValueError, match="no real dataset"):
        real_data.open_dataset("vector", data_dir="x")


def test_nothing_is_written_into_the_data_folder(tmp_path):
    sizes = (2, 1, 1, 1, 1, 2, 2)
    np.savez(tmp_path / "mpi3d_toy.npz", images=planted(8, (64, 64, 3), 0))
    before = sorted(os.listdir(tmp_path))
    ds = real_data.load_real("mpi3d_toy", str(tmp_path), sizes)
    ds.sample(4, torch.Generator().manual_seed(0))
    assert sorted(os.listdir(tmp_path)) == before


def test_an_npy_header_claiming_an_absurd_shape_is_refused_as_truncated(tmp_path):
    """A hostile or corrupt header: (10^12, 64, 64, 3) uint8 in a file of a few bytes. The size check runs on
    Python integers (no int64 overflow) and names the array."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (10 ** 12, 64, 64, 3)})
    factors = io.BytesIO()
    np.save(factors, np.zeros((4, 1), int))
    path = tmp_path / "mine.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("images.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 16)
        zf.writestr("factors.npy", factors.getvalue())
    with pytest.raises(ValueError, match="array 'images' is truncated"):
        real_data.load_npz(str(path))
