"""The normal and the mixture beside AutoEncoderImputer's network: fits and
conditional means."""

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from skae import _gaussian
from skae._gaussian import (
    Mixture,
    Normal,
    conditional_mean,
    fit_mixture,
    fit_normal,
    mixture_conditional_mean,
)


def _normal_rows(n, d, seed=0):
    rng = np.random.RandomState(seed)
    root = rng.normal(size=(d, d)) / np.sqrt(d)
    covariance = root @ root.T + 0.1 * np.eye(d)
    mean = rng.normal(size=d)
    X = rng.multivariate_normal(mean, covariance, size=n)
    return X, mean, covariance


def _explicit(X, missing, mean, covariance):
    """mean_m + C_mo inv(C_oo) (x_o - mean_o), row by row."""
    out = X.copy()
    for i, m in enumerate(missing):
        o = ~m
        if not m.any():
            continue
        if not o.any():
            out[i] = mean
            continue
        coefficients = np.linalg.solve(covariance[np.ix_(o, o)], X[i, o] - mean[o])
        out[i, m] = mean[m] + covariance[np.ix_(m, o)] @ coefficients
    return out


@pytest.mark.parametrize("chunk_entries", [1 << 23, 20])
def test_conditional_mean_is_the_textbook_formula(monkeypatch, chunk_entries):
    # A small chunk budget sends the rows through many chunks of one row.
    monkeypatch.setattr(_gaussian, "CHUNK_ENTRIES", chunk_entries)
    X, mean, covariance = _normal_rows(40, 6)
    missing = np.random.RandomState(1).rand(*X.shape) < 0.4
    missing[0] = False  # nothing to fill
    missing[1] = True  # nothing observed: the mean
    normal = Normal(torch.tensor(mean), torch.tensor(np.linalg.inv(covariance)))
    values = torch.tensor(np.where(missing, 123.0, X))  # missing values are ignored
    filled = conditional_mean(
        values, torch.tensor(missing), normal, dtype=torch.float64
    ).numpy()
    np.testing.assert_allclose(
        filled, _explicit(X, missing, mean, covariance), atol=1e-10
    )
    # Solved in float32 by default: within float32's rounding, and the
    # observed entries exactly as given.
    single = conditional_mean(values, torch.tensor(missing), normal).numpy()
    assert single.dtype == np.float64
    np.testing.assert_allclose(single, filled, atol=1e-5)
    np.testing.assert_array_equal(single[~missing], X[~missing])


def _explicit_em(X, missing, n_iter):
    """EM for a normal from rows with missing entries, in textbook form.

    Starts from the mean-filled rows' moments; each E-step fills rows with
    their conditional mean and adds the missing block's conditional
    covariance, C_mm - C_mo inv(C_oo) C_om, to the scatter.
    """
    mean = np.nanmean(np.where(missing, np.nan, X), axis=0)
    covariance = np.cov(np.where(missing, mean, X).T, bias=True)
    for _ in range(n_iter):
        filled = _explicit(X, missing, mean, covariance)
        scatter = np.zeros_like(covariance)
        for m in missing:
            o = ~m
            gain = covariance[np.ix_(m, o)] @ np.linalg.inv(covariance[np.ix_(o, o)])
            scatter[np.ix_(m, m)] += (
                covariance[np.ix_(m, m)] - gain @ covariance[np.ix_(o, m)]
            )
        mean = filled.mean(axis=0)
        covariance = ((filled - mean).T @ (filled - mean) + scatter) / len(X)
    return mean, covariance


def test_em_is_the_textbook_algorithm():
    X, _, _ = _normal_rows(300, 5)
    missing = np.random.RandomState(2).rand(*X.shape) < 0.3
    missing[0] = True
    values = torch.tensor(np.where(missing, 0.0, X))
    normal = fit_normal(
        values,
        torch.tensor(missing),
        n_iter=7,
        ridge=0.0,
        step=1.0,
        dtype=torch.float64,
    )
    mean, covariance = _explicit_em(X, missing, 7)
    np.testing.assert_allclose(normal.mean.numpy(), mean, atol=1e-10)
    np.testing.assert_allclose(
        np.linalg.inv(normal.precision.numpy()), covariance, atol=1e-10
    )


