"""The convolutional autoencoder's torch module and its building blocks.

:class:`ConvolutionalAutoEncoder` reads flattened images, runs them through
``Conv2d -> activation -> MaxPool2d`` blocks and dense layers down to the
code, and mirrors that in its decoder; this module also holds what only the
convolutional network uses: the pooling window (:func:`_pool_size`, which
:mod:`skae._conv` reads to describe the layers), same-size convolutions and
the ways of undoing a pooling (``UPSAMPLINGS``). The shared pieces (the
activation and output maps, Glorot initialisation and dense stacks) come
from :mod:`skae._modules`, which this module imports and never the reverse.
"""

import torch
from torch import nn

from ._modules import _GAINS, ACTIVATIONS, OUTPUTS, _dense_stack, _glorot_init, _mlp

# Ways of undoing a max-pooling in a convolutional decoder (``upsampling``).
UPSAMPLINGS = ("unpool", "repeat", "transpose")


def _pool_size(height, width):
    """Pooling window that halves each spatial dimension longer than one."""
    return (2 if height > 1 else 1, 2 if width > 1 else 1)


class _SameConv2d(nn.Conv2d):
    """Convolution with stride one whose output keeps its input's size.

    Odd kernels are padded symmetrically; even ones get the extra row and
    column at the bottom and right, as ``padding='same'`` does (which warns
    for even kernels).
    """

    def __init__(self, in_channels, out_channels, kernel_size):
        odd = kernel_size % 2 == 1
        padding = kernel_size // 2 if odd else 0
        super().__init__(in_channels, out_channels, kernel_size, padding=padding)
        before = (kernel_size - 1) // 2
        self._extra = None if odd else (before, kernel_size - 1 - before) * 2

    def forward(self, x):
        if self._extra is not None:
            x = nn.functional.pad(x, self._extra)
        return super().forward(x)


class _Upsample(nn.Module):
    """Undo a ``MaxPool2d(pool, ceil_mode=True)`` back to ``size``.

    - ``'unpool'``: unpooling, each value put in the top-left corner of its
      window and zeros elsewhere (Dosovitskiy et al.); the decoder's next
      convolution learns where to spread it;
    - ``'repeat'``: nearest-neighbour upsampling, each value repeated over
      its window;
    - ``'transpose'``: a learned transposed convolution with the window as
      kernel and stride.

    The result is cropped to ``size`` where ceil-mode pooling padded an odd
    dimension.
    """

    def __init__(self, mode, channels, pool, size):
        super().__init__()
        self.mode = mode
        self.pool = pool
        self.size = size
        if mode == "transpose":
            self.transpose = nn.ConvTranspose2d(
                channels, channels, kernel_size=pool, stride=pool
            )

    def forward(self, x):
        (ph, pw), (height, width) = self.pool, self.size
        if self.mode == "unpool":
            # Zeros in the input's memory layout: a channels-last result
            # makes the next convolution 1.2 to 1.5 times faster (measured).
            layout = (
                torch.channels_last
                if x.is_contiguous(memory_format=torch.channels_last)
                else torch.contiguous_format
            )
            shape = (*x.shape[:2], x.shape[2] * ph, x.shape[3] * pw)
            out = torch.empty(
                shape, dtype=x.dtype, device=x.device, memory_format=layout
            ).zero_()
            out[..., ::ph, ::pw] = x
            x = out
        elif self.mode == "repeat":
            # Nearest-neighbour interpolation by a whole factor repeats each
            # value, as ``repeat_interleave`` would, but keeps the
            # channels-last layout; the measured forward and backward passes
            # are 4 to 12 times faster.
            x = nn.functional.interpolate(x, scale_factor=(ph, pw), mode="nearest")
        else:
            x = self.transpose(x)
        return x[..., :height, :width]

    def extra_repr(self):
        return f"mode={self.mode!r}, pool={self.pool}, size={self.size}"


