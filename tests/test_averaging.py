"""Weight averaging: a fit validates and ends with the average of its steps."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skae import (
    AutoEncoderClassifier,
    AutoEncoderImputer,
    AutoEncoderTransformer,
    SparseAE,
    VAESampler,
)
from skae._averaging import (
    AVERAGE_DECAY,
    CLASSIFIER_AVERAGE_DECAY,
    IMPUTER_AVERAGE_DECAY,
    AveragedWeights,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _weights(net):
    return [p.detach().clone() for p in net.module_.parameters()]


class Probe(Callback):
    """The weights at the start, after every training step, and those scored."""

    def initialize(self):
        self.start, self.stepped, self.scored = None, [], {}
        return self

    def on_train_begin(self, net, **kwargs):
        self.start = _weights(net)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.stepped.append(_weights(net))

    def on_batch_begin(self, net, training=False, **kwargs):
        # Runs after AveragedWeights' (it comes first among the callbacks).
        if not training:
            self.scored.setdefault(len(net.history), _weights(net))


def _average(probe):
    """The moving average with AveragedWeights' decay schedule, written out."""
    average = [w.clone() for w in probe.start]
    for t, weights in enumerate(probe.stepped, start=1):
        decay = min(AVERAGE_DECAY, (1 + t) / (10 + t))
        average = [
            decay * a + (1 - decay) * w for a, w in zip(average, weights, strict=True)
        ]
    return average


def _fit(**params):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 6))
    X += 0.1 * rng.normal(size=X.shape)
    # The probe runs after the estimator's own AveragedWeights.
    callbacks = [("probe", Probe())]
    ae = AutoEncoderTransformer(
        2,
        hidden_layer_sizes=(8,),
        init="random",
        callbacks=callbacks,
        random_state=0,
        **params,
    ).fit(X.astype(np.float32))
    return ae, dict(ae.net_.callbacks_)


def _assert_same(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-6)


def test_without_held_out_rows_the_fit_ends_with_the_average():
    ae, callbacks = _fit(max_iter=4, early_stopping=False)
    probe = callbacks["probe"]
    assert len(probe.stepped) == 4 * 10  # ten batches of 30 rows an epoch
    _assert_same(_weights(ae.net_), _average(probe))
    # The last step's weights are not what the fit returns.
    assert not torch.equal(_weights(ae.net_)[0], probe.stepped[-1][0])


def test_held_out_rows_score_the_average_and_the_best_one_is_kept():
    ae, callbacks = _fit(max_iter=6, early_stopping=True, n_iter_no_change=50)
    probe, stopping = callbacks["probe"], callbacks["stopping"]
    # Scored each epoch: the average of the steps so far, not the last step.
    steps = len(probe.stepped) // 6
    for epoch, scored in probe.scored.items():
        truncated = Probe().initialize()
        truncated.start, truncated.stepped = probe.start, probe.stepped[: epoch * steps]
        _assert_same(scored, _average(truncated))
        assert not torch.equal(scored[0], probe.stepped[epoch * steps - 1][0])
    # The fit ends with the best average scored, even when it is the last.
    assert stopping.best_epoch_ in probe.scored
    _assert_same(_weights(ae.net_), probe.scored[stopping.best_epoch_])
    losses = [h["valid_loss"] for h in ae.net_.history]
    assert stopping.best_loss_ == pytest.approx(min(losses))


def test_the_fitted_net_keeps_no_copy_of_the_weights():
    ae, callbacks = _fit(max_iter=2, early_stopping=False)
    average = callbacks["average"]
    assert average.average_ is None and average.trained_ is None


def test_every_autoencoder_averages_and_the_classifier_over_more_steps():
    X = np.random.RandomState(0).normal(size=(60, 4))
    for estimator in (SparseAE(2, max_iter=1), VAESampler(2, max_iter=1)):
        average = dict(estimator.fit(X).net_.callbacks_)["average"]
        assert average.decay == AVERAGE_DECAY
    classifier = AutoEncoderClassifier(n_components=2, max_iter=1)
    classifier.fit(X, np.arange(60) % 2)
    # Its supervised stages average over ten times as many steps as the
    # autoencoder it pretrained.
    average = dict(classifier.net_.callbacks_)["average"]
    assert average.decay == CLASSIFIER_AVERAGE_DECAY
    pretraining = dict(classifier.autoencoder_.net_.callbacks_)["average"]
    assert pretraining.decay == AVERAGE_DECAY


def test_the_imputer_averages_its_weights():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 6))
    X[rng.rand(*X.shape) < 0.2] = np.nan
    imputer = AutoEncoderImputer(
        hidden_layer_sizes=(16,), n_components=4, max_iter=3, random_state=0
    ).fit(X)
    average = dict(imputer.net_.callbacks_)["average"]
    assert isinstance(average, AveragedWeights)
    assert average.decay == IMPUTER_AVERAGE_DECAY


def test_without_held_out_rows_a_loss_that_rises_again_is_not_returned():
    # At this learning rate the training loss climbs back after its lowest
    # epoch: the fit ends with the average as it stood after that epoch,
    # not with the average of the steps that came after it.
    ae, callbacks = _fit(
        max_iter=12, early_stopping=False, learning_rate_init=0.3, n_iter_no_change=50
    )
    probe, losses = callbacks["probe"], ae.loss_curve_
    best = int(np.argmin(losses)) + 1
    assert best < len(losses)
    truncated = Probe().initialize()
    truncated.start, truncated.stepped = probe.start, probe.stepped[: best * 10]
    _assert_same(_weights(ae.net_), _average(truncated))
    assert callbacks["average"].kept_ is None  # freed, as the average is
