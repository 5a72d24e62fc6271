"""The monotone map from the imputer's blended fill to the truth."""

import numpy as np
import torch

from skae._blend import HeldOut, blend_weight
from skae._calibration import (
    calibrated,
    cross_fitted,
    fit_calibration,
    observed_range,
)
from skae._data import TensorRows


def _inputs(values, missing):
    values = np.where(missing, 0.0, values)
    return torch.from_numpy(np.hstack([values, missing]).astype(np.float32))


def test_observed_range_reads_observed_entries_only():
    values = np.array([[1.0, 5.0, 2.0, 7.0], [3.0, -9.0, 2.0, 7.0], [-1.0, 4.0, 0, 0]])
    missing = np.array([[0, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]], dtype=bool)
    first, second = _inputs(values[:2], missing[:2]), _inputs(values[2:], missing[2:])
    low, width = observed_range(first, second)
    # The missing -9 and the 0 of the missing third entry are not read; the
    # fourth feature, never observed, gets width 0.
    np.testing.assert_allclose(low, [-1.0, 4.0, 2.0, 0.0])
    np.testing.assert_allclose(width, [4.0, 1.0, 0.0, 0.0])


def _entries(n_rows, n_features, per_row, seed):
    rng = np.random.RandomState(seed)
    rows = np.repeat(np.arange(n_rows), per_row)
    columns = rng.randint(n_features, size=len(rows))
    return rng, rows, columns


def _calibrate(fill, truth, rows, columns, low, width):
    crossed = cross_fitted(fill, truth, columns, rows, low, width)
    weight = blend_weight(fill, crossed, truth)
    return fit_calibration(fill, truth, columns, low, width, weight)


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _apply(calibration, fill, columns, n_features):
    """The calibration of entries given as (fill, column) pairs."""
    grid = np.zeros((len(fill), n_features))
    grid[np.arange(len(fill)), columns] = fill
    return calibrated(calibration, grid)[np.arange(len(fill)), columns]


def test_bounded_skewed_truth_is_restored_better():
    # Pixels: mostly 0, never outside [0, s_j] for a scale s_j of each
    # feature, and a linear fill that spills past both bounds.
    n_features = 5
    scales = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    low, width = np.zeros(n_features), scales.copy()

    def draw(seed):
        rng, rows, columns = _entries(400, n_features, 6, seed)
        latent = rng.normal(-0.5, 1.0, size=len(rows))
        truth = np.clip(latent, 0, 1) * scales[columns]
        fill = (np.clip(latent, 0, 1) + 0.3 * rng.normal(size=len(rows))) * scales[
            columns
        ]
        return rows, columns, fill, truth

    rows, columns, fill, truth = draw(0)
    calibration = _calibrate(fill, truth, rows, columns, low, width)
    assert calibration.weight > 0.8
    _, columns, fill, truth = draw(1)
    mapped = _apply(calibration, fill, columns, n_features)
    assert _rmse(mapped, truth) < 0.75 * _rmse(fill, truth)
    # The map alone (share 1) keeps every fill within its feature's bounds.
    mapped = _apply(calibration._replace(weight=1.0), fill, columns, n_features)
    assert (mapped >= -1e-9).all() and (mapped <= scales[columns] + 1e-9).all()


def test_a_calibrated_fill_is_left_nearly_alone():
    # The truth is the fill plus independent noise: the fill is already
    # its conditional mean, and the map fitted to noise gets little share.
    n_features = 4
    low, width = np.full(n_features, -4.0), np.full(n_features, 8.0)

    def draw(seed):
        rng, rows, columns = _entries(300, n_features, 4, seed)
        fill = rng.normal(size=len(rows))
        return rows, columns, fill, fill + rng.normal(size=len(rows))

    rows, columns, fill, truth = draw(0)
    calibration = _calibrate(fill, truth, rows, columns, low, width)
    _, columns, fill, truth = draw(1)
    mapped = _apply(calibration, fill, columns, n_features)
    assert _rmse(mapped, truth) < 1.01 * _rmse(fill, truth)


def test_a_feature_observed_at_one_value_is_filled_with_it():
    fill = np.array([0.2, 0.4, 0.9, 0.7, 0.1, 0.3])
    truth = np.array([0.0, 0.5, 1.0, 1.0, 0.0, 0.0])
    rows, columns = np.arange(6), np.array([0, 0, 0, 0, 1, 1])
    low, width = np.array([0.0, 3.0]), np.array([1.0, 0.0])
    calibration = fit_calibration(fill, truth, columns, low, width, 1.0)
    mapped = calibrated(calibration, np.array([[0.5, 2.5], [0.05, 3.5]]))
    np.testing.assert_allclose(mapped[:, 1], 3.0)
    # The map of the first feature is increasing and within its range.
    assert 0 <= mapped[1, 0] <= mapped[0, 0] <= 1
    assert cross_fitted(fill, truth, columns, rows * 0, low, width) is None


def _held_out(truth, hidden):
    """Held-out rows whose ``hidden`` entries of ``truth`` are to be restored."""
    clean = _inputs(truth, np.zeros_like(hidden))
    return HeldOut(TensorRows(_inputs(truth, hidden), targets=clean))


def test_a_gain_within_noise_keeps_no_map():
    # 20 held-out rows, ~40 hidden entries of standard normal features, and
    # a fill already calibrated: whatever share the folds give the map, its
    # gain is within two standard errors and no map is kept. With 2,000
    # rows of clipped "pixels" and a fill spilling past the bounds, it is.
    rng = np.random.RandomState(0)
    truth = rng.normal(size=(20, 8))
    hidden = rng.rand(20, 8) < 0.25
    fill = rng.normal(size=hidden.sum())
    truth[hidden] = fill + rng.normal(size=hidden.sum())
    held_out, fill = _held_out(truth, hidden), torch.from_numpy(fill)
    low, width = truth.min(axis=0), truth.max(axis=0) - truth.min(axis=0)
    assert held_out.calibration(fill, low, width) is None

    pixels = np.clip(rng.normal(-0.5, 1.0, size=(2000, 8)), 0, 1)
    hidden = rng.rand(2000, 8) < 0.25
    held_out = _held_out(pixels, hidden)
    fill = torch.from_numpy(pixels[hidden] + 0.3 * rng.normal(size=hidden.sum()))
    calibration = held_out.calibration(fill, np.zeros(8), np.ones(8))
    assert calibration is not None and calibration.weight > 0.5
