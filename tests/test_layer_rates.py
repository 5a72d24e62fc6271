"""A learning rate and a decay per layer (``skae._layer_rates``)."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skae import (
    AutoEncoderClassifier,
    AutoEncoderTransformer,
    ConvAutoEncoder,
    VAESampler,
    load,
    save,
)
from skae._layer_rates import layer_scales

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _rates(net):
    """``{parameter name: (rate over the net's, decay)}``."""
    names = {id(p): name for name, p in net.module_.named_parameters()}
    return {
        names[id(p)]: (group["lr"] / net.lr, group["weight_decay"])
        for group in net.optimizer_.param_groups
        for p in group["params"]
    }


def _wide(**params):
    # 10 inputs, 512 hidden units, 2 codes: the code layer and the output
    # layer are fed by 512 units.
    return AutoEncoderTransformer(
        2, hidden_layer_sizes=(512,), random_state=0, **params
    )


def test_scales_skip_the_input_layer_and_narrow_layers():
    module = torch.nn.Sequential(
        torch.nn.Linear(1000, 300),  # the input layer keeps the rate
        torch.nn.Linear(300, 600),
        torch.nn.Linear(600, 256),
        torch.nn.Linear(256, 2),  # fed by 256: the rate
    )
    assert layer_scales(module) == {
        "1.weight": pytest.approx(256 / 300),
        "2.weight": pytest.approx(256 / 600),
    }
    # A network with convolutions keeps one rate, its dense layers too.
    module.append(torch.nn.Conv2d(1, 8, 3))
    assert layer_scales(module) == {}


def test_layers_fed_by_more_than_256_units_learn_slower_and_decay_alike():
    X = np.random.RandomState(0).normal(size=(200, 10)).astype(np.float32)
    ae = _wide(max_iter=2).fit(X)
    rates = _rates(ae.net_)
    slowed = {f"{part}.network.2.{kind}" for part in ("encoder", "decoder")
              for kind in ("weight", "bias")}  # fmt: skip
    for name, (rate, decay) in rates.items():
        assert rate == pytest.approx(0.5 if name in slowed else 1.0), name
        if name.endswith("weight"):
            # AdamW shrinks every layer by the same fraction per step.
            assert rate * decay == pytest.approx(ae.alpha), name
        else:
            assert decay == 0.0, name


@pytest.mark.parametrize("cls", [AutoEncoderTransformer, VAESampler])
def test_default_networks_take_one_rate(cls):
    # Fed by at most 256 units past the input layer: 784 pixels change nothing.
    X = np.random.RandomState(0).uniform(size=(60, 784)).astype(np.float32)
    est = cls(2, max_iter=1, random_state=0).fit(X)
    assert {rate for rate, _ in _rates(est.net_).values()} == {1.0}


def test_convolutional_networks_take_one_rate():
    # 32 channels of 7 x 7 feed the dense encoder 1,568 units: one rate still.
    X = np.random.RandomState(0).uniform(size=(60, 784)).astype(np.float32)
    conv = ConvAutoEncoder(2, image_shape=(1, 28, 28), max_iter=1, random_state=0)
    conv.fit(X)
    assert conv.net_.module_.dense_encoder[0].in_features == 1568
    assert {rate for rate, _ in _rates(conv.net_).values()} == {1.0}


def test_classifier_takes_one_rate_in_pretraining_and_fine_tuning():
    # Measured worse with wide layers slowed (see AutoEncoderClassifier).
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 10)).astype(np.float32)
    y = np.where(np.arange(100) < 20, np.arange(100) % 2, -1)
    clf = AutoEncoderClassifier(
        2, hidden_layer_sizes=(512,), max_iter=1, pretraining_max_iter=1, random_state=0
    ).fit(X, y)
    for net in (clf.autoencoder_.net_, clf.net_):
        assert len(net.optimizer_.param_groups) == 2
        assert {rate for rate, _ in _rates(net).values()} == {1.0}


class _Rates(Callback):
    """Each training step's rates, over each group's factor."""

    def initialize(self):
        self.steps = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            groups = net.optimizer_.param_groups
            self.steps.append({g["lr"] / g.get("lr_scale", 1.0) for g in groups})


def test_warm_up_and_warm_start_keep_each_layer_s_factor():
    # 7,000 rows: batches of 70, so the rate grown with the batch is reached
    # over the first epoch; every group follows it at its own factor.
    X = np.random.RandomState(0).normal(size=(7000, 10)).astype(np.float32)
    ae = _wide(max_iter=1, early_stopping=False, callbacks=[("rates", _Rates())])
    ae.fit(X)
    steps = dict(ae.net_.callbacks_)["rates"].steps
    assert all(len(step) == 1 for step in steps)
    assert steps[0].pop() < steps[-1].pop() == pytest.approx(ae.net_.lr)
    before = _rates(ae.net_)
    ae.set_params(warm_start=True, alpha=0.5, callbacks=None).fit(X)
    after = _rates(ae.net_)
    for name, (rate, decay) in after.items():
        assert rate == pytest.approx(before[name][0]), name
        assert decay == pytest.approx(before[name][1] / 2), name


def test_model_file_keeps_each_layer_s_rate(tmp_path):
    X = np.random.RandomState(0).normal(size=(200, 10)).astype(np.float32)
    ae = _wide(max_iter=2).fit(X)
    save(ae, tmp_path / "wide.safetensors")
    loaded = load(tmp_path / "wide.safetensors")
    assert _rates(loaded.net_) == _rates(ae.net_)
    ae.set_params(warm_start=True).fit(X)
    loaded.set_params(warm_start=True).fit(X)
    assert loaded.loss_curve_ == ae.loss_curve_


def test_model_file_of_one_rate_for_all_layers_still_loads(tmp_path, monkeypatch):
    # Files written before wide layers had rates of their own hold two
    # parameter groups; they load, and a continued fit keeps their one rate.
    X = np.random.RandomState(0).normal(size=(200, 10)).astype(np.float32)
    with monkeypatch.context() as patch:
        patch.setattr("skae._layer_rates.layer_scales", lambda module: {})
        ae = _wide(max_iter=2).fit(X)
        assert len(ae.net_.optimizer_.param_groups) == 2
        save(ae, tmp_path / "old.safetensors")
    loaded = load(tmp_path / "old.safetensors")
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    assert {rate for rate, _ in _rates(loaded.net_).values()} == {1.0}
    with monkeypatch.context() as patch:
        patch.setattr("skae._layer_rates.layer_scales", lambda module: {})
        ae.set_params(warm_start=True).fit(X)
    loaded.set_params(warm_start=True).fit(X)
    assert loaded.loss_curve_ == ae.loss_curve_
