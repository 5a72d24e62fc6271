"""
=====================================================
Generating digits with a variational autoencoder
=====================================================

:class:`~skae.VAESampler` learns a Gaussian posterior over a small latent
space and a decoder back to pixels, with a standard normal prior. Because
the prior is known, new images come from decoding random codes with
:meth:`~skae.VAESampler.sample`. This example shows

1. a grid of digits generated from the prior;
2. the learned 2-D latent manifold: decoded images on a grid of codes
   through the prior's quantiles;
3. an interpolation between two real digits in latent space.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits

from skae import VAESampler

X, y = load_digits(return_X_y=True)
X = X / 16


def show_grid(images, n_rows, n_cols, title):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(n_cols * 0.8, n_rows * 0.8))
    for ax, image in zip(axes.ravel(), images, strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.suptitle(title)
    return fig


# %%
# Samples from an 8-dimensional VAE
# ---------------------------------
# The defaults (Gaussian decoder, ``kl_weight=1``, a dropout of 0.1 on up
# to 4,000 rows) were chosen by the held-out ELBO and the quality of the
# samples, on digits and five other data sets.
vae = VAESampler(n_components=8, max_iter=100, random_state=0).fit(X)
samples = vae.sample(64, random_state=0)
show_grid(samples, 8, 8, "Digits decoded from z ~ N(0, I)")
print(f"ELBO of the training digits: {vae.score(X):.1f} nats per image")

# %%
# The 2-D latent manifold
# -----------------------
# With two latent units, decoding a grid of codes placed at the prior's
# quantiles shows how the digits are laid out in the latent space.
vae2 = VAESampler(n_components=2, max_iter=100, random_state=0).fit(X)
n = 12
quantiles = norm.ppf(np.linspace(0.03, 0.97, n))
grid = np.array([[a, b] for b in quantiles[::-1] for a in quantiles])
show_grid(vae2.inverse_transform(grid), n, n, "Decoded 2-D latent grid")

# %%
# Interpolation in latent space
# -----------------------------
# Encode a 0 and a 6 to their posterior means, walk the straight line
# between the codes and decode each point.
start, end = vae.transform(X[[np.flatnonzero(y == k)[0] for k in (0, 6)]])
steps = np.linspace(0, 1, 10)[:, None]
path = vae.inverse_transform((1 - steps) * start + steps * end)
show_grid(path, 1, 10, "From a 0 to a 6 through the latent space")
plt.show()
