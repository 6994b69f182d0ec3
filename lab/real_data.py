"""The real datasets' files and your own labelled images, read into data.py's dataset interface (factor names and
sizes, index <-> factors, render, sample). Not needed to follow the paper: data.py's procedural benchmarks have the
same interface, and this file only makes the real files safe and cheap to read.

    open_dataset(name, resolution, data_dir)   what train.py calls: a real file or a procedural benchmark
    load_real(name, data_dir)                  a downloaded benchmark, validated (README, "Real datasets and your own")
    load_npz(path)                             your own images: --dataset npz:PATH

Each file becomes a FileDataset: the factor grid (last factor fastest) plus an image array that is read lazily
(RawArray with positioned reads, h5py, a PNG folder), never loaded whole unless it is small. Every file is checked
when it is opened (keys, shapes, dtypes, counts, label order, every float pixel; a PNG's header when it is read),
and each problem stops with one line that names the file and what was expected. `sizes=` in load_real exists so
tests can fabricate tiny files with the real layout.
"""
import math
import os
import sys

import numpy as np
import torch

import data

DOWNLOAD = {
    "dsprites": "github.com/deepmind/dsprites-dataset (dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz)",
    "shapes3d": "the 3d-shapes Google Cloud bucket (3dshapes.h5, 267 573 662 bytes)",
    "mpi3d": "the README of github.com/rr-learning/disentanglement_dataset (mpi3d_toy/realistic/real.npz)",
    "mpi3d_complex": "the README of github.com/rr-learning/disentanglement_dataset "
                     "(real3d_complicated_shapes_ordered.npz)",
    "falcor3d": "github.com/NVlabs/High-res-disentanglement-datasets (Falcor3D, 128x128 release)",
    "isaac3d": "github.com/NVlabs/High-res-disentanglement-datasets (Isaac3D, 128x128 release)",
}
MPI3D = ("object_color", "object_shape", "object_size", "camera_height", "background_color", "horizontal",
         "vertical")
REAL = {  # name: (file or folder, factor names, factor sizes)
    "dsprites": ("dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", data.DSprites.factor_names, (3, 6, 40, 32, 32)),
    "shapes3d": ("3dshapes.h5", data.SHAPES3D_FACTORS, data.SHAPES3D_SIZES),
    "mpi3d_toy": ("mpi3d_toy.npz", MPI3D, (6, 6, 2, 3, 3, 40, 40)),
    "mpi3d_realistic": ("mpi3d_realistic.npz", MPI3D, (6, 6, 2, 3, 3, 40, 40)),
    "mpi3d_real": ("mpi3d_real.npz", MPI3D, (6, 6, 2, 3, 3, 40, 40)),
    "mpi3d_complex": ("real3d_complicated_shapes_ordered.npz", MPI3D, (4, 4, 2, 3, 3, 40, 40)),
    "falcor3d": ("Falcor3D", ("lighting_intensity", "lighting_x", "lighting_y", "lighting_z", "camera_x",
                              "camera_y", "camera_z"), (5, 6, 6, 6, 6, 6, 6)),
    "isaac3d": ("Isaac3D", ("object_shape", "robot_x", "robot_y", "camera_height", "object_scale",
                            "lighting_intensity", "lighting_y", "object_color", "wall_color"),
                (3, 8, 5, 4, 4, 4, 6, 4, 4)),
}


def open_dataset(name, resolution=64, data_dir=None):
    """Plain switch: with data_dir, that real dataset's files; npz:PATH, your own images; else data.get_dataset."""
    if data_dir:
        if name not in REAL:
            raise ValueError(f"no real dataset {name!r}; with --data-dir choose one of {', '.join(REAL)}")
        return load_real(name, data_dir)
    if name.startswith("npz:"):
        return load_npz(name[4:])
    if name in REAL and name not in ("shapes3d", "dsprites"):  # those two have procedural analogues
        raise ValueError(f"{name} has no procedural version: pass --data-dir DIR holding {REAL[name][0]}")
    return data.get_dataset(name, resolution)


