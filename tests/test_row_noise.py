"""RowNoise: standard normal, its own for each row, fixed for a row."""

import numpy as np
import torch
from scipy import stats

from skae._row_noise import RowNoise


def _rows(n, d, seed=0):
    # Standardised rows, as VAESampler scores them.
    return torch.from_numpy(np.random.RandomState(seed).normal(size=(n, d)))


def test_values_are_standard_normal():
    noise = RowNoise(_rows(3000, 5), seed=1, n_draws=4, n_dims=6)
    values = torch.cat([noise.draw(k) for k in range(4)]).numpy().ravel()
    assert stats.kstest(values, "norm").pvalue > 1e-3


def test_draws_and_dimensions_are_independent():
    noise = RowNoise(_rows(3000, 5), seed=2, n_draws=3, n_dims=4)
    draws = [noise.draw(k).numpy() for k in range(3)]
    # Between draws of a row, and between dimensions of a draw.
    assert abs(np.corrcoef(draws[0].ravel(), draws[1].ravel())[0, 1]) < 0.03
    assert np.abs(np.corrcoef(draws[2].T) - np.eye(4)).max() < 0.05


def test_errors_average_out_over_rows():
    # Rows a standardised unit or more apart: the mean of a function of
    # their noise varies over seeds as little as independent draws' would.
    x = _rows(500, 8)
    means = [RowNoise(x, seed, 1, 3).draw(0).square().mean() for seed in range(40)]
    # Independent draws: standard deviation sqrt(2 / 1500) = 0.037.
    assert np.std(means) < 0.06


def test_noise_follows_the_row_and_is_continuous():
    x = _rows(40, 6)
    full = RowNoise(x, 3, 2, 5).draw(1)
    torch.testing.assert_close(RowNoise(x[10:20], 3, 2, 5).draw(1), full[10:20])
    torch.testing.assert_close(RowNoise(x.flip(0), 3, 2, 5).draw(1), full.flip(0))
    # float32 rounding of the rows barely moves their noise.
    rounded = RowNoise(x.float(), 3, 2, 5).draw(1).double()
    assert (rounded - full).abs().max() < 1e-3
    assert not torch.equal(RowNoise(x, 4, 2, 5).draw(1), full)
