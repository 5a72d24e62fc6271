"""The variational autoencoder's torch module: a Gaussian encoder and an MLP decoder.

Built by :class:`~skae.VAESampler` and trained by :mod:`skae._net`; it uses
the layer helpers of :mod:`skae._modules`, which never imports it.
"""

import math

import torch
from torch import nn

from ._losses import (
    gaussian_kl,
    gaussian_log_likelihood,
    standard_normal_log_density,
    vae_log_likelihood,
)
from ._modules import OUTPUTS, _dense_stack, _glorot_init, _mlp
from ._row_noise import RowNoise

# Seeds the noise of held-out rows in eval mode (see ``forward``): any fixed
# value does, as long as every epoch of a fit uses the same.
_HELD_OUT_NOISE_SEED = 0


class GaussianEncoderAutoEncoder(nn.Module):
    """Variational autoencoder: Gaussian encoder ``q(z|x)``, MLP decoder ``p(x|z)``.

    The encoder's hidden stack feeds two linear heads, the posterior mean
    ``mu(x)`` and log-variance ``log sigma**2(x)``; codes are sampled with the
    reparameterisation trick ``z = mu + sigma * eps``, ``eps ~ N(0, I)``
    drawn from :attr:`generator` (set by the training engine; None means
    torch's default stream). ``forward`` samples in eval mode too (without
    dropout), so that the training engine's held-out loss is a one-sample
    estimate of the negative ELBO, the figure early stopping should watch;
    ``z = mu`` there had scored full MNIST's held-out rows 5 to 7 nats
    better than their ELBO. In eval mode the noise is a fixed function of
    the row (:class:`~skae._row_noise.RowNoise`), the same at every epoch.
    Transforms use :meth:`encode` and :meth:`decode`, which are
    deterministic.

    ``forward`` returns ``(output, z, mu, log_variance, output_log_variance)``:
    ``output`` holds the decoder's natural parameters (Gaussian mean or
    Bernoulli logits) and ``output_log_variance`` the per-feature log-variance
    of a Gaussian decoder (None for a Bernoulli one).

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Dimension of the latent space.
    hidden_layer_sizes : tuple of int
        Widths of the encoder's hidden layers; the decoder uses them reversed.
    activation : str
        Hidden-layer nonlinearity, a key of ``ACTIVATIONS``.
    likelihood : {'gaussian', 'bernoulli'}
        Decoder likelihood. A Gaussian decoder learns one variance per
        feature, ``exp(raw) + min_variance``.
    dropout : float
        Dropout rate after every hidden layer.
    min_variance : float
        Floor of the Gaussian decoder's variances, so that the density cannot
        collapse on (nearly) constant features.
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        likelihood="gaussian",
        dropout=0.0,
        min_variance=1e-3,
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        width = ([n_features, *hidden])[-1]
        self.activation = activation
        self.likelihood = likelihood
        self.output = "identity" if likelihood == "gaussian" else "sigmoid"
        self.min_variance = min_variance
        self.generator = None
        self.encoder = nn.Sequential(
            *_dense_stack([n_features, *hidden], activation, dropout)
        )
        self.mean_head = nn.Linear(width, n_components)
        self.log_variance_head = nn.Linear(width, n_components)
        self.decoder = nn.Sequential(
            *_mlp([n_components, *hidden[::-1], n_features], activation, dropout)
        )
        if likelihood == "gaussian":
            self.raw_log_variance = nn.Parameter(torch.empty(n_features))
        else:
            self.register_parameter("raw_log_variance", None)
        # Parameterless, so the state_dict (and model files) stay as they were.
        self.output_activation = OUTPUTS[self.output]()

    def posterior(self, x):
        """Mean and log-variance of ``q(z|x)``."""
        h = self.encoder(x)
        return self.mean_head(h), self.log_variance_head(h)

    def encode(self, x):
        """Posterior mean ``mu(x)``."""
        return self.posterior(x)[0]

    def output_log_variance(self):
        """Per-feature log-variance of a Gaussian decoder (floored), or None."""
        if self.raw_log_variance is None:
            return None
        return torch.logaddexp(
            self.raw_log_variance,
            torch.full_like(self.raw_log_variance, math.log(self.min_variance)),
        )

    def decode(self, z):
        """Mean of ``p(x|z)``."""
        return self.output_activation(self.decoder(z))

    def forward(self, x):
        mean, log_variance = self.posterior(x)
        if self.training:
            eps = torch.randn(
                mean.shape,
                generator=self.generator,
                dtype=mean.dtype,
                device=mean.device,
            )
        else:
            # Held-out rows keep their noise from epoch to epoch (common
            # random numbers), so that early stopping compares models, not
            # draws: one fresh draw moved the mean of 6,000 MNIST rows' ELBO
            # by 0.07 nats, as much as several epochs' gain near a plateau.
            eps = RowNoise(x, _HELD_OUT_NOISE_SEED, 1, mean.shape[1]).draw(0)
        z = mean + torch.exp(0.5 * log_variance) * eps
        return self.decoder(z), z, mean, log_variance, self.output_log_variance()

    def draw_reconstruction(self, x, noise):
        """A draw from ``p(x|z)`` at a code ``z`` drawn from ``q(z|x)``, per row.

        ``noise(like, draw)`` gives ``draw``'s noise (``torch.randn`` or
        ``torch.rand``) shaped like the tensor ``like``.
        """
        mean, log_variance = self.posterior(x)
        z = mean + torch.exp(0.5 * log_variance) * noise(mean, torch.randn)
        x = self.decode(z)
        if self.likelihood == "bernoulli":
            return (noise(x, torch.rand) < x).to(x.dtype)
        return x + torch.exp(0.5 * self.output_log_variance()) * noise(x, torch.randn)

    def log_likelihood_bound(self, x, n_samples, eps):
        """A lower bound on ``log p(x)`` of each row of ``x``, in nats.

        With ``n_samples=1`` the ELBO (one reconstruction sample, the KL
        term in closed form); with more, the importance-weighted bound of
        Burda et al. ``eps(k)`` gives draw ``k``'s standard normal noise, a
        ``(n_rows, n_components)`` tensor.
        """
        mean, log_variance = self.posterior(x)
        std = torch.exp(0.5 * log_variance)
        output_log_variance = self.output_log_variance()

        def log_likelihood(z):
            return vae_log_likelihood(
                self.decoder(z), output_log_variance, x, self.likelihood
            )

        if n_samples == 1:
            return log_likelihood(mean + std * eps(0)) - gaussian_kl(mean, log_variance)
        log_weights = torch.empty(
            (n_samples, x.shape[0]), dtype=x.dtype, device=x.device
        )
        for k in range(n_samples):
            z = mean + std * eps(k)
            log_weights[k] = (
                log_likelihood(z)
                + standard_normal_log_density(z)
                - gaussian_log_likelihood(mean, log_variance, z)
            )
        return torch.logsumexp(log_weights, dim=0) - math.log(n_samples)

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Glorot-initialise weights, zero biases, unit decoder variances.

        Everything is drawn from ``generator``, never from the global random
        state.
        """
        _glorot_init(self.encoder, self.activation, self.activation, generator)
        _glorot_init(self.decoder, self.activation, "identity", generator)
        for head in (self.mean_head, self.log_variance_head):
            nn.init.xavier_uniform_(head.weight, generator=generator)
            nn.init.zeros_(head.bias)
        if self.raw_log_variance is not None:
            # Unit variance in the standardised units the estimator trains in.
            nn.init.zeros_(self.raw_log_variance)