def test_an_e_step_in_float32_gives_the_float64_normal():
    X, _, _ = _normal_rows(2000, 30)
    missing = np.random.RandomState(5).rand(*X.shape) < 0.5
    values, missing = torch.tensor(np.where(missing, 0.0, X)), torch.tensor(missing)
    single = fit_normal(values, missing)
    double = fit_normal(values, missing, dtype=torch.float64)
    assert single.mean.dtype == single.precision.dtype == torch.float64
    # About 2e-7 apart for these 30 features.
    np.testing.assert_allclose(single.mean.numpy(), double.mean.numpy(), atol=1e-5)
    np.testing.assert_allclose(
        np.linalg.inv(single.precision.numpy()),
        np.linalg.inv(double.precision.numpy()),
        atol=1e-5,
    )


def test_an_e_step_that_fails_in_float32_is_solved_in_float64(monkeypatch):
    X, _, _ = _normal_rows(300, 5)
    missing = np.random.RandomState(6).rand(*X.shape) < 0.3
    values, missing = torch.tensor(np.where(missing, 0.0, X)), torch.tensor(missing)
    solve = _gaussian._conditional
    dtypes = []

    def not_positive_definite_in_float32(values, *args, **kwargs):
        dtypes.append(values.dtype)
        if values.dtype == torch.float32:
            raise torch.linalg.LinAlgError("not positive definite")
        return solve(values, *args, **kwargs)

    monkeypatch.setattr(_gaussian, "_conditional", not_positive_definite_in_float32)
    normal = fit_normal(values, missing)
    assert dtypes == [torch.float32, torch.float64] * _gaussian.N_ITER
    monkeypatch.setattr(_gaussian, "_conditional", solve)
    double = fit_normal(values, missing, dtype=torch.float64)
    np.testing.assert_array_equal(normal.precision.numpy(), double.precision.numpy())


def test_em_estimates_the_covariance_the_mean_fill_shrinks():
    X, _, true_covariance = _normal_rows(4000, 5)
    missing = np.random.RandomState(2).rand(*X.shape) < 0.3
    values = torch.tensor(np.where(missing, 0.0, X))
    normal = fit_normal(values, torch.tensor(missing), n_iter=20, ridge=0.0)
    estimate = np.linalg.inv(normal.precision.numpy())
    # Within sampling error of the truth (about 0.03-0.1 for 4,000 rows with
    # 30 % missing), where filling with the mean shrinks each variance by
    # about 30 %.
    filled = np.where(missing, np.nanmean(np.where(missing, np.nan, X), axis=0), X)
    shrunk = np.cov(filled.T, bias=True)
    assert np.abs(estimate - true_covariance).max() < 0.15
    assert np.abs(shrunk - true_covariance).max() > 0.4


def test_over_relaxed_em_nears_the_fixed_point_in_fewer_steps():
    # With half the entries missing plain EM closes about half the gap to
    # its fixed point a step; the default step (1 / observed fraction = 2)
    # closes more of it in the same three iterations (2.4 times as close).
    X, _, _ = _normal_rows(2000, 8)
    missing = np.random.RandomState(3).rand(*X.shape) < 0.5
    values, missing = torch.tensor(np.where(missing, 0.0, X)), torch.tensor(missing)

    def covariance(**kwargs):
        normal = fit_normal(values, missing, ridge=0.0, **kwargs)
        return np.linalg.inv(normal.precision.numpy())

    fixed_point = covariance(n_iter=200, step=1.0)
    plain = np.abs(covariance(n_iter=3, step=1.0) - fixed_point).max()
    relaxed = np.abs(covariance(n_iter=3) - fixed_point).max()
    assert relaxed < plain / 2


def test_an_over_relaxed_step_that_breaks_positive_definiteness_is_shortened(
    monkeypatch,
):
    X, _, _ = _normal_rows(500, 6)
    missing = np.random.RandomState(4).rand(*X.shape) < 0.3
    values, missing = torch.tensor(np.where(missing, 0.0, X)), torch.tensor(missing)
    checks = []
    check = _gaussian._positive_definite
    monkeypatch.setattr(
        _gaussian,
        "_positive_definite",
        lambda *args: checks.append(check(*args)) or checks[-1],
    )
    # Ten times the EM step overshoots into an indefinite covariance.
    normal = fit_normal(values, missing, n_iter=3, ridge=0.0, step=10.0)
    assert False in checks
    eigenvalues = np.linalg.eigvalsh(np.linalg.inv(normal.precision.numpy()))
    assert np.isfinite(eigenvalues).all() and eigenvalues.min() > 0


