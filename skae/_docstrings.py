"""Docstring entries shared by the estimators, filled in by ``fill_doc``.

Every estimator documents its full signature, as numpydoc and scikit-learn's
docstring tests expect; the entries that read the same in every class are
written once here. In a class docstring, a line holding only ``{name}``
(indented as a parameter) is replaced by the entry ``name`` below, or by the
entries of the group ``name``, separated by blank lines.
"""

import re

_ENTRIES = {
    "n_components": """\
n_components : int, default=2
    Number of code units (the dimension of ``transform``'s output).""",
    "n_components_or_fraction": """\
n_components : int or float, default=2
    Number of code units (the dimension of ``transform``'s output). A
    float in (0, 1) keeps, as in PCA, the fewest codes whose cumulative
    explained variance reaches it (``n_components_``); the others are held
    at their mean. The network is trained with as many codes as
    ``PCA(n_components)`` keeps on the same (standardised) rows: a linear
    model of that width explains the fraction, so the network can, and
    usually with fewer codes. The fraction is reached on the rows held out
    for early stopping where there are any, since a network explains more
    of the rows it trained on than of new ones (on MNIST-5k with 0.9 the
    training rows' share overstated the held-out R² by 0.02), and on the
    training rows otherwise.""",
    "ordered_codes": """\
ordered_codes : bool or 'auto', default='auto'
    Train with nested dropout (Rippel, Gelbart and Adams, 2014): a tenth
    of the rows of each batch keep only their first ``b`` codes (``b``
    log-uniform on ``1 .. n_components - 1``, the rest held at the batch's
    mean), so that the first codes carry the most and truncating to the
    first ``j`` codes loses the least; for a linear autoencoder this
    recovers PCA, components in order. On held-out digits/16 (16 codes) and
    MNIST-5k (32 codes) every truncation was at or below PCA's error at
    the same number of components, and the full-width error 0-3 % and
    4.5 % above the unordered model's (see the user guide). Ordered
    linear codes then change basis where that truncates better: to the
    uncorrelated directions that predict the most of the rows, in order,
    which for a linear autoencoder are PCA's components (nested dropout
    alone left them 1-4 % of the variance and up to 88 degrees off on
    standardised digits); the outputs are unchanged. ``'auto'`` orders
    where ``n_components`` is a fraction (which keeps the first codes) and
    not otherwise, so that the default model is trained for its full width
    alone.""",
    "whiten": """\
whiten : bool, default=False
    ``transform`` returns decorrelated codes of unit variance, as
    ``PCA(whiten=True)`` does: the kept codes, centred, times the inverse
    of the transposed Cholesky factor of their covariance on the training
    rows, so that whitened code ``j`` depends on codes ``0..j`` only and
    the order is kept. ``inverse_transform`` undoes it and :meth:`sample`
    draws from a standard normal.""",
    "hidden_layer_sizes": """\
hidden_layer_sizes : array-like of int, default=(256, 128)
    Widths of the encoder's hidden layers; the decoder mirrors them.
    ``()`` gives a shallow autoencoder. The default is wide enough to beat
    PCA on images such as digits and MNIST while fitting in seconds on a
    CPU; on much wider data (thousands of features) consider a wider
    first layer.""",
    "activation": """\
activation : {'relu', 'tanh', 'sigmoid', 'identity'}, default='relu'
    Nonlinearity of the hidden layers. With ``'identity'`` and
    ``loss='mse'`` the autoencoder is linear and its codes span PCA's
    subspace. ``'relu'`` was measured against ``'tanh'`` with
    :class:`AutoEncoderTransformer`'s other defaults (held-out error over
    PCA's, worst of five seeds, ``benchmarks/tables.py``): ``'tanh'`` was
    worse on MNIST-5k (0.673 against 0.583), digits/16 (0.516 against
    0.462), standardised digits with 8 codes (0.349 against 0.320), a
    curved manifold (0.470 against 0.438) and 150 rows of one (mean 1.000
    against 0.869), better only on standardised digits with 16 codes
    (0.307 against 0.387).""",
    "loss": """\
loss : {'mse', 'bce', 'poisson', 'softmax'}, default='mse'
    Reconstruction loss, and the decoder output that matches it:

    - ``'mse'``: the Gaussian negative log-likelihood up to constants, with a
      linear output. The input is centred and divided by one global scale
      before training (the fitted ``shift_`` and ``scale_``); a single scale
      keeps the objective proportional to the reconstruction error in the
      input's units, and lets the default learning rate work for data of any
      magnitude.
    - ``'bce'``: Bernoulli, for data in [0, 1] (pixel intensities), with a
      sigmoid output.
    - ``'poisson'``: Poisson, for counts; the decoder outputs log-rates and
      ``inverse_transform`` gives expected counts.
    - ``'softmax'``: multinomial over the features, for word counts;
      ``inverse_transform`` gives each row's word frequencies.

    All but ``'mse'`` need non-negative ``X`` and use it as it is.""",
    "alpha": """\
alpha : float, default=1e-4
    Weight decay on the connection weights: each optimizer step shrinks
    them by the factor ``1 - learning_rate * alpha`` (decoupled weight
    decay, AdamW); biases are not decayed. Above 4,000 rows (those given
    to ``fit``), and above one row per 47 connection weights, the decay
    falls with the rows (``alpha * max(4000, weights / 47) / n_samples``),
    as a fixed L2 prior's pull on the mean loss does. Not
    :class:`~sklearn.neural_network.MLPRegressor`'s L2 term in Adam's
    gradient: that drove the weights of units that stop learning, and the
    gradients through them, into subnormal floats, which slowed training on
    a CPU up to twentyfold (0.7 s to 15 s an epoch on a 100,000-row
    table).""",
    "alpha_decay": """\
alpha : float, default=1.0
    Weight decay on the connection weights: each optimizer step shrinks
    them by the factor ``1 - learning_rate * alpha`` (decoupled weight
    decay, AdamW); biases and the linear paths of ``init='pca'`` are not
    decayed. Not :class:`~sklearn.neural_network.MLPRegressor`'s L2 term in
    Adam's gradient: that drove the weights of units that stop learning,
    and the gradients through them, into subnormal floats, which slowed
    training on a CPU up to twentyfold (0.7 s to 15 s an epoch on a
    100,000-row table). The default 1.0 (a shrink of 1e-3 per step at the
    default learning rate) was measured against 1e-4 and 0.1 with the other
    defaults: on MNIST-5k (``n_components=32``) it gave 0.63 of PCA's
    held-out error against 0.79 and 0.77; on digits and tables the same or
    better, at up to twice the epochs. Above 4,000 rows (those given to
    ``fit``) the decay is ``alpha * 4000 / n_samples``, as a fixed L2
    prior's pull on the mean loss falls with the rows, but a network with
    more than 47 connection weights a row keeps it whole up to ``weights /
    47`` rows (``alpha * max(4000, weights / 47) / n_samples``): on 20,000
    MNIST images (``n_components=30``, squared error per test image) that
    took the default network (0.48 million weights) from 5.59 to 5.36 and
    784-1000-500-250-30 (2.8 million) from 5.80 to 4.64 (at nine tenths
    of the rule's decay), where on 4,000
    images both fitted best at ``alpha=1`` (against 4 and 15). It is taken at
    ``learning_rate_init``: where ``batch_size='auto'`` raises the learning
    rate with the batch, the decay is divided by the same factor, so that
    the shrink per step stays ``learning_rate_init`` times that decay. On
    full MNIST (60,000 rows), 784-128-64-32 with
    ``loss='bce'`` reached a test cross-entropy of 0.111 per pixel with the
    unscaled decay, 0.0805 with the decay scaled by the rows and 0.0784
    taken at ``learning_rate_init`` (no decay: 0.0776); on a 20-column
    table of 10,000 to 100,000 rows and on 20,000 MNIST images
    (``loss='mse'``) the last was as good or better (see the user
    guide).""",
    "dropout": """\
dropout : float, default=0.0
    Dropout rate after every hidden layer while training.""",
    "batch_size": """\
batch_size : int or 'auto', default='auto'
    Rows per mini-batch. ``'auto'`` takes 64 rows from 640 to 6,400 rows
    (below 640, a tenth of them and at least 16, so that an epoch has about
    ten steps), and beyond grows the batch to keep an epoch at 100 steps,
    up to 4,096 rows, with the learning rate multiplied by the square root
    of the batch's growth over 64 (reached over the first epoch, rising
    linearly from ``learning_rate_init``: taken at once, it made a
    1000-1000-1000 network collapse to the data's mean on MNIST). Small
    data sets such as digits need the
    many updates of small batches; on large ones the fixed number of steps
    per epoch makes fit time grow with the epochs that help rather than
    with the rows (see the user guide's measurements). An explicit size
    keeps ``learning_rate_init`` as given.""",
    "init": """\
init : {'auto', 'pca', 'random'}, default='auto'
    How the network starts. ``'pca'``: as PCA's solution on the
    standardised training rows, so that the untrained model's codes are
    PCA's scores (divided by ``scale_``) and its reconstruction is
    ``PCA(n_components)``'s; the encoder and the decoder each get a linear
    path beside their network, started at PCA's components, and the last
    layer of each network starts at zero, so training only adds what the
    nonlinear layers find. ``'random'``: Glorot initialisation of the
    networks alone, no linear paths. ``'auto'`` is ``'pca'`` where it
    applies (``loss='mse'``, no greedy pretraining) and ``'random'``
    elsewhere. With the held-out split of ``early_stopping='auto'``, a fit
    that starts from PCA returns a model whose validation error is at most
    PCA's. The linear paths are not penalised by ``alpha``.""",
    "learning_rate_init": """\
learning_rate_init : float, default=1e-3
    Learning rate of the Adam optimizer (AdamW). A fully connected layer
    fed by more than 256 units, past the input layer, learns at this rate
    times ``256 / its inputs`` and its decay is raised by as much, so that
    every weight shrinks alike (Adam's rate for wide layers in Yang et
    al.'s muP, 2022): a wide layer's units otherwise take steps too large
    for the rate that suits narrow ones. Networks no wider than 256 units
    (the autoencoders' default 256-128) take one rate. 784-1000-500-250-30
    on full MNIST reached a squared error per test image of 2.91 with it,
    against 3.37 with one rate for all layers (see the user guide).""",
    "classifier_learning_rate_init": """\
learning_rate_init : float, default=1e-3
    Learning rate of the Adam optimizer (AdamW), of every layer, in
    pretraining too. The autoencoders slow layers fed by more than 256
    units (see :class:`AutoEncoderTransformer`); here that raised the test
    error on all 60,000 MNIST labels with 1000-1000-1000 from 1.26 % to
    1.31 %.""",
    "max_iter": """\
max_iter : int, default=200
    Maximum number of epochs (passes over the training data).""",
    "tol": """\
tol : float, default=1e-4
    Training stops when the monitored loss (training loss, or validation
    loss with ``early_stopping``) has not improved by at least ``tol``
    for ``n_iter_no_change`` consecutive epochs.""",
    "early_stopping": """\
early_stopping : bool or 'auto', default='auto'
    Hold out ``validation_fraction`` of the rows, monitor the loss on
    them, stop when it stops improving and keep the weights of the lowest
    validation loss, those training started from included (they give way
    only to a gain larger than its standard error across the held-out
    rows, so that a few rows cannot trade PCA's solution for a chance
    win). ``'auto'``
    holds out whenever that leaves at least 10 validation rows (95 rows
    or more at the default ``validation_fraction``), and from one
    validation row when the network starts as PCA's solution, as measured
    in the user guide: without a held-out split, training went on to fit
    noise, up to 1.7 times PCA's held-out error on tables whose structure
    is linear (1.4 times at 70 rows).
    ``partial_fit`` never holds out (``True`` is an error there).""",
    "validation_fraction": """\
validation_fraction : float, default=0.1
    Fraction of rows held out with ``early_stopping``.""",
    "early_stopping_": """\
early_stopping_ : bool
    Whether the last ``fit`` held out rows (``early_stopping``, with
    ``'auto'`` resolved).""",
    "n_iter_no_change": """\
n_iter_no_change : int, default=10
    Epochs without improvement by ``tol`` before training stops.""",
    "warm_start": """\
warm_start : bool, default=False
    Continue training the fitted network on the next call to ``fit``
    instead of starting afresh.""",
    "device": """\
device : str, default='cpu'
    Torch device to train on: ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or
    ``'auto'`` (CUDA when available). A device that is not present is a
    ``ValueError`` at ``fit``.""",
    "precision": """\
precision : {'float32', 'tf32', 'bf16'}, default='float32'
    Arithmetic of training. ``'bf16'`` runs the forward pass under
    bfloat16 autocast, on a CUDA GPU with bfloat16 or on a CPU (fast only
    with AVX-512; ``fit`` warns where it would be emulated). ``'tf32'``
    lets CUDA matmuls and convolutions round their inputs to TensorFloat-32
    (Ampere GPUs and later; no effect on a CPU). Either way the weights,
    gradients, optimizer and loss stay in float32, and ``transform``,
    ``inverse_transform`` and ``score_samples`` run at full precision. Both
    trade a little reconstruction error for speed; the user guide measures
    both on MNIST.""",
    "callbacks": """\
callbacks : list of skorch callbacks, default=None
    Extra skorch callbacks (e.g. ``Checkpoint``, ``LRScheduler``), copied
    and passed to the net; name them with ``(name, callback)`` tuples.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seeds initialisation, shuffling, dropout and any other randomness of
    training (corruption, sampling) through local ``torch.Generator``
    objects; the global random state is never touched. The same value
    gives the same model, bit for bit, on a CPU.""",
    "verbose": """\
verbose : int, default=0
    With ``verbose > 0``, skorch prints a table of the loss each epoch.""",
    "net_": """\
net_ : skorch.NeuralNet
    The trained skorch net; ``net_.module_`` is the torch module, with
    ``encode`` and ``decode`` methods, and ``net_.history`` its history.""",
    "loss_curve_": """\
loss_curve_ : list of float
    Training objective at each epoch: the mean reconstruction loss per
    entry of the standardised data, plus the variant's penalty if it has
    one (the L2 penalty ``alpha`` acts through the optimizer and is not
    included).""",
    "validation_scores_": """\
validation_scores_ : list of float or None
    Negative validation loss at each epoch, when the last fit held out
    rows (``early_stopping_``); otherwise None.""",
    "best_validation_score_": """\
best_validation_score_ : float or None
    Negative validation loss of the model kept: the best of
    ``validation_scores_``, or the starting model's where no epoch beat
    it.""",
    "best_loss_": """\
best_loss_ : float or None
    Lowest training loss, without ``early_stopping``.""",
    "n_iter_": """\
n_iter_ : int
    Number of epochs run (summed over ``warm_start`` fits).""",
    "shift_": """\
shift_ : ndarray of shape (n_features,) or None
    Per-feature mean subtracted before encoding (``loss='mse'``).""",
    "scale_": """\
scale_ : float
    Global scale the centred input is divided by (``loss='mse'``).""",
    "code_mean_": """\
code_mean_ : ndarray of shape (n_components,)
    Mean of the training codes (as ``transform`` returns them); with
    ``code_covariance_``, the Gaussian that :meth:`sample` draws codes
    from.""",
    "code_covariance_": """\
code_covariance_ : ndarray of shape (n_components, n_components)
    Covariance of the training codes.""",
    "n_components_": """\
n_components_ : int
    Number of codes ``transform`` returns (the ``n_components`` of the
    array shapes here): ``n_components`` itself, or for a fraction the
    number of codes kept.""",
    "explained_variance_": """\
explained_variance_ : ndarray of shape (n_components,)
    Variance of the rows ``fit`` was given (training and held-out) that the
    reconstruction gains from each code, given the codes before it (later
    codes held at their mean), in the units of ``X`` squared, as PCA's.
    Its cumulative sum over the first ``j`` codes is the reconstruction's
    explained variance with those codes. An entry can be negative where a
    code does not help. It takes one decoder pass per code and row: past
    2,000,000 of them, it is measured on ``2,000,000 / n_codes`` rows (at
    least 4,096) spread evenly over the data.""",
    "explained_variance_ratio_": """\
explained_variance_ratio_ : ndarray of shape (n_components,)
    ``explained_variance_`` over the total variance: its ``cumsum()`` is
    the reconstruction's R² with the first ``j`` codes, read as PCA's.""",
    "n_features_in_": """\
n_features_in_ : int
    Number of features seen during ``fit``.""",
    "feature_names_in_": """\
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during ``fit``. Defined only when `X`
    has feature names that are all strings.""",
}