class FileDataset(data.Procedural):
    """Images from an array-like (N, H, W[, C]) indexed by sorted integer arrays (RawArray, h5py dataset,
    PNG folder). Factors: the full grid from the index, or an explicit (N, n_s) array (bring-your-own data)."""

    def __init__(self, name, images, factor_names, factor_sizes, factors=None, scale=255.0):
        self.name, self.images, self.scale = name, images, scale
        self.factor_names, self.factor_sizes = tuple(factor_names), tuple(int(k) for k in factor_sizes)
        shape = images.shape[1:]
        self.image_shape = (shape[2], shape[0], shape[1]) if len(shape) == 3 else (1, *shape)
        self.factors = None if factors is None else torch.as_tensor(np.asarray(factors), dtype=torch.long)
        if self.factors is not None:  # rows in lexicographic order, for factors -> index by binary search (not by a
            # grid key, factor x stride summed: with many classes per factor, 5 of 10^5, the strides overflow int64)
            self._order = np.lexsort(self.factors.numpy().T[::-1])  # stable: a repeated combination finds its first
            self._rows = self._as_rows(self.factors)[self._order]

    def __len__(self):
        return len(self.images)

    def index_to_factors(self, index):
        if self.factors is None:
            return super().index_to_factors(index)
        index = torch.as_tensor(index, dtype=torch.long)
        return self.factors.to(index.device)[index]

    def _as_rows(self, factors):
        """(..., n_s) factors -> one structured element per combination (compared factor by factor)."""
        factors = torch.as_tensor(factors, dtype=torch.long)
        if factors.shape[-1:] != (len(self.factor_sizes),):
            raise ValueError(f"{self.name}: factors must be (..., {len(self.factor_sizes)}), "
                             f"got {tuple(factors.shape)}")
        rows = np.ascontiguousarray(factors.cpu().numpy().reshape(-1, len(self.factor_sizes)))
        return rows.view([(f"f{i}", np.int64) for i in range(rows.shape[1])])[:, 0]

    def factors_to_index(self, factors):
        if self.factors is None:
            return super().factors_to_index(factors)
        factors = torch.as_tensor(factors, dtype=torch.long)
        rows = self._as_rows(factors)
        pos = np.searchsorted(self._rows, rows).clip(max=len(self._rows) - 1)
        if not np.array_equal(self._rows[pos], rows):
            raise ValueError(f"{self.name}: a factor combination that the file does not contain was asked for")
        return torch.as_tensor(self._order[pos]).reshape(factors.shape[:-1]).to(factors.device)

    def render(self, factors):
        """Images by factors: the image of that combination (with repeated combinations in your own data, the
        first one's)."""
        return self.render_index(self.factors_to_index(factors))

    def render_index(self, index):
        device = index.device if torch.is_tensor(index) else "cpu"
        index = torch.as_tensor(index).cpu().numpy()
        order = np.argsort(index)  # h5py reads only increasing indices, and every file reads fastest that way
        unique, inverse = np.unique(index[order], return_inverse=True)
        batch = np.asarray(self.images[unique])[inverse]  # (n, H, W[, C]) in sorted order
        batch = batch[np.argsort(order)]  # back to the requested order
        x = torch.from_numpy(np.ascontiguousarray(batch)).float() / self.scale
        x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)  # (n, C, H, W)
        return x.to(device)


def _fail(path, what, name=None):
    key = "mpi3d" if name in ("mpi3d_toy", "mpi3d_realistic", "mpi3d_real") else name
    hint = f" Download it from {DOWNLOAD[key]}." if key in DOWNLOAD else ""
    raise ValueError(f"{path}: {what}.{hint}")


def _need_file(path, name):
    if not os.path.exists(path):
        _fail(path, "file not found", name)
    if not os.path.isfile(path):  # a FIFO or a device would hang the reader, waiting for bytes that never come
        _fail(path, "not a regular file (a folder, FIFO or device?)", name)


