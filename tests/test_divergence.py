"""A fit whose loss runs away stops with a clear error, even while finite."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skae import (
    AutoEncoderImputer,
    ConvAutoEncoder,
    DenoisingAE,
    SparseAE,
)
from skae._net import DIVERGED_RATIO

# Each of these ran to its last epoch before the check on the loss's growth:
# at a learning rate of 1 on features scaled by 100, their training losses
# grew to 5e5 to 5e16 times the first batch's and stayed finite.
RUNAWAY = [
    DenoisingAE(2),
    SparseAE(2),
    ConvAutoEncoder(2, image_shape=(1, 2, 3)),
    AutoEncoderImputer(),
]


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).rand(60, 6) * 100


@pytest.mark.parametrize("estimator", RUNAWAY, ids=lambda e: type(e).__name__)
def test_a_runaway_finite_loss_is_a_clear_error(estimator, X):
    estimator.set_params(learning_rate_init=1.0, max_iter=20, random_state=0)
    with pytest.raises(FloatingPointError, match="at the first batch.*diverged"):
        estimator.fit(X)
    with pytest.raises(NotFittedError):
        estimator.transform(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_growth_is_judged_against_the_first_batch_or_one(X):
    net = DenoisingAE(2, max_iter=1, random_state=0).fit(X).net_
    # A first batch's loss near zero (a constant feature) makes a later
    # loss of 1e-2 no alarm: the ratio is taken against at least 1.
    net._start_loss = 1e-6
    net._check_diverged(1e-2, training=True)
    net._check_diverged(0.9 * DIVERGED_RATIO, training=True)
    with pytest.raises(FloatingPointError, match="diverged"):
        net._check_diverged(1.1 * DIVERGED_RATIO, training=True)
    net._start_loss = 50.0  # a loss in nats per row, say
    net._check_diverged(49 * DIVERGED_RATIO, training=True)
    with pytest.raises(FloatingPointError, match="it was 50 at the first batch"):
        net._check_diverged(51 * DIVERGED_RATIO, training=True)
    # Validation losses are judged by finiteness alone.
    net._check_diverged(1e30, training=False)
    with pytest.raises(FloatingPointError, match="validation loss"):
        net._check_diverged(float("nan"), training=False)
