"""
======================================
Cleaning noisy digits with DenoisingAE
======================================

A :class:`~skae.DenoisingAE` is trained to reconstruct clean digits from
copies corrupted afresh in every mini-batch. Given a noisy test digit,
``inverse_transform(transform(x))`` then returns a cleaned digit. A plain
:class:`~skae.AutoEncoderTransformer` of the same size, which never saw
noise while training, passes much more of the noise through.
"""

# %%
# Fit both models on clean training digits
# ----------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, DenoisingAE

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

# The same noise as at test time: Gaussian, standard deviation 0.25.
dae = DenoisingAE(
    n_components=16, noise="gaussian", noise_level=0.25, max_iter=100, random_state=0
).fit(X_train)
plain = AutoEncoderTransformer(n_components=16, max_iter=100, random_state=0)
plain.fit(X_train)

# %%
# Corrupt the test digits and clean them
# --------------------------------------
rng = np.random.RandomState(0)
noisy = np.clip(X_test + rng.normal(0, 0.25, X_test.shape), 0, 1)
cleaned = dae.inverse_transform(dae.transform(noisy))
plain_cleaned = plain.inverse_transform(plain.transform(noisy))

for name, rec in [
    ("noisy input", noisy),
    ("AutoEncoderTransformer", plain_cleaned),
    ("DenoisingAE", cleaned),
]:
    print(f"{name:>24}: MSE to clean digits {np.mean((rec - X_test) ** 2):.4f}")

# %%
# Noisy, cleaned and original digits
# -----------------------------------
rows = [
    ("noisy", noisy),
    ("plain AE", plain_cleaned),
    ("DenoisingAE", cleaned),
    ("original", X_test),
]
n = 10
fig, axes = plt.subplots(len(rows), n, figsize=(n, len(rows) + 0.4))
for r, (title, images) in enumerate(rows):
    for c in range(n):
        ax = axes[r, c]
        ax.imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center")
fig.suptitle("DenoisingAE removes noise a plain autoencoder lets through")
plt.tight_layout()
plt.show()