def test_rows_without_missing_entries_are_returned_as_they_are():
    X, mean, covariance = _normal_rows(10, 4)
    normal = Normal(torch.tensor(mean), torch.tensor(np.linalg.inv(covariance)))
    missing = torch.zeros(X.shape, dtype=torch.bool)
    filled = conditional_mean(torch.tensor(X), missing, normal)
    np.testing.assert_array_equal(filled.numpy(), X)


def _explicit_mixture(X, missing, weights, means, covariances):
    """Each component's textbook conditional mean, weighted by its posterior
    given the observed entries (scipy's marginal densities)."""
    components = list(zip(means, covariances, strict=True))
    fills = np.array([_explicit(X, missing, mu, c) for mu, c in components])
    posterior = np.empty((len(X), len(weights)))
    for i, observed in enumerate(~missing):
        log_density = [
            multivariate_normal(mu[observed], c[np.ix_(observed, observed)]).logpdf(
                X[i, observed]
            )
            if observed.any()
            else 0.0
            for mu, c in components
        ]
        log_posterior = np.log(weights) + log_density
        posterior[i] = np.exp(log_posterior - log_posterior.max())
    posterior /= posterior.sum(axis=1, keepdims=True)
    return np.einsum("rk,krf->rf", posterior, fills)


@pytest.mark.parametrize(
    "chunk_entries, padding", [(1 << 23, 1.25), (1 << 23, 1e9), (20, 1.25)]
)
def test_mixture_conditional_mean_weights_components_by_their_posterior(
    monkeypatch, chunk_entries, padding
):
    # Chunks of rows with similar counts, one chunk of all rows, and many
    # chunks of one row give the same means.
    monkeypatch.setattr(_gaussian, "CHUNK_ENTRIES", chunk_entries)
    monkeypatch.setattr(_gaussian, "PADDING", padding)
    rng = np.random.RandomState(0)
    weights = np.array([0.2, 0.5, 0.3])
    means = 2 * rng.normal(size=(3, 5))
    covariances = [_normal_rows(1, 5, seed=k)[2] for k in range(3)]
    mixture = Mixture(weights, means, np.array([np.linalg.inv(c) for c in covariances]))
    X = 2 * rng.normal(size=(60, 5))
    missing = rng.rand(*X.shape) < 0.4
    missing[0], missing[1] = False, True
    values = torch.tensor(np.where(missing, 0.0, X))
    filled = mixture_conditional_mean(values, torch.tensor(missing), mixture)
    expected = _explicit_mixture(X, missing, weights, means, covariances)
    np.testing.assert_allclose(filled.numpy(), expected, rtol=1e-9, atol=1e-9)


def test_a_mixture_follows_two_clusters_that_one_normal_averages():
    # Two clusters whose second feature follows the first with opposite
    # slopes: pooled, the slopes cancel, so one normal fills the second
    # feature with about its mean; the mixture fills it from each cluster's
    # own slope.
    rng = np.random.RandomState(0)
    side = np.repeat([-1.0, 1.0], 300)
    first = rng.normal(size=600)
    X = np.column_stack([first, side * first, 5 * side])
    X += 0.05 * rng.normal(size=X.shape)
    mixture = fit_mixture(X, 2, seed=0)
    missing = np.zeros(X.shape, dtype=bool)
    missing[:, 1] = True
    values = torch.tensor(np.where(missing, 0.0, X))
    filled = mixture_conditional_mean(values, torch.tensor(missing), mixture).numpy()
    normal = fit_normal(torch.tensor(X), torch.zeros(X.shape, dtype=torch.bool))
    pooled = conditional_mean(values, torch.tensor(missing), normal).numpy()
    assert np.sqrt(np.mean((filled[:, 1] - X[:, 1]) ** 2)) < 0.15
    assert np.sqrt(np.mean((pooled[:, 1] - X[:, 1]) ** 2)) > 0.5
