"""Files that are not what they seem, and inputs at the edges of the metric (issue 28): bad pixels anywhere in a
file, PNGs of other modes, truncated or claiming huge sizes, files that are not files, tiny or degenerate labels,
latents at extreme scales or of the wrong kind. Each case stops with one line that says what was wrong, or gives
the answer it should."""
import os
import signal
import struct
import zlib

import numpy as np
import pytest
import torch

import infomec
import train
from lab import real_data
from lab.infomec_fast import FAST


def float_npz(path, fault, at=70, n=200, compressed=False):
    """n float32 images in [0, 1] with one fault planted in image `at`."""
    images = np.random.default_rng(0).random((n, 32, 32)).astype(np.float32)
    if fault == "255":  # one image on a 0..255 scale
        images[at] = np.round(images[at] * 255)
        images[at, 0, 0] = 255
    elif fault == "nan":
        images[at, 3, 4] = np.nan
    elif fault == "inf":
        images[at, 3, 4] = np.inf
    elif fault == "negative":
        images[at, 0, 0] = -0.5
    (np.savez_compressed if compressed else np.savez)(path, images=images, factors=np.arange(n)[:, None] % 4)
    return str(path)


# --- bad pixels anywhere in the file -------------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [False, True])  # read lazily (positioned reads) and read whole
@pytest.mark.parametrize("fault, message", [
    ("255", r"image 70 has 255.*divide by 255"), ("nan", "image 70 has NaN pixels"),
    ("inf", "image 70 has infinite pixels"), ("negative", r"pixels should be in \[0, 1\]; image 70 has -0.5")])
def test_a_bad_image_beyond_the_first_64_is_named_with_its_cause(tmp_path, fault, message, compressed):
    path = float_npz(tmp_path / "mine.npz", fault, compressed=compressed)
    with pytest.raises(ValueError, match=message):
        real_data.load_npz(path)


@pytest.mark.parametrize("at", [0, 12, 13, 199])
def test_the_whole_file_is_checked_chunk_by_chunk(tmp_path, monkeypatch, at):
    """Chunks of 13 images (a chunk size that does not divide 200): the bad image is found in any chunk and named
    by its index in the file, not in its chunk."""
    monkeypatch.setattr(real_data, "CHUNK_BYTES", 13 * 32 * 32 * 4)
    with pytest.raises(ValueError, match=f"image {at} has NaN"):
        real_data.load_npz(float_npz(tmp_path / "mine.npz", "nan", at=at))
    real_data.load_npz(float_npz(tmp_path / "good.npz", None))  # and a good file opens


def test_dsprites_pixels_must_be_0_or_1(tmp_path):
    sizes = (3, 2, 2, 2, 2)
    n = int(np.prod(sizes))
    imgs = np.zeros((n, 64, 64), np.uint8)
    imgs[40, 5, 5] = 255  # one image on a 0..255 scale would train to nonsense
    classes = np.concatenate([np.zeros((n, 1), int), np.stack(np.unravel_index(np.arange(n), sizes), 1)], 1)
    np.savez_compressed(tmp_path / real_data.REAL["dsprites"][0], imgs=imgs, latents_classes=classes)
    with pytest.raises(ValueError, match=r"pixels should be in \[0, 1\]; image 40 has 255"):
        real_data.load_real("dsprites", str(tmp_path), sizes)