class ConvolutionalAutoEncoder(nn.Module):
    """Convolutional autoencoder on flattened images.

    Rows come in flattened, as ``(batch, channels * height * width)``, and
    are reshaped to images inside the module, so the training engine and the
    estimator handle them like any other rows.

    The encoder is a series of blocks ``Conv2d -> activation -> MaxPool2d``
    (each pooling halves the height and width, rounding up), then dense
    layers down to the code. The decoder mirrors it: dense layers up to the
    last feature maps, then blocks ``upsample -> Conv2d -> activation``, the
    last convolution having no activation (the output's natural
    parameters). See :class:`_Upsample` for the ``upsampling`` modes.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of the images.
    n_components : int
        Width of the code.
    channels : tuple of int
        Output channels of the encoder's convolutions; the decoder mirrors
        them.
    kernel_size : int
        Size of every convolution's (square) kernel; convolutions are
        padded to keep the image size.
    hidden_layer_sizes : tuple of int
        Widths of the dense layers between the last feature maps and the code.
    activation : str
        Nonlinearity of hidden layers, a key of ``ACTIVATIONS``.
    output : str
        Map from the decoder's natural parameters to its mean, a key of
        ``OUTPUTS``.
    upsampling : {'unpool', 'repeat', 'transpose'}
        How the decoder undoes each pooling.
    dropout : float
        Dropout rate after every dense hidden layer.
    """

    def __init__(
        self,
        image_shape,
        n_components,
        channels=(16, 32),
        kernel_size=3,
        hidden_layer_sizes=(),
        activation="relu",
        output="identity",
        upsampling="unpool",
        dropout=0.0,
    ):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.activation = activation
        self.output = output
        self.upsampling = upsampling
        depth, height, width = self.image_shape
        convs, pools, upsamples, deconvs = [], [], [], []
        for n_out in channels:
            pool = _pool_size(height, width)
            convs.append(_SameConv2d(depth, n_out, kernel_size))
            pools.append(nn.MaxPool2d(pool, ceil_mode=True))
            upsamples.append(_Upsample(upsampling, n_out, pool, (height, width)))
            deconvs.append(_SameConv2d(n_out, depth, kernel_size))
            depth, height, width = n_out, -(-height // pool[0]), -(-width // pool[1])
        self.convs = nn.ModuleList(convs)
        self.pools = nn.ModuleList(pools)
        # Decoder blocks, in the order they run.
        self.upsamples = nn.ModuleList(upsamples[::-1])
        self.deconvs = nn.ModuleList(deconvs[::-1])
        self.act = ACTIVATIONS[activation]()
        self.feature_shape = (depth, height, width)
        n_flat = depth * height * width
        hidden = list(hidden_layer_sizes)
        self.dense_encoder = nn.Sequential(
            *_mlp([n_flat, *hidden, n_components], activation, dropout)
        )
        # The decoder's dense part ends with the activation, as the encoder's
        # pooled feature maps do.
        self.dense_decoder = nn.Sequential(
            *_dense_stack([n_components, *hidden[::-1], n_flat], activation, dropout)
        )
        # Parameterless, so the state_dict (and model files) stay as they were.
        self.output_activation = OUTPUTS[output]()
        # Channels-last kernels make the convolutions and poolings run in
        # the layout oneDNN and cuDNN are fastest in: a training step on
        # MNIST took 1.3 to 1.5 times less time on a 2-core CPU. Feature maps
        # follow the kernels' layout; ``flatten`` still reads them in
        # (channel, row, column) order, so the arithmetic is unchanged.
        self.to(memory_format=torch.channels_last)

    def encode(self, x):
        x = x.reshape(-1, *self.image_shape)
        for conv, pool in zip(self.convs, self.pools, strict=True):
            x = pool(self.act(conv(x)))
        return self.dense_encoder(x.flatten(1))

    def _decode(self, z):
        """The decoder's natural parameters, flattened."""
        x = self.dense_decoder(z).reshape(-1, *self.feature_shape)
        # In the convolutions' layout before the first upsampling, which
        # keeps it: otherwise every decoder convolution copies its input
        # (and its gradient) across layouts. A training step of batch 64 on
        # 28 x 28 images took 15 to 20 % less time (measured).
        x = x.contiguous(memory_format=torch.channels_last)
        last = len(self.deconvs) - 1
        for i, (upsample, deconv) in enumerate(
            zip(self.upsamples, self.deconvs, strict=True)
        ):
            x = deconv(upsample(x))
            if i < last:
                x = self.act(x)
        return x.flatten(1)

    def decode(self, z):
        return self.output_activation(self._decode(z))

    def forward(self, x):
        codes = self.encode(x)
        return self._decode(codes), codes

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Glorot-initialise weights for their layer's activation, zero biases.

        Everything is drawn from ``generator``, never from the global random
        state.
        """
        gain = nn.init.calculate_gain(_GAINS[self.activation])
        last = len(self.deconvs) - 1
        convs = [(conv, gain) for conv in self.convs]
        # The last convolution and the transposed ones feed no nonlinearity.
        convs += [
            (conv, gain if i < last else 1.0) for i, conv in enumerate(self.deconvs)
        ]
        convs += [
            (up.transpose, 1.0) for up in self.upsamples if up.mode == "transpose"
        ]
        for conv, g in convs:
            # Drawn in (out, in, row, column) order, whatever the layout.
            weight = torch.empty_like(
                conv.weight, memory_format=torch.contiguous_format
            )
            nn.init.xavier_uniform_(weight, gain=g, generator=generator)
            conv.weight.copy_(weight)
            nn.init.zeros_(conv.bias)
        _glorot_init(self.dense_encoder, self.activation, "identity", generator)
        _glorot_init(self.dense_decoder, self.activation, self.activation, generator)
