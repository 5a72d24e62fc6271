"""Behaviour of ContractiveAE: the Jacobian penalty and its effect on digits."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from skae import AutoEncoderTransformer, ContractiveAE
from skae._losses import contractive_penalty

FAST = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return load_digits().data / 16


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(1, 3, size=(200, 10))


def jacobian_norm(est, X, eps=1e-4):
    """Mean squared Frobenius norm of ``transform``'s Jacobian, by finite
    differences in the units of ``X`` (measured from outside the model)."""
    X = np.asarray(X, dtype=np.float64)
    total = np.zeros(len(X))
    for j in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[j] = eps
        d = (est.transform(X + step) - est.transform(X - step)) / (2 * eps)
        total += (d**2).sum(axis=1)
    return total.mean()


def test_penalty_is_proportional_to_jacobian_of_transform(X):
    # The encoder sees (X - shift_) / scale_, so its Jacobian is scale_
    # times that of transform: penalty = weight * scale_**2 * ||J||^2.
    cae = ContractiveAE(n_components=3, contractive_weight=0.5, **FAST).fit(X)
    x = torch.as_tensor((X - cae.shift_) / cae.scale_, dtype=torch.float64)
    module = cae.net_.module_.double()
    penalty = cae._penalty(x, None, None, module).item()
    expected = 0.5 * cae.scale_**2 * jacobian_norm(cae, X)
    # Finite differences straddle a few ReLU kinks, hence the tolerance.
    assert penalty == pytest.approx(expected, rel=5e-3)


def test_penalty_changes_the_model(X):
    off = ContractiveAE(n_components=3, contractive_weight=0.0, **FAST).fit(X)
    on = ContractiveAE(n_components=3, contractive_weight=1.0, **FAST).fit(X)
    # Sigmoid code units, as in Rifai et al.
    codes = off.transform(X)
    assert codes.min() > 0 and codes.max() < 1
    assert not np.allclose(codes, on.transform(X))
    assert jacobian_norm(on, X) < jacobian_norm(off, X)


def test_fit_is_deterministic(X):
    a = ContractiveAE(n_components=3, **FAST).fit(X)
    b = ContractiveAE(n_components=3, **FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_penalty_works_in_validation_with_dropout_and_bce(X):
    X01 = (X - 1) / 2
    cae = ContractiveAE(
        n_components=3,
        loss="bce",
        dropout=0.2,
        early_stopping=True,
        activation="tanh",
        **FAST,
    ).fit(X01)
    off = ContractiveAE(
        n_components=3,
        loss="bce",
        dropout=0.2,
        early_stopping=True,
        activation="tanh",
        contractive_weight=0.0,
        **FAST,
    ).fit(X01)
    assert np.all(np.isfinite(cae.validation_scores_))
    # The penalty is part of the validation loss.
    assert cae.validation_scores_[0] < off.validation_scores_[0]


def test_overcomplete_codes_do_not_warn(X, recwarn):
    ContractiveAE(n_components=12, **FAST).fit(X)
    assert not [w for w in recwarn if "n_components" in str(w.message)]


def test_contractive_penalty_is_called_on_the_encoder(X):
    cae = ContractiveAE(n_components=3, **FAST).fit(X)
    module = cae.net_.module_
    x = torch.as_tensor((X - cae.shift_) / cae.scale_, dtype=torch.float32)
    expected = cae.contractive_weight * contractive_penalty(module.encode, x)
    torch.testing.assert_close(cae._penalty(x, None, None, module), expected)


@pytest.mark.parametrize("weight", [-0.1, "big"])
def test_invalid_parameters(X, weight):
    with pytest.raises(ValueError, match="contractive_weight"):
        ContractiveAE(contractive_weight=weight, **FAST).fit(X)


def test_codes_are_less_sensitive_than_plain_autoencoder(digits):
    # Acceptance: with the default weight, the Jacobian of transform is at
    # most half the plain autoencoder's, and the reconstruction error at
    # most 1.5 times the plain one's.
    X_train, X_test = train_test_split(digits, test_size=0.3, random_state=0)
    cae = ContractiveAE(n_components=16, random_state=0).fit(X_train)
    # The plain one trained alike: from a random start, with the same decay.
    plain = AutoEncoderTransformer(
        n_components=16, init="random", alpha=1e-4, random_state=0
    ).fit(X_train)
    ratio = jacobian_norm(cae, X_test) / jacobian_norm(plain, X_test)
    assert ratio <= 0.5

    def mse(est):
        return np.mean((est.inverse_transform(est.transform(X_test)) - X_test) ** 2)

    assert mse(cae) <= 1.5 * mse(plain)
