"""Early stopping's learning-rate drops on a plateau (``KeepBestStopping``)."""

import numpy as np
import pytest
from skorch.callbacks import Callback

from skae import AutoEncoderTransformer, VAESampler

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).normal(size=(80, 5)).astype(np.float32)


def never_improving(cls, **params):
    # With this tolerance no epoch after the first counts as an
    # improvement, so every ``n_iter_no_change`` epochs the patience runs out.
    return cls(
        2,
        hidden_layer_sizes=(8,),
        n_iter_no_change=3,
        tol=1e9,
        max_iter=50,
        batch_size=16,
        random_state=0,
        **params,
    )


def test_vae_drops_the_rate_twice_before_stopping(X):
    vae = never_improving(VAESampler).fit(X)
    # The first epoch improves on nothing (an infinite loss); then three
    # patiences: two ending in a drop, the third in the stop.
    assert vae.n_iter_ == 1 + 3 * 3
    # The rate is restored at the end, so a later partial_fit starts at it.
    rates = [group["lr"] for group in vae.net_.optimizer_.param_groups]
    assert rates == pytest.approx([vae.learning_rate_init] * len(rates))


class Rates(Callback):
    """The learning rate at the end of every epoch (after the stopping's).

    Kept on the class: the estimator trains a copy of its callbacks.
    """

    seen = []

    def on_epoch_end(self, net, **kwargs):
        Rates.seen.append(net.optimizer_.param_groups[0]["lr"])


def test_vae_trains_at_a_tenth_of_the_rate_after_each_drop(X):
    Rates.seen = seen = []
    never_improving(VAESampler, callbacks=[Rates()]).fit(X)
    # Dropped at the end of epochs 4 and 7; the stop at 10 ends training
    # before the later callbacks see that epoch.
    rate = seen[0]
    assert seen == pytest.approx([rate] * 3 + [rate / 10] * 3 + [rate / 100] * 3)


def test_autoencoder_keeps_its_rate_and_stops_at_the_first_plateau(X):
    Rates.seen = seen = []
    ae = never_improving(AutoEncoderTransformer, callbacks=[Rates()]).fit(X)
    assert ae.n_iter_ <= 1 + 3
    assert len(set(seen)) == 1
