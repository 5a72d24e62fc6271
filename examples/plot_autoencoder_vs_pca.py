"""
======================================
An autoencoder where PCA stood
======================================

``AutoEncoderTransformer`` takes PCA's place in a scikit-learn workflow: the
same ``n_components``, ``transform`` to get codes, ``inverse_transform`` to map
them back. On the digits it reconstructs held-out images with about half of
PCA's error, its 2-D codes separate the classes better, and its fitted
``loss_curve_`` shows how training went.
"""

# %%
# Fit both models at the same code size
# --------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer
from skae.plotting import plot_codes, plot_learning_curve, plot_reconstructions

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

pca = PCA(n_components=8).fit(X_train)
ae = AutoEncoderTransformer(n_components=8, max_iter=100, random_state=0)
ae.fit(X_train)

for name, model in [("PCA", pca), ("autoencoder", ae)]:
    recon = model.inverse_transform(model.transform(X_test))
    print(f"{name:>12}: held-out MSE {np.mean((recon - X_test) ** 2):.4f}")

# %%
# Reconstructions of held-out digits
# ----------------------------------
# :func:`skae.plotting.plot_reconstructions` puts originals above their
# reconstructions; PCA's row is drawn by hand for comparison.
fig = plot_reconstructions(ae, X_test, n_images=8)
fig.suptitle("held-out digits (top) and the autoencoder's reconstructions")

fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, image in zip(
    axes, pca.inverse_transform(pca.transform(X_test[:8])), strict=True
):
    ax.imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
fig.suptitle("PCA's reconstructions of the same digits")

# %%
# 2-D codes
# ---------
pca2 = PCA(n_components=2).fit(X_train)
ae2 = AutoEncoderTransformer(n_components=2, max_iter=100, random_state=0).fit(X_train)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
plot_codes(pca2.transform(X_test), y=y_test, ax=axes[0])
axes[0].set_title("PCA: 2-D codes of held-out digits")
plot_codes(ae2, X_test, y_test, ax=axes[1])
axes[1].set_title("autoencoder: 2-D codes of held-out digits")

# %%
# Learning curve
# --------------
# By default (``early_stopping='auto'``) a validation split is held out and
# monitored, and the weights of the best epoch are kept.
ae_es = AutoEncoderTransformer(n_components=8, max_iter=300, random_state=0).fit(
    X_train
)
fig = plot_learning_curve(ae_es)
fig.axes[0].set_yscale("log")
fig.axes[0].set_title(f"stopped after {ae_es.n_iter_} epochs")
plt.show()
