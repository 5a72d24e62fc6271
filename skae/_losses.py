"""Pure loss functions on tensors.

Every function takes the decoder's natural parameters (see
:mod:`skae._modules`) and the target, and returns one value per row, so that
the same code serves the training objective (its mean) and ``score_samples``.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._missing import split_inputs

# Decoder output nonlinearity that matches each reconstruction loss.
LOSS_OUTPUTS = {
    "mse": "identity",
    "bce": "sigmoid",
    "poisson": "exp",
    "softmax": "softmax",
}


def squared_error(output, target):
    """Per-row mean squared error: ``mean_j (output_j - target_j)**2``."""
    return (output - target).square().mean(dim=1)


def binary_cross_entropy(logits, target):
    """Per-row mean Bernoulli negative log-likelihood, in nats per feature.

    ``logits`` are the decoder's pre-sigmoid outputs; computing from logits
    is exact where the sigmoid saturates and a probability would round to 0
    or 1.
    """
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(
        dim=1
    )


def poisson_nll(log_rates, target):
    """Per-row mean Poisson negative log-likelihood, in nats per feature.

    ``log_rates`` are the decoder's outputs ``o``, the logarithms of the
    expected counts, so the mean count ``exp(o)`` is positive whatever the
    network outputs. The value is ``mean_j exp(o_j) - x_j o_j``: the
    negative log-likelihood without its ``log(x_j!)`` term, which does not
    depend on the model (so the minimum is not 0).
    """
    return (torch.exp(log_rates) - target * log_rates).mean(dim=1)


def multinomial_cross_entropy(logits, target):
    """Per-row multinomial negative log-likelihood, divided by the row's width.

    The decoder's outputs ``o`` are the logits of a distribution over the
    features (a softmax over the vocabulary for word counts), and each of a
    row's counts ``x_j`` is one draw from it: the value is
    ``-sum_j x_j log softmax(o)_j / n_features``. Dividing by the number of
    features, not by the row's total, keeps the per-entry mean of the other
    losses; long documents weigh more, as in the multinomial likelihood.
    """
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1) / target.shape[1]


RECONSTRUCTION_LOSSES = {
    "mse": squared_error,
    "bce": binary_cross_entropy,
    "poisson": poisson_nll,
    "softmax": multinomial_cross_entropy,
}

# Support of the data each loss models: 'bce' needs X in [0, 1]. A loss in
# NON_NEGATIVE_LOSSES sets the estimators' ``positive_only`` input tag.
NON_NEGATIVE_LOSSES = {"bce", "poisson", "softmax"}
UNIT_INTERVAL_LOSSES = {"bce"}


def reconstruction_loss(output, target, loss):
    """Per-row reconstruction loss named by ``loss``, a key of the dict above."""
    return RECONSTRUCTION_LOSSES[loss](output, target)


class ReconstructionLoss(nn.Module):
    """Criterion for the training engine: mean reconstruction loss of a batch.

    Parameters
    ----------
    loss : {'mse', 'bce', 'poisson', 'softmax'}, default='mse'
        Name of the per-row loss in :data:`RECONSTRUCTION_LOSSES`.
    """

    def __init__(self, loss="mse"):
        super().__init__()
        self.loss = loss

    def forward(self, y_pred, target):
        output = y_pred[0]
        return reconstruction_loss(output, target, self.loss).mean()


def observed_squared_error(output, target):
    """Per-row squared error over the observed entries of ``target``.

    ``target`` holds each row's values beside its missing mask,
    ``[values, missing]`` (``missing`` is 1 where an entry is missing, 0
    where it is observed), and ``output`` is as wide as ``values``. The
    value is ``sum_j (1 - missing_j) (output_j - values_j)**2 / n_features``:
    a missing entry, whatever its value, adds nothing and pulls no gradient.
    """
    values, missing = split_inputs(target)
    return ((output - values).square() * (1 - missing)).sum(dim=1) / output.shape[1]


class ObservedSquaredError(nn.Module):
    """Criterion for an imputer: mean :func:`observed_squared_error` of a batch."""

    def forward(self, y_pred, target):
        return observed_squared_error(y_pred[0], target).mean()


# Penalties of the regularised autoencoders ---------------------------------
# Unlike the reconstruction losses above, each returns one scalar for a batch.


def kl_sparsity(codes, target, eps=1e-6):
    """Sum over code units of ``KL(target || mean activation of the unit)``.

    The sparsity penalty of Ng's sparse autoencoder: with ``rho = target``
    and ``rho_hat_j`` the mean of unit ``j`` over the batch,
    ``sum_j rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j))``.
    ``codes`` must lie in [0, 1] (sigmoid units); ``rho_hat`` is clamped to
    ``[eps, 1 - eps]`` so that a dead or saturated unit gives a large but
    finite penalty and gradient.

    Parameters
    ----------
    codes : torch.Tensor of shape (n_samples, n_components)
        Code activations in [0, 1].
    target : float
        Desired mean activation ``rho``, in (0, 1).
    eps : float, default=1e-6
        Clamp for the mean activations.

    Returns
    -------
    penalty : torch.Tensor
        A scalar, zero when every unit's mean activation equals ``target``.
    """
    rho_hat = codes.mean(dim=0).clamp(eps, 1 - eps)
    rho = target
    return (
        rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()
    ).sum()


def l1_sparsity(codes):
    """Mean absolute code activation, over rows and code units."""
    return codes.abs().mean()


def contractive_penalty(encode, x):
    """Squared Frobenius norm of the encoder's Jacobian, averaged over rows.

    ``mean_i ||d encode(x)_i / d x_i||_F**2``, exact for any encoder that
    treats rows independently (any MLP, whatever its depth and
    activations). The Jacobian is computed with one batched reverse-mode
    pass per code unit, vectorised with ``is_grads_batched`` (so its cost
    grows with ``n_components``, not with ``n_features``), and with
    ``create_graph=True`` so that the penalty can itself be differentiated
    for training. It works under ``torch.no_grad`` too (validation), since
    it enables gradients locally.

    Parameters
    ----------
    encode : callable
        Maps a batch of shape (n_samples, n_features) to codes of shape
        (n_samples, n_components), row by row.
    x : torch.Tensor of shape (n_samples, n_features)
        Inputs at which the Jacobian is taken.

    Returns
    -------
    penalty : torch.Tensor
        A scalar.
    """
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        codes = encode(x)
        n_components = codes.shape[1]
        # Basis vector k, repeated for every row: the k-th vector-Jacobian
        # product gives row k of every sample's Jacobian at once.
        basis = torch.eye(n_components, dtype=codes.dtype, device=codes.device)
        basis = basis[:, None, :].expand(n_components, *codes.shape)
        (jacobian,) = torch.autograd.grad(
            codes, x, grad_outputs=basis, is_grads_batched=True, create_graph=True
        )
    # jacobian[k, i, j] = d codes[i, k] / d x[i, j]
    return jacobian.square().sum(dim=(0, 2)).mean()


# ----------------------------------------------------------------------
# Variational autoencoder: log-likelihoods, KL divergence and the ELBO.
# All values are per row, summed over features or code units, in nats.
# ----------------------------------------------------------------------
_LOG_2PI = math.log(2 * math.pi)


def gaussian_log_likelihood(mean, log_variance, target):
    """Per-row log-density of ``target`` under ``N(mean, diag exp(log_variance))``.

    ``log_variance`` broadcasts against ``mean`` (a per-feature vector, or
    one value per output). Summed over features, in nats.
    """
    return -0.5 * (
        _LOG_2PI + log_variance + (target - mean).square() * torch.exp(-log_variance)
    ).sum(dim=-1)


def standard_normal_log_density(z):
    """Per-row log-density of ``z`` under ``N(0, I)``, in nats."""
    return -0.5 * (_LOG_2PI + z.square()).sum(dim=-1)


def bernoulli_log_likelihood(logits, target):
    """Per-row Bernoulli log-likelihood of ``target`` in [0, 1], in nats.

    ``logits`` are the decoder's pre-sigmoid outputs. Summed over features.
    """
    return -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(
        dim=-1
    )


def gaussian_kl(mean, log_variance):
    """Per-row ``KL(N(mean, diag exp(log_variance)) || N(0, I))``, in nats."""
    return 0.5 * (mean.square() + torch.exp(log_variance) - log_variance - 1).sum(
        dim=-1
    )


def vae_log_likelihood(output, output_log_variance, target, likelihood):
    """Per-row ``log p(target | z)`` for the decoder's natural parameters.

    ``output`` is the Gaussian mean (``likelihood='gaussian'``, with
    ``output_log_variance``) or the Bernoulli logits
    (``likelihood='bernoulli'``).
    """
    if likelihood == "gaussian":
        return gaussian_log_likelihood(output, output_log_variance, target)
    return bernoulli_log_likelihood(output, target)


class NegativeELBO(nn.Module):
    """Criterion for a VAE: mean negative evidence lower bound of a batch.

    ``-ELBO = -log p(x | z) + kl_weight * KL(q(z | x) || N(0, I))`` per row,
    with ``z`` one reparameterised sample and the KL term in closed form;
    ``kl_weight=1`` is the VAE, other values the beta-VAE.

    Parameters
    ----------
    likelihood : {'gaussian', 'bernoulli'}
        Decoder likelihood.
    kl_weight : float, default=1.0
        Weight of the KL term.
    """

    def __init__(self, likelihood, kl_weight=1.0):
        super().__init__()
        self.likelihood = likelihood
        self.kl_weight = kl_weight
        # The share of the KL term's gradient that training sees (see
        # ``KLWarmUp``); the loss's value always holds the whole term.
        self.kl_factor = 1.0

    def forward(self, y_pred, target):
        output, _, mean, log_variance, output_log_variance = y_pred[:5]
        nll = -vae_log_likelihood(output, output_log_variance, target, self.likelihood)
        kl = gaussian_kl(mean, log_variance)
        if self.kl_factor != 1.0:
            kl = self.kl_factor * kl + (1 - self.kl_factor) * kl.detach()
        return (nll + self.kl_weight * kl).mean()


class CrossEntropy(nn.Module):
    """Criterion: mean cross-entropy of the logits against class indices."""

    def forward(self, y_pred, target):
        return nn.functional.cross_entropy(y_pred[0], target)
