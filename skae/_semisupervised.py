"""AutoEncoderClassifier: a classifier whose encoder is pretrained on unlabeled rows."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._averaging import CLASSIFIER_AVERAGE_DECAY
from ._base import _BaseAutoEncoder
from ._classifier_pretraining import pretrain
from ._data import inference_rows, lazy_array, read_rows, streams, training_rows
from ._docstrings import fill_doc
from ._labels import UNLABELED, decode_labels, encode_labels, spread_labels
from ._losses import CrossEntropy
from ._modules import EncoderClassifier
from ._net import infer_batches, loss_curve
from ._training import TrainingMixin
from ._validation import clear_fitted_state, validate_labeled, validate_lazy

# Fine-tuning a pretrained network (stage 3) runs at this fraction of the
# learning rate where ``batch_size='auto'`` has grown the batch and the rate
# (more than 6,400 rows). Full MNIST, all labels, 784-1000-1000-1000
# (scratch runs, seed 0): at the grown rate (3.1e-3 for batches of 600) the
# training loss jumped between epochs (0.098 at the 3rd, 0.154 at the 8th)
# and the test error was still 3.1 % after 23 epochs; at a tenth, 2.23 %
# after 25. On fewer rows the rate stays: digits, 10 labeled rows alone
# (one step an epoch), a tenth gave 0.550 test accuracy against 0.585.
FINE_TUNING_RATE = 0.1
# A supervised stage's patience counts epochs of at least this many steps.
# Digits, 10 labeled rows alone (one step an epoch), dropout 0.5: patience 10
# stopped fine-tuning at a training loss of 0.41 (accuracy 0.428); 50: 0.644.
PATIENCE_STEPS = 10


@fill_doc
class AutoEncoderClassifier(TrainingMixin, ClassifierMixin, BaseEstimator):
    """Classifier pretrained as an autoencoder on labeled and unlabeled rows.

    For the semi-supervised case, in scikit-learn's convention: rows whose
    label is ``-1`` are unlabeled, as in :mod:`sklearn.semi_supervised`.
    ``fit`` proceeds in three stages:

    1. an :class:`AutoEncoderTransformer` learns to reconstruct *all* rows
       (``pretraining_max_iter`` epochs), so that its encoder captures the
       structure of the data without any label; with ``pseudo_labels=
       'spread'``, the labels then spread to the unlabeled rows over the
       nearest-neighbour graph of their codes;
    2. a softmax layer on the encoder's codes, standardised by their mean
       and standard deviation over the rows, is trained on the labeled rows
       (and the rows labels spread to), the encoder frozen;
    3. all weights are fine-tuned on the same rows; where ``batch_size=
       'auto'`` has grown the batch and the learning rate with it (more
       than 6,400 rows), at a tenth of that rate.

    Stages 2 and 3 drop out inputs (``input_dropout``) and units of the
    encoder's hidden layers (``dropout``), and each ends with an
    exponential moving average of its weights over about its last 1,000
    steps, as it stood after its epoch of lowest training loss (full MNIST,
    all labels, 784-1000-1000-1000, hidden dropout 0.2: 1.39 % test error
    against 1.71 % for a fit that does not average).

    With every row labeled it is a fully supervised classifier whose
    network starts from an autoencoder's weights.

    Parameters
    ----------
    n_components : int, default=32
        Number of code units: the width of the codes the softmax head reads.

    {hidden_layer_sizes}

    {activation}

    loss : {'mse', 'bce', 'poisson', 'softmax'}, default='mse'
        Reconstruction loss of the pretraining stage; see
        :class:`AutoEncoderTransformer`. The input standardisation it implies
        (for ``'mse'``) is kept for classification.

    {alpha}

    dropout : float, default=0.5
        Dropout rate after every hidden layer of the encoder in stages 2 and
        3; the pretraining autoencoder trains without. 0.5 with
        ``input_dropout=0.2`` is the rule of Srivastava et al. (2014). Full
        MNIST, all labels, 784-1000-1000-1000 (``benchmarks/literature.py
        semi-all``'s network, seed 0, one pretraining shared by the fits,
        averaged stages): test error 1.23 % against 1.30 % with no input
        dropout and 1.33 % for hidden dropout 0.2 alone (1.71 % for 0.2
        without averaging, 2.21 % for no dropout). On the digits (1 to 20
        labels a class, two seeds) 0.5 with input dropout 0.2 raised the accuracy
        of 11 of 15 cases (spread labels, labeled rows alone, no
        pretraining) over hidden dropout 0.2 alone, by up to 0.019, and
        lowered 4 by at most 0.011. Dropout in pretraining too lowered the
        labeled rows' accuracy at 2 and 5 labels a class.

    input_dropout : float, default=0.2
        Dropout rate of the encoder's inputs in stages 2 and 3 (see
        ``dropout``).

    {batch_size}

    pseudo_labels : {{'spread'}} or None, default='spread'
        What the unlabeled rows add after pretraining. ``'spread'``: label
        spreading (Zhou et al., 2004; scikit-learn's ``LabelSpreading``, 15
        nearest neighbours of the centred codes' directions, ``alpha=0.8``)
        gives each its most likely label, and stages 2 and 3 train on every
        row; None: on the labeled rows alone. Full MNIST, 10 labels per class
        (784-600-600-50, ``benchmarks/literature.py semi-100``): test error
        8.8 % (25.1 % with None, at an older commit); digits, 5 labels per class: higher
        accuracy in each of three splits (``tests/test_semisupervised.py``).
        No effect where every row is labeled or without pretraining. The
        neighbour search grows with the square of the rows (12 s at 60,000).

    pretraining_max_iter : int, default=100
        Maximum number of epochs of the autoencoder, over all rows. ``0``
        skips pretraining (and the head-only stage): the same network is
        then trained on the labeled rows from a random start, the baseline
        that shows what pretraining buys.

    {classifier_learning_rate_init}

    max_iter : int, default=200
        Maximum number of epochs of each supervised stage (training the
        head, then fine-tuning), over the labeled rows. Each stage stops as
        ``n_iter_no_change`` says and keeps the weights of its epoch of
        lowest training loss.

    {tol}

    n_iter_no_change : int, default=10
        Epochs without improvement by ``tol`` before a stage stops; epochs
        of fewer than 10 steps count as a fraction of one (10 labeled rows,
        one step an epoch: 100 epochs), so that dropout's noisy loss does
        not end training early.

    {device}

    {precision}

    {random_state}

    {verbose}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, without the unlabeled marker.

    autoencoder_ : AutoEncoderTransformer or None
        The autoencoder pretrained on all rows, before fine-tuning (None
        with ``pretraining_max_iter=0``).

    shift_ : ndarray of shape (n_features,) or None
        Per-feature mean subtracted from the input (``loss='mse'``), the
        pretraining's standardisation.

    scale_ : float
        Global scale the centred input is divided by (``loss='mse'``).

    net_ : skorch.NeuralNet
        The fine-tuned classifier; ``net_.module_`` has the ``encoder``
        (fine-tuned) and the ``head``.

    head_loss_curve_ : list of float
        Cross-entropy on the labeled rows at each epoch of stage 2 (empty
        without pretraining).

    loss_curve_ : list of float
        Cross-entropy on the labeled rows at each epoch of stage 3.

    n_iter_ : int
        Number of supervised epochs run (stages 2 and 3).

    n_labeled_ : int
        Number of labeled rows.

    transduction_ : ndarray of shape (n_samples,)
        The label of each training row in stages 2 and 3: its own, the
        spread one (``pseudo_labels='spread'``), or ``-1`` for a row they
        did not train on.

    {input_attributes}

    See Also
    --------
    AutoEncoderTransformer : The autoencoder that is pretrained.
    sklearn.semi_supervised.SelfTrainingClassifier : Semi-supervised learning
        by pseudo-labeling, with the same ``-1`` convention.
    sklearn.neural_network.MLPClassifier : The same network trained on
        labeled rows alone.

    Notes
    -----
    Rows labeled ``-1`` (an integer, in a numeric or object array) are
    unlabeled, unless the other rows hold a single class: then ``-1`` is a
    class label, as in binary labels ``{-1, 1}``. String arrays have no
    unlabeled rows.

    References
    ----------
    G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
    data with neural networks", Science 313(5786), 2006.

    D. Erhan, Y. Bengio, A. Courville, P.-A. Manzagol, P. Vincent and
    S. Bengio, "Why does unsupervised pre-training help deep learning?",
    JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> y_partial = y.copy()
    >>> y_partial[np.random.RandomState(0).rand(len(y)) < 0.9] = -1
    >>> clf = AutoEncoderClassifier(pretraining_max_iter=5, max_iter=20,
    ...                             random_state=0).fit(X / 16, y_partial)
    >>> clf.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> clf.predict_proba(X[:2] / 16).shape
    (2, 10)
    """

    # The supervised stages end with an average of their weights.
    _average_decay = CLASSIFIER_AVERAGE_DECAY
    # One rate for all layers, in pretraining too: with wide layers slowed,
    # 60,000 MNIST labels, 1000-1000-1000, test error 1.31 % against 1.26 %.
    _rates_per_layer = False
    # The autoencoder's constraints, for the parameters passed on to it.
    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in _BaseAutoEncoder._parameter_constraints.items()
            if k
            not in {
                "early_stopping",
                "validation_fraction",
                "warm_start",
                "callbacks",
            }
        },
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "pretraining_max_iter": [Interval(Integral, 0, None, closed="left")],
        "pseudo_labels": [StrOptions({"spread"}), None],
    }

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        loss="mse",
        alpha=1e-4,
        dropout=0.5,
        input_dropout=0.2,
        batch_size="auto",
        pseudo_labels="spread",
        pretraining_max_iter=100,
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        device="cpu",
        precision="float32",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.alpha = alpha
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.batch_size = batch_size
        self.pseudo_labels = pseudo_labels
        self.pretraining_max_iter = pretraining_max_iter
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Pretrain on all rows, spread the labels, then train on the labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, labeled and unlabeled rows. A memory-mapped or
            lazily read array larger than scikit-learn's ``working_memory``
            is streamed (see :meth:`AutoEncoderTransformer.fit`); a part
            of its rows that stages 2 and 3 train on is read into memory.
        y : array-like of shape (n_samples,)
            Labels; ``-1`` marks an unlabeled row (see Notes).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        try:
            return self._fit(X, y)
        except BaseException:
            # A failed fit leaves the classifier unfitted, not half fitted.
            clear_fitted_state(self)
            raise

    def _fit(self, X, y):
        """The phases of ``fit``."""
        streamed = streams(X)
        X, y = validate_labeled(self, X, y, lazy=streamed)
        labeled, classes, y_all = encode_labels(y, type(self).__name__)
        device = self._training_device()
        rng = check_random_state(self.random_state)
        ae_seed, seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))

        autoencoder, encoder, (shift, scale) = pretrain(self, X, device, ae_seed)
        codes = None
        if self.pseudo_labels == "spread" and autoencoder is not None:
            codes = autoencoder.transform(X)
            y_all = spread_labels(codes, y_all)
        rows = self._training_rows(X, y_all, streamed, device)
        rows = rows.standardised(shift, scale)
        module = EncoderClassifier(encoder, self.n_components, len(classes))
        if autoencoder is not None:
            # Pretrained codes have no set scale; an untrained encoder's do.
            if codes is None:  # over the rows trained on, not all of X
                k = self.n_components
                codes = infer_batches(encoder, rows, lambda m, x: m(x), k)
            mean, std = (f(codes, axis=0, dtype=np.float64) for f in (np.mean, np.std))
            module.standardise_codes(mean, std)
        generator = torch.Generator().manual_seed(seed)
        nn.init.xavier_uniform_(module.head.weight, generator=generator)
        nn.init.zeros_(module.head.bias)

        # Stage 2: the head alone (on pretrained codes), then stage 3:
        # everything.
        head_loss_curve = []
        if autoencoder is not None:
            encoder.requires_grad_(False)
            head_net = self._supervised_stage(module, rows, device, seed)
            encoder.requires_grad_(True)
            head_loss_curve = loss_curve(head_net)
        grown = self._effective_learning_rate(len(rows)) > self.learning_rate_init
        rate = FINE_TUNING_RATE if autoencoder is not None and grown else 1.0
        net = self._supervised_stage(module, rows, device, seed + 1, rate)

        self.classes_ = classes
        self.autoencoder_ = autoencoder
        self.shift_, self.scale_ = shift, scale
        self.net_ = net
        self.head_loss_curve_ = head_loss_curve
        self.loss_curve_ = loss_curve(net)
        self.n_iter_ = len(self.head_loss_curve_) + len(self.loss_curve_)
        self.n_labeled_ = int(labeled.sum())
        self.transduction_ = decode_labels(y, labeled, classes, y_all)
        self._warn_unconverged(net, len(self.loss_curve_), "epochs of fine-tuning")
        return self

    def _training_rows(self, X, y_all, streamed, device):
        """Rows with a class index in ``y_all`` (not -1), it as their target.

        A streamed array stays streamed whole; a part is read into memory.
        """
        kept = y_all != UNLABELED
        if not kept.all():
            if streamed:
                X = read_rows(X, np.flatnonzero(kept), check=self._value_check())
            else:
                X = X[kept]
        targets = torch.as_tensor(y_all[kept], dtype=torch.long)
        check = self._value_check(float32_range=True)
        return training_rows(X, device=device, check=check, targets=targets)

    def _supervised_stage(self, module, rows, device, seed, rate=1.0):
        """A net that trained ``module`` on ``rows`` with cross-entropy,
        at ``rate`` times the learning rate."""
        net = self._build_net(
            module,
            device,
            len(rows),
            criterion=CrossEntropy(),
            max_epochs=self.max_iter,
            keep_best=True,  # the best epoch, not a late spike of the loss
            rate=rate,
            patience=self._supervised_patience(len(rows)),
        )
        net.initialize()
        return self._train_net(net, rows, None, seeds=(seed, seed))

    def _supervised_patience(self, n_samples):
        """``n_iter_no_change`` in epochs of at least ``PATIENCE_STEPS`` steps."""
        steps = -(-n_samples // self._effective_batch_size(n_samples))
        return self.n_iter_no_change * -(-PATIENCE_STEPS // steps)

    def predict_proba(self, X):
        """Class probabilities of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify. A memory-mapped or lazily read array is read
            and checked batch by batch, never loaded whole.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The softmax of the network's outputs, columns in the order of
            ``classes_``; float32 for float32 ``X``, float64 otherwise.
        """
        check_is_fitted(self)
        if lazy_array(X):
            # Checked batch by batch as it is read, never loaded whole.
            X = validate_lazy(self, X, reset=False, fitting=False)
        else:
            X = validate_data(
                self,
                X,
                accept_sparse=("csr", "csc"),
                dtype=[np.float64, np.float32],
                reset=False,
            )
        module = self.net_.module_
        device = next(module.parameters()).device
        kwargs = dict(shift=self.shift_, scale=self.scale_, device=device)
        rows = inference_rows(X, **kwargs, check=self._value_check(support=False))
        n_classes = len(self.classes_)
        return infer_batches(
            module, rows, lambda m, x: torch.softmax(m(x)[0], dim=1), n_classes
        )

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on labeled data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.
        y : array-like of shape (n_samples,)
            Their true labels (no ``-1`` marks here: every row is scored).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            Fraction of rows classified correctly.
        """
        # Restated for its docstring: ClassifierMixin's links to a label of
        # scikit-learn's user guide that these docs cannot resolve.
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = self.loss in ("bce", "poisson", "softmax")
        return tags
