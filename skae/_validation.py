"""Checks of parameters, devices, precision and input values.

Everything here reports a bad input in scikit-learn's words before torch
sees it. The value checks are plain functions (see :func:`value_check`), so
the data layer can apply them batch by batch without knowing the estimator.
"""

import os
import sys
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from ._losses import NON_NEGATIVE_LOSSES, UNIT_INTERVAL_LOSSES

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_SKLEARN_BASE = os.path.join("sklearn", "base.py")


def user_stacklevel():
    """The ``stacklevel`` that makes a warning point at the user's line.

    Counts the frames from the function that warns up to the first one
    outside skae and outside ``sklearn/base.py`` (the ``fit`` wrapper and
    mixins such as ``fit_transform``), so that a warning names the caller's
    line however deep inside skae it is issued.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE)
        or frame.f_code.co_filename.endswith(_SKLEARN_BASE)
    ):
        frame, level = frame.f_back, level + 1
    return level


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


def float64_device(device):
    """Where float64 work on tensors of ``device`` runs: there, or on the CPU for 'mps'.

    Apple's 'mps' backend has no float64; every other device computes in it.
    """
    device = torch.device(device)
    return device if device.type != "mps" else torch.device("cpu")


def check_precision(precision, device):
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
            stacklevel=user_stacklevel(),
        )


def _fast_cpu_bf16():
    """Whether oneDNN runs bfloat16 natively on this CPU (True if unknown)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def hidden_layer_sizes(sizes):
    """The ``hidden_layer_sizes`` hyperparameter as a tuple of positive ints."""
    if isinstance(sizes, Integral):
        sizes = [sizes]
    sizes = [int(s) for s in np.asarray(sizes, dtype=object).ravel()]
    if any(s < 1 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return tuple(sizes)


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


def validate_labeled(estimator, X, y, *, lazy):
    """``X`` and ``y`` of a classifier's ``fit``, validated: ``(X, y)``.

    A ``lazy`` ``X`` (a memmap or lazily read array that ``fit`` streams) is
    checked without reading its values, which are checked as they are read.
    """
    if lazy:
        X = validate_lazy(estimator, X, reset=True, fitting=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        return X, y
    return validate_data(
        estimator,
        X,
        y,
        accept_sparse=("csr", "csc"),
        dtype=[np.float64, np.float32],
        ensure_min_samples=2,
    )


def check_float32_range(values):
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


def check_support(values, loss, *, estimator_name, parameter):
    """Refuse values outside the support of the likelihood ``loss`` models.

    ``parameter`` is how the estimator names the loss (``"loss='bce'"``).
    """
    if loss not in NON_NEGATIVE_LOSSES or not values.size:
        return
    if values.min() < 0:
        # scikit-learn's wording, which its common checks look for.
        raise ValueError(
            f"Negative values in data passed to {estimator_name}: {parameter} "
            "needs non-negative X."
        )
    if loss in UNIT_INTERVAL_LOSSES and values.max() > 1:
        name = parameter.partition("=")[0]
        raise ValueError(
            f"{parameter} models each feature as a Bernoulli probability, so X "
            "must lie in [0, 1]; scale it (e.g. with MinMaxScaler) or choose "
            f"a Gaussian {name}."
        )


def value_check(loss, *, estimator_name, parameter, float32_range=False):
    """A function that checks a block of values as ``validate_data`` would.

    It refuses NaN and infinity, values outside the support of ``loss``
    (see :func:`check_support`) and, with ``float32_range``, values float32
    cannot hold. It holds only strings, never the estimator.
    """

    def check(values):
        assert_all_finite(values, input_name="X", estimator_name=estimator_name)
        check_support(values, loss, estimator_name=estimator_name, parameter=parameter)
        if float32_range:
            check_float32_range(values)

    return check


def check_same_architecture(recorded, now):
    """Refuse to continue training when a parameter that shapes the net changed.

    ``recorded`` and ``now`` map the same parameter names to their values at
    the fit that built the network and now.
    """
    changed = {
        name: (before, now[name])
        for name, before in recorded.items()
        if before != now[name]
    }
    if changed:
        details = ", ".join(f"{k} from {a!r} to {b!r}" for k, (a, b) in changed.items())
        raise ValueError(
            "warm_start=True and partial_fit continue training the fitted "
            f"network, which cannot change shape: {details}. Refit with "
            "warm_start=False instead."
        )


def warn_if_overcomplete(n_components, n_features):
    """Warn that codes as wide as the input let an autoencoder learn the identity.

    For the variants without any regularisation of their codes.
    """
    if n_components >= n_features:
        warnings.warn(
            f"n_components={n_components} is not smaller than "
            f"n_features={n_features}: an autoencoder without regularisation "
            "can learn the identity and its codes need not be useful. Use "
            "fewer components, or a DenoisingAE, SparseAE or ContractiveAE.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def clear_fitted_state(estimator):
    """Delete the fitted attributes of ``estimator``.

    Public ones end in ``_``; private fitted state is named in the class's
    ``_private_fitted`` tuple.
    """
    private = getattr(type(estimator), "_private_fitted", ())
    for name in list(vars(estimator)):
        fitted = name.endswith("_") and not name.startswith("__")
        if fitted or name in private:
            delattr(estimator, name)


# ``early_stopping='auto'`` holds out rows when at least this many would be
# validated on: with fewer, the validation loss is too noisy to choose by,
# unless training starts from PCA's solution, which the choice keeps.
AUTO_VALIDATION_MIN_ROWS = 10


def holds_out(estimator, n_samples):
    """Whether ``estimator.fit`` holds out rows of ``n_samples``.

    ``early_stopping='auto'`` holds out ``validation_fraction`` of the rows
    when that leaves at least ``AUTO_VALIDATION_MIN_ROWS`` rows to validate
    on, or at least one row when the network starts as PCA's solution
    (``estimator._resolved_init()``): the start competes in the choice of
    the weights (``KeepBestStopping``), so a noisy choice falls back on PCA,
    while training without a held-out split memorises a few rows (up to 1.4
    times PCA's held-out error at 70 rows of a low-rank table). A boolean
    says itself.
    """
    if estimator.early_stopping == "auto":
        n_valid = round(estimator.validation_fraction * n_samples)
        starts_as_pca = estimator._resolved_init() == "pca"
        return n_valid >= (1 if starts_as_pca else AUTO_VALIDATION_MIN_ROWS)
    return bool(estimator.early_stopping)


def resolve_init(init, *, loss, code_activation, pretraining=None):
    """The ``init`` parameter resolved to ``'pca'`` or ``'random'``.

    ``'auto'`` is ``'pca'`` where PCA's solution is a model of the network
    (``loss='mse'``, linear codes, no greedy pretraining, which would
    overwrite it), ``'random'`` elsewhere; an explicit ``'pca'`` elsewhere
    is a ``ValueError``.
    """
    fits = loss == "mse" and code_activation == "identity" and pretraining is None
    if init == "auto":
        return "pca" if fits else "random"
    if init == "pca" and not fits:
        raise ValueError(
            "init='pca' starts the network as PCA's solution, which needs "
            "loss='mse' (a linear output) and no greedy pretraining; use "
            "init='random' or init='auto'."
        )
    return init
