"""``_BaseAutoEncoder``: the scikit-learn surface shared by every autoencoder.

Everything a scikit-learn user touches lives here once: parameter and data
validation, ``fit``/``transform``/``inverse_transform``/``score_samples``,
feature names, tags, devices and randomness. A variant changes only private
hooks (see ``DESIGN.md``, decision 2):

- ``_build_module`` / ``_build_criterion``: the torch module and the loss;
- ``_penalty`` / ``_corrupt``: a term added to the loss, and the corruption of
  training batches (see :class:`skae._net.AutoEncoderNet`);
- ``_check_params``: checks between parameters, at every ``fit``;
- ``_prepare_fit`` / ``_finish_fit``: fitted state computed from the data
  before training, and from the trained model after it;
- ``_pretrain``: training of a fresh network before ``fit`` trains it as a
  whole (greedy layer-wise pretraining);
- ``_score_rows`` / ``_sample_codes``: what ``score_samples`` and ``sample``
  compute;
- ``_code_activation``, ``_warn_overcomplete``, ``_loss_parameter``: class
  attributes (or properties) that describe the variant.
"""

import copy
import os
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping

from ._losses import (
    LOSS_OUTPUTS,
    NON_NEGATIVE_LOSSES,
    RECONSTRUCTION_LOSSES,
    UNIT_INTERVAL_LOSSES,
    ReconstructionLoss,
)
from ._modules import ACTIVATIONS, MLPAutoEncoder
from ._net import (
    AutoEncoderNet,
    RowSource,
    StreamedRows,
    distributed_shard,
    lazy_array,
)

# Rows per batch in transform, inverse_transform and score_samples: large
# enough to keep the device busy, small enough that memory stays bounded.
_INFERENCE_BATCH_SIZE = 4096


def resolve_device(device):
    """Turn the ``device`` hyperparameter into a torch device string.

    Raises a ``ValueError`` that names the device when it is malformed or
    not present on this machine.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid device; use 'cpu', 'cuda', "
            "'cuda:N' or 'auto'."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested, but CUDA is not available "
                "on this machine (or this torch build has no CUDA support). "
                "Use device='cpu' or device='auto'."
            )
        count = torch.cuda.device_count()
        if (dev.index or 0) >= count:
            raise ValueError(
                f"device={device!r} was requested, but this machine has only "
                f"{count} CUDA device(s): cuda:0 to cuda:{count - 1}."
            )
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} is not available on this machine.")
    elif dev.type != "cpu":
        raise ValueError(
            f"device={device!r} is not supported; use 'cpu', 'cuda', 'cuda:N', "
            "'mps' or 'auto'."
        )
    return str(dev)


def buffer_rows(n_features):
    """Rows of float32 in half of scikit-learn's ``working_memory``.

    The size of a streamed fit's shuffled buffer (the only copy of the rows
    it holds); the other half is left for batches and the model.
    """
    return get_config()["working_memory"] * 2**20 // 2 // (4 * n_features)


def validate_lazy(estimator, X, *, reset, fitting):
    """``validate_data``'s checks that do not read the values of ``X``.

    For a memory-mapped or lazily read array (see ``lazy_array``): shape,
    dtype, number of samples, and the feature count and names of
    ``estimator`` (set with ``reset``, checked otherwise). The caller checks
    the values as it reads them.
    """
    name = type(estimator).__name__
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D array, got an array of shape {X.shape} instead."
        )
    kind = np.dtype(X.dtype).kind
    if kind == "c":
        raise ValueError("Complex data not supported.")
    if kind not in "biuf":
        raise ValueError(f"{name} needs numeric data; X has dtype {X.dtype}.")
    n_samples, n_features = X.shape
    minimum = 2 if fitting else 1
    if n_samples < minimum:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={X.shape}) while "
            f"a minimum of {minimum} is required by {name}."
        )
    if n_features < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a "
            f"minimum of 1 is required by {name}."
        )
    validate_data(estimator, X, skip_check_array=True, reset=reset)
    return X


def clear_fitted_state(estimator):
    """Delete the fitted attributes (names ending in ``_``) of ``estimator``."""
    for name in [
        k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")
    ]:
        delattr(estimator, name)


def check_precision(precision, device, stacklevel):
    """Refuse ``precision='bf16'`` on a GPU without bfloat16 arithmetic.

    On a CPU whose bfloat16 arithmetic oneDNN would emulate (one without
    AVX-512 or AVX2-VNNI-2), warn instead: training there ran 12 times
    slower in bfloat16 than in float32 (``ONEDNN_MAX_CPU_ISA=AVX2``).
    """
    if precision != "bf16":
        return
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            f"precision='bf16' was requested, but {torch.cuda.get_device_name(device)} "
            "does not support bfloat16. Use precision='float32' (or 'tf32')."
        )
    if device.type == "cpu" and not _fast_cpu_bf16():
        warnings.warn(
            "precision='bf16' on a CPU without fast bfloat16 arithmetic: it is "
            "emulated, and training may be many times slower than with "
            "precision='float32'.",
            UserWarning,
            stacklevel=stacklevel,
        )


def _fast_cpu_bf16():
    """Whether oneDNN runs bfloat16 natively on this CPU (True if unknown)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def _check_float32_range(values):
    """Refuse values that float32, the dtype networks train in, cannot hold."""
    if not values.size or values.dtype.itemsize <= 4:
        return
    limit = np.finfo(np.float32).max
    # Also refuses NaN and infinity, which compare False.
    if not max(values.max(), -values.min()) <= limit:
        raise ValueError(
            f"X has values beyond float32's range (±{limit:.3g}), in which "
            "the network trains. Scale X (e.g. with StandardScaler) first."
        )


