"""
=================================================
Codes robust to input perturbation: ContractiveAE
=================================================

A :class:`~skae.ContractiveAE` penalises the Jacobian of its encoder, so its
codes move less when the input is perturbed. We perturb test digits with
small random noise and compare how much the codes of a contractive and a
plain autoencoder change, relative to how spread out the codes are, and
compare their reconstruction errors.
"""

# %%
# Fit both models
# ---------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, ContractiveAE

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

models = {
    "AutoEncoderTransformer": AutoEncoderTransformer(
        n_components=16, max_iter=60, random_state=0
    ),
    "ContractiveAE": ContractiveAE(n_components=16, max_iter=60, random_state=0),
}
for model in models.values():
    model.fit(X_train)

# %%
# Sensitivity of the codes to perturbations
# -----------------------------------------
# For noise of growing size, the change in the codes is divided by the
# spread of the codes over the test set, so that both models are compared in
# their own units (an encoder could otherwise look insensitive just by
# shrinking its codes).
rng = np.random.RandomState(0)
sigmas = [0.01, 0.02, 0.05, 0.1, 0.2]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for name, model in models.items():
    codes = model.transform(X_test)
    spread = np.sqrt(codes.var(axis=0).sum())
    changes = []
    for sigma in sigmas:
        moved = model.transform(X_test + rng.normal(0, sigma, X_test.shape))
        changes.append(np.linalg.norm(moved - codes, axis=1).mean() / spread)
    ax1.plot(sigmas, changes, marker="o", label=name)
    recon = model.inverse_transform(codes)
    mse = np.mean((recon - X_test) ** 2)
    ax2.bar(name, mse)
    print(
        f"{name:>24}: relative code change at sigma=0.05 "
        f"{changes[2]:.3f}, test MSE {mse:.4f}"
    )
ax1.set_xscale("log")
ax1.set_xlabel("input noise standard deviation")
ax1.set_ylabel("code change / code spread")
ax1.legend()
ax1.set_title("Sensitivity of the codes")
ax2.set_ylabel("test reconstruction MSE")
ax2.set_title("Reconstruction")
plt.tight_layout()
plt.show()
