"""
========================================
Sparse, overcomplete codes with SparseAE
========================================

A :class:`~skae.SparseAE` with more code units (128) than pixels (64) still
learns useful features: the KL sparsity penalty keeps each sigmoid unit's
mean activation near ``sparsity_target``, so each unit fires for a few
specific strokes. We show the digits each unit responds to most and the
histogram of activations, which is concentrated near 0.
"""

# %%
# Fit a sparse, overcomplete autoencoder
# --------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import SparseAE

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

sae = SparseAE(n_components=128, sparsity="kl", sparsity_target=0.05, random_state=0)
sae.fit(X_train)
codes = sae.transform(X_test)
print(f"mean activation on test digits: {codes.mean():.3f} (target 0.05)")
recon = sae.inverse_transform(codes)
print(f"test reconstruction MSE: {np.mean((recon - X_test) ** 2):.4f}")

# %%
# What each unit responds to
# --------------------------
# The encoder is a deep network, so a unit's "filter" is best seen from the
# data: the mean of the test digits that activate it most. Each unit fires
# for a specific stroke or digit shape.
top = np.argsort(-codes, axis=0)[:10]  # 10 most activating rows per unit
filters = X_test[top].mean(axis=0)  # (128, 64)
fig, axes = plt.subplots(8, 16, figsize=(12, 6.5))
for f, ax in zip(filters, axes.ravel(), strict=True):
    ax.imshow(f.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Mean of the 10 test digits that activate each of the 128 units")

# %%
# Activation histogram
# --------------------
# Most activations are near 0; each unit is strongly active for few digits.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(codes.ravel(), bins=50, log=True)
ax.axvline(0.05, color="k", linestyle="--", label="sparsity_target")
ax.set_xlabel("code activation")
ax.set_ylabel("count (log scale)")
ax.legend()
plt.tight_layout()
plt.show()