def _column_moments(data):
    """Per-feature mean and variance of a float32 tensor, as float64 arrays.

    Computed on the tensor's device in float64, a chunk of rows at a time:
    float32 squares would overflow for values beyond 1.8e19, and a float64
    copy of the whole would double the memory.
    """
    chunk = max(1, 2**24 // (8 * max(data.shape[1], 1)))
    total = torch.zeros(data.shape[1], dtype=torch.float64, device=data.device)
    for start in range(0, len(data), chunk):
        total += data[start : start + chunk].double().sum(dim=0)
    mean = total / len(data)
    squares = torch.zeros_like(total)
    for start in range(0, len(data), chunk):
        squares += (data[start : start + chunk].double() - mean).square().sum(dim=0)
    var = squares / len(data)
    return mean.cpu().numpy(), var.cpu().numpy()


def _fits_on_device(nbytes, device):
    """Whether a training set of ``nbytes`` can stay resident on ``device``."""
    device = torch.device(device)
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    # Leave room for the model, its gradients and the optimizer state.
    return nbytes < 0.5 * free


class _BaseAutoEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
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
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "precision": [StrOptions({"float32", "tf32", "bf16"})],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Hooks. ``None`` means the variant does not use it; see ``AutoEncoderNet``
    # for the signatures of ``_penalty(inputs, codes, output, module)`` and
    # ``_corrupt(inputs, generator)``. Both see standardised batches.
    _penalty = None
    _corrupt = None
    # Nonlinearity of the code layer (a subclass may make it a property).
    _code_activation = "identity"
    # Whether codes at least as wide as the input deserve a warning: only a
    # variant without any regularisation can learn the identity.
    _warn_overcomplete = True
    # The parameter that chooses the reconstruction loss, for error messages.
    _loss_parameter = "loss"

    def __init__(
        self,
        n_components=2,
        *,
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
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
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

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
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
        if self.early_stopping:
            raise ValueError(
                "partial_fit trains one epoch on the chunk it is given and does "
                "not hold out a validation set: use early_stopping=False."
            )
        return self._fit(X, partial=True)

    def _fit(self, X, *, partial):
        continuing = hasattr(self, "net_") and (self.warm_start or partial)
        if not continuing:
            self._clear_fitted_state()
        try:
            self._train(X, partial=partial, continuing=continuing)
        except BaseException:
            # A fresh fit that fails (values refused after the shape checks
            # set n_features_in_, a diverged training) leaves the estimator
            # unfitted, not half fitted. A continued fit restores its model
            # where training diverged (see ``_train``).
            if not continuing:
                self._clear_fitted_state()
            raise
        return self

    def _train(self, X, *, partial, continuing):
        """Validate ``X`` and train on it: the body of ``fit``/``partial_fit``."""
        X = self._validate_input(X, reset=not continuing, fitting=True)
        self._check_params()
        device = resolve_device(self.device)
        check_precision(self.precision, device, stacklevel=6)
        shard = distributed_shard()
        if shard is not None and device == "cuda":
            # One GPU per process, as torchrun numbers them.
            local_rank = int(os.environ.get("LOCAL_RANK", shard[0]))
            device = f"cuda:{local_rank % torch.cuda.device_count()}"
        hidden = self._hidden_layer_sizes()
        if not continuing:
            self._check_overcomplete(X.shape[1])
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if shard is not None:
            # Every process uses the first one's seed: the same initial
            # weights, validation split and permutations, whatever their
            # random_state.
            seeds = [seed]
            torch.distributed.broadcast_object_list(seeds, src=0)
            seed = seeds[0]
            rng = np.random.RandomState(seed)

        if continuing:
            self._check_same_architecture(hidden)
            net = self.net_
            net.set_params(
                lr=self.learning_rate_init,
                max_epochs=self.max_iter,
                batch_size=self._effective_batch_size(X.shape[0]),
                precision=self.precision,
            )
        data = self._training_data(X, device)
        if isinstance(data, StreamedRows):
            # The hooks below see the checked rows, read block by block.
            X = data
        if not continuing:
            self.shift_, self.scale_ = self._standardisation(data)
            self._prepare_fit(X)
            module = self._new_module(X.shape[1], hidden, seed)
            net = self._build_net(module, device, X.shape[0])
            net.initialize()
            self._architecture = self._architecture_params(hidden)

        train, valid = self._training_sources(data, device, rng)
        del data
        net.penalty, net.corrupt = self._penalty, self._corrupt
        # Adam's moments go NaN with the weights, so both are kept.
        snapshot = None
        if continuing:
            snapshot = [
                copy.deepcopy(net.module_.state_dict()),
                copy.deepcopy(net.optimizer_.state_dict()),
            ]
        n_before = len(net.history)
        try:
            with net.random_streams(seed + 1, seed + 2):
                if not continuing and not partial:
                    self._pretrain(net, train)
                epochs = 1 if partial else self.max_iter
                net.partial_fit((train, valid), epochs=epochs)
        except FloatingPointError:
            # Leave no diverged (NaN) model behind.
            if continuing:
                net.module_.load_state_dict(snapshot[0])
                net.optimizer_.load_state_dict(snapshot[1])
                del net.history[n_before:]
            raise
        finally:
            net.penalty = net.corrupt = None

        self.net_ = net
        self._record_history(n_before, check_convergence=not partial)
        self._finish_fit(X, train)

    def _pretrain(self, net, rows):
        """Hook: train the fresh network of ``fit`` before it trains as a whole.

        ``net`` is the initialised net and ``rows`` the ``RowSource`` of the
        standardised training rows. The base class does nothing.
        """

    def _architecture_params(self, hidden_layer_sizes):
        """The hyperparameters that shape the network, as a dict."""
        names = ("n_components", "activation", "loss", "dropout")
        params = {name: getattr(self, name) for name in names}
        return {**params, "hidden_layer_sizes": hidden_layer_sizes}

    def _check_same_architecture(self, hidden_layer_sizes):
        changed = {
            name: (before, now)
            for (name, before), now in zip(
                self._architecture.items(),
                self._architecture_params(hidden_layer_sizes).values(),
                strict=True,
            )
            if before != now
        }
        if changed:
            details = ", ".join(
                f"{k} from {a!r} to {b!r}" for k, (a, b) in changed.items()
            )
            raise ValueError(
                "warm_start=True and partial_fit continue training the fitted "
                f"network, which cannot change shape: {details}. Refit with "
                "warm_start=False instead."
            )

    def _validate_input(self, X, *, reset, fitting=False):
        # A memory-mapped or lazily read array is checked batch by batch as
        # it is read (see ``_source`` and ``StreamedRows``): checked or
        # converted whole, it would all be read into memory first. ``fit``
        # loads it whole when it is small.
        if lazy_array(X) and (not fitting or self._streams(X)):
            return validate_lazy(self, X, reset=reset, fitting=fitting)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=reset,
            ensure_min_samples=2 if fitting else 1,
        )
        if self.loss in NON_NEGATIVE_LOSSES:
            self._check_support(X.data if sp.issparse(X) else X)
        return X

    @staticmethod
    def _streams(X):
        """Whether ``fit`` streams ``X`` instead of loading it as float32.

        True for a memory-mapped or lazily read array larger, as float32,
        than scikit-learn's ``working_memory``.
        """
        if not lazy_array(X):
            return False
        n_bytes = 4 * int(np.prod(X.shape, dtype=np.int64))
        return n_bytes > get_config()["working_memory"] * 2**20

    def _check_rows(self, rows):
        """The checks of ``_validate_input`` on the values, for one batch."""
        assert_all_finite(rows, input_name="X", estimator_name=type(self).__name__)
        if self.loss in NON_NEGATIVE_LOSSES:
            self._check_support(rows)

    def _check_training_rows(self, rows):
        """``_check_rows``, and float32's range, in which training runs."""
        self._check_rows(rows)
        _check_float32_range(rows)

    def _check_support(self, data):
        """Refuse data outside the support of the likelihood ``loss`` models."""
        if not data.size:
            return
        name = self._loss_parameter
        what = f"{name}={getattr(self, name)!r}"
        if data.min() < 0:
            # scikit-learn's wording, which its common checks look for.
            raise ValueError(
                f"Negative values in data passed to {type(self).__name__}: {what} "
                "needs non-negative X."
            )
        if self.loss in UNIT_INTERVAL_LOSSES and data.max() > 1:
            raise ValueError(
                f"{what} models each feature as a Bernoulli probability, so X "
                "must lie in [0, 1]; scale it (e.g. with MinMaxScaler) or choose "
                f"a Gaussian {name}."
            )

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral):
            sizes = [sizes]
        sizes = [int(s) for s in np.asarray(sizes, dtype=object).ravel()]
        if any(s < 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes}."
            )
        return tuple(sizes)

    def _check_params(self):
        """Hook: checks between parameters that a constraint table cannot say."""

    def _check_overcomplete(self, n_features):
        if self._warn_overcomplete and self.n_components >= n_features:
            warnings.warn(
                f"n_components={self.n_components} is not smaller than "
                f"n_features={n_features}: an autoencoder without regularisation "
                "can learn the identity and its codes need not be useful. Use "
                "fewer components, or a DenoisingAE, SparseAE or ContractiveAE.",
                UserWarning,
                stacklevel=6,
            )

    def _effective_batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(64, n_samples)
        return min(self.batch_size, n_samples)

    def _training_data(self, X, device):
        """The training rows, converted once: a float32 tensor or a CSR matrix.

        A dense tensor is an owned copy, on ``device`` when it fits there
        (pinned in host memory otherwise), so it can be standardised in place.
        An array that ``_validate_input`` left lazy (see ``_streams``) is
        served by a ``StreamedRows`` instead, after a pass that checks its
        values and computes its statistics.
        """
        if sp.issparse(X):
            _check_float32_range(X.data)
            return X.tocsr()
        if self._streams(X):
            rows = StreamedRows(
                X,
                device=device,
                check=self._check_training_rows,
                buffer_rows=buffer_rows(X.shape[1]),
            )
            rows.moments()  # Checks every value once, before training.
            return rows
        _check_float32_range(X)
        X = np.asarray(X, dtype=np.float32)
        if torch.device(device).type == "cpu":
            return torch.tensor(X)
        tensor = torch.from_numpy(X) if X.flags.writeable else torch.tensor(X)
        if _fits_on_device(tensor.nbytes, device):
            return tensor.to(device)
        return tensor.pin_memory()

    def _standardisation(self, data):
        """Per-feature mean and one global scale, for ``loss='mse'``.

        Dividing by a single number keeps the objective proportional to the
        reconstruction error in the input's units (features are not
        reweighted, as in PCA) while making the default learning rate work
        whatever the data's scale.
        """
        if self.loss != "mse":
            return None, 1.0
        if isinstance(data, StreamedRows):
            stats = data.moments()
            mean, var = stats.mean, stats.var
        elif sp.issparse(data):
            mean = np.asarray(data.mean(axis=0), dtype=np.float64).ravel()
            sq = np.asarray(data.multiply(data).mean(axis=0), dtype=np.float64).ravel()
            var = np.maximum(sq - mean**2, 0)
        else:
            mean, var = _column_moments(data)
        scale = float(np.sqrt(var.mean()))
        if not np.isfinite(scale) or scale < 10 * np.finfo(np.float32).tiny:
            scale = 1.0
        return mean, scale

    def _prepare_fit(self, X):
        """Hook: compute data-dependent fitted state before a fresh fit.

        Called once ``shift_`` and ``scale_`` are set, with the validated
        training data (a ``StreamedRows`` when ``fit`` streams it, whose
        ``moments()`` are already computed); the base class needs nothing
        here.
        """

    def _finish_fit(self, X, rows):
        """Hook: compute fitted state that needs the trained model.

        Called at the end of every ``fit`` with the validated training data
        ``X`` and ``rows``, the ``RowSource`` the model was trained on
        (standardised rows, on the training device when they fit there).
        The base class fits a Gaussian to the training codes, from which
        :meth:`sample` draws; the moments are accumulated on the device in
        float64, batch by batch, without copying codes to the host.
        """
        module = self.net_.module_
        n = len(rows)
        total = torch.zeros(self.n_components, dtype=torch.float64, device=rows.device)
        outer = torch.zeros(
            (self.n_components, self.n_components),
            dtype=torch.float64,
            device=rows.device,
        )
        with torch.inference_mode():
            for index in rows.batches(_INFERENCE_BATCH_SIZE):
                codes = module.encode(rows.rows(index)).double()
                total += codes.sum(dim=0)
                outer += codes.T @ codes
        mean = total / n
        covariance = (outer - n * torch.outer(mean, mean)) / max(n - 1, 1)
        self.code_mean_ = mean.cpu().numpy()
        self.code_covariance_ = covariance.cpu().numpy()

    def _build_module(self, n_features, hidden_layer_sizes):
        return MLPAutoEncoder(
            n_features,
            self.n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            output=LOSS_OUTPUTS[self.loss],
            dropout=self.dropout,
            code_activation=self._code_activation,
        )

    def _new_module(self, n_features, hidden_layer_sizes, seed):
        """A fresh network from ``_build_module``, initialised from ``seed``.

        Built on the meta device and initialised by the module's
        ``reset_parameters(generator)``: torch's default initialisation
        would draw from the global random state.
        """
        with torch.device("meta"):
            module = self._build_module(n_features, hidden_layer_sizes)
        module = module.to_empty(device="cpu")
        module.reset_parameters(torch.Generator().manual_seed(seed))
        return module

    def _build_criterion(self):
        return ReconstructionLoss(self.loss)

    def _build_net(
        self,
        module,
        device,
        n_samples,
        *,
        criterion=None,
        max_epochs=None,
        user_callbacks=True,
    ):
        """The skorch net that trains ``module``.

        ``criterion`` and ``max_epochs`` default to the estimator's loss and
        ``max_iter``; ``user_callbacks=False`` leaves out the ``callbacks``
        parameter's callbacks (for the stages of pretraining).
        """
        stopping = EarlyStopping(
            monitor="valid_loss" if self.early_stopping else "train_loss",
            patience=self.n_iter_no_change,
            threshold=self.tol,
            threshold_mode="abs",
            load_best=self.early_stopping,
        )
        callbacks = [("stopping", stopping)]
        if user_callbacks:
            callbacks += copy.deepcopy(self.callbacks) or []
        return AutoEncoderNet(
            module=module,
            criterion=self._build_criterion() if criterion is None else criterion,
            optimizer=torch.optim.Adam,
            lr=self.learning_rate_init,
            # L2 on connection weights only, as MLPRegressor's ``alpha``.
            optimizer__param_groups=[("*weight", {"weight_decay": self.alpha})],
            optimizer__weight_decay=0.0,
            # One fused kernel per parameter instead of a dozen small ops:
            # 15% faster training of a 784-512-128-32 network on a CPU.
            optimizer__fused=torch.device(device).type in ("cpu", "cuda"),
            max_epochs=self.max_iter if max_epochs is None else max_epochs,
            batch_size=self._effective_batch_size(n_samples),
            train_split=None,
            callbacks=callbacks,
            device=device,
            precision=self.precision,
            verbose=self.verbose,
        )

    def _training_sources(self, data, device, rng):
        """Row sources for training and, with early stopping, validation."""
        parts = [data, None]
        if self.early_stopping:
            n_samples = data.shape[0]
            n_valid = round(self.validation_fraction * n_samples)
            n_valid = min(max(1, n_valid), n_samples - 1)
            perm = rng.permutation(n_samples)
            index = [np.sort(perm[n_valid:]), np.sort(perm[:n_valid])]
            if isinstance(data, StreamedRows):
                parts = [data.take(i) for i in index]
            else:
                if isinstance(data, torch.Tensor):
                    index = [torch.from_numpy(i).to(data.device) for i in index]
                parts = [data[i] for i in index]
        return [None if p is None else self._train_source(p, device) for p in parts]

    def _train_source(self, data, device):
        if isinstance(data, StreamedRows):
            # Its values were checked when its statistics were computed.
            return data.standardised(self.shift_, self.scale_)
        if sp.issparse(data):
            return RowSource(data, self.shift_, self.scale_, device=device)
        if self.shift_ is not None:
            shift = torch.as_tensor(self.shift_, dtype=data.dtype, device=data.device)
            data.sub_(shift).div_(self.scale_)
        return RowSource(data, device=device)

    def _source(self, X, device):
        """A ``RowSource`` serving ``X`` in its own dtype, for inference."""
        return RowSource(
            X,
            self.shift_,
            self.scale_,
            dtype=self._torch_dtype(X),
            device=device,
            check=self._check_rows if lazy_array(X) else None,
        )

    def _record_history(self, n_before, check_convergence=True):
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = list(history[:, "train_loss"])
        if self.early_stopping:
            self.validation_scores_ = [-v for v in history[:, "valid_loss"]]
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        stopping = dict(self.net_.callbacks_)["stopping"]
        ran = self.n_iter_ - n_before
        if (
            check_convergence
            and ran == self.max_iter
            and stopping.misses_ < stopping.patience
        ):
            warnings.warn(
                f"{type(self).__name__} reached max_iter={self.max_iter} epochs "
                "before the loss stopped improving; increase max_iter.",
                ConvergenceWarning,
                stacklevel=6,
            )
        self._n_features_out = self.n_components

    def _clear_fitted_state(self):
        clear_fitted_state(self)
        for name in ("_n_features_out", "_architecture"):
            if hasattr(self, name):
                delattr(self, name)

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
        return self._infer(X, lambda module, x: module.encode(x), self.n_components)

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
        if X.shape[1] != self.n_components:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {self.n_components} features "
                "(the number of components) as input."
            )
        shift = self.shift_
        codes = RowSource(X, dtype=self._torch_dtype(X), device=self._module_device())

        def decode(module, z):
            x = module.decode(z)
            if shift is not None:
                x = x * self.scale_ + torch.as_tensor(
                    shift, dtype=x.dtype, device=x.device
                )
            return x

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
        return self._infer(X, lambda m, x: self._score_rows(m, x)[:, None], 1).ravel()

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

    def _sample_codes(self, n_samples, rng):
        """Hook: ``n_samples`` codes for :meth:`sample`, drawn from ``rng``.

        The base class draws from the Gaussian fitted to the training codes
        (``code_mean_``, ``code_covariance_``).
        """
        return rng.multivariate_normal(
            self.code_mean_, self.code_covariance_, size=n_samples
        )

    def _module_device(self):
        return next(self.net_.module_.parameters()).device

    @staticmethod
    def _torch_dtype(X):
        # float64 for anything but float32, as ``validate_data`` converts.
        return torch.float32 if X.dtype == np.float32 else torch.float64

    def _infer(self, X, fn, n_out):
        """Apply ``fn(module, batch)`` to ``X`` in batches into one array.

        Computation runs in the dtype of ``X``: float64 input is computed in
        float64 (on a float64 copy of the module), so results do not depend
        on how rows are batched.
        """
        module = self.net_.module_
        if isinstance(X, RowSource):
            source = X
        else:
            source = self._source(X, self._module_device())
        dtype = source.dtype
        if next(module.parameters()).dtype != dtype:
            module = copy.deepcopy(module).to(dtype)
        module.eval()
        out_dtype = np.float64 if dtype == torch.float64 else np.float32
        out = np.empty((len(source), n_out), dtype=out_dtype)
        with torch.inference_mode():
            for index in source.batches(_INFERENCE_BATCH_SIZE):
                out[index] = fn(module, source.rows(index)).cpu().numpy()
                source.release(index)
        return out

    def _layer_sizes(self):
        """Widths of the network's layers, input to reconstruction."""
        if hasattr(self, "_architecture"):
            hidden = self._architecture["hidden_layer_sizes"]
            n_components = self._architecture["n_components"]
            n_features = self.n_features_in_
        else:
            try:
                hidden = self._hidden_layer_sizes()
            except (TypeError, ValueError):
                return None
            n_components, n_features = self.n_components, "n_features"
        return [n_features, *hidden, n_components, *hidden[::-1], n_features]

    def _repr_html_inner(self):
        # scikit-learn's diagram, headed by the network's layer sizes.
        sizes = self._layer_sizes()
        html = super()._repr_html_inner()
        if sizes is None:
            return html
        layers = " &rarr; ".join(str(size) for size in sizes)
        return (
            '<div style="font-family: monospace; margin: 0 0 4px 0">'
            f"{type(self).__name__} network: {layers}</div>{html}"
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.positive_only = self.loss in NON_NEGATIVE_LOSSES
        return tags
