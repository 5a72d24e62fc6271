"""A monotone map from AutoEncoderImputer's blended fill to the truth.

The fills blended in :mod:`skae._blend` are conditional means of linear
models within each normal, fitted in squared error: on bounded, skewed
data (pixels, mostly 0, never below 0 or above 1) they spill past the
bounds and smear the mass at 0. A monotone map of the fill, fitted by
isotonic regression to the held-out rows' hidden entries, corrects both,
and is the identity where the fill is already calibrated.

Features differ in units, so the map is fitted in each feature's observed
range: a fill ``f`` of feature ``j`` is read as ``u = (f - low_j) / width_j``
(0 at the smallest value observed, 1 at the largest), the map gives the
expected truth in the same units, and each entry weighs ``width_j ** 2``,
so that the fit minimises the squared error in the imputer's units. The
map enters in the least-squares share that restores held-out entries best
when it is fitted to the other half of the held-out rows (two folds), so
a map fitted to noise gets no share.
"""

from typing import NamedTuple

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression

from ._missing import split_inputs


class Calibration(NamedTuple):
    """Each feature's observed range, the map within it and its share."""

    low: np.ndarray
    width: np.ndarray
    knots: np.ndarray
    levels: np.ndarray
    weight: float


def observed_range(*inputs):
    """``(low, width)``: each feature's smallest observed value and the
    distance to its largest (0 for a feature observed at one value or
    never), float64 arrays, over tensors of imputer inputs
    ``[values, missing]``.
    """
    low, high = [], []
    for rows in inputs:
        values, missing = split_inputs(rows)
        missing = missing.bool()
        low.append(values.masked_fill(missing, torch.inf).amin(dim=0))
        high.append(values.masked_fill(missing, -torch.inf).amax(dim=0))
    # Extremes are exact in the rows' dtype; only the per-feature results
    # are widened, not a float64 copy of every row.
    low = torch.stack(low).amin(dim=0).to(torch.float64)
    high = torch.stack(high).amax(dim=0).to(torch.float64)
    observed = torch.isfinite(low)
    width = torch.where(observed, high - low, 0.0)
    low = torch.where(observed, low, 0.0)
    return low.cpu().numpy(), width.cpu().numpy()


def cross_fitted(fill, truth, columns, rows, low, width):
    """The map of held-out entries fitted to the other fold's, or None
    where a fold has no entry of a feature with a range.

    Parameters
    ----------
    fill, truth : ndarray of shape (n_entries,)
        The blended fill of the held-out hidden entries and their values.
    columns, rows : ndarray of int of shape (n_entries,)
        Each entry's feature and held-out row (the folds are the even and
        the odd rows).
    low, width : ndarray of shape (n_features,)
        The features' observed ranges (:func:`observed_range`).
    """
    ranged = width[columns] > 0
    folds = rows % 2 == 0
    if not (ranged & folds).any() or not (ranged & ~folds).any():
        return None
    crossed = np.empty_like(fill)
    for fold in (folds, ~folds):
        knots, levels = _isotonic(fill, truth, columns, ranged & ~fold, low, width)
        crossed[fold] = _mapped(fill[fold], columns[fold], low, width, knots, levels)
    return crossed


def fit_calibration(fill, truth, columns, low, width, weight):
    """The calibration fitted to every held-out entry, in share ``weight``
    (arguments as :func:`cross_fitted`'s).
    """
    ranged = width[columns] > 0
    knots, levels = _isotonic(fill, truth, columns, ranged, low, width)
    return Calibration(low, width, knots, levels, weight)


def calibrated(calibration, fill):
    """``fill`` (an array of shape (n_samples, n_features), standardised)
    moved by the ``calibration`` (None: unchanged) in its share.
    """
    if calibration is None:
        return fill
    low, width, knots, levels, weight = calibration
    # One column index per feature broadcasts over the rows in _mapped.
    mapped = _mapped(fill, np.arange(fill.shape[1]), low, width, knots, levels)
    return ((1 - weight) * fill + weight * mapped).astype(fill.dtype, copy=False)


def _isotonic(fill, truth, columns, entries, low, width):
    """Knots and levels of the increasing map, in observed-range units,
    fitted to ``entries`` (a boolean mask) of ``fill`` and ``truth``.
    """
    low, width = low[columns[entries]], width[columns[entries]]
    isotonic = IsotonicRegression(out_of_bounds="clip").fit(
        (fill[entries] - low) / width,
        (truth[entries] - low) / width,
        sample_weight=width**2,
    )
    return isotonic.X_thresholds_, isotonic.y_thresholds_


def _mapped(fill, columns, low, width, knots, levels):
    """The map of ``fill``, whose entries are of features ``columns``
    (one per entry, or one per column of a 2-D ``fill``); a feature
    observed at one value is filled with it.
    """
    low, width = low[columns], width[columns]
    ranged = width > 0
    scaled = np.divide(fill - low, width, out=np.zeros_like(fill), where=ranged)
    return low + width * np.interp(scaled, knots, levels)
