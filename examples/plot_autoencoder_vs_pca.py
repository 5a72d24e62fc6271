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
rows = {
    "original": X_test[:8],
    "PCA": pca.inverse_transform(pca.transform(X_test[:8])),
    "autoencoder": ae.inverse_transform(ae.transform(X_test[:8])),
}
fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
for r, (label, images) in enumerate(rows.items()):
    for c, image in enumerate(images):
        axes[r, c].imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label)
fig.suptitle("8 components: PCA vs autoencoder")

# %%
# 2-D codes
# ---------
pca2 = PCA(n_components=2).fit(X_train)
ae2 = AutoEncoderTransformer(n_components=2, max_iter=100, random_state=0).fit(X_train)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (name, model) in zip(axes, [("PCA", pca2), ("autoencoder", ae2)], strict=True):
    codes = model.transform(X_test)
    scatter = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set_title(f"{name}: 2-D codes of held-out digits")
fig.colorbar(scatter, ax=axes, label="digit")

# %%
# Learning curve
# --------------
# With ``early_stopping=True`` a validation split is held out and monitored;
# the best epoch's weights are kept.
ae_es = AutoEncoderTransformer(
    n_components=8, early_stopping=True, max_iter=300, random_state=0
).fit(X_train)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(ae_es.loss_curve_, label="training loss")
ax.plot([-s for s in ae_es.validation_scores_], label="validation loss")
ax.set_xlabel("epoch")
ax.set_ylabel("loss (standardised units)")
ax.set_yscale("log")
ax.legend()
ax.set_title(f"stopped after {ae_es.n_iter_} epochs")
plt.show()
