"""AutoEncoderImputer with a given autoencoder in place of its built-in network."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    AutoEncoderImputer,
    AutoEncoderTransformer,
    ConvAutoEncoder,
    VAESampler,
)
from skae._data import TensorRows
from skae._gaussian import Normal
from skae._missing import (
    held_out_split,
    network_inputs,
    observed_bounds,
    observed_moments,
)
from skae._refill import MAX_ROUNDS, EstimatorFill

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL_AE = AutoEncoderTransformer(3, hidden_layer_sizes=(16,), max_iter=40)


def _circle(n=600, seed=0):
    """Rows on a circle in 6-D (cos, sin of a, 2a, 3a): far from a normal."""
    rng = np.random.RandomState(seed)
    angle = rng.uniform(0, 2 * np.pi, size=(n, 1)) * np.arange(1, 4)
    X = np.hstack([np.cos(angle), np.sin(angle)])
    return X + 0.01 * rng.normal(size=X.shape)


def _remove(X, rate, seed=1):
    removed = np.random.RandomState(seed).rand(*X.shape) < rate
    return np.where(removed, np.nan, X), removed


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.fixture(scope="module")
def circle():
    X = _circle()
    X_missing, removed = _remove(X, 0.2)
    imputer = AutoEncoderImputer(estimator=SMALL_AE, random_state=0).fit(X_missing)
    return X, X_missing, removed, imputer


def test_a_given_autoencoder_fills_the_missing_entries(circle):
    X, X_missing, removed, imputer = circle
    X_imputed = imputer.transform(X_missing)
    np.testing.assert_array_equal(X_imputed[~removed], X[~removed])
    ours = _rmse(X_imputed[removed], X[removed])
    mean = _rmse(SimpleImputer().fit_transform(X_missing)[removed], X[removed])
    # The columns are uncorrelated, so the mean is also the normal's best
    # fill; the autoencoder knows the circle.
    assert ours < 0.6 * mean
    assert imputer.gaussian_weight_ < 0.5


def test_the_fitted_clone_replaces_the_network(circle):
    _, _, _, imputer = circle
    assert imputer.estimator_ is not SMALL_AE
    assert imputer.estimator_.n_features_in_ == 6
    assert not hasattr(SMALL_AE, "n_features_in_")
    assert not hasattr(imputer, "net_")
    # Seeded from the imputer's random_state: its own was None.
    assert imputer.estimator_.random_state is not None
    assert SMALL_AE.random_state is None


def test_reproducible_and_picklable(circle):
    X, X_missing, _, imputer = circle
    again = AutoEncoderImputer(estimator=SMALL_AE, random_state=0).fit(X_missing)
    np.testing.assert_array_equal(
        again.transform(X_missing), imputer.transform(X_missing)
    )
    loaded = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(
        loaded.transform(X_missing), imputer.transform(X_missing)
    )


def test_an_estimator_s_own_random_state_is_kept():
    X_missing, _ = _remove(_circle(n=200), 0.2)
    ae = AutoEncoderTransformer(3, hidden_layer_sizes=(16,), max_iter=3, random_state=7)
    imputer = AutoEncoderImputer(estimator=ae, random_state=0).fit(X_missing)
    assert imputer.estimator_.random_state == 7


def test_any_estimator_with_an_inverse_transform_serves():
    # PCA is linear: it fills as a normal does, and a linear fill of the
    # circle's uncorrelated columns is their mean.
    X = _circle(n=300)
    X_missing, removed = _remove(X, 0.2)
    imputer = AutoEncoderImputer(estimator=PCA(2), random_state=0).fit(X_missing)
    X_imputed = imputer.transform(X_missing)
    np.testing.assert_array_equal(X_imputed[~removed], X[~removed])
    assert isinstance(imputer.estimator_, PCA)
    ours = _rmse(X_imputed[removed], X[removed])
    mean = _rmse(SimpleImputer().fit_transform(X_missing)[removed], X[removed])
    assert ours < 1.05 * mean


class _NoInverse(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def test_an_estimator_without_inverse_transform_is_refused():
    X_missing, _ = _remove(_circle(n=50), 0.2)
    with pytest.raises(InvalidParameterError, match="inverse_transform"):
        AutoEncoderImputer(estimator=_NoInverse()).fit(X_missing)


def test_images_keep_their_shape_with_an_empty_pixel():
    # A pixel never observed is dropped from the output, but the image
    # autoencoder still sees whole 6 x 6 images (that pixel at 0).
    rng = np.random.RandomState(0)
    images = np.clip(rng.normal(0.5, 0.2, size=(120, 36)), 0, 1)
    X_missing, _ = _remove(images, 0.2)
    X_missing[:, 0] = np.nan
    conv = ConvAutoEncoder(
        4, image_shape=(1, 6, 6), conv_channels=(4,), loss="bce", max_iter=2
    )
    imputer = AutoEncoderImputer(estimator=conv, random_state=0).fit(X_missing)
    X_imputed = imputer.transform(X_missing)
    assert X_imputed.shape == (120, 35)
    assert imputer.estimator_.n_features_in_ == 36
    assert np.isfinite(X_imputed).all()


def test_the_start_fill_is_the_normal_s_clipped_to_the_observed_bounds():
    # Two perfectly correlated features; the second missing in row 0.
    covariance = np.array([[1.0, 0.999], [0.999, 1.0]])
    normal = Normal(np.zeros(2), np.linalg.inv(covariance))
    inputs = torch.tensor([[3.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.0, 0.0]])
    low, high = np.array([0.0, 0.0]), np.array([20.0, 22.0])
    fill = EstimatorFill(None, normal, np.array([10.0, 20.0]), 2.0, low, high)
    completed = fill._completed(inputs)
    assert completed.dtype == np.float32
    # Row 0's second feature: conditional mean ~3, in X's units
    # 20 + 2 * 3 = 26, clipped to its largest observed value, 22.
    np.testing.assert_allclose(completed[0], [16.0, 22.0], atol=1e-4)
    np.testing.assert_allclose(completed[1], [11.0, 21.0])
    # Without a normal, the start fill is the mean.
    fill = EstimatorFill(None, None, np.array([10.0, 20.0]), 2.0, low, high)
    np.testing.assert_allclose(fill._completed(inputs)[0], [16.0, 20.0])


@pytest.fixture(scope="module")
def drawn():
    X = _circle(n=400)
    X_missing, removed = _remove(X, 0.2)
    X_missing[:, 5] = np.nan  # an empty feature, kept in the output
    vae = VAESampler(2, hidden_layer_sizes=(16,), max_iter=30)
    imputer = AutoEncoderImputer(
        estimator=vae, keep_empty_features=True, add_indicator=True, random_state=0
    ).fit(X_missing)
    return X_missing, imputer


def test_multiple_imputations_move_only_the_missing_entries(drawn):
    X_missing, imputer = drawn
    draws = imputer.sample_imputations(X_missing, n_imputations=4, random_state=0)
    X_imputed = imputer.transform(X_missing)
    assert draws.shape == (4, *X_imputed.shape)
    assert draws.dtype == X_imputed.dtype
    missing = np.isnan(X_missing)
    # Observed entries, the empty feature's 0 and the indicator columns
    # are the same in every draw.
    fixed = np.hstack([~missing[:, :5], np.ones((len(missing), 7), dtype=bool)])
    np.testing.assert_array_equal(
        draws[:, fixed], np.broadcast_to(X_imputed[fixed], (4, fixed.sum()))
    )
    moved = np.hstack([missing[:, :5], np.zeros((len(missing), 7), dtype=bool)])
    assert (draws[0][moved] != draws[1][moved]).all()
    # The draws spread around the fill, not somewhere else.
    spread = np.abs(draws[:, moved] - X_imputed[moved]).mean()
    assert 0 < np.abs(draws[:, moved].mean(axis=0) - X_imputed[moved]).mean() < spread


def test_multiple_imputations_are_reproducible(drawn):
    X_missing, imputer = drawn
    first = imputer.sample_imputations(X_missing, n_imputations=2, random_state=3)
    again = imputer.sample_imputations(X_missing, n_imputations=2, random_state=3)
    np.testing.assert_array_equal(first, again)


class _WideDraws(VAESampler):
    """A VAESampler whose random reconstructions stray ten times as far."""

    def sample_reconstructions(self, X, random_state=None):
        mean = self.inverse_transform(self.transform(X))
        draw = super().sample_reconstructions(X, random_state=random_state)
        return mean + 10 * (draw - mean)


def test_draws_spread_as_the_fill_errs_whatever_the_sampler_s_spread(drawn):
    # The draws' deviations are scaled so that on the held-out rows they
    # spread as far as the fill errs there: a sampler that strays ten times
    # as far gets a tenth of the factor and the same imputations.
    X_missing, imputer = drawn
    assert np.isfinite(imputer.draw_scale_) and imputer.draw_scale_ > 0
    wide = _WideDraws(**imputer.estimator.get_params())
    wide = clone(imputer).set_params(estimator=wide).fit(X_missing)
    assert wide.draw_scale_ == pytest.approx(imputer.draw_scale_ / 10)
    np.testing.assert_allclose(
        wide.sample_imputations(X_missing, n_imputations=3, random_state=0),
        imputer.sample_imputations(X_missing, n_imputations=3, random_state=0),
    )


@pytest.mark.parametrize("n_imputations", [0, 1.5, "3"])
def test_a_bad_number_of_imputations_is_refused(drawn, n_imputations):
    X_missing, imputer = drawn
    with pytest.raises(ValueError, match="n_imputations must be a positive integer"):
        imputer.sample_imputations(X_missing, n_imputations=n_imputations)


@pytest.mark.parametrize("estimator", [None, SMALL_AE])
def test_no_draws_without_a_sampling_estimator(estimator):
    imputer = AutoEncoderImputer(estimator=estimator)
    assert not hasattr(imputer, "sample_imputations")
    with pytest.raises(AttributeError, match="sample_imputations"):
        imputer.sample_imputations(np.zeros((3, 2)))


class _ColumnMeans(TransformerMixin, BaseEstimator):
    """Reconstructs every row as the column means of the rows it was fitted to."""

    def fit(self, X, y=None):
        self.mean_ = X.mean(axis=0)
        return self

    def transform(self, X):
        return np.zeros((len(X), 1))

    def inverse_transform(self, X):
        return np.tile(self.mean_, (len(X), 1))


def _refill_rounds(estimator, X_missing):
    """The rounds an EstimatorFill from the means keeps on ``X_missing``."""
    missing = np.isnan(X_missing)
    kept = np.ones(X_missing.shape[1], dtype=bool)
    shift, scale = observed_moments(X_missing, missing)
    inputs = network_inputs(X_missing, missing, kept, shift, scale)
    rows = TensorRows(torch.from_numpy(inputs))
    train, valid = held_out_split(rows, np.random.RandomState(0), 0.2, 0.25, 0)
    low, high = observed_bounds(X_missing, missing)
    fill = EstimatorFill(estimator, None, shift, scale, low, high)
    return fill.fit(train, valid).rounds


def test_rounds_go_on_while_the_held_out_rows_gain():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 10))
    X_missing, _ = _remove(X, 0.3)
    # From the means, PCA's fill of low-rank data improves round after
    # round (iterative SVD imputation); the column means never do.
    assert len(_refill_rounds(PCA(3), X_missing)) == MAX_ROUNDS
    assert len(_refill_rounds(_ColumnMeans(), X_missing)) == 1


def test_no_draws_from_an_imputer_fitted_with_its_own_network():
    X_missing, _ = _remove(_circle(n=100), 0.2)
    imputer = AutoEncoderImputer(hidden_layer_sizes=(8,), max_iter=2).fit(X_missing)
    assert imputer.draw_scale_ == 1.0
    imputer.set_params(estimator=VAESampler(2))
    with pytest.raises(ValueError, match="fit it again"):
        imputer.sample_imputations(X_missing)
