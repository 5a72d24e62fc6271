"""AutoEncoderOutlierDetector: an autoencoder's score as an outlier detector."""

import copy
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._autoencoder import AutoEncoderTransformer
from ._docstrings import fill_doc
from ._validation import clear_fitted_state

# Tukey's box-plot fence: scores more than this many interquartile ranges
# below the first quartile are outliers with ``contamination='auto'``.
TUKEY_FENCE = 1.5


@fill_doc
class AutoEncoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detector scoring rows by an autoencoder's reconstruction.

    ``fit`` trains an autoencoder on (mostly normal) rows; rows that it
    reconstructs badly are outliers. The score of a row is the wrapped
    estimator's ``score_samples``: minus the mean reconstruction error for
    :class:`AutoEncoderTransformer`, :class:`DenoisingAE` and the other
    autoencoders, the evidence lower bound for :class:`VAESampler`. The
    interface is scikit-learn's for outlier detectors, as
    :class:`~sklearn.ensemble.IsolationForest` defines it: higher
    ``score_samples`` is more normal, ``decision_function`` is
    ``score_samples - offset_`` (negative for outliers), ``predict`` gives
    +1 for inliers and -1 for outliers.

    Parameters
    ----------
    estimator : estimator object, default=None
        The autoencoder whose ``score_samples`` scores the rows: any skae
        autoencoder, or any estimator with ``fit`` and ``score_samples``
        (higher meaning more normal). It is cloned and fitted in ``fit``;
        None means ``AutoEncoderTransformer()`` with its defaults.

    contamination : 'auto' or float, default='auto'
        The expected fraction of outliers in the training rows, which sets
        the threshold ``offset_`` on the scores:

        - a float in (0, 0.5]: ``offset_`` is the ``100 * contamination``
          percentile of the training scores, as in
          :class:`~sklearn.ensemble.IsolationForest`, so that ``fit_predict``
          flags that fraction of the training rows (up to ties);
        - ``'auto'``: Tukey's box-plot fence on the training scores,
          ``offset_ = Q1 - 1.5 * (Q3 - Q1)`` with ``Q1`` and ``Q3`` their
          quartiles: a row is an outlier when its reconstruction error lies
          beyond the upper whisker of the training errors' box plot. See
          Notes for the fraction it flags.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator`` (of ``AutoEncoderTransformer()``
        when it is None).

    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function`` is
        ``score_samples - offset_`` and rows below it are outliers.

    {input_attributes}

    See Also
    --------
    AutoEncoderTransformer : The default autoencoder; its ``score_samples``
        is minus the mean squared reconstruction error.
    VAESampler : A variational autoencoder whose score is the ELBO.
    sklearn.ensemble.IsolationForest : Isolation-based outlier detector with
        the same ``contamination`` and ``offset_``.
    sklearn.neighbors.LocalOutlierFactor : Density-based outlier detector.

    Notes
    -----
    ``fit`` scores its own training rows once more, after training, to set
    ``offset_``. Input checks (feature counts and names, NaN, sparse or
    lazily read arrays) are the wrapped estimator's: the detector passes
    ``X`` on unchanged, so an array larger than memory is streamed as the
    autoencoder streams it.

    ``contamination='auto'`` needs no guess of the outliers' share, and
    the quartiles it is built from are not moved by the outliers among the
    training rows, as a mean and a standard deviation would be. Tukey's
    fence flags 0.7 % of normally distributed scores; reconstruction errors
    are skewed to the right, so it flags more, and more of new rows than of
    the rows the model was trained on: on MNIST-5k
    (``benchmarks/outliers.py``, ``AutoEncoderTransformer(32)`` trained on
    the 329 to 367 training images of one digit) it flagged 3.4 % of the
    training rows and 15.5 % of held-out rows of the same digit, against
    92.8 % of the other digits' rows, on average over the ten digits
    (:class:`~sklearn.ensemble.IsolationForest`'s ``'auto'``: 11.6 % and
    67.6 %). Set ``contamination`` to a fraction where the outliers' share
    is known.

    References
    ----------
    S. Hawkins, H. He, G. Williams and R. Baxter, "Outlier detection using
    replicator neural networks", Data Warehousing and Knowledge Discovery
    (DaWaK), LNCS 2454, 2002.

    M. Sakurada and T. Yairi, "Anomaly detection using autoencoders with
    nonlinear dimensionality reduction", Proceedings of the MLSDA 2014
    Workshop on Machine Learning for Sensory Data Analysis, 2014.

    Y. Zhao, Z. Nasrullah and Z. Li, "PyOD: A Python toolbox for scalable
    outlier detection", JMLR 20(96), 2019 (its ``AutoEncoder`` detector).

    J. W. Tukey, "Exploratory Data Analysis", Addison-Wesley, 1977.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoEncoderOutlierDetector, AutoEncoderTransformer
    >>> rng = np.random.RandomState(0)
    >>> plane = rng.normal(size=(2, 6))
    >>> X = rng.normal(size=(300, 2)) @ plane + 0.1 * rng.normal(size=(300, 6))
    >>> ae = AutoEncoderTransformer(2, hidden_layer_sizes=(16,), random_state=0)
    >>> detector = AutoEncoderOutlierDetector(ae).fit(X)
    >>> X_new = np.vstack([rng.normal(size=(2, 2)) @ plane,  # on the plane
    ...                    3 * rng.normal(size=(2, 6))])     # off it
    >>> detector.predict(X_new)
    array([ 1,  1, -1, -1])
    >>> detector.decision_function(X_new).shape
    (4,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
    }

    def __init__(self, estimator=None, *, contamination="auto"):
        self.estimator = estimator
        self.contamination = contamination

    # The wrapped estimator's parameters are validated by its own ``fit``.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` and set the threshold ``offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, mostly normal ones; whatever the wrapped
            estimator's ``fit`` accepts.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted detector.
        """
        # A failed fit leaves the detector unfitted, not holding the model
        # of an earlier fit beside the parameters of this one.
        clear_fitted_state(self)
        estimator = clone(self._wrapped())
        estimator.fit(X)
        scores = estimator.score_samples(X)
        self.offset_ = _offset(scores, self.contamination)
        self.estimator_ = estimator
        self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        return self

    def _wrapped(self):
        """The estimator to wrap, as given (None: ``AutoEncoderTransformer()``)."""
        return AutoEncoderTransformer() if self.estimator is None else self.estimator

    def score_samples(self, X):
        """Normality score of each row: the wrapped estimator's ``score_samples``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is more normal: minus the reconstruction error for an
            autoencoder, the ELBO for :class:`VAESampler`.
        """
        check_is_fitted(self)
        return self.estimator_.score_samples(X)

    def decision_function(self, X):
        """Score of each row shifted by the threshold: negative for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``: negative for outliers, zero or
            positive for inliers.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Whether each row is an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            +1 where ``decision_function`` is zero or more, -1 below.
        """
        decision = self.decision_function(X)
        is_inlier = np.ones(decision.shape[0], dtype=int)
        is_inlier[decision < 0] = -1
        return is_inlier

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The detector accepts what the wrapped estimator accepts (sparse or
        # non-negative input, ...): it passes ``X`` on unchanged.
        tags.input_tags = copy.deepcopy(get_tags(self._wrapped()).input_tags)
        return tags


def _offset(scores, contamination):
    """The threshold on ``scores`` (the training rows') for ``contamination``."""
    if contamination == "auto":
        q1, q3 = np.percentile(scores, [25.0, 75.0])
        return float(q1 - TUKEY_FENCE * (q3 - q1))
    return float(np.percentile(scores, 100.0 * contamination))
