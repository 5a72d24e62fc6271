"""Pure loss functions on tensors.

Every function takes the decoder's natural parameters (see
:mod:`skae._modules`) and the target, and returns one value per row, so that
the same code serves the training objective (its mean) and ``score_samples``.
"""

import torch
import torch.nn.functional as F
from torch import nn

# Decoder output nonlinearity that matches each reconstruction loss.
LOSS_OUTPUTS = {"mse": "identity", "bce": "sigmoid"}


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


RECONSTRUCTION_LOSSES = {"mse": squared_error, "bce": binary_cross_entropy}


def reconstruction_loss(output, target, loss):
    """Per-row reconstruction loss named by ``loss`` ('mse' or 'bce')."""
    return RECONSTRUCTION_LOSSES[loss](output, target)


class ReconstructionLoss(nn.Module):
    """Criterion for the training engine: mean reconstruction loss of a batch.

    Parameters
    ----------
    loss : {'mse', 'bce'}, default='mse'
        Name of the per-row loss in :data:`RECONSTRUCTION_LOSSES`.
    """

    def __init__(self, loss="mse"):
        super().__init__()
        self.loss = loss

    def forward(self, y_pred, target):
        output = y_pred[0]
        return reconstruction_loss(output, target, self.loss).mean()


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
