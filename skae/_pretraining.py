"""Greedy layer-wise pretraining of a deep fully connected autoencoder.

Hinton and Salakhutdinov (2006) trained each layer of a deep autoencoder as
a shallow one on the codes of the layer below, stacked the layers, and then
fine-tuned the whole network by backpropagation. Here each stage is a
shallow autoencoder made of the *same* layer objects as the deep network:
an encoder layer and its mirror in the decoder. Training a stage trains
those layers of the deep network in place, so stacking needs no copying.
"""

from torch import nn

from ._losses import ReconstructionLoss
from ._net import loss_curve


class _Stage(nn.Module):
    """A shallow autoencoder made of one layer of a deep encoder and its mirror.

    ``encoder`` and ``decoder`` are lists of modules shared with the deep
    network: a linear layer with the activation (and dropout) after it.
    """

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        codes = self.encoder(x)
        return self.decoder(codes), codes


def _layer_groups(sequential):
    """Split a stack into groups, each a linear layer and the modules after it."""
    groups = []
    for layer in sequential:
        if isinstance(layer, nn.Linear):
            groups.append([])
        groups[-1].append(layer)
    return groups


def greedy_pretrain(estimator, net, rows, max_iter):
    """Pretrain the layers of ``net.module_`` greedily, one stage per layer.

    Stage ``i`` trains the ``i``-th encoder layer and its mirror in the
    decoder to reconstruct the codes of stage ``i - 1`` (the first stage, the
    standardised training rows), for ``max_iter`` epochs with the estimator's
    optimizer settings and early stopping on the training loss. The first
    stage uses the estimator's reconstruction loss; later stages reconstruct
    hidden activities with the squared error, through the hidden activation.

    Parameters
    ----------
    estimator : _BaseAutoEncoder
        Builds the stages' nets (``_build_net``) and names the loss.
    net : AutoEncoderNet
        The initialised deep net; its module must be an ``MLPAutoEncoder``.
    rows : RowSource
        The standardised training rows. The codes of each stage become the
        next stage's rows, stored as ``rows`` stores its own (on the device,
        or streamed through a temporary file; see ``RowSource.mapped``).
    max_iter : int
        Epochs per stage.

    Returns
    -------
    loss_curves : list of list of float
        The training loss at each epoch, one list per stage.
    """
    module = net.module_
    encoder = _layer_groups(module.encoder)
    decoder = _layer_groups(module.decoder)[::-1]
    batch_size = net.batch_size
    curves = []
    for depth, (down, up) in enumerate(zip(encoder, decoder, strict=True)):
        stage = _Stage(down, up)
        loss = estimator.loss if depth == 0 else "mse"
        stage_net = estimator._build_net(
            stage,
            net.device,
            len(rows),
            criterion=ReconstructionLoss(loss),
            max_epochs=max_iter,
        )
        stage_net.initialize()
        stage_net.generator = net.generator
        stage_net.host_generator = net.host_generator
        stage_net.partial_fit((rows, None))
        curves.append(loss_curve(stage_net))
        if depth < len(encoder) - 1:
            stage.eval()
            n_out = stage.encoder[0].out_features
            rows = rows.mapped(stage.encode, n_out, max(batch_size, 4096))
    return curves
