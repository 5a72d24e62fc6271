"""Torch modules: encoder/decoder networks exposing ``encode`` and ``decode``.

Modules know nothing about scikit-learn; they are built by the estimators and
trained by :mod:`skae._net`. The estimators build them on the meta device and
call ``reset_parameters(generator)``, which must initialise every parameter
and buffer from that generator (never from the global random state).

Every module returns ``(output, codes)`` from ``forward``, where ``output``
holds the decoder's *natural parameters* (the mean for a Gaussian likelihood,
the logits for a Bernoulli one); ``decode`` returns the mean of the
reconstruction.
"""

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}

# Gain names understood by ``torch.nn.init.calculate_gain``.
_GAINS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "identity": "linear"}


class Dropout(nn.Module):
    """Dropout that draws its mask from an explicit ``torch.Generator``.

    ``torch.nn.Dropout`` always uses the global random state; the training
    engine sets :attr:`generator` for the duration of ``fit`` so that the
    estimator's ``random_state`` alone decides the masks.
    """

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.generator = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


def _dense_stack(sizes, activation, dropout):
    """Linear layers through ``sizes``, each followed by activation and dropout."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers.append(nn.Linear(n_in, n_out))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout))
    return layers


class MLPAutoEncoder(nn.Module):
    """Fully connected autoencoder with a mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of the code.
    hidden_layer_sizes : tuple of int
        Widths of the encoder's hidden layers; the decoder uses them reversed.
    activation : str
        Hidden-layer nonlinearity, a key of ``ACTIVATIONS``.
    output : {'identity', 'sigmoid'}
        Nonlinearity that maps the decoder's natural parameters to its mean.
    dropout : float
        Dropout rate after every hidden layer.
    code_activation : str
        Nonlinearity of the code layer ('identity' gives linear codes, as PCA).
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        output="identity",
        dropout=0.0,
        code_activation="identity",
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.activation = activation
        self.code_activation = code_activation
        self.output = output
        self.encoder = nn.Sequential(
            *_dense_stack([n_features, *hidden], activation, dropout),
            nn.Linear(([n_features, *hidden])[-1], n_components),
            ACTIVATIONS[code_activation](),
        )
        self.decoder = nn.Sequential(
            *_dense_stack([n_components, *hidden[::-1]], activation, dropout),
            nn.Linear(([n_components, *hidden[::-1]])[-1], n_features),
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return ACTIVATIONS[self.output]()(self.decoder(z))

    def forward(self, x):
        codes = self.encoder(x)
        return self.decoder(codes), codes

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Glorot-initialise weights for their layer's activation, zero biases.

        The initialisation is drawn from ``generator`` so that the global
        random state is never used. Each weight's gain follows the
        nonlinearity that consumes the layer's output.
        """
        for stack, last_gain in (
            (self.encoder, _GAINS[self.code_activation]),
            (self.decoder, "linear"),
        ):
            linears = [m for m in stack if isinstance(m, nn.Linear)]
            for i, layer in enumerate(linears):
                last = i == len(linears) - 1
                gain = nn.init.calculate_gain(
                    last_gain if last else _GAINS[self.activation]
                )
                nn.init.xavier_uniform_(layer.weight, gain=gain, generator=generator)
                nn.init.zeros_(layer.bias)


def set_generator(module, generator):
    """Point every submodule that draws random numbers at ``generator``.

    Such submodules (:class:`Dropout`, a VAE's sampling layer, ...) declare
    a ``generator`` attribute; the engine sets it for the duration of
    ``fit`` and resets it to None afterwards.
    """
    for m in module.modules():
        if hasattr(m, "generator"):
            m.generator = generator
