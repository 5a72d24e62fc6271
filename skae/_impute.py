"""AutoEncoderImputer: missing values filled by a denoising autoencoder."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._averaging import IMPUTER_AVERAGE_DECAY
from ._base import _BaseAutoEncoder
from ._blend import Blend, blend_fills, fit_blend
from ._data import inference_rows, training_rows
from ._docstrings import fill_doc
from ._imputer_network import ImputerNetworkMixin
from ._missing import held_out_split, missing_mask, observed_moments
from ._validation import clear_fitted_state, holds_out


@fill_doc
class AutoEncoderImputer(ImputerNetworkMixin, TransformerMixin, BaseEstimator):
    """Imputation of missing values by a denoising autoencoder.

    Masking noise, the corruption of a denoising autoencoder, is missing
    data by another name (Vincent et al., 2008; MIDAS, Lall and Robinson,
    2022): a network trained to restore entries that were hidden from it
    fills in entries that were never observed. ``fit`` trains such a
    network on the observed entries of ``X``; ``transform`` returns ``X``
    with its observed entries unchanged and its missing ones filled, in
    the conventions of :mod:`sklearn.impute`.

    The network reads each row's values (standardised, missing ones set to
    their column's mean) beside the row's missing mask, so that it knows
    which entries are missing, and outputs every value. Its loss is the
    squared error over the observed entries only. At every training step a
    further ``mask_fraction`` of the observed entries is hidden from its
    input (set to the mean and marked missing) but kept in the loss, so
    the network learns to restore what it cannot see. Its weights are
    averaged over the training steps (see Notes). With early stopping, the
    held-out rows are hidden the same way once, and training keeps the
    average that restored them best.

    Beside the network, a multivariate normal is fitted to the observed
    entries by EM, whose conditional means are the best linear fill for
    each row's own pattern of missing entries, and a mixture of normals to
    the training rows as those two fills complete them, whose conditional
    means are linear within each component (``gaussian_blend``). The
    imputation mixes the fills in the shares that restored the held-out
    rows' hidden entries best: where the data are nearly linear the
    normal's fill carries it, where they are clustered or curved the
    network's and the mixture's share it. Last, a monotone map of the
    blend, fitted by isotonic regression to the held-out entries in each
    feature's observed range, pulls it into the data's bounds and towards
    their common values (pixels at 0), where that measurably helps.

    Parameters
    ----------
    missing_values : float, default=np.nan
        The placeholder of a missing value: ``np.nan`` or a number such as
        ``-1``. With a number, a NaN in ``X`` is an error.

    add_indicator : bool, default=False
        Append the output of a :class:`~sklearn.impute.MissingIndicator`
        (one 0/1 column for each feature that had missing values in
        ``fit``) to the imputed data.

    keep_empty_features : bool, default=False
        Keep the features that had no observed value in ``fit``, filled
        with 0 (as :class:`~sklearn.impute.SimpleImputer` does); by default
        they are dropped from the output.

    mask_fraction : float, default=0.25
        Fraction of the observed entries hidden from the network at each
        training step, which it learns to restore. With 30 % of the entries
        missing (and an earlier (256, 128) network, patience 10), 0.25
        restored them better than 0.1 or 0.5 on digits/16 (RMSE 0.1437
        against 0.1513 and 0.1523) and on a standardised 30-column
        manifold table (0.514 against 0.651 and 0.593).

    gaussian_blend : bool, default=True
        Mix the network's fill with the conditional mean under a normal
        fitted by EM, in the proportion that restores the held-out rows'
        hidden entries best (``gaussian_weight_``), then that blend with
        the conditional mean under a mixture of 2, 4, 8, 16 or 32 normals
        (at least 25 training rows each; averaged over five k-means
        starts), the number and share chosen the same way
        (``n_mixture_components_``, ``mixture_weight_``). The
        network alone where no rows are held out (``early_stopping``) or
        with over 2,048 features (the normal's precision has
        ``n_features ** 2`` entries); no mixture with over 128 features.
        With 10 % missing, the normal's fill alone had RMSE 0.082 on
        MNIST-5k, the network's 0.130, ``IterativeImputer``'s 0.088; on
        standardised breast-cancer data 0.377, 0.467 and 0.382; on a
        curved manifold table the network won (0.267 against 0.792). The
        mixtures lowered the RMSE on digits/16 from 0.1151 to 0.1088 (10 %
        missing) and from 0.1300 to 0.1223 (30 %), 16 components. Then
        the monotone map of the blend (``calibration_weight_``), where its
        gain on held-out entries, each half's map fitted to the other half,
        is over two standard errors: with 10 % missing it lowered the RMSE
        on MNIST-5k from 0.0824 to 0.0653 (30 epochs), digits/16 0.1088 to
        0.1074, the manifold 0.2187 to 0.2114; wine and breast cancer had
        too few held-out entries to tell it from noise.

    estimator : estimator object, default=None
        An autoencoder to fill the missing entries in place of the built-in
        network: any skae autoencoder (:class:`ConvAutoEncoder` for images,
        :class:`DenoisingAE`, ...) or any estimator with ``fit``,
        ``transform`` and ``inverse_transform``. A clone (seeded from
        ``random_state`` where its own is None) is fitted to the training
        rows as the normal's conditional mean completes them, then in
        rounds (up to 3, while the held-out rows gain) a fresh clone to the
        rows as the last one's reconstruction completes them; the last
        one's fill is blended as the network's is. None trains the built-in
        network, which the parameters below configure: told which entries
        are missing, it restores them better on the digits (30 % missing,
        alone: RMSE 0.131 against 0.177 for ``AutoEncoderTransformer()``,
        0.144 for ``ConvAutoEncoder(16, image_shape=(1, 8, 8))``; blended
        0.122, 0.131, 0.126). On MNIST-5k ``ConvAutoEncoder(64,
        image_shape=(1, 28, 28))`` did better (0.0912 against 0.0962 at
        50 % missing; 32 codes 0.0935, 128 codes 0.0931).

    n_components : int, default=32
        Width of the network's code layer. 64 changed little (30 % missing:
        digits/16 0.1412 either way, wine 0.8250 against 0.8064).

    hidden_layer_sizes : array-like of int, default=(512, 256)
        Widths of the encoder's hidden layers; the decoder mirrors them.
        With 30 % missing, (512, 256) restored entries better than
        (256, 128) on digits/16, wine, breast cancer and a manifold table
        (RMSE 0.1392, 0.7925, 0.4885, 0.3712 against 0.1412, 0.8064,
        0.5142, 0.4328, patience 30), at about twice the time an epoch.

    {activation}

    {alpha}

    dropout : float, default=0.1
        Dropout rate after every hidden layer while training. With the
        default widths, 0.1 against 0 gave 0.1345 against 0.1392 on
        digits/16, 0.7848 against 0.7925 on wine, 0.3695 against 0.3712 on
        the manifold table and 0.4982 against 0.4885 on breast cancer.

    {batch_size}

    {learning_rate_init}

    max_iter : int, default=500
        Maximum number of epochs (passes over the training data).

    {tol}

    {early_stopping}

    {validation_fraction}

    n_iter_no_change : int, default=30
        Epochs without improvement by ``tol`` before training stops. The
        validation loss of hidden entries is noisy: patience 10 stopped
        early (manifold table at 30 % missing: 0.5142, against 0.4328 with
        30; digits/16 0.1437 against 0.1412), and 20 lost part of the gain
        (0.3933 against 0.3695, breast cancer 0.5135 against 0.4982).

    {device}

    {precision}

    {random_state}

    {verbose}

    Attributes
    ----------
    shift_ : ndarray of shape (n_features,)
        Mean of each feature over its observed entries in ``fit`` (NaN for
        a feature with none); the value a missing entry is shown as.

    scale_ : float
        One global scale the centred values are divided by: the square root
        of the features' mean variance over their observed entries.

    indicator_ : MissingIndicator or None
        The indicator of ``add_indicator``, fitted on ``X``; None without.

    gaussian_weight_ : float
        Share of the normal's conditional mean in its blend with the
        network's fill, in [0, 1]; 0 without ``gaussian_blend`` (or where
        it does not apply).

    mixture_weight_ : float
        Share of the mixture's conditional mean in its blend with the
        network's and the normal's, in [0, 1]; 0 without a mixture.

    n_mixture_components_ : int
        Number of normals in the mixture; 0 without one (too few rows, over
        128 features, no held-out rows, or none improved the held-out fill).

    calibration_weight_ : float
        Share of the monotone map of the blended fill (see
        ``gaussian_blend``) in the imputation, in [0, 1]; 0 without one.

    draw_scale_ : float
        Factor on the draws' deviations from the fill (:meth:`sample_imputations`)
        that makes their mean square on the held-out rows' hidden entries the
        fill's squared error; 1.0 without held-out rows or a drawing ``estimator``.

    estimator_ : estimator object
        The fitted clone of ``estimator`` that fills, the last of its
        rounds (see ``estimator``); only where one is given.

    {net_}
        The built-in network's; only with ``estimator=None``, as is
        ``loss_curve_``.

    loss_curve_ : list of float
        Training loss at each epoch: the squared error over the observed
        entries (hidden ones included) of the standardised data, per entry.

    early_stopping_ : bool
        Whether the last ``fit`` held out rows (``early_stopping``, with
        ``'auto'`` resolved).

    n_iter_ : int
        Number of epochs run; with an ``estimator``, of its rounds.

    {input_attributes}

    See Also
    --------
    sklearn.impute.SimpleImputer : Fills each feature with one statistic.
    sklearn.impute.KNNImputer : Fills from the nearest rows.
    sklearn.impute.IterativeImputer : Regresses each feature on the others.
    DenoisingAE : The autoencoder trained on corrupted rows, as a transformer.

    Notes
    -----
    Features are centred by their observed mean and divided by one global
    scale, as the autoencoders' ``loss='mse'`` does: the loss stays
    proportional to the squared error in the units of ``X``, the error that
    imputation is judged by. Standardise features of different units first
    if each should count the same.

    The network's weights are an exponential moving average of those after
    each training step, over about the last 1,000 steps (Polyak averaging):
    against the last step's weights, the RMSE fell on digits/16 (0.1189 to
    0.1151 at 10 % missing) and on a manifold table (0.2612 to 0.2471);
    ``benchmarks/README.md`` has every rate.

    References
    ----------
    P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and
    composing robust features with denoising autoencoders", ICML 2008.

    R. Lall and T. Robinson, "The MIDAS touch: accurate and scalable
    missing-data imputation with deep learning", Political Analysis 30(2),
    2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderImputer
    >>> X = load_digits().data / 16
    >>> X_missing = np.where(np.random.RandomState(0).rand(*X.shape) < 0.3,
    ...                      np.nan, X)
    >>> imputer = AutoEncoderImputer(max_iter=5, random_state=0)
    >>> X_filled = imputer.fit_transform(X_missing)
    >>> X_filled.shape
    (1797, 64)
    >>> observed = ~np.isnan(X_missing)
    >>> bool(np.array_equal(X_filled[observed], X[observed]))
    True
    >>> bool(np.isnan(X_filled).any())
    False
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in _BaseAutoEncoder._parameter_constraints.items()
            if k not in {"loss", "warm_start", "callbacks"}
        },
        "missing_values": [Real],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "mask_fraction": [Interval(Real, 0, 1, closed="left")],
        "gaussian_blend": ["boolean"],
        "estimator": [HasMethods(["fit", "transform", "inverse_transform"]), None],
    }

    # The network's output is linear and trained on squared errors (what
    # ``TrainingMixin`` builds for ``loss='mse'``); not a parameter.
    loss = "mse"
    _private_fitted = ("_kept", "_blend", "_refill")
    _average_decay = IMPUTER_AVERAGE_DECAY

    def __init__(
        self,
        *,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        mask_fraction=0.25,
        gaussian_blend=True,
        estimator=None,
        n_components=32,
        hidden_layer_sizes=(512, 256),
        activation="relu",
        alpha=1e-4,
        dropout=0.1,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=500,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=30,
        device="cpu",
        precision="float32",
        random_state=None,
        verbose=0,
    ):
        self.missing_values = missing_values
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.mask_fraction = mask_fraction
        self.gaussian_blend = gaussian_blend
        self.estimator = estimator
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network to restore the observed entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, missing entries marked by ``missing_values``.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        try:
            self._fit(X)
        except BaseException:
            # A failed fit leaves the imputer unfitted, not half fitted.
            clear_fitted_state(self)
            raise
        return self

    def _fit(self, X):
        """The phases of ``fit``."""
        X = self._validate(X, reset=True)
        missing = missing_mask(X, self.missing_values)
        self._kept = (~missing).any(axis=0)
        if not self._kept.any():
            raise ValueError(
                f"Every entry of X is missing (missing_values="
                f"{self.missing_values!r}): there is nothing to learn from."
            )
        self.shift_, self.scale_ = observed_moments(X, missing)
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(
                missing_values=self.missing_values, error_on_new=False
            ).fit(X)
        device = self._training_device()
        seed, rng = self._draw_seeds()
        rows = training_rows(
            self._network_inputs(X, missing),
            device=device,
            check=self._value_check(float32_range=True),
        )
        validation = holds_out(self, len(rows))
        train, valid = rows, None
        if validation:
            train, valid = held_out_split(
                rows, rng, self.validation_fraction, self.mask_fraction, seed + 3
            )
        normal = None
        if self.estimator is None:
            self._fit_network(train, valid, len(rows), device, seed)
        else:
            normal = self._fit_estimator(train, valid, rng, seed, X, missing)
        self._fit_blend(train, valid, rng, seed + 4, normal)
        self._fit_draw_scale(valid, seed + 5)
        self.early_stopping_ = validation

    def _validate(self, X, *, reset):
        return validate_data(
            self,
            X,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            reset=reset,
            ensure_min_samples=2 if reset else 1,
        )

    def _fit_blend(self, train, valid, rng, seed, normal):
        """The fills beside the network's and their shares, chosen on the
        held-out rows (none without them or without ``gaussian_blend``)."""
        self._blend = Blend()
        if self.gaussian_blend and valid is not None:
            network = self._network_fill
            self._blend = fit_blend(train, valid, network, rng, seed, normal)
        self.gaussian_weight_ = self._blend.normal_weight
        self.mixture_weight_ = self._blend.mixture_weight
        mixtures = self._blend.mixtures
        self.n_mixture_components_ = len(mixtures[0].weights) if mixtures else 0
        calibration = self._blend.calibration
        self.calibration_weight_ = calibration.weight if calibration else 0.0

    def transform(self, X):
        """Fill the missing entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
            ``X`` with its observed entries unchanged and its missing ones
            filled, in the dtype of ``X`` (float32 or float64); without the
            features that had no observed value in ``fit`` unless
            ``keep_empty_features``; followed by the missing indicator's
            columns with ``add_indicator``.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        missing = missing_mask(X, self.missing_values)
        kept = self._kept
        inputs = self._network_inputs(X, missing)
        device = self._inference_device()
        rows = inference_rows(inputs, shift=None, scale=1.0, device=device)
        inputs = torch.from_numpy(inputs).to(device)
        restored = blend_fills(self._blend, self._network_fill(rows), inputs)
        restored = restored * self.scale_ + self.shift_[kept]
        # An empty feature kept is filled with 0, as SimpleImputer does.
        X_imputed = np.where(missing, 0, X).astype(X.dtype, copy=False)
        X_imputed[:, kept] = np.where(missing[:, kept], restored, X[:, kept])
        if not self.keep_empty_features:
            X_imputed = X_imputed[:, kept]
        if self.indicator_ is not None:
            indicator = self.indicator_.transform(X).astype(X_imputed.dtype)
            X_imputed = np.hstack([X_imputed, indicator])
        return X_imputed

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; None means ``feature_names_in_`` if
            defined, else ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The kept input features' names, then the missing indicator's
            (``missingindicator_<name>``) with ``add_indicator``.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        out = names if self.keep_empty_features else names[self._kept]
        if self.indicator_ is not None:
            out = np.concatenate([out, self.indicator_.get_feature_names_out(names)])
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
