"""AutoEncoderTransformer: a nonlinear drop-in for PCA."""

from ._base import _BaseAutoEncoder


class AutoEncoderTransformer(_BaseAutoEncoder):
    """Autoencoder as a scikit-learn transformer: a nonlinear drop-in for PCA.

    A fully connected encoder maps each row to ``n_components`` codes and a
    mirrored decoder maps codes back to the input space. ``transform``
    returns the codes, ``inverse_transform`` decodes them and
    ``score_samples`` is the negative reconstruction error, usable as an
    anomaly score. Training runs in PyTorch through a skorch net, on CPU or
    GPU.

    Parameters
    ----------
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

    code_mean_ : ndarray of shape (n_components,)
        Mean of the training codes; with ``code_covariance_``, the Gaussian
        that :meth:`sample` draws codes from.

    code_covariance_ : ndarray of shape (n_components, n_components)
        Covariance of the training codes.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.decomposition.PCA : The linear method this estimator replaces.
    sklearn.neural_network.MLPRegressor : Source of the training parameter names.

    Notes
    -----
    The network is trained with Adam on mini-batches; the data are converted
    once to a float32 tensor (and moved to the GPU when they fit there), and
    batches are sliced from it without a ``DataLoader``. ``transform``,
    ``inverse_transform`` and ``score_samples`` run in batches, in the dtype
    of their input.

    References
    ----------
    G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
    data with neural networks", Science 313(5786), 2006.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> ae = AutoEncoderTransformer(n_components=8, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    >>> ae.sample(3, random_state=0).shape
    (3, 64)
    """
