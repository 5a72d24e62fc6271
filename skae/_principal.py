"""Codes that read as principal components do.

:class:`PrincipalCodesMixin` gives the fully connected autoencoders what a
PCA user looks at: codes ordered by how much they add (nested dropout,
``ordered_codes``), ``explained_variance_`` and
``explained_variance_ratio_`` with PCA's meaning, ``n_components`` as a
fraction of the variance to keep, and ``whiten``. It works through the
hooks of :class:`~skae._base._BaseAutoEncoder`: ``_n_codes`` (the width
trained), ``_prepare_fit``, ``_finish_fit``, ``_output_codes`` and
``_input_codes`` (the map between the network's codes and ``transform``'s).
"""

import copy
from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions

from ._losses import RECONSTRUCTION_LOSSES
from ._net import code_moments
from ._rowsource import INFERENCE_BATCH_SIZE, variance_width

# Decoder passes (codes x rows) the explained variance may take at the end
# of ``fit``: 1,000 codes of 60,000 rows would take half an hour on a CPU.
TRUNCATION_ROW_BUDGET = 2_000_000
# The fewest rows it is measured on, however wide the codes.
TRUNCATION_MIN_ROWS = 4096


class PrincipalCodesMixin:
    """Ordered codes, explained variance, fractional ``n_components``, whitening.

    For subclasses of ``_BaseAutoEncoder`` with the parameters
    ``n_components``, ``ordered_codes`` and ``whiten``; listed before the
    base class.
    """

    _principal_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "ordered_codes": ["boolean", StrOptions({"auto"})],
        "whiten": ["boolean"],
    }
    # ``_width``: the code layer's width for a fractional ``n_components``;
    # ``_code_center``: the mean of every code over the rows ``fit`` saw;
    # ``_whitening``/``_coloring``: the maps to whitened codes and back.
    _private_fitted = (
        "_architecture",
        "_width",
        "_code_center",
        "_whitening",
        "_coloring",
    )

    def _n_codes(self):
        if isinstance(self.n_components, Integral):
            return self.n_components
        return self._width

    def _orders_codes(self):
        if self.ordered_codes == "auto":
            return not isinstance(self.n_components, Integral)
        return self.ordered_codes

    def _prepare_fit(self, rows):
        """Choose the width a fractional ``n_components`` trains at.

        As many codes as ``PCA(n_components)`` keeps on the same rows
        (standardised as the network sees them): the linear model of that
        width already explains the fraction, so a network of that width
        can, and ``fit`` then keeps the fewest of its codes that do.
        """
        if not isinstance(self.n_components, Integral):
            mean = self.shift_
            if mean is None:
                mean = rows.column_stats().mean
            self._width = variance_width(rows, mean, self.n_components)
        super()._prepare_fit(rows)

    def _finish_fit(self, rows, held_out=None):
        """Explained variance, the codes kept and the whitening, from all rows.

        Computed over every row ``fit`` was given (training and held-out
        ones), as PCA's are, in float64 on the training device.
        """
        module = self.net_.module_
        sources = [s for s in (rows, held_out) if s is not None]
        moments = code_moments(module, sources, data_total=True)
        # One decoder pass per code and row: wide codes are scored on a
        # subset of the rows, with the data's total over the same rows.
        width = len(moments.mean)
        scored = [_spread_subset(s, TRUNCATION_ROW_BUDGET // width) for s in sources]
        if any(a is not b for a, b in zip(scored, sources, strict=True)):
            totals = code_moments(module, scored, data_total=True)
        else:
            totals = moments
        errors = [_truncation_errors(module, [s], moments.mean) for s in scored]
        if self._orders_codes() and self._code_activation == "identity":
            rebased = _rebase_if_better(module, scored, errors)
            if rebased is not None:
                errors = rebased
                moments = code_moments(module, sources)._replace(
                    total=moments.total, source_totals=moments.source_totals
                )
        # R² with the first j codes, j = 1..width; the others at their mean.
        r2 = _r2(sum(errors), totals.total)
        ratio = np.diff(np.concatenate([[0.0], r2]))
        total_variance = moments.total * np.square(self.scale_) / (moments.n - 1)
        kept = len(r2)
        if not isinstance(self.n_components, Integral):
            # The fraction is reached on the held-out rows where there are
            # any: on the rows it trained on, a network explains more than
            # it will on new ones.
            if held_out is not None:
                r2 = _r2(errors[1], totals.source_totals[1])
            # The first truncation that reaches the fraction; R² need not
            # grow with every code when the codes are not ordered.
            reached = np.flatnonzero(r2 >= self.n_components)
            kept = int(reached[0]) + 1 if len(reached) else kept
        self.n_components_ = kept
        self.explained_variance_ratio_ = ratio[:kept]
        self.explained_variance_ = ratio[:kept] * total_variance
        self._code_center = moments.mean
        mean = moments.mean[:kept]
        covariance = moments.covariance[:kept, :kept]
        self._whitening = self._coloring = None
        if self.whiten:
            self._whitening, self._coloring = _whitening(covariance)
            mean, covariance = np.zeros(kept), np.eye(kept)
        self.code_mean_, self.code_covariance_ = mean, covariance

    def _score_rows(self, module, x):
        """Scores of the reconstruction from the kept codes, as PCA's are.

        What ``inverse_transform(transform(X))`` reconstructs: with every
        code kept, the network's own output.
        """
        codes = self._input_codes(self._output_codes(module.encode(x)))
        error = RECONSTRUCTION_LOSSES[self.loss](module.decoder(codes), x)
        return -(self.scale_**2) * error

    def _output_codes(self, codes):
        """The first ``n_components_`` codes, whitened with ``whiten``."""
        codes = codes[:, : self.n_components_]
        if self._whitening is None:
            return codes
        center = _like(self._code_center[: self.n_components_], codes)
        return (codes - center) @ _like(self._whitening, codes)

    def _input_codes(self, codes):
        """Kept codes (unwhitened) followed by the others at their mean."""
        center = _like(self._code_center, codes)
        if self._coloring is not None:
            codes = codes @ _like(self._coloring, codes) + center[: self.n_components_]
        rest = center[self.n_components_ :].expand(len(codes), -1)
        return torch.cat([codes, rest], dim=1)


def _r2(errors, total):
    """``1 - errors / total``, the total floored: constant rows explain nothing."""
    return 1.0 - errors / max(total, np.finfo(np.float64).tiny)


def _like(array, tensor):
    return torch.as_tensor(array, dtype=tensor.dtype, device=tensor.device)


def _batches(sources):
    for source in sources:
        for inputs, _ in source.batches(INFERENCE_BATCH_SIZE):
            yield inputs


def _spread_subset(source, n_rows):
    """``source``, or ``n_rows`` of its rows spread evenly over it if fewer."""
    n_rows = max(n_rows, TRUNCATION_MIN_ROWS)
    if len(source) <= n_rows:
        return source
    return source.take(np.linspace(0, len(source) - 1, n_rows).astype(np.int64))


def _truncation_errors(module, sources, code_mean):
    """Summed squared reconstruction error with the first j codes, j = 1..width.

    The other codes are held at ``code_mean``; one decoder pass per j,
    summed in float64 into one buffer. (A float64 copy of each pass's
    errors, summed into a new tensor per j, grew a CPU process's memory by
    the size of the copy per code: 5 GB over 300 codes of 3,000 rows.)
    """
    width = len(code_mean)
    errors = None
    with torch.inference_mode():
        for inputs in _batches(sources):
            codes = module.encode(inputs)
            center = _like(code_mean, codes)
            if errors is None:
                errors = torch.zeros(width, dtype=torch.float64, device=codes.device)
            kept = torch.arange(width, device=codes.device)
            for j in range(1, width + 1):
                output = module.decode(torch.where(kept < j, codes, center))
                squared = (output - inputs).square()
                errors[j - 1] += torch.sum(squared, dtype=torch.float64)
    return errors.cpu().numpy()


def _rebase_if_better(module, sources, errors):
    """Put the codes in their principal basis where it truncates better.

    The principal basis orders the codes as PCA orders its components: the
    rows' best linear prediction from the codes, ``X ~ codes @ B``, is split
    into uncorrelated directions of decreasing variance, and code ``j``
    becomes the ``j``-th, scaled to that variance (PCA's scores). For a
    linear autoencoder this *is* PCA, whatever basis training left (nested
    dropout orders the codes only as far as its noisy gradients converge);
    for a nonlinear one it is a guess, kept only where the summed
    truncation errors (``errors``, one array per source) fall. The module
    is rebased in place (:meth:`MLPAutoEncoder.rebase_codes`, which leaves
    its outputs unchanged); returns the new errors, or None.
    """
    basis = _principal_basis(module, sources)
    if basis is None:
        return None
    candidate = copy.deepcopy(module)
    candidate.rebase_codes(*basis)
    zero = np.zeros(len(basis[0]))
    rebased = [_truncation_errors(candidate, [s], zero) for s in sources]
    if np.sum(rebased) >= np.sum(errors):
        return None
    module.load_state_dict(candidate.state_dict())
    return rebased


def _principal_basis(module, sources):
    """``(center, basis)`` of :func:`_rebase_if_better`, or None if degenerate.

    With ``S`` the codes' covariance ``L L^T`` and ``C`` their covariance
    with the rows, the rows' linear prediction has covariance
    ``C^T S^-1 C = (L^-1 C)^T (L^-1 C)``; with ``L^-1 C = U s V^T``, the
    codes ``(codes - center) @ L^-T U`` are uncorrelated of unit variance
    and predict the rows along ``V`` with weights ``s``.
    """
    sums = {}
    with torch.inference_mode():
        for inputs in _batches(sources):
            codes, x = module.encode(inputs).double(), inputs.double()
            parts = {"n": len(x), "z": codes.sum(0), "x": x.sum(0)}
            parts.update(zz=codes.T @ codes, zx=codes.T @ x)
            for key, value in parts.items():
                sums[key] = value + sums[key] if key in sums else value
    n = sums["n"]
    mean, x_mean = (sums[k].cpu().numpy() / n for k in ("z", "x"))
    codes_cov = sums["zz"].cpu().numpy() / n - np.outer(mean, mean)
    cross = sums["zx"].cpu().numpy() / n - np.outer(mean, x_mean)
    try:
        factor = np.linalg.cholesky(codes_cov)
    except np.linalg.LinAlgError:
        return None
    u, s, _ = np.linalg.svd(np.linalg.solve(factor, cross), full_matrices=False)
    if not s[-1] > 1e-6 * s[0]:
        return None
    return mean, np.linalg.solve(factor.T, u) * s


def cholesky_factor(covariance):
    """The lower Cholesky factor of a covariance, singular ones included.

    ``1e-12`` of the mean variance is added to the diagonal, so that the
    factor exists where codes are collinear or constant.
    """
    jitter = 1e-12 * _mean_variance(covariance)
    return np.linalg.cholesky(covariance + jitter * np.eye(len(covariance)))


def _mean_variance(covariance):
    n = max(len(covariance), 1)
    return max(np.trace(covariance) / n, np.finfo(np.float64).tiny)


def _whitening(covariance):
    """``(W, W^-1)`` such that ``(codes - mean) @ W`` has identity covariance.

    ``W`` is the inverse of the transposed Cholesky factor, so whitened code
    ``j`` depends on codes ``0..j`` only and truncating whitened codes
    truncates the codes. A code that never varies (whitened, it would be
    infinite) is left at zero variance.
    """
    factor = cholesky_factor(covariance)
    # C order, as a model file gives it back, so that products agree bitwise.
    coloring = np.ascontiguousarray(factor.T)
    whitening = np.linalg.inv(coloring)
    dead = np.diag(factor) < np.sqrt(1e-10 * _mean_variance(covariance))
    whitening[:, dead] = 0.0
    return whitening, coloring
