"""ContractiveAE: an autoencoder whose codes are insensitive to small input changes."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import _BaseAutoEncoder
from ._losses import contractive_penalty


class ContractiveAE(_BaseAutoEncoder):
    """Contractive autoencoder: penalises the Jacobian of its encoder.

    The training objective is the reconstruction loss plus
    ``contractive_weight`` times the squared Frobenius norm of the Jacobian
    of the encoder with respect to its input, averaged over rows. The
    encoder is thus pushed to be locally flat in every direction except
    those along which the data vary, which reconstruction needs: its codes
    change little under small perturbations of the input, and the network
    cannot learn the identity even with a wide code.

    Parameters
    ----------
    n_components : int, default=2
        Number of code units (the dimension of ``transform``'s output).

    contractive_weight : float, default=0.1
        Weight of the Jacobian penalty, relative to the mean reconstruction
        error per entry of the standardised data (about 1 for a model that
        predicts the mean, and a few hundredths for a good one). On data
        such as digits, 0.1 halves the sensitivity of the codes to input
        perturbations (compared with an :class:`AutoEncoderTransformer`)
        at a small cost in reconstruction error; larger values trade more
        reconstruction for more contraction.

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
        Seeds initialisation, shuffling and dropout through a local
        ``torch.Generator``; the global random state is never touched. The
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

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    AutoEncoderTransformer : The same network without the penalty.
    DenoisingAE : Autoencoder regularised by corrupting its training input.
    SparseAE : Autoencoder regularised by a sparsity penalty on its codes.

    Notes
    -----
    The Jacobian is exact, for any depth and activation: it is computed by
    reverse-mode automatic differentiation, one batched vector-Jacobian
    product per code unit, so a training step costs roughly
    ``n_components`` extra backward passes through the encoder (see
    :func:`skae._losses.contractive_penalty`).

    With ``loss='mse'`` the encoder sees standardised rows
    ``(x - shift_) / scale_``, so the Jacobian it penalises is
    ``J_std = scale_ * J``, where ``J`` is the Jacobian of ``transform`` in
    the units of ``X``. The penalty is therefore
    ``contractive_weight * scale_**2 * ||J||_F**2``: proportional to the
    Jacobian of ``transform``, and independent of the units of ``X``.

    References
    ----------
    S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio, "Contractive
    auto-encoders: explicit invariance during feature extraction",
    Proceedings of the 28th International Conference on Machine Learning
    (ICML), 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> cae = ContractiveAE(n_components=8, max_iter=3, random_state=0)
    >>> codes = cae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        contractive_weight=0.1,
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
        self.contractive_weight = contractive_weight
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

    def _penalty(self, inputs, codes, output, module):
        return self.contractive_weight * contractive_penalty(module.encode, inputs)
