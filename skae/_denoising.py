"""DenoisingAE: an autoencoder trained to undo corruption of its input."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseAutoEncoder


class DenoisingAE(_BaseAutoEncoder):
    """Denoising autoencoder: learns to reconstruct clean rows from corrupted ones.

    While training, every mini-batch is corrupted afresh (Gaussian noise,
    masking or salt-and-pepper noise) before it is encoded, and the network
    is asked to reconstruct the *clean* batch. It must therefore learn the
    structure of the data rather than the identity, so its codes are useful
    even when ``n_components`` is not smaller than the number of features,
    and ``inverse_transform(transform(X_noisy))`` removes noise of the kind it
    was trained on. Corruption happens only in ``fit``: ``transform``,
    ``inverse_transform`` and ``score_samples`` are deterministic.

    Parameters
    ----------
    noise : {'masking', 'gaussian', 'salt_pepper'}, default='masking'
        Kind of corruption applied to training batches:

        - ``'masking'``: a ``noise_level`` fraction of the entries, chosen at
          random, is set to 0 (in the input's units), as in Vincent et al.;
        - ``'gaussian'``: independent Gaussian noise of standard deviation
          ``noise_level``, in the input's units, is added to every entry,
          and the result is clipped to the feature's range over the
          training data (``data_min_``, ``data_max_``), so that corrupted
          rows of bounded data such as pixels remain plausible rows;
        - ``'salt_pepper'``: a ``noise_level`` fraction of the entries is set
          to its feature's minimum or maximum over the training data (each
          with probability 1/2).

        Masking is the default because its ``noise_level`` is a fraction, so
        it means the same thing whatever the scale of the data.

    noise_level : float, default=0.25
        Strength of the corruption: the fraction of corrupted entries for
        ``'masking'`` and ``'salt_pepper'`` (must then be at most 1), or the
        standard deviation of the noise for ``'gaussian'``. Vincent et al.
        found destruction rates of 10% to 50% to give the most useful
        features; 0.25 is in the middle of that range. For ``'gaussian'`` it
        is in the units of ``X`` (0.25 is a quarter of the range of data in
        [0, 1], such as images scaled by their maximum): set it to the noise
        you expect at test time.

    n_components : int, default=2
        Number of code units (the dimension of ``transform``'s output).

    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
        ``()`` gives a shallow autoencoder. The default is wide enough to beat
        PCA on images such as digits and MNIST while fitting in seconds on a
        CPU; on much wider data (thousands of features) consider a wider
        first layer.

    activation : {'relu', 'tanh', 'sigmoid', 'identity'}, default='relu'
        Nonlinearity of the hidden layers. With ``'identity'`` and
        ``loss='mse'`` the autoencoder is linear and its codes span PCA's
        subspace.

    loss : {'mse', 'bce'}, default='mse'
        Reconstruction loss. ``'mse'`` is the Gaussian negative
        log-likelihood up to constants, with a linear output layer;
        ``'bce'`` is the Bernoulli one, for data in [0, 1], with a sigmoid
        output layer. With ``'mse'`` the input is centred and divided by one
        global scale before training (the fitted ``shift_`` and ``scale_``);
        a single scale keeps the objective proportional to the
        reconstruction error in the input's units, and lets the default
        learning rate work for data of any magnitude.

    alpha : float, default=1e-4
        L2 penalty (weight decay) on the connection weights, as in
        :class:`~sklearn.neural_network.MLPRegressor`; biases are not
        penalised.

    dropout : float, default=0.0
        Dropout rate after every hidden layer while training.

    batch_size : int or 'auto', default='auto'
        Rows per mini-batch; ``'auto'`` means ``min(64, n_samples)``. Small
        batches give more updates per epoch, which is what small data sets
        such as digits need to beat PCA within the default ``max_iter``.

    learning_rate_init : float, default=1e-3
        Learning rate of the Adam optimizer.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    tol : float, default=1e-4
        Training stops when the monitored loss (training loss, or validation
        loss with ``early_stopping``) has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, monitor the loss on
        them, stop when it stops improving and keep the best weights.

    validation_fraction : float, default=0.1
        Fraction of rows held out with ``early_stopping``.

    n_iter_no_change : int, default=10
        Epochs without improvement by ``tol`` before training stops.

    warm_start : bool, default=False
        Continue training the fitted network on the next call to ``fit``
        instead of starting afresh.

    device : str, default='cpu'
        Torch device to train on: ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or
        ``'auto'`` (CUDA when available). A device that is not present is a
        ``ValueError`` at ``fit``.

    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. ``Checkpoint``, ``LRScheduler``), copied
        and passed to the net; name them with ``(name, callback)`` tuples.

    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and corruption through a
        local ``torch.Generator``; the global random state is never touched. The
        same value gives the same model, bit for bit, on a CPU.

    verbose : int, default=0
        With ``verbose > 0``, skorch prints a table of the loss each epoch.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module, with
        ``encode`` and ``decode`` methods, and ``net_.history`` its history.

    loss_curve_ : list of float
        Training objective (mean loss per row on standardised data, plus the
        L2 penalty's effect through the optimizer) at each epoch.

    validation_scores_ : list of float or None
        Negative validation loss at each epoch, with ``early_stopping``;
        otherwise None.

    best_validation_score_ : float or None
        Best of ``validation_scores_``, with ``early_stopping``.

    best_loss_ : float or None
        Lowest training loss, without ``early_stopping``.

    n_iter_ : int
        Number of epochs run (summed over ``warm_start`` fits).

    shift_ : ndarray of shape (n_features,) or None
        Per-feature mean subtracted before encoding (``loss='mse'``).

    scale_ : float
        Global scale the centred input is divided by (``loss='mse'``).

    data_min_ : ndarray of shape (n_features,)
        Per-feature minimum of the training data (the "pepper" of
        ``noise='salt_pepper'``).

    data_max_ : ndarray of shape (n_features,)
        Per-feature maximum of the training data (the "salt").

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    AutoEncoderTransformer : The same network trained without corruption.
    SparseAE : Autoencoder regularised by a sparsity penalty on its codes.
    ContractiveAE : Autoencoder regularised by the Jacobian of its encoder.

    Notes
    -----
    With ``loss='mse'`` the network sees standardised batches
    ``(x - shift_) / scale_``; the corruption is applied to them in a way
    that is equivalent to corrupting the raw rows (Gaussian noise is divided
    by ``scale_``, a masked entry takes the standardised value of a raw 0).
    All random draws come from the estimator's own ``torch.Generator``,
    seeded by ``random_state``.

    References
    ----------
    P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and
    composing robust features with denoising autoencoders", Proceedings of
    the 25th International Conference on Machine Learning (ICML), 2008.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> dae = DenoisingAE(n_components=8, noise="gaussian", noise_level=0.2,
    ...                   max_iter=5, random_state=0)
    >>> codes = dae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> dae.inverse_transform(codes).shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        "noise": [StrOptions({"gaussian", "masking", "salt_pepper"})],
        "noise_level": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        noise="masking",
        noise_level=0.25,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        loss="mse",
        alpha=1e-4,
        dropout=0.0,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        device="cpu",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.noise = noise
        self.noise_level = noise_level
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
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def _prepare_fit(self, X):
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(
                f"noise_level={self.noise_level} is the fraction of entries "
                f"corrupted by noise={self.noise!r}, so it must be in [0, 1]."
            )
        if sp.issparse(X):
            self.data_min_ = X.min(axis=0).toarray().ravel().astype(np.float64)
            self.data_max_ = X.max(axis=0).toarray().ravel().astype(np.float64)
        else:
            self.data_min_ = X.min(axis=0).astype(np.float64)
            self.data_max_ = X.max(axis=0).astype(np.float64)

    def _standardised(self, values, x):
        """Raw per-feature ``values`` in the standardised units of batch ``x``."""
        values = np.asarray(values, dtype=np.float64)
        if self.shift_ is not None:
            values = (values - self.shift_) / self.scale_
        return torch.as_tensor(values, dtype=x.dtype, device=x.device)

    def _corrupt(self, inputs, generator):
        if self.noise_level == 0:
            return inputs
        if self.noise == "gaussian":
            noise = torch.randn(
                inputs.shape,
                generator=generator,
                device=inputs.device,
                dtype=inputs.dtype,
            )
            noisy = inputs + noise * (self.noise_level / self.scale_)
            # Keep corrupted rows inside the training data's range, as real
            # noisy observations of bounded data (pixels, counts) are.
            low = self._standardised(self.data_min_, inputs)
            high = self._standardised(self.data_max_, inputs)
            return torch.clamp(noisy, low, high)
        draws = torch.rand(
            inputs.shape,
            generator=generator,
            device=inputs.device,
            dtype=inputs.dtype,
        )
        corrupted = draws < self.noise_level
        if self.noise == "masking":
            zero = self._standardised(np.zeros(inputs.shape[1]), inputs)
            return torch.where(corrupted, zero, inputs)
        # salt_pepper: given that an entry is corrupted (draw < level), its
        # draw is uniform on [0, level), so its lower half picks the minimum.
        pepper = draws < self.noise_level / 2
        low = self._standardised(self.data_min_, inputs)
        high = self._standardised(self.data_max_, inputs)
        return torch.where(corrupted, torch.where(pepper, low, high), inputs)