# Runs of entries that stand together, in this order, in several classes.
_GROUPS = {
    "training_parameters": ("learning_rate_init", "max_iter", "stopping_and_device"),
    # What follows ``max_iter``, for classes that write their own entries
    # for the learning rate or the epochs.
    "stopping_and_device": (
        "tol",
        "early_stopping",
        "validation_fraction",
        "n_iter_no_change",
        "warm_start",
        "device",
        "precision",
        "callbacks",
    ),
    "fitted_attributes": (
        "net_",
        "loss_curve_",
        "validation_scores_",
        "best_validation_score_",
        "best_loss_",
        "early_stopping_",
        "n_iter_",
        "shift_",
        "scale_",
        "n_components_",
    ),
    "code_gaussian_attributes": ("code_mean_", "code_covariance_"),
    "principal_parameters": ("ordered_codes", "whiten"),
    "principal_attributes": ("explained_variance_", "explained_variance_ratio_"),
    "input_attributes": ("n_features_in_", "feature_names_in_"),
}

_MARKER = re.compile(r"^( *)\{(\w+)\}$", re.MULTILINE)


def _expanded(name):
    """The entry names a marker stands for, groups inside groups unfolded."""
    if name not in _GROUPS:
        return [name]
    return [entry for part in _GROUPS[name] for entry in _expanded(part)]


def _indented(match):
    indent, name = match.groups()
    text = "\n\n".join(_ENTRIES[n] for n in _expanded(name))
    return "\n".join(indent + line if line else line for line in text.splitlines())


def fill_doc(cls):
    """Class decorator: expand the ``{name}`` entry markers of the docstring."""
    cls.__doc__ = _MARKER.sub(_indented, cls.__doc__)
    return cls
