"""Peak memory of training-style random reads from a large MPI3D-layout file (not a test: a figure).

    python tests/bench_real_data_memory.py [GB]     # default 2 GB file in a temporary folder, deleted after

Writes an uncompressed .npz in MPI3D's layout chunk by chunk (never holding it in memory), opens it with
real_data.load_real, samples 300 batches of 128 as train.py does, and prints the process's peak resident memory.
"""
import os
import resource
import sys
import tempfile
import time
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lab import real_data  # noqa: E402

gb = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
horizontal = max(1, int(gb * 1e9 / (6 * 6 * 2 * 3 * 3 * 40 * 64 * 64 * 3)))
sizes = (6, 6, 2, 3, 3, 40, horizontal)  # the real file has vertical 40: this is a proportional slice
n = int(np.prod(sizes))
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "mpi3d_real.npz")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf, zf.open("images.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_2_0(f, {"descr": "|u1", "fortran_order": False, "shape": (n, 64, 64, 3)})
        chunk = np.random.default_rng(0).integers(0, 256, (4096, 64, 64, 3), dtype=np.uint8)
        for start in range(0, n, 4096):
            f.write(chunk[: min(4096, n - start)].tobytes())
    size = os.path.getsize(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ds = real_data.load_real("mpi3d_real", folder, sizes)
    g = torch.Generator().manual_seed(0)
    t = time.time()
    for _ in range(300):
        x, _ = ds.sample(128, g)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file {size / 2**20:.0f} MiB ({n} images), read lazily by {type(ds.images).__name__}")
    print(f"peak RSS before opening {before:.0f} MiB, after 300 batches of 128: {peak:.0f} MiB "
          f"({(time.time() - t) / 300 * 1000:.1f} ms per batch)")
