"""ConvAutoEncoder: a convolutional autoencoder on flattened images."""

import math
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseAutoEncoder
from ._conv_modules import UPSAMPLINGS, ConvolutionalAutoEncoder, _pool_size
from ._docstrings import fill_doc
from ._losses import LOSS_OUTPUTS


@fill_doc
class ConvAutoEncoder(_BaseAutoEncoder):
    """Convolutional autoencoder for images, one flattened image per row.

    The encoder is a series of convolution + max-pooling blocks followed by
    a dense layer to ``n_components`` codes; the decoder mirrors it, undoing
    each pooling as ``upsampling`` says and each convolution by another
    convolution. ``X`` stays a 2-D array, one flattened image per row (in
    C order, as ``images.reshape(n_samples, -1)`` gives), so the estimator
    drops into a :class:`~sklearn.pipeline.Pipeline` where
    :class:`~sklearn.decomposition.PCA` stood; 4-D arrays of shape
    ``(n_samples, channels, height, width)`` are accepted too.

    Parameters
    ----------
    {n_components}

    image_shape : tuple of (int, int, int) or None, default=None
        ``(channels, height, width)`` of the images, whose product must be
        the number of features. None takes the shape of 4-D input, and
        otherwise reads each row as a square single-channel image when the
        number of features is a perfect square (64 for 8 x 8 digits, 784 for
        MNIST), and as a one-pixel-high image (a 1-D signal) when it is not.
        The shape used is ``image_shape_``.

    conv_channels : array-like of int, default=(16, 32)
        Output channels of the encoder's convolutions, one pooling block
        each; the decoder mirrors them. Every block halves the height and
        width (rounding up), so a 28 x 28 image reaches the dense layers as
        7 x 7 feature maps.

    kernel_size : int, default=3
        Height and width of every convolution kernel. Convolutions are
        padded so that they keep the image size.

    upsampling : {'unpool', 'repeat', 'transpose'}, default='transpose'
        How the decoder undoes each max-pooling:

        - ``'unpool'``: unpooling, each value put in the top-left corner of
          its window and zeros elsewhere; the next convolution learns where
          to spread it (see Notes);
        - ``'repeat'``: nearest-neighbour upsampling, each value repeated
          over its window;
        - ``'transpose'``: a learned transposed convolution with the window
          as kernel and stride ("deconvolution").

        ``'transpose'`` reconstructed best on digits and MNIST (see Notes).

    hidden_layer_sizes : array-like of int, default=()
        Widths of dense hidden layers between the last feature maps and the
        code; the decoder mirrors them. ``()`` connects the feature maps to
        the code directly.

    {activation}

    {loss}

    {alpha}

    dropout : float, default=0.0
        Dropout rate after every dense hidden layer while training.

    {batch_size}

    learning_rate_init : float, default=5e-3
        Learning rate of the Adam optimizer. Five times the fully connected
        estimators' default: with early stopping, 5e-3 reached a lower
        held-out error than 1e-3 in a third to half of the epochs on digits
        (raw / 16 and standardised, 8 and 16 codes, every upsampling mode)
        and on MNIST-5k (see Notes), where convolution epochs are what a
        fit's time is made of.

    {max_iter}

    {stopping_and_device}

    {random_state}

    {verbose}

    Attributes
    ----------
    image_shape_ : tuple of (int, int, int)
        ``(channels, height, width)`` the rows are read as.

    {fitted_attributes}

    {code_gaussian_attributes}

    {input_attributes}

    See Also
    --------
    AutoEncoderTransformer : The fully connected autoencoder.
    sklearn.decomposition.PCA : The linear method this estimator competes with.

    Notes
    -----
    Encoder block: ``Conv2d -> activation -> MaxPool2d(2, ceil_mode=True)``.
    Decoder block: ``upsample -> Conv2d -> activation``, the last convolution
    without activation. Dimensions of size one are not pooled, so short
    rows that are not images still work.

    Unpooling does not use the encoder's pooling indices ("switches"), as
    deconvolutional networks that reconstruct an input from its feature maps
    do: the switches are information outside the code, so
    ``inverse_transform``, which sees codes only, could not use them, and a
    decoder trained on them fails without them. On digits with 8 codes it
    reconstructed held-out images to a mean squared error of 0.0060 given
    the switches but 0.073 from the codes alone, against 0.0186 for
    top-left unpooling trained from the codes (PCA: 0.0249).

    Held-out mean squared error over ``PCA(32)``'s with 32 codes on MNIST
    (4,000 training images, ``benchmarks/conv_budget.py``, defaults, 2-core
    CPU): 0.396 after 36 epochs in 74 s ('transpose'), 0.411 after 44 in
    65 s ('unpool') and 0.497 after 47 in 66 s ('repeat'). At the former
    default learning rate of 1e-3 'transpose' stopped after 79 epochs and
    353 s at 0.395. With 8 codes on digits (70/30 split, 50 epochs at 1e-3):
    0.0186 ('unpool'), 0.0214 ('repeat') and 0.0180 ('transpose'), against
    0.0249.

    References
    ----------
    J. Masci, U. Meier, D. Ciresan and J. Schmidhuber, "Stacked
    convolutional auto-encoders for hierarchical feature extraction",
    ICANN 2011.

    M. D. Zeiler, G. W. Taylor and R. Fergus, "Adaptive deconvolutional
    networks for mid and high level feature learning", ICCV 2011.

    A. Dosovitskiy, J. T. Springenberg and T. Brox, "Learning to generate
    chairs with convolutional neural networks", CVPR 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvAutoEncoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> ae = ConvAutoEncoder(n_components=8, max_iter=3, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> ae.image_shape_
    (1, 8, 8)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.transform(X.reshape(-1, 1, 8, 8)).shape
    (1797, 8)
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        "image_shape": ["array-like", None],
        "conv_channels": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "upsampling": [StrOptions(set(UPSAMPLINGS))],
    }

    # ``_build_module`` reads the image shape that ``fit`` derives from X.
    _build_state = ("image_shape_",)

    def __init__(
        self,
        n_components=2,
        *,
        image_shape=None,
        conv_channels=(16, 32),
        kernel_size=3,
        upsampling="transpose",
        hidden_layer_sizes=(),
        activation="relu",
        loss="mse",
        alpha=1e-4,
        dropout=0.0,
        batch_size="auto",
        learning_rate_init=5e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        device="cpu",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.upsampling = upsampling
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.device = device
        self.precision = precision
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def _validate_input(self, X, *, reset, fitting=False):
        # A 4-D array of images is flattened to rows; its shape is checked
        # against (or, when fitting afresh, read as) the image shape.
        images = None
        if getattr(X, "ndim", None) == 4:
            images = tuple(int(d) for d in X.shape[1:])
            X = np.reshape(X, (X.shape[0], -1))
        X = super()._validate_input(X, reset=reset, fitting=fitting)
        if reset:
            self.image_shape_ = self._resolve_image_shape(X.shape[1], images)
        elif images is not None and images != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {images}, but {type(self).__name__} "
                f"was fitted on images of shape {self.image_shape_}."
            )
        return X

    def _resolve_image_shape(self, n_features, images):
        shape = self.image_shape
        if shape is None:
            if images is not None:
                return images
            side = math.isqrt(n_features)
            return (1, side, side) if side * side == n_features else (1, 1, n_features)
        shape = tuple(np.asarray(shape, dtype=object).ravel())
        if len(shape) != 3 or not all(
            isinstance(d, Integral) and d >= 1 for d in shape
        ):
            raise ValueError(
                "image_shape must be None or (channels, height, width), three "
                f"positive integers; got {self.image_shape!r}."
            )
        shape = tuple(int(d) for d in shape)
        if images is not None and images != shape:
            raise ValueError(
                f"X holds images of shape {images}, but image_shape={shape}."
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={shape} holds {math.prod(shape)} values per image, "
                f"but X has {n_features} features."
            )
        return shape

    def _conv_channels(self):
        channels = self.conv_channels
        if isinstance(channels, Integral):
            channels = [channels]
        channels = [int(c) for c in np.asarray(channels, dtype=object).ravel()]
        if any(c < 1 for c in channels):
            raise ValueError(
                "conv_channels must hold positive integers, got "
                f"{self.conv_channels!r}."
            )
        return tuple(channels)

    def _check_params(self):
        super()._check_params()
        self._conv_channels()

    def _architecture_params(self, hidden_layer_sizes):
        return {
            **super()._architecture_params(hidden_layer_sizes),
            "image_shape": self.image_shape,
            "conv_channels": self._conv_channels(),
            "kernel_size": self.kernel_size,
            "upsampling": self.upsampling,
        }

    def _build_module(self, n_features, hidden_layer_sizes):
        return ConvolutionalAutoEncoder(
            self.image_shape_,
            self.n_components,
            channels=self._conv_channels(),
            kernel_size=self.kernel_size,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            output=LOSS_OUTPUTS[self.loss],
            upsampling=self.upsampling,
            dropout=self.dropout,
        )

    def _layer_sizes(self):
        """Shapes of the network's layers, input to reconstruction."""
        try:
            channels = self._conv_channels()
            hidden = self._hidden_layer_sizes()
        except (TypeError, ValueError):
            return None
        if hasattr(self, "image_shape_"):
            shape = self.image_shape_
        elif self.image_shape is not None:
            shape = tuple(self.image_shape)
        else:
            shape = ("c", "h", "w")
        maps = [shape]
        if all(isinstance(d, Integral) for d in shape):
            depth, height, width = shape
            for n_out in channels:
                ph, pw = _pool_size(height, width)
                depth, height, width = n_out, -(-height // ph), -(-width // pw)
                maps.append((depth, height, width))
        text = ["\u00d7".join(str(d) for d in m) for m in maps]
        return [*text, *hidden, self.n_components, *hidden[::-1], *text[::-1]]
