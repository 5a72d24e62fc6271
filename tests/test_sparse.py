"""Behaviour of SparseAE: code units, penalties and sparsity on digits."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, SparseAE

FAST = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return load_digits().data / 16


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(size=(200, 10))


def test_kl_codes_are_sigmoid_units(X):
    sae = SparseAE(n_components=30, sparsity="kl", **FAST).fit(X)
    codes = sae.transform(X)
    assert codes.shape == (200, 30)
    assert np.all((codes > 0) & (codes < 1))


def test_l1_codes_are_rectified_and_exactly_sparse(X):
    sae = SparseAE(n_components=30, sparsity="l1", sparsity_weight=1.0, **FAST).fit(X)
    codes = sae.transform(X)
    assert np.all(codes >= 0)
    assert np.mean(codes == 0) > 0.1


@pytest.mark.parametrize("sparsity", ["kl", "l1"])
def test_penalty_changes_the_model(X, sparsity):
    params = dict(n_components=20, sparsity=sparsity, **FAST)
    off = SparseAE(sparsity_weight=0.0, **params).fit(X)
    on = SparseAE(sparsity_weight=1.0, **params).fit(X)
    assert not np.allclose(off.transform(X), on.transform(X))
    # The penalty is part of the training objective.
    assert on.loss_curve_[-1] > off.loss_curve_[-1]


@pytest.mark.parametrize("sparsity", ["kl", "l1"])
def test_stronger_penalty_gives_sparser_codes(X, sparsity):
    params = dict(
        n_components=20, sparsity=sparsity, hidden_layer_sizes=(16,), max_iter=30
    )
    weak = SparseAE(sparsity_weight=0.0, random_state=0, **params).fit(X)
    strong = SparseAE(sparsity_weight=3.0, random_state=0, **params).fit(X)
    assert strong.transform(X).mean() < 0.7 * weak.transform(X).mean()


def test_kl_penalty_without_weight_is_a_sigmoid_autoencoder(X):
    # Same seed, no penalty: deterministic, and different from linear codes.
    a = SparseAE(n_components=5, sparsity_weight=0.0, **FAST).fit(X)
    b = SparseAE(n_components=5, sparsity_weight=0.0, **FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    plain = AutoEncoderTransformer(n_components=5, **FAST).fit(X)
    assert not np.allclose(a.transform(X), plain.transform(X))


def test_overcomplete_codes_do_not_warn(X, recwarn):
    SparseAE(n_components=40, **FAST).fit(X)
    assert not [w for w in recwarn if "n_components" in str(w.message)]


def test_penalty_is_part_of_the_validation_loss(X):
    sae = SparseAE(
        n_components=20, sparsity_weight=10.0, early_stopping=True, **FAST
    ).fit(X)
    plain = SparseAE(
        n_components=20, sparsity_weight=0.0, early_stopping=True, **FAST
    ).fit(X)
    assert -sae.validation_scores_[0] > -plain.validation_scores_[0]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sparsity": "l2"}, "sparsity"),
        ({"sparsity_target": 0.0}, "sparsity_target"),
        ({"sparsity_target": 1.0}, "sparsity_target"),
        ({"sparsity_weight": -1.0}, "sparsity_weight"),
    ],
)
def test_invalid_parameters(X, params, match):
    with pytest.raises(ValueError, match=match):
        SparseAE(**params, **FAST).fit(X)


def test_mean_activation_on_digits_is_near_target(digits):
    # Acceptance: 128 sigmoid units (twice the number of pixels) with the
    # default weight keep their mean activation near rho=0.05 on test data.
    X_train, X_test = train_test_split(digits, test_size=0.3, random_state=0)
    sae = SparseAE(
        n_components=128, sparsity="kl", sparsity_target=0.05, random_state=0
    ).fit(X_train)
    codes = sae.transform(X_test)
    assert 0.025 <= codes.mean() <= 0.1
    # ... while still reconstructing well.
    recon = sae.inverse_transform(codes)
    assert np.mean((recon - X_test) ** 2) < 0.01
