"""Pure loss functions on tensors.

Every function takes the decoder's natural parameters (see
:mod:`skae._modules`) and the target, and returns one value per row, so that
the same code serves the training objective (its mean) and ``score_samples``.
"""

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