# --- files that are not what their name says -----------------------------------------------------------------
def test_a_fifo_named_npz_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "mine.npz")

    def hung(*_):
        raise TimeoutError("load_npz waited on a FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        with pytest.raises(ValueError, match="not a regular file"):
            real_data.load_npz(str(tmp_path / "mine.npz"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def png_bytes(width, height, bit_depth, colour_type, rows):
    """A PNG written by hand (Pillow cannot write 16-bit RGB): rows of raw bytes, filter 0."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    data = zlib.compress(b"".join(b"\0" + r for r in rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def isaac_folder(tmp_path, write):
    """A tiny Isaac3D folder of 4 images, each written by write(path, rgb) from the (128, 128, 3) uint8 `rgb`;
    returns the 64 px images the reader should give."""
    folder = tmp_path / "Isaac3D"
    folder.mkdir()
    small = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    for i in range(4):  # 2x2 blocks of one value: halving is exact
        write(folder / f"{i:06d}.png", small[i].repeat(2, 0).repeat(2, 1))
    return torch.from_numpy(small).permute(0, 3, 1, 2).float() / 255


SIZES = (1, 1, 1, 1, 1, 1, 2, 1, 2)


@pytest.mark.parametrize("mode", ["grey16", "rgb16", "palette", "grey_alpha_opaque", "rgba_opaque"])
def test_png_modes_are_read_at_their_true_values(tmp_path, mode):
    from PIL import Image

    def write(path, rgb):
        grey = rgb[..., 0]
        if mode == "grey16":  # 0..65535: Pillow's RGB conversion clips it to 255
            Image.fromarray(grey.astype(np.uint16) * 257).save(path)
        elif mode == "rgb16":
            path.write_bytes(png_bytes(128, 128, 16, 2, [(r.astype(">u2") * 257).tobytes() for r in rgb]))
        elif mode == "palette":  # a palette that holds every grey level exactly
            image = Image.fromarray(grey, "L").convert("P")
            image.putpalette([v for g in range(256) for v in (g, g, g)])
            image.save(path)
        elif mode == "grey_alpha_opaque":
            Image.merge("LA", [Image.fromarray(grey), Image.fromarray(np.full_like(grey, 255))]).save(path)
        else:
            Image.fromarray(np.concatenate([rgb, np.full_like(rgb[..., :1], 255)], 2), "RGBA").save(path)

    expected = isaac_folder(tmp_path, write)
    if mode != "rgb16" and mode != "rgba_opaque":
        expected = expected[:, :1].expand(-1, 3, -1, -1)
    ds = real_data.load_real("isaac3d", str(tmp_path), SIZES)
    assert torch.equal(ds.render_index(torch.arange(4)), expected)


@pytest.mark.parametrize("fault, message", [
    ("transparent", r"000002\.png: has transparent pixels"),
    ("cut_first", r"000000\.png: not a readable PNG \(no PNG signature"),  # a download cut after 5 bytes
    ("cut_header", r"000000\.png: not a readable PNG"),  # cut inside the header's chunk
    ("cut_later", r"000003\.png: not a readable PNG \(image file is truncated\)"),
    ("bomb", r"000001\.png: images should be square with a side of 64 or 128 px, found 1000000x1000000"),
    ("jpeg", r"000002\.png: not a readable PNG \(no PNG signature"),
])
def test_broken_or_hostile_pngs_are_named_in_one_line(tmp_path, fault, message):
    from PIL import Image

    def write(path, rgb):
        Image.fromarray(rgb).save(path)

    isaac_folder(tmp_path, write)
    folder = tmp_path / "Isaac3D"
    if fault == "transparent":
        alpha = np.full((128, 128, 1), 255, np.uint8)
        alpha[5, 5] = 0
        Image.fromarray(np.concatenate([np.zeros((128, 128, 3), np.uint8), alpha], 2), "RGBA").save(
            folder / "000002.png")
    if fault.startswith("cut"):
        name, cut = {"cut_first": ("000000.png", 5), "cut_header": ("000000.png", 30),
                     "cut_later": ("000003.png", 200)}[fault]
        (folder / name).write_bytes((folder / name).read_bytes()[:cut])
    if fault == "bomb":  # 10^12 pixels claimed by a file of a few dozen bytes
        (folder / "000001.png").write_bytes(png_bytes(10 ** 6, 10 ** 6, 8, 2, [b"\0" * 30]))
    if fault == "jpeg":
        Image.fromarray(np.zeros((128, 128, 3), np.uint8)).save(folder / "000002.png", format="JPEG")
    with pytest.raises(ValueError, match=message):
        ds = real_data.load_real("isaac3d", str(tmp_path), SIZES)
        ds.render_index(torch.arange(4))


# --- tiny or degenerate labels -------------------------------------------------------------------------------
def test_a_file_too_small_to_score_warns_when_it_opens(tmp_path, capsys):
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
    np.savez(tmp_path / "two.npz", images=images, factors=np.array([[0], [1]]))
    real_data.load_npz(str(tmp_path / "two.npz"))
    assert "holds 2 images" in capsys.readouterr().err
    images = np.zeros((real_data.FEW_IMAGES, 32, 32), np.uint8)
    np.savez(tmp_path / "enough.npz", images=images, factors=np.arange(len(images))[:, None] % 3)
    real_data.load_npz(str(tmp_path / "enough.npz"))
    assert "warning" not in capsys.readouterr().err


def test_factors_without_columns_are_refused_by_name(tmp_path):
    np.savez(tmp_path / "mine.npz", images=np.zeros((8, 32, 32), np.uint8), factors=np.zeros((8, 0), int))
    with pytest.raises(ValueError, match=r"mine\.npz: factors have shape \(8, 0\): no factor"):
        real_data.load_npz(str(tmp_path / "mine.npz"))


def test_many_classes_per_factor_do_not_overflow(tmp_path):
    """5 factors with up to 99 999 classes each: 10^25 combinations, more than int64 can count."""
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 99_999, (40, 5))
    factors[0] = 99_998
    factors[7] = factors[3]  # a repeated combination finds its first image
    images = rng.integers(0, 256, (40, 32, 32), dtype=np.uint8)
    np.savez(tmp_path / "mine.npz", images=images, factors=factors)
    ds = real_data.load_npz(str(tmp_path / "mine.npz"))
    index = torch.tensor([[5, 0], [3, 39]])
    assert torch.equal(ds.factors_to_index(ds.index_to_factors(index)), index)
    assert ds.factors_to_index(torch.as_tensor(factors[7:8])).item() == 3
    assert torch.equal(ds.render(torch.as_tensor(factors[5:6]))[0, 0], torch.from_numpy(images[5]).float() / 255)
    with pytest.raises(ValueError, match="does not contain"):
        ds.factors_to_index(torch.tensor([[1, 2, 3, 4, 5]]))
    result = train.main(["--dataset", f"npz:{tmp_path / 'mine.npz'}", "--steps", "2", "--batch-size", "4",
                         "--out-dir", str(tmp_path / "run")])
    assert result["psnr"] == result["psnr"]


# --- numerical extremes reach the metric ---------------------------------------------------------------------
def good_latents(n=600):
    rng = np.random.default_rng(0)
    s = rng.integers(0, [4, 3], size=(n, 2))
    return s, np.stack([s[:, 0], s[:, 1], rng.integers(0, 5, n)], 1) + 0.3 * rng.standard_normal((n, 3))


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-30, 1e30, 1e200, 1e300])
def test_the_metric_is_scale_free_at_extreme_scales(scale, fast):
    s, z = good_latents()
    kw = FAST if fast else {}
    for flavour, discrete, latents in (("standalone", False, z), ("training", False, z),
                                       ("training", True, np.round(z))):  # the last: a quantized model's values
        good = infomec.infomec(s, latents, discrete, flavour, **kw)
        with np.errstate(over="raise"):  # no overflow on the way (variances of 1e200 latents)
            scaled = infomec.infomec(s, latents * scale, discrete, flavour, **kw)
        for key in ("infom", "infoe", "infoc", "n_active"):
            assert scaled[key] == pytest.approx(good[key], abs=1e-9), (flavour, discrete, key)


def test_complex_latents_are_refused_not_truncated():
    s, z = good_latents()
    with pytest.raises(ValueError, match="latents must be finite real numbers.*complex128"):
        infomec.infomec(s, z + 1j, False, **FAST)
    with pytest.raises(ValueError, match="sources must be finite real numbers"):
        infomec.infomec(s + 0j, z, False)
