"""AutoEncoderImputer: what it fills, what it keeps, and its imputer conventions."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.impute import SimpleImputer

from skae import AutoEncoderImputer, _blend
from skae._blend import Blend
from skae._losses import ObservedSquaredError
from skae._missing import hide_entries

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(32,), n_components=8, max_iter=30, random_state=0)


def _low_rank(n=500, d=12, rank=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d))
    X += 0.05 * rng.normal(size=(n, d))
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _remove(X, rate, seed=1, value=np.nan):
    removed = np.random.RandomState(seed).rand(*X.shape) < rate
    return np.where(removed, value, X), removed


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.fixture(scope="module")
def low_rank():
    X = _low_rank()
    X_missing, removed = _remove(X, 0.3)
    imputer = AutoEncoderImputer(**FAST).fit(X_missing)
    return X, X_missing, removed, imputer


def test_observed_entries_are_returned_unchanged(low_rank):
    X, X_missing, removed, imputer = low_rank
    X_imputed = imputer.transform(X_missing)
    assert X_imputed.shape == X.shape
    np.testing.assert_array_equal(X_imputed[~removed], X[~removed])
    assert np.isfinite(X_imputed).all()


def test_fills_low_rank_data_better_than_the_mean(low_rank):
    X, X_missing, removed, imputer = low_rank
    ours = _rmse(imputer.transform(X_missing)[removed], X[removed])
    mean = _rmse(SimpleImputer().fit_transform(X_missing)[removed], X[removed])
    # Three factors explain 12 columns: the rest of a row tells much more
    # about a removed entry than its column's mean.
    assert ours < 0.5 * mean


def test_the_encoder_reads_the_missing_mask(low_rank):
    X, _, _, imputer = low_rank
    first = imputer.net_.module_.encoder[0]
    assert first.in_features == 2 * X.shape[1]
    assert imputer.net_.module_.decoder[-1].out_features == X.shape[1]


def test_the_loss_ignores_missing_entries():
    criterion = ObservedSquaredError()
    output = torch.zeros(2, 3)
    missing = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    values = torch.tensor([[1.0, 5.0, 2.0], [7.0, 8.0, 3.0]])
    loss = criterion((output,), torch.cat([values, missing], 1))
    # Observed: 1, 2 in the first row and 3 in the second; 3 features a row.
    assert float(loss) == pytest.approx(((1 + 4) / 3 + 9 / 3) / 2)
    garbage = values.masked_fill(missing.bool(), 1e6)
    assert float(criterion((output,), torch.cat([garbage, missing], 1))) == float(loss)


def test_hiding_marks_observed_entries_missing_only():
    rng = torch.Generator().manual_seed(0)
    values = torch.randn(2000, 5, generator=rng) + 3
    missing = (torch.rand(2000, 5, generator=rng) < 0.2).float()
    values = values.masked_fill(missing.bool(), 0)
    inputs = torch.cat([values, missing], 1)
    before = inputs.clone()
    hidden = hide_entries(inputs, 0.25, torch.Generator().manual_seed(1))
    torch.testing.assert_close(inputs, before)  # A new tensor.
    new_values, new_missing = hidden[:, :5], hidden[:, 5:]
    newly = (new_missing == 1) & (missing == 0)
    assert (new_missing >= missing).all()
    assert (new_values[new_missing == 1] == 0).all()
    assert (new_values[new_missing == 0] == values[new_missing == 0]).all()
    assert newly.sum() / (missing == 0).sum() == pytest.approx(0.25, abs=0.02)


def test_missing_values_as_a_number_gives_the_nan_model():
    X = _low_rank(n=200)
    X_nan, removed = _remove(X, 0.2)
    X_minus_one = np.where(removed, -1, X)
    params = dict(FAST, max_iter=3)
    by_nan = AutoEncoderImputer(**params).fit_transform(X_nan)
    by_number = AutoEncoderImputer(missing_values=-1, **params).fit_transform(
        X_minus_one
    )
    np.testing.assert_allclose(by_number, by_nan, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(by_number[~removed], X[~removed])


def test_nan_where_missing_values_is_a_number_is_an_error():
    X = _low_rank(n=50)
    X[3, 2] = np.nan
    imputer = AutoEncoderImputer(missing_values=-1, **FAST)
    with pytest.raises(ValueError, match="X contains NaN, but missing_values=-1"):
        imputer.fit(X)
    fitted = AutoEncoderImputer(missing_values=-1, **dict(FAST, max_iter=1))
    fitted.fit(np.nan_to_num(X))
    with pytest.raises(ValueError, match="X contains NaN, but missing_values=-1"):
        fitted.transform(X)


def test_rows_and_columns_with_every_entry_missing():
    X = _low_rank(n=200)
    X_missing, _ = _remove(X, 0.3)
    X_missing[5] = np.nan
    X_missing[:, 4] = np.nan
    params = dict(FAST, max_iter=3)
    dropped = AutoEncoderImputer(**params).fit(X_missing)
    X_dropped = dropped.transform(X_missing)
    assert X_dropped.shape == (200, 11)
    assert np.isfinite(X_dropped).all()
    assert list(dropped.get_feature_names_out()) == [
        f"x{j}" for j in range(12) if j != 4
    ]
    kept = AutoEncoderImputer(keep_empty_features=True, **params).fit(X_missing)
    X_kept = kept.transform(X_missing)
    assert X_kept.shape == (200, 12)
    np.testing.assert_array_equal(X_kept[:, 4], 0)
    np.testing.assert_array_equal(np.delete(X_kept, 4, axis=1), X_dropped)
    assert len(kept.get_feature_names_out()) == 12


def test_every_entry_missing_is_an_error():
    with pytest.raises(ValueError, match="Every entry of X is missing"):
        AutoEncoderImputer(**FAST).fit(np.full((10, 3), np.nan))


def test_no_missing_entry():
    X = _low_rank(n=200)
    imputer = AutoEncoderImputer(**dict(FAST, max_iter=3)).fit(X)
    np.testing.assert_array_equal(imputer.transform(X), X)
    # Missing entries at transform time are filled all the same.
    X_missing, removed = _remove(X, 0.1)
    X_imputed = imputer.transform(X_missing)
    assert np.isfinite(X_imputed).all()
    np.testing.assert_array_equal(X_imputed[~removed], X[~removed])


def test_add_indicator():
    X = _low_rank(n=200)
    X_missing, removed = _remove(X, 0.3)
    X_missing[:, 7] = X[:, 7]  # A feature with no missing entry.
    imputer = AutoEncoderImputer(add_indicator=True, **dict(FAST, max_iter=3))
    X_out = imputer.fit_transform(X_missing)
    with_missing = [j for j in range(12) if j != 7]
    assert X_out.shape == (200, 12 + 11)
    np.testing.assert_array_equal(
        X_out[:, 12:], np.isnan(X_missing[:, with_missing]).astype(float)
    )
    names = list(imputer.get_feature_names_out())
    assert names[:12] == [f"x{j}" for j in range(12)]
    assert names[12:] == [f"missingindicator_x{j}" for j in with_missing]


def test_float32_stays_float32(low_rank):
    _, X_missing, _, imputer = low_rank
    assert imputer.transform(X_missing.astype(np.float32)).dtype == np.float32


def test_reproducible_with_random_state():
    X = _low_rank(n=200)
    X_missing, _ = _remove(X, 0.3)
    params = dict(FAST, max_iter=3)
    first = AutoEncoderImputer(**params).fit_transform(X_missing)
    again = AutoEncoderImputer(**params).fit_transform(X_missing)
    other = AutoEncoderImputer(**dict(params, random_state=1)).fit_transform(X_missing)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_pickle_round_trip(low_rank):
    _, X_missing, _, imputer = low_rank
    loaded = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(
        loaded.transform(X_missing), imputer.transform(X_missing)
    )


def test_the_normal_carries_nearly_linear_data():
    # Low-rank rows plus noise are a normal's: the EM fill restores them as
    # well as anything can, and the held-out rows say so.
    X = _low_rank(n=600)
    X_missing, removed = _remove(X, 0.3)
    blended = AutoEncoderImputer(**FAST).fit(X_missing)
    alone = AutoEncoderImputer(**FAST, gaussian_blend=False).fit(X_missing)
    assert blended.gaussian_weight_ > 0.5
    assert alone.gaussian_weight_ == 0 and alone._blend.normal is None
    assert alone.mixture_weight_ == 0 and alone.n_mixture_components_ == 0
    error = _rmse(blended.transform(X_missing)[removed], X[removed])
    assert error < 0.9 * _rmse(alone.transform(X_missing)[removed], X[removed])


def test_the_network_carries_data_far_from_a_normal():
    # cos(k a) and sin(k a) for k = 1, 2, 3: uncorrelated columns, so a
    # normal's conditional mean of each is its overall mean, while any two
    # of them tell the angle to the network.
    rng = np.random.RandomState(0)
    angle = rng.uniform(0, 2 * np.pi, size=(1000, 1)) * np.arange(1, 4)
    X = np.hstack([np.cos(angle), np.sin(angle)]) + 0.01 * rng.normal(size=(1000, 6))
    X_missing, removed = _remove(X, 0.2)
    imputer = AutoEncoderImputer(**dict(FAST, max_iter=200)).fit(X_missing)
    assert imputer.gaussian_weight_ < 0.5


def test_no_normal_without_held_out_rows(low_rank):
    _, X_missing, _, _ = low_rank
    imputer = AutoEncoderImputer(**FAST, early_stopping=False).fit(X_missing)
    assert imputer._blend == Blend()
    assert imputer.gaussian_weight_ == 0 and imputer.mixture_weight_ == 0


def _two_slopes(n=800, seed=0):
    """Two clusters told apart by the third feature, in which the second
    feature follows the first with opposite slopes."""
    rng = np.random.RandomState(seed)
    side = np.repeat([-1.0, 1.0], n // 2)
    first = rng.normal(size=n)
    X = np.column_stack([first, side * first, 3 * side, first + side])
    return X + 0.05 * rng.normal(size=X.shape)


def test_a_mixture_of_normals_fills_clustered_data():
    # Pooled, the slopes cancel and one normal cannot fill the second
    # feature; a normal per cluster can, and the held-out rows choose it.
    X = _two_slopes()
    X_missing, removed = _remove(X, 0.2)
    imputer = AutoEncoderImputer(**dict(FAST, max_iter=10)).fit(X_missing)
    assert imputer.n_mixture_components_ >= 2
    assert imputer.mixture_weight_ > 0.5
    error = _rmse(imputer.transform(X_missing)[removed], X[removed])
    imputer._blend = imputer._blend._replace(mixture_weight=0.0)
    without = _rmse(imputer.transform(X_missing)[removed], X[removed])
    assert error < 0.7 * without


def test_no_mixture_for_too_few_rows_or_too_many_features(monkeypatch):
    # 45 training rows: too few for two components of 25.
    X_missing, _ = _remove(_two_slopes(n=50), 0.2)
    imputer = AutoEncoderImputer(**FAST, early_stopping=True).fit(X_missing)
    assert imputer._blend.normal is not None and imputer._blend.mixtures == ()
    assert imputer.n_mixture_components_ == 0 and imputer.mixture_weight_ == 0
    monkeypatch.setattr(_blend, "MIXTURE_MAX_FEATURES", 3)
    X_missing, _ = _remove(_two_slopes(), 0.2)
    imputer = AutoEncoderImputer(**FAST).fit(X_missing)
    assert imputer._blend.normal is not None and imputer._blend.mixtures == ()


@pytest.mark.parametrize("constant", ["every column", "one column"])
def test_constant_columns_are_filled_with_their_value(constant):
    rng = np.random.RandomState(0)
    X = np.ones((300, 5)) if constant == "every column" else rng.normal(size=(300, 5))
    X[:, 2] = 3.0
    X_missing, removed = _remove(X, 0.2)
    imputer = AutoEncoderImputer(**dict(FAST, max_iter=20)).fit(X_missing)
    X_imputed = imputer.transform(X_missing)
    assert np.isfinite(X_imputed).all()
    np.testing.assert_allclose(X_imputed[:, 2], 3.0, atol=0.25)


def test_mixtures_are_fitted_to_at_most_mixture_rows(monkeypatch):
    # 720 training rows, capped at 120 to choose and weigh the mixtures,
    # which are then fitted again to those and the 80 held-out rows.
    monkeypatch.setattr(_blend, "MIXTURE_ROWS", 120)
    fitted_rows, fit_mixture = [], _blend.fit_mixture

    def recorded(rows, *args, **kwargs):
        fitted_rows.append(len(rows))
        return fit_mixture(rows, *args, **kwargs)

    monkeypatch.setattr(_blend, "fit_mixture", recorded)
    X_missing, _ = _remove(_two_slopes(), 0.2)
    imputer = AutoEncoderImputer(**dict(FAST, max_iter=10)).fit(X_missing)
    assert imputer.n_mixture_components_ >= 2
    assert set(fitted_rows) == {120, 200}


def test_a_monotone_map_pulls_bounded_fills_in(monkeypatch):
    # Pixels: a low-rank signal clipped at 0 (most entries) and at 1, where
    # the normal's linear fill spills past both bounds. Without the mixture
    # (which would model the mass at 0 itself), the map has to mend it.
    monkeypatch.setattr(_blend, "MIXTURE_MAX_FEATURES", 0)
    rng = np.random.RandomState(0)
    X = np.clip(rng.normal(size=(1000, 3)) @ rng.normal(size=(3, 20)) - 1, 0, 1)
    X_missing, removed = _remove(X, 0.2)
    imputer = AutoEncoderImputer(**FAST).fit(X_missing)
    assert imputer.calibration_weight_ > 0.5
    error = _rmse(imputer.transform(X_missing)[removed], X[removed])
    imputer._blend = imputer._blend._replace(calibration=None)
    without = _rmse(imputer.transform(X_missing)[removed], X[removed])
    assert error < 0.95 * without