class RawArray:
    """A C-ordered array inside a file, read row by row with positioned reads (os.pread) on demand. Unlike a
    memory map, pages it read are not kept mapped in the process, so memory stays at one batch, whatever the
    file's size (MPI3D: 12.7 GB)."""

    def __init__(self, path, offset, shape, dtype):
        self.path, self.offset, self.shape, self.dtype = path, offset, tuple(shape), np.dtype(dtype)
        self.ndim, self.row = len(self.shape), int(np.prod(self.shape[1:])) * self.dtype.itemsize
        self.fd = os.open(path, os.O_RDONLY)

    def __len__(self):
        return self.shape[0]

    def block(self, start, stop):
        """Rows start..stop-1 in one read."""
        raw = os.pread(self.fd, (stop - start) * self.row, self.offset + start * self.row)
        return np.frombuffer(raw, self.dtype).reshape(stop - start, *self.shape[1:])

    def __getitem__(self, index):
        index = np.atleast_1d(index)
        out = np.empty((len(index), *self.shape[1:]), self.dtype)
        buffer = out.reshape(len(index), -1).view(np.uint8)
        for k, i in enumerate(index):
            buffer[k] = np.frombuffer(os.pread(self.fd, self.row, self.offset + int(i) * self.row), np.uint8)
        return out


def _npz_array(path, key, name, mmap=True):
    """One array of an .npz, read lazily (RawArray) when stored uncompressed, as MPI3D's 12.7 GB file is."""
    import zipfile

    _need_file(path, name)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        _fail(path, f"not a readable .npz ({e}); the file may be truncated or corrupt", name)
    with zf:
        members = {m.filename[:-4]: m for m in zf.infolist() if m.filename.endswith(".npy")}
        if key not in members:
            _fail(path, f"no array {key!r} (found {sorted(members)})", name)
        info = members[key]
        if mmap and info.compress_type == zipfile.ZIP_STORED:
            with zf.open(info) as f:  # parse the .npy header to find where the raw data starts
                version = np.lib.format.read_magic(f)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, fortran, dtype = read_header(f)
                header = f.tell()
            with open(path, "rb") as raw:  # the member's data offset: its local header + name + extra field
                raw.seek(info.header_offset + 26)
                n_name, n_extra = np.frombuffer(raw.read(4), dtype="<u2")
                offset = info.header_offset + 30 + int(n_name) + int(n_extra) + header
            if offset + math.prod(shape) * dtype.itemsize > os.path.getsize(path):  # Python ints: no overflow
                _fail(path, f"array {key!r} is truncated", name)
            if fortran:
                _fail(path, f"array {key!r} is stored in Fortran order; expected C order", name)
            return RawArray(path, offset, shape, dtype)
        try:
            return np.load(path, allow_pickle=False)[key]  # compressed members are read whole
        except Exception as e:
            _fail(path, f"array {key!r} could not be read ({e}); the file may be truncated or corrupt", name)


CHUNK_BYTES = 64 << 20  # what _check_pixels reads at a time


