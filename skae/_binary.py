"""BinaryAutoEncoder: short binary codes for fast similar-item search."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import _BaseAutoEncoder
from ._docstrings import fill_doc
from ._losses import LOSS_OUTPUTS
from ._modules import NoisySigmoidCodeAutoEncoder


@fill_doc
class BinaryAutoEncoder(_BaseAutoEncoder):
    """Autoencoder with (nearly) binary codes: semantic hashing.

    The code units are sigmoids, and while training Gaussian noise of
    standard deviation ``code_noise`` is added to their inputs. A unit can
    then pass information to the decoder only by saturating, far enough
    from 0 on the logit scale that the noise cannot flip it, so training
    drives the codes towards 0 or 1. Thresholded at 0.5, each row becomes
    ``n_components`` bits (:meth:`transform_bits`), stored in
    ``n_components / 8`` bytes (:meth:`transform_packed`); similar rows get
    codes at a small Hamming distance, which
    :class:`~skae.HammingIndex` searches with XOR and popcount, far faster
    than a Euclidean search on the input (Salakhutdinov and Hinton's
    semantic hashing).

    :meth:`transform` returns the sigmoid activations themselves (floats in
    (0, 1), without noise), as any transformer returns codes, so the
    estimator composes with the rest of scikit-learn.

    Parameters
    ----------
    n_components : int, default=2
        Number of code units, i.e. of bits per row; a multiple of 8 packs
        without padding and a multiple of 64 fills whole machine words
        (64 bits: 8 bytes per row).

    code_noise : float, default=4.0
        Standard deviation of the Gaussian noise added to the code units'
        pre-activations while training, on the logit scale; 0 gives a plain
        sigmoid-code autoencoder. Noise of a few units makes the bits
        robust: with 4.0, a unit whose logit is 4 is flipped by the noise
        16% of the time, so the reconstruction pushes the logits further out,
        where the sigmoid is close to 0 or 1 (on MNIST, 90% of the
        activations end up within 0.05 of 0 or 1). Noise is never added in
        ``transform``.

    {hidden_layer_sizes}

    {activation}

    loss : {'mse', 'bce', 'poisson', 'softmax'}, default='mse'
        Reconstruction loss. ``'mse'`` (Gaussian, on data centred and
        divided by one global scale, ``shift_`` and ``scale_``) accepts any
        data and is what scikit-learn's checks need of a default; on MNIST
        pixels it also gives better bits than ``'bce'`` within the default
        epochs (precision@10 of 64-bit codes 0.85 against 0.76), since the
        standardised input trains faster. ``'bce'`` (Bernoulli, data in
        [0, 1]) models pixel intensities;
        ``'poisson'`` (decoder outputs log-rates, ``inverse_transform``
        gives expected counts) and ``'softmax'`` (multinomial over the
        features, ``inverse_transform`` gives frequencies) suit word
        counts. The last three need non-negative ``X``.

    {alpha}

    {dropout}

    {batch_size}

    {learning_rate_init}

    max_iter : int, default=50
        Number of epochs (passes over the training data). The code noise
        keeps the training loss from settling within ``tol``, so training
        usually runs all of them; 50 epochs give 64-bit codes of MNIST
        whose precision@10 is within 2% of Euclidean search in pixel space,
        in about 15 seconds on one CPU core, and more epochs gain little.

    {stopping_and_device}

    {random_state}

    {verbose}

    Attributes
    ----------
    {fitted_attributes}

    {code_gaussian_attributes}

    {input_attributes}

    See Also
    --------
    HammingIndex : Nearest-neighbour search on packed binary codes.
    precision_at_k : Retrieval precision of codes against labels.
    AutoEncoderTransformer : The same network with real-valued codes.
    sklearn.decomposition.PCA : Linear codes, which can be thresholded too.

    Notes
    -----
    :meth:`sample` thresholds codes drawn from the Gaussian fitted to the
    training codes (``code_mean_``, ``code_covariance_``) at 0.5 and decodes
    the resulting bit vectors, so it generates the rows that binary codes
    can represent.

    References
    ----------
    R. Salakhutdinov and G. Hinton, "Semantic hashing", International
    Journal of Approximate Reasoning 50(7), 2009.

    A. Krizhevsky and G. Hinton, "Using very deep autoencoders for
    content-based image retrieval", ESANN, 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import BinaryAutoEncoder, HammingIndex
    >>> X, _ = load_digits(return_X_y=True)
    >>> bae = BinaryAutoEncoder(n_components=16, max_iter=5, random_state=0)
    >>> packed = bae.fit(X).transform_packed(X)
    >>> packed.shape, packed.dtype
    ((1797, 2), dtype('uint8'))
    >>> distances, indices = HammingIndex().fit(packed).kneighbors(packed[:3], 5)
    >>> indices.shape
    (3, 5)
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        "code_noise": [Interval(Real, 0, None, closed="left")],
    }

    _code_activation = "sigmoid"

    def __init__(
        self,
        n_components=2,
        *,
        code_noise=4.0,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        loss="mse",
        alpha=1e-4,
        dropout=0.0,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=50,
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
        self.code_noise = code_noise
        self.n_components = n_components
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

    def transform_bits(self, X):
        """Binary codes of ``X``: the code units thresholded at 0.5.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        bits : ndarray of shape (n_samples, n_components), dtype=uint8
            0 or 1 for each code unit.
        """
        return (self.transform(X) > 0.5).astype(np.uint8)

    def transform_packed(self, X):
        """Binary codes of ``X`` packed eight to a byte, for :class:`HammingIndex`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        packed : ndarray of shape (n_samples, ceil(n_components / 8)), dtype=uint8
            ``np.packbits(self.transform_bits(X), axis=1)``: the first bit is
            the most significant bit of the first byte, and the last byte is
            padded with zeros.
        """
        return np.packbits(self.transform_bits(X), axis=1)

    def _build_module(self, n_features, hidden_layer_sizes):
        return NoisySigmoidCodeAutoEncoder(
            n_features,
            self.n_components,
            code_noise=self.code_noise,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            output=LOSS_OUTPUTS[self.loss],
            dropout=self.dropout,
        )

    def _sample_codes(self, n_samples, rng):
        codes = super()._sample_codes(n_samples, rng)
        return (codes > 0.5).astype(np.float64)
