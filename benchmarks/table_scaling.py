"""Fit time and held-out error of the default autoencoder on large tables.

A table with linear and nonlinear structure (5 latent factors: 3 enter
linearly, 2 through a random tanh layer, into 20 columns, plus noise),
standardised, ``n_components=5``, from 1,000 to 1,000,000 rows (70 % to
train, 30 % held out); the ratio is the held-out MSE over
``PCA(5)``'s. ``--old`` also fits the defaults before the PCA start
(``init='random'``, no held-out split, 64-row batches at a fixed learning
rate); ``--old-epochs N`` caps those fits at N epochs and projects their time
to ``max_iter`` (the ratio is then that of the capped fit, marked ``*``).

    python benchmarks/table_scaling.py --rows 1000 10000 100000 1000000 --old
"""

import argparse
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderTransformer

OLD_DEFAULTS = {"init": "random", "early_stopping": False, "batch_size": 64}


def table(n, d=20, seed=0):
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, 5))
    linear = z[:, :3] @ rng.normal(size=(3, d))
    hidden = np.tanh(z[:, 3:] @ rng.normal(size=(2, 16)) * 1.5)
    X = linear + hidden @ rng.normal(size=(16, d)) + 0.1 * rng.normal(size=(n, d))
    n_train = int(0.7 * n)
    scaler = StandardScaler().fit(X[:n_train])
    return scaler.transform(X[:n_train]), scaler.transform(X[n_train:])


def heldout_ratio(model, X_train, X_test, reference):
    X_hat = model.inverse_transform(model.transform(X_test))
    return float(np.mean((X_test - X_hat) ** 2)) / reference


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--old", action="store_true")
    parser.add_argument("--old-epochs", type=int, default=None)
    args = parser.parse_args()
    print("| rows | defaults | fit s | epochs | batch | held-out MSE / PCA(5) |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in args.rows:
        X_train, X_test = table(n, seed=args.seed)
        pca = PCA(5).fit(X_train)
        start = time.perf_counter()
        pca = PCA(5).fit(X_train)
        pca_time = time.perf_counter() - start
        reference = float(
            np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2)
        )
        runs = [("new", {})]
        if args.old:
            runs.append(("old", OLD_DEFAULTS))
        for label, params in runs:
            capped = label == "old" and args.old_epochs is not None
            if capped:
                params = {**params, "max_iter": args.old_epochs}
            model = AutoEncoderTransformer(5, random_state=args.seed, **params)
            start = time.perf_counter()
            model.fit(X_train)
            seconds = time.perf_counter() - start
            ratio = heldout_ratio(model, X_train, X_test, reference)
            mark = ""
            if capped:
                seconds = seconds / model.n_iter_ * 200
                mark = "*"
            print(
                f"| {n:,} | {label} | {seconds:.1f}{mark} | {model.n_iter_} "
                f"| {model.net_.batch_size} | {ratio:.3f}{mark} |",
                flush=True,
            )
        print(f"| {n:,} | PCA | {pca_time:.3f} | | | 1.000 |", flush=True)


if __name__ == "__main__":
    main()
