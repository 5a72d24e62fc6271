"""``_BaseAutoEncoder``: the scikit-learn surface shared by every autoencoder.

Everything a scikit-learn user touches lives here once: parameter and data
validation, ``fit``/``transform``/``inverse_transform``/``score_samples``,
feature names and tags. ``fit`` reads as its phases (``_train``): validate,
prepare the rows (:mod:`skae._data`), build or reuse the network
(:mod:`skae._training`), train with rollback, record. A variant changes only
private hooks (see ``DESIGN.md``, decision 2), each documented where the
base class defines it: ``_build_module``, ``_build_criterion``,
``_penalty``, ``_corrupt`` (in ``TrainingMixin``), ``_check_params``,
``_prepare_fit``, ``_pretrain``, ``_finish_fit``, ``_score_rows``,
``_sample_codes``, ``_n_codes`` (in ``TrainingMixin``), ``_output_codes``
and ``_input_codes`` (the map between the network's codes and
``transform``'s; see :mod:`skae._principal`), and the class attributes
``_code_activation``, ``_warn_overcomplete`` and ``_loss_parameter``.
"""

import copy
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._averaging import AVERAGE_DECAY
from ._data import inference_rows, lazy_array, streams, training_rows
from ._display import NetworkDiagramMixin
from ._layer_rates import set_rates
from ._losses import NON_NEGATIVE_LOSSES, RECONSTRUCTION_LOSSES
from ._modules import ACTIVATIONS
from ._net import code_moments, infer_batches
from ._principal import cholesky_factor
from ._rowsource import unstandardised
from ._training import TrainingMixin
from ._validation import (
    check_same_architecture,
    clear_fitted_state,
    holds_out,
    validate_lazy,
    warn_if_overcomplete,
)


