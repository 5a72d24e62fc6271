"""Exact Hamming search: 1,000 queries over 1,000,000 random 64-bit codes.

Prints the time of :class:`skae.HammingIndex` (NumPy XOR and popcount on
64-bit words; ``--device cuda`` for the torch path on a GPU), and of
scikit-learn's ``NearestNeighbors(metric="hamming")`` on unpacked bits over a
100,000-code subset, for comparison (scaled to 1M linearly in the output).

    python benchmarks/hamming_search.py [--device cuda] [--n-database N]
"""

import argparse
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from skae import HammingIndex


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-database", type=int, default=1_000_000)
    parser.add_argument("--n-queries", type=int, default=1_000)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--device", default=None)
    parser.add_argument("--sklearn-subset", type=int, default=100_000)
    args = parser.parse_args()

    rng = np.random.RandomState(0)
    n_bytes = args.n_bits // 8
    database = rng.randint(0, 256, size=(args.n_database, n_bytes), dtype=np.uint8)
    queries = rng.randint(0, 256, size=(args.n_queries, n_bytes), dtype=np.uint8)

    index = HammingIndex(device=args.device).fit(database)
    index.kneighbors(queries[:2], args.k)  # warm-up (and CUDA initialisation)
    start = time.perf_counter()
    _, found = index.kneighbors(queries, args.k)
    elapsed = time.perf_counter() - start
    where = args.device or "numpy"
    print(
        f"HammingIndex ({where}): {args.n_queries} queries x {args.n_database:,} "
        f"{args.n_bits}-bit codes, k={args.k}: {elapsed:.3f} s "
        f"({1e3 * elapsed / args.n_queries:.3f} ms/query)"
    )

    n_sub = min(args.sklearn_subset, args.n_database)
    bits = np.unpackbits(database[:n_sub], axis=1)
    query_bits = np.unpackbits(queries, axis=1)
    nn = NearestNeighbors(metric="hamming", algorithm="brute").fit(bits)
    start = time.perf_counter()
    nn.kneighbors(query_bits, args.k)
    sk_elapsed = time.perf_counter() - start
    start = time.perf_counter()
    sub_index = HammingIndex().fit(database[:n_sub])
    _, sub_found = sub_index.kneighbors(queries, args.k)
    sub_elapsed = time.perf_counter() - start
    print(
        f"NearestNeighbors(metric='hamming') on {n_sub:,} unpacked codes: "
        f"{sk_elapsed:.3f} s; HammingIndex (numpy) on the same: {sub_elapsed:.3f} s "
        f"({sk_elapsed / sub_elapsed:.1f}x faster)"
    )


if __name__ == "__main__":
    main()