def _check_pixels(path, images, top, hint, name=None):
    """Every pixel of every image finite and in [0, top], read once in chunks of CHUNK_BYTES (a file read lazily
    stays lazy): a running min and max per chunk, which NaN turns into NaN, so one comparison finds any fault.
    The first bad image is then named by its index, with the real cause."""
    rows = max(1, CHUNK_BYTES // max(1, math.prod(images.shape[1:]) * images.dtype.itemsize))
    for start in range(0, len(images), rows):
        stop = min(start + rows, len(images))
        chunk = images.block(start, stop) if isinstance(images, RawArray) else np.asarray(images[start:stop])
        if chunk.min() >= 0 and chunk.max() <= top:  # False if either is NaN
            continue
        flat = chunk.reshape(len(chunk), -1)
        k = int(np.argmax(~((flat.min(1) >= 0) & (flat.max(1) <= top))))  # the first bad image in this chunk
        i, pixels = start + k, flat[k]
        if np.isnan(pixels).any():
            _fail(path, f"image {i} has NaN pixels (not a number): repair or drop that image", name)
        if np.isinf(pixels).any():
            _fail(path, f"image {i} has infinite pixels: repair or drop that image", name)
        bad = pixels.max() if pixels.max() > top else pixels.min()
        _fail(path, f"pixels should be in [0, {top:g}]; image {i} has {bad:g}{hint if bad > top else ''}", name)


def _check(path, array, shape, dtypes, what, name):
    if tuple(array.shape) != tuple(shape) or array.dtype not in dtypes:
        dtype = " or ".join(np.dtype(d).name for d in dtypes)
        _fail(path, f"{what} should have shape {tuple(shape)} and dtype {dtype}, "
                    f"found {tuple(array.shape)} {array.dtype}", name)


def read_png(path, name=None):
    """One PNG of the releases' size (64 or 128 px square) as (side, side, 3) float32 on a 0..255 scale. The size is
    read from the header before anything is decompressed (a few bytes can claim 10^5 x 10^5 px); 16-bit grey is
    rescaled (Pillow's RGB conversion would clip it); transparent pixels are refused (what lies behind them?)."""
    from PIL import Image

    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError as e:
        _fail(path, f"not readable ({e.strerror})", name)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        _fail(path, "not a readable PNG (no PNG signature and header: another format, or cut short)", name)
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if width != height or width not in (64, 128):
        _fail(path, f"images should be square with a side of 64 or 128 px, found {width}x{height}", name)
    try:
        with Image.open(path) as im:
            if im.mode.startswith("I"):  # 16-bit grey, 0..65535
                return np.repeat(np.asarray(im, np.float32)[..., None] / 257, 3, 2)
            opaque = "A" not in im.mode and "transparency" not in im.info
            pixels = np.asarray(im.convert("RGB" if opaque else "RGBA"), np.float32)
    except (OSError, SyntaxError, ValueError) as e:  # Pillow's errors for truncated or corrupt data
        _fail(path, f"not a readable PNG ({e})", name)
    if not opaque and pixels[..., 3].min() < 255:
        _fail(path, f"has transparent pixels (mode {im.mode}): expected opaque images", name)
    return pixels[..., :3]


class PNGFolder:
    """NNNNNN.png files as a lazily read (N, 64, 64, 3) uint8 array, 128 px halved by 2x2 averaging
    (an exact anti-aliased resize for a factor of two). Any PNG mode (grey, RGB, palette, 8 or 16 bits)."""

    def __init__(self, folder, count, name):
        self.folder, self.shape, self.dtype, self.name = folder, (count, 64, 64, 3), np.uint8, name
        if not os.path.isdir(folder):
            _fail(folder, "folder not found", name)
        names = {e.name for e in os.scandir(folder) if e.is_file()}
        n = sum(1 for f in names if f.endswith(".png"))
        if n != count:
            _fail(folder, f"expected {count} PNG files NNNNNN.png, found {n}", name)
        stray = sorted(names - {f"{i:06d}.png" for i in range(count)})
        if stray:  # found now, not when training first reads it
            _fail(folder, f"unexpected file(s) {stray[:3]}: expected only 000000.png .. {count - 1:06d}.png", name)
        read_png(os.path.join(folder, "000000.png"), name)  # a wrong size or format is found now

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        out = np.empty((len(index), 64, 64, 3), np.uint8)
        for k, i in enumerate(np.atleast_1d(index)):
            img = read_png(os.path.join(self.folder, f"{i:06d}.png"), self.name)
            if img.shape[0] != 64:
                img = img.reshape(64, 2, 64, 2, 3).mean((1, 3))
            out[k] = np.round(img)
        return out


def load_real(name, data_dir, sizes=None):
    """A real dataset from data_dir, validated (sizes: only for tests that fabricate tiny files)."""
    filename, names, real_sizes = REAL[name]
    sizes = tuple(sizes or real_sizes)
    n, path = math.prod(sizes), os.path.join(data_dir, filename)
    if name == "dsprites":
        images = _npz_array(path, "imgs", name, mmap=False)  # compressed in the release: 3 GB once read
        classes = _npz_array(path, "latents_classes", name, mmap=False)
        _check(path, images, (n, 64, 64), (np.uint8,), "imgs", name)
        _check(path, classes, (n, 6), (np.int64, np.int32), "latents_classes", name)
        _check_pixels(path, images, 1, " (dSprites' imgs hold 0 and 1)", name)
        ds = FileDataset(name, images, names, sizes, scale=1.0)  # pixels are 0/1, not 0/255
        probe = np.linspace(0, n - 1, 50).astype(int)
        if not np.array_equal(classes[probe, 1:], ds.index_to_factors(torch.tensor(probe)).numpy()):
            _fail(path, "latents_classes disagree with the index order (colour dropped, shape..y, y fastest)", name)
        return ds
    if name == "shapes3d":
        try:
            import h5py
        except ImportError:
            raise ImportError("reading 3dshapes.h5 needs h5py: pip install h5py") from None
        _need_file(path, name)
        try:
            f = h5py.File(path, "r")
            images, labels = f["images"], f["labels"][:]
        except (OSError, KeyError) as e:
            _fail(path, f"not a readable Shapes3D file with 'images' and 'labels' ({e})", name)
        _check(path, images, (n, 64, 64, 3), (np.uint8,), "images", name)
        _check(path, labels, (n, 6), (np.float64, np.float32), "labels", name)
        # labels are float VALUES: map each column's sorted unique values to 0..K-1, then check the grid order
        factors = np.stack([np.unique(labels[:, i], return_inverse=True)[1].reshape(-1) for i in range(6)], 1)
        ds = FileDataset(name, images, names, sizes)
        if not np.array_equal(factors, ds.index_to_factors(torch.arange(n)).numpy()):
            _fail(path, "labels do not follow the expected order (orientation fastest)", name)
        return ds
    if name.startswith("mpi3d"):
        images = _npz_array(path, "images", name)
        _check(path, images, (n, 64, 64, 3), (np.uint8,), "images", name)
        return FileDataset(name, images, names, sizes)
    if name in ("falcor3d", "isaac3d"):
        return FileDataset(name, PNGFolder(path, n, name), names, sizes)
    raise ValueError(name)


# Below this many images the scores mean little: the plug-in MI's bias is about (K_s - 1)(K_z - 1) / 2N nats, 0.04
# for 10 source and 10 code values at N = 1000 (2 % of log 10), and a read-out with as many weights as images
# separates any labels (InfoE 1).
FEW_IMAGES = 1000


def load_npz(path):
    """Bring your own data: `images` (N, H, W) or (N, H, W, C), uint8 or float in [0, 1]; `factors` (N, n_s) class
    indices, one row per image. Any N labelled images: a combination may appear several times or not at all."""
    images, factors = _npz_array(path, "images", None), _npz_array(path, "factors", None, mmap=False)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3)):
        _fail(path, f"images should be (N, H, W) or (N, H, W, C) with C 1 or 3, found {images.shape}")
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        _fail(path, f"images should be uint8 (0..255) or float (0..1), found {images.dtype}")
    if factors.ndim != 2 or len(factors) != len(images) or not np.issubdtype(factors.dtype, np.integer):
        _fail(path, f"factors should be ({len(images)}, n_s) integers, found {factors.shape} {factors.dtype}")
    if factors.shape[1] == 0:
        _fail(path, f"factors have shape {factors.shape}: no factor to score; expected at least one column")
    if (factors < 0).any():
        _fail(path, "factors should be non-negative integers")
    if len(images) < 2:
        _fail(path, f"need at least 2 images, found {len(images)}")
    side = images.shape[1]
    if images.shape[2] != side or side % 16 or side < 32:
        _fail(path, f"images should be square with a side that is a multiple of 16 and >= 32, found "
                    f"{images.shape[1]}x{images.shape[2]}")
    if (factors.max(0) >= 100_000).any():
        _fail(path, "factors should be class indices 0..K-1 (found values >= 100 000: map raw values to indices, "
                    "e.g. np.unique(column, return_inverse=True)[1])")
    if images.dtype != np.uint8:  # float images must be in [0, 1]: a 0..255 float array would train to nonsense
        _check_pixels(path, images, 1.0, " (a 0..255 scale? store uint8, or divide by 255)")
    if len(images) < FEW_IMAGES:  # a warning, not a refusal: tiny files are fine for trying the code out
        print(f"warning: {path} holds {len(images)} images, and the evaluation set is at most that: InfoMEC on fewer "
              f"than {FEW_IMAGES} is mostly estimation bias (two images score InfoE 1.0), not a measurement",
              file=sys.stderr)
    # Any labelled images: combinations may repeat or be missing (training samples images, not combinations).
    names = [f"factor{i}" for i in range(factors.shape[1])]
    return FileDataset(f"npz:{path}", images, names, factors.max(0) + 1, factors,
                       scale=255.0 if images.dtype == np.uint8 else 1.0)
