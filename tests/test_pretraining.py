"""Greedy layer-wise pretraining of AutoEncoderTransformer."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from skae import AutoEncoderTransformer, _pretraining

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GREEDY = dict(hidden_layer_sizes=(32, 16), pretraining="greedy", pretraining_max_iter=4)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    return X / 16


def test_each_stage_records_its_loss_curve(digits):
    ae = AutoEncoderTransformer(4, max_iter=2, random_state=0, **GREEDY).fit(digits)
    curves = ae.pretraining_loss_curves_
    # One stage per encoder layer: 64-32, 32-16 and 16-4.
    assert len(curves) == 3
    for curve in curves:
        assert len(curve) == 4
        assert np.all(np.isfinite(curve)) and curve[-1] < curve[0]
    # Fine-tuning is recorded apart, as without pretraining.
    assert ae.n_iter_ == 2 and len(ae.loss_curve_) == 2


def test_without_pretraining_the_curves_are_none(digits):
    ae = AutoEncoderTransformer(4, hidden_layer_sizes=(8,), max_iter=1).fit(digits)
    assert ae.pretraining_loss_curves_ is None


class _FineTuningStart(Callback):
    """Records the network's parameters as fine-tuning begins."""

    def __init__(self):
        self.parameters = None

    def __deepcopy__(self, memo):
        # fit deep-copies its callbacks: the copy is this one.
        return self

    def on_train_begin(self, net, **kwargs):
        self.parameters = {id(p): p.detach().clone() for p in net.module_.parameters()}


def test_pretrained_layers_are_the_deep_networks_layers(digits, monkeypatch):
    # Record each stage's parameters as it is built, and their values then.
    stages = []

    class Recording(_pretraining._Stage):
        def __init__(self, encoder, decoder):
            super().__init__(encoder, decoder)
            stages.append([(p, p.detach().clone()) for p in self.parameters()])

    monkeypatch.setattr(_pretraining, "_Stage", Recording)
    start = _FineTuningStart()
    ae = AutoEncoderTransformer(
        4, max_iter=1, random_state=0, callbacks=[start], **GREEDY
    )
    ae.fit(digits)
    # One stage per encoder layer, each an encoder layer and its mirror
    # (two weights and two biases).
    assert [len(stage) for stage in stages] == [4, 4, 4]
    # The stages' parameters are the very tensors of the deep network (every
    # one of them, each in one stage), not copies ...
    trained = [p for stage in stages for p, _ in stage]
    deep = list(ae.net_.module_.parameters())
    assert len(trained) == len(deep)
    assert {id(p) for p in trained} == {id(p) for p in deep}
    # ... so training the stages trained the deep network's layers in place:
    # fine-tuning starts from weights that every stage moved.
    assert start.parameters.keys() == {id(p) for p in deep}
    for p, initial in (pair for stage in stages for pair in stage):
        assert not torch.equal(start.parameters[id(p)], initial)


def test_fine_tuning_starts_from_the_stacked_stages(digits):
    # One slow epoch of fine-tuning starts from the stacked stages, which
    # reconstruct better than randomly initialised layers (0.080 against
    # 0.086 mean squared error when this test was written).
    params = dict(max_iter=1, learning_rate_init=1e-4, random_state=0)
    plain = AutoEncoderTransformer(
        4, hidden_layer_sizes=(32, 16), init="random", **params
    )
    stacked = AutoEncoderTransformer(4, **GREEDY, **params)
    assert -stacked.fit(digits).score(digits) < -0.95 * plain.fit(digits).score(digits)


def test_reproducible(digits):
    state = torch.random.get_rng_state()
    a = AutoEncoderTransformer(4, max_iter=2, random_state=0, **GREEDY).fit(digits)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = AutoEncoderTransformer(4, max_iter=2, random_state=0, **GREEDY).fit(digits)
    np.testing.assert_array_equal(a.transform(digits), b.transform(digits))
    assert a.pretraining_loss_curves_ == b.pretraining_loss_curves_


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_losses_dropout_and_sparse_input(digits, loss):
    X = sp.csr_matrix(digits)
    ae = AutoEncoderTransformer(
        4, loss=loss, dropout=0.1, max_iter=2, random_state=0, **GREEDY
    ).fit(X)
    assert np.isfinite(ae.transform(X)).all()
    assert all(np.isfinite(c).all() for c in ae.pretraining_loss_curves_)


def test_partial_fit_and_warm_start_do_not_pretrain(digits):
    ae = AutoEncoderTransformer(4, random_state=0, **GREEDY).partial_fit(digits)
    assert ae.pretraining_loss_curves_ is None
    ae = AutoEncoderTransformer(
        4, max_iter=1, warm_start=True, random_state=0, **GREEDY
    )
    curves = ae.fit(digits).pretraining_loss_curves_
    ae.fit(digits)
    assert ae.pretraining_loss_curves_ is curves and ae.n_iter_ == 2


def test_diverging_pretraining_leaves_no_model(digits):
    ae = AutoEncoderTransformer(4, learning_rate_init=1e30, **GREEDY)
    with pytest.raises(FloatingPointError, match="training diverged"):
        ae.fit(digits * 1e30)
    with pytest.raises(NotFittedError):
        ae.transform(digits)


def test_invalid_pretraining():
    with pytest.raises(ValueError, match="'pretraining' parameter"):
        AutoEncoderTransformer(pretraining="layerwise").fit(np.zeros((4, 3)))
