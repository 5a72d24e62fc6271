"""The imputer's rows: values beside their missing mask, and what is done with them."""

from numbers import Real

import numpy as np
import torch

from ._data import TensorRows


def missing_mask(X, missing_values):
    """Boolean mask of the entries of ``X`` that ``missing_values`` marks.

    A NaN in ``X`` where ``missing_values`` is a number is a ``ValueError``:
    it would be neither observed nor missing.
    """
    if isinstance(missing_values, Real) and np.isnan(missing_values):
        return np.isnan(X)
    if np.isnan(X).any():
        raise ValueError(
            f"X contains NaN, but missing_values={missing_values!r} marks the "
            "missing entries, so NaN is not read as missing. Use "
            f"missing_values=np.nan, or replace the NaN by {missing_values!r}."
        )
    return X == missing_values


def split_inputs(inputs):
    """``(values, missing)`` halves of imputer inputs ``[values, missing]``."""
    n_features = inputs.shape[1] // 2
    return inputs[:, :n_features], inputs[:, n_features:]


def network_inputs(X, missing, kept, shift, scale):
    """Imputer rows ``[values, missing]`` over the ``kept`` features, in
    ``X``'s dtype: values standardised by ``shift`` and ``scale``, and
    missing ones set to 0, their feature's mean.
    """
    values = (X[:, kept] - shift[kept]) / scale
    missing = missing[:, kept]
    values[missing] = 0
    return np.hstack([values, missing]).astype(X.dtype, copy=False)


def held_out_split(rows, rng, fraction, mask_fraction, seed):
    """Row sources ``(train, valid)``: ``valid`` serves a ``fraction`` of
    the imputer ``rows`` (drawn with ``rng``) with a ``mask_fraction`` of
    their observed entries hidden, drawn once from ``seed``, and their
    clean rows as targets.
    """
    train, valid = rows.split(fraction, rng)
    generator = torch.Generator(device=valid.X.device).manual_seed(seed)
    hidden = hide_entries(valid.X, mask_fraction, generator)
    targets = valid.X.to(valid.device)
    return train, TensorRows(hidden, device=valid.device, targets=targets)


def hide_entries(inputs, fraction, generator):
    """Hide a random ``fraction`` of the observed entries of imputer inputs.

    ``inputs`` are rows ``[values, missing]`` (standardised values, 0 where
    missing, beside the 0/1 missing mask). Each observed entry is hidden
    with probability ``fraction``, drawn from ``generator``: its value is
    set to 0 (its column's mean) and its mask to 1, as a missing entry
    reads. A new tensor is returned; ``inputs`` are left as they are.
    """
    values, missing = split_inputs(inputs)
    draws = torch.rand(
        values.shape, generator=generator, device=inputs.device, dtype=inputs.dtype
    )
    hidden = (draws < fraction) & (missing == 0)
    return torch.cat([values.masked_fill(hidden, 0), missing.masked_fill(hidden, 1)], 1)


def observed_moments(X, missing):
    """Per-feature observed mean (NaN where none) and one global scale.

    The scale is the square root of the mean, over features with an
    observed entry, of their observed variance; 1 where that is 0 or not
    finite (constant data).
    """
    observed = np.where(missing, np.nan, X).astype(np.float64)
    counts = (~missing).sum(axis=0)
    kept = counts > 0
    mean = np.full(X.shape[1], np.nan)
    mean[kept] = np.nanmean(observed[:, kept], axis=0)
    variance = np.nanmean((observed[:, kept] - mean[kept]) ** 2, axis=0)
    scale = float(np.sqrt(variance.mean()))
    if not np.isfinite(scale) or scale < 10 * np.finfo(np.float32).tiny:
        scale = 1.0
    return mean, scale


def observed_bounds(X, missing):
    """Each feature's smallest and largest observed value (0 where none)."""
    observed = np.where(missing, np.nan, X).astype(np.float64)
    empty = missing.all(axis=0)
    observed[:, empty] = 0
    return np.nanmin(observed, axis=0), np.nanmax(observed, axis=0)