class _BaseAutoEncoder(
    NetworkDiagramMixin,
    TrainingMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Base class for autoencoder transformers; not for direct use.

    Subclasses provide their docstring, ``__init__`` and hooks only.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "precision": [StrOptions({"float32", "tf32", "bf16"})],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Hooks of the train step and of the code layer: see ``TrainingMixin``.
    # Whether codes at least as wide as the input deserve a warning: only a
    # variant without any regularisation can learn the identity.
    _warn_overcomplete = True
    # Weights averaged over the training steps (see ``AVERAGE_DECAY``).
    _average_decay = AVERAGE_DECAY
    # Private fitted state, cleared with the public one; fitted state that
    # ``_build_module`` reads (``skae.load`` restores it before rebuilding).
    _private_fitted, _build_state = ("_architecture",), ()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse CSR/CSC input is densified one batch at a
            time, never whole. A memory-mapped array (``numpy.memmap``) or a
            lazily read one (an h5py dataset, a zarr or dask array) larger
            than scikit-learn's ``working_memory`` (see
            :func:`sklearn.config_context`; 1 GiB by default) as float32 is
            streamed: read in blocks, shuffled within buffers of about half
            that size, never loaded whole.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, continuing from the current model.

        The first call initialises the network (and the input
        standardisation, from this first chunk); later calls continue
        training it, with the optimizer's state, as ``IncrementalPCA`` does.
        Stream data that does not fit in memory through it chunk by chunk.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if self.early_stopping != "auto" and self.early_stopping:
            raise ValueError(
                "partial_fit trains one epoch on the chunk it is given and does "
                "not hold out a validation set: use early_stopping=False."
            )
        return self._fit(X, partial=True)

    def _fit(self, X, *, partial):
        continuing = hasattr(self, "net_") and (self.warm_start or partial)
        if not continuing:
            clear_fitted_state(self)
        try:
            self._train(X, partial=partial, continuing=continuing)
        except BaseException:
            # A fresh fit that fails (values refused after the shape checks
            # set n_features_in_, a diverged training) leaves the estimator
            # unfitted, not half fitted. A continued fit restores its model
            # where training diverged (see ``TrainingMixin._train_net``).
            if not continuing:
                clear_fitted_state(self)
            raise
        return self

    def _train(self, X, *, partial, continuing):
        """The phases of ``fit`` and ``partial_fit``."""
        X = self._validate_input(X, reset=not continuing, fitting=True)
        self._validate_hyperparameters(X, continuing=continuing)
        device = self._training_device()
        seed, rng = self._draw_seeds()
        rows = training_rows(
            X, device=device, check=self._value_check(float32_range=True)
        )
        validation = not partial and holds_out(self, len(rows))
        if continuing:
            net = self._reuse_net(len(rows), validation)
        else:
            net = self._new_net(rows, device, seed, validation)
        train, valid = self._split(rows, rng, validation)
        del rows  # The split's parts are copies: free the whole.
        n_before = len(net.history)
        self._train_net(
            net,
            train,
            valid,
            seeds=(seed + 1, seed + 2),
            epochs=1 if partial else self.max_iter,
            before=None if continuing or partial else self._pretrain,
            rollback=continuing,
        )
        self.net_ = net
        self._record_history(n_before, check_convergence=not partial)
        self.early_stopping_ = validation
        self.n_components_ = self._n_codes()
        self._finish_fit(train, valid)

    # Phases of ``_train`` ------------------------------------------------
    def _validate_hyperparameters(self, X, *, continuing):
        """Checks between hyperparameters and of them against ``X``."""
        self._check_params()
        self._resolved_init()  # An ``init`` that cannot apply is refused here.
        hidden = self._hidden_layer_sizes()
        if continuing:
            check_same_architecture(
                self._architecture, self._architecture_params(hidden)
            )
        elif self._warn_overcomplete:
            warn_if_overcomplete(self.n_components, X.shape[1])

    def _new_net(self, rows, device, seed, validation):
        """The net of a fresh fit, and the fitted state the data decides.

        ``rows`` are the training rows as given (not standardised yet);
        ``validation`` says whether the net monitors a held-out loss.
        """
        self.shift_, self.scale_ = self._standardisation(rows)
        self._prepare_fit(rows)
        hidden = self._hidden_layer_sizes()
        module = self._new_module(rows.n_features, hidden, seed)
        self._start_from_data(module, rows)
        net = self._build_net(
            module,
            device,
            len(rows),
            validation=validation,
            callbacks=copy.deepcopy(self.callbacks) or [],
        )
        net.initialize()
        self._architecture = self._architecture_params(hidden)
        return net

    def _reuse_net(self, n_samples, validation):
        """The fitted net, set to train with the current hyperparameters."""
        stopping = dict(self.net_.callbacks_)["stopping"]
        stopping.monitor = "valid_loss" if validation else "train_loss"
        stopping.load_best = validation
        lr = self._effective_learning_rate(n_samples)
        net = self.net_.set_params(
            lr=lr,
            max_epochs=self.max_iter,
            batch_size=self._effective_batch_size(n_samples),
            precision=self.precision,
        )
        # Each layer's rate and decay (see ``skae._layer_rates``).
        set_rates(net.optimizer_, lr, self._effective_alpha(n_samples, net.module_))
        return net

    def _split(self, rows, rng, validation):
        """Standardised ``(train, valid)``; ``valid`` is None without validation."""
        rows = rows.standardised(self.shift_, self.scale_)
        if not validation:
            return rows, None
        return rows.split(self.validation_fraction, rng)

    # Hooks ---------------------------------------------------------------
    def _check_params(self):
        """Hook: checks between parameters that a constraint table cannot say."""

    def _prepare_fit(self, rows):
        """Hook: compute data-dependent fitted state before a fresh fit.

        Called once ``shift_`` and ``scale_`` are set, with the row source
        of the training rows as given (see ``RowSource.column_stats``); the
        base class needs nothing here.
        """

    def _pretrain(self, net, rows):
        """Hook: train the fresh network of ``fit`` before it trains as a whole.

        ``net`` is the initialised net and ``rows`` the row source of the
        standardised training rows. The base class does nothing.
        """

    def _finish_fit(self, rows, held_out=None):
        """Hook: compute fitted state that needs the trained model.

        Called at the end of every ``fit`` with ``rows``, the row source the
        model was trained on, and ``held_out``, the validation rows or None
        (standardised, on the training device when they fit there). The
        base class fits a Gaussian to the training codes, from which
        :meth:`sample` draws; the moments are accumulated on the device in
        float64, batch by batch, without copying codes to the host.
        """
        moments = code_moments(self.net_.module_, [rows])
        self.code_mean_, self.code_covariance_ = moments.mean, moments.covariance

    # Checks --------------------------------------------------------------
    def _architecture_params(self, hidden_layer_sizes):
        """The hyperparameters that shape the network, as a dict."""
        names = ("n_components", "activation", "loss", "dropout")
        params = {name: getattr(self, name) for name in names}
        # The code layer's width and ``init`` as resolved (``'pca'`` builds
        # linear paths beside the networks).
        return {
            **params,
            "n_components": self._n_codes(),
            "hidden_layer_sizes": hidden_layer_sizes,
            "init": self._resolved_init(),
        }

    def _validate_input(self, X, *, reset, fitting=False):
        # A lazily read array is checked batch by batch as it is read: checked
        # whole, it would all be read into memory. ``fit`` loads a small one.
        if lazy_array(X) and (not fitting or streams(X)):
            return validate_lazy(self, X, reset=reset, fitting=fitting)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=reset,
            ensure_min_samples=2 if fitting else 1,
        )
        self._check_support(X.data if sp.issparse(X) else X)
        return X

    @property
    def _n_features_out(self):
        """Number of codes, for ``get_feature_names_out`` (unset until fitted)."""
        return self.n_components_

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def transform(self, X):
        """Encode ``X`` into codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._infer(
            self._inference_rows(X),
            lambda module, x: self._output_codes(module.encode(x)),
            self.n_components_,
        )

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The decoder's mean reconstruction.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {self.n_components_} features "
                "(the number of components) as input."
            )
        shift, scale = self.shift_, self.scale_
        codes = inference_rows(X, shift=None, scale=1.0, device=self._module_device())

        def decode(module, z):
            return unstandardised(module.decode(self._input_codes(z)), shift, scale)

        return self._infer(codes, decode, self.n_features_in_)

    def score_samples(self, X):
        """Negative reconstruction error of each sample.

        Higher means better reconstructed; low values flag anomalies.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            For ``loss='mse'``, minus the mean squared error over features, in
            the units of ``X`` squared; for ``loss='bce'``, minus the mean
            binary cross-entropy over features, in nats.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        rows = self._inference_rows(X)
        return self._infer(
            rows, lambda m, x: self._score_rows(m, x)[:, None], 1
        ).ravel()

    def _score_rows(self, module, x):
        """Hook: the score of each row of a standardised batch ``x``, a 1-D tensor."""
        output = module(x)[0]
        return -(self.scale_**2) * RECONSTRUCTION_LOSSES[self.loss](output, x)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            Minus the mean reconstruction error (see :meth:`score_samples`).
        """
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples=1, random_state=None):
        """Generate new rows by decoding random codes.

        Codes are drawn from the model's distribution over the latent space
        (see :meth:`_sample_codes`) and decoded with :meth:`inverse_transform`.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the codes; the same value gives the same rows. None uses
            NumPy's global random state, as
            :meth:`sklearn.neighbors.KernelDensity.sample` does.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Generated rows, the decoder's mean for each code, in float64.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        codes = self._sample_codes(int(n_samples), check_random_state(random_state))
        return self.inverse_transform(codes)

    def _output_codes(self, codes):
        """Hook: what :meth:`transform` returns of the network's codes (a tensor)."""
        return codes

    def _input_codes(self, codes):
        """Hook: the network's codes for :meth:`inverse_transform`'s input."""
        return codes

    def _sample_codes(self, n_samples, rng):
        """Hook: ``n_samples`` codes for :meth:`sample`, drawn from ``rng``.

        The base class draws from the Gaussian fitted to the training codes
        (``code_mean_``, ``code_covariance_``).
        """
        # A Cholesky factor, not ``RandomState.multivariate_normal``'s SVD,
        # whose axes turn with the LAPACK build where variances are close:
        # the same ``random_state`` drew other rows on another CPU.
        factor = cholesky_factor(self.code_covariance_)
        draws = rng.standard_normal((n_samples, len(factor)))
        return self.code_mean_ + draws @ factor.T

    def _module_device(self):
        return next(self.net_.module_.parameters()).device

    def _inference_rows(self, X):
        """A row source serving validated ``X`` standardised, for inference."""
        return inference_rows(
            X,
            shift=self.shift_,
            scale=self.scale_,
            device=self._module_device(),
            check=self._value_check(),
        )

    def _infer(self, rows, fn, n_out):
        """``fn(module, batch)`` over row source ``rows``, into one array."""
        return infer_batches(self.net_.module_, rows, fn, n_out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.positive_only = self.loss in NON_NEGATIVE_LOSSES
        return tags
