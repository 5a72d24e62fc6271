"""``precision``: bfloat16 autocast and TensorFloat-32 training."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import Callback
from torch import nn

from skae import (
    AutoEncoderClassifier,
    AutoEncoderTransformer,
    ContractiveAE,
    ConvAutoEncoder,
    VAESampler,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(32,), max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


class _RecordDtypes(Callback):
    """Records the dtype of the first layer's output at every training batch."""

    def initialize(self):
        self.dtypes = []
        return self

    def on_train_begin(self, net, **kwargs):
        layer = next(m for m in net.module_.modules() if isinstance(m, nn.Linear))
        self._hook = layer.register_forward_hook(
            lambda module, args, out: self.dtypes.append(out.dtype)
        )

    def on_train_end(self, net, **kwargs):
        self._hook.remove()


class _RecordTF32(Callback):
    def initialize(self):
        self.flags = []
        return self

    def on_batch_begin(self, net, **kwargs):
        self.flags.append(
            (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        )


def test_bf16_trains_in_bfloat16_and_keeps_float32_state(digits):
    X, _ = digits
    ae = AutoEncoderTransformer(
        4, precision="bf16", callbacks=[("dtypes", _RecordDtypes())], **FAST
    ).fit(X)
    dtypes = set(dict(ae.net_.callbacks_)["dtypes"].dtypes)
    assert dtypes == {torch.bfloat16}
    for p in ae.net_.module_.parameters():
        assert p.dtype == torch.float32
    for state in ae.net_.optimizer_.state.values():
        assert state["exp_avg"].dtype == torch.float32
    assert all(isinstance(v, float) and np.isfinite(v) for v in ae.loss_curve_)
    # Inference runs at full precision, in the input's dtype.
    assert ae.transform(X).dtype == np.float32
    assert ae.transform(X.astype(np.float64)).dtype == np.float64


def test_bf16_reconstructs_about_as_well_as_float32(digits):
    X, _ = digits
    params = dict(n_components=8, max_iter=20, random_state=0)
    full = AutoEncoderTransformer(**params).fit(X)
    bf16 = AutoEncoderTransformer(precision="bf16", **params).fit(X)
    # Different arithmetic gives a different model ...
    assert not np.array_equal(full.transform(X), bf16.transform(X))
    # ... whose reconstruction error is within a few percent.
    mse_full, mse_bf16 = -full.score(X), -bf16.score(X)
    assert abs(mse_bf16 - mse_full) < 0.05 * mse_full


def test_bf16_is_reproducible(digits):
    X, _ = digits
    a = AutoEncoderTransformer(4, precision="bf16", **FAST).fit(X)
    b = AutoEncoderTransformer(4, precision="bf16", **FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize(
    "estimator",
    [
        ContractiveAE(4, precision="bf16", **FAST),
        VAESampler(4, precision="bf16", **FAST),
        ConvAutoEncoder(4, precision="bf16", max_iter=2, random_state=0),
    ],
    ids=lambda est: type(est).__name__,
)
def test_bf16_variants_train(digits, estimator):
    X, _ = digits
    X = X[:400]
    if isinstance(estimator, ConvAutoEncoder):
        X = X.reshape(-1, 1, 8, 8)
    estimator.fit(X)
    assert all(np.isfinite(estimator.loss_curve_))
    assert np.isfinite(estimator.score(X))


def test_bf16_classifier(digits):
    X, y = digits
    clf = AutoEncoderClassifier(
        8, pretraining_max_iter=3, max_iter=10, random_state=0, precision="bf16"
    ).fit(X, y)
    assert clf.net_.precision == "bf16"
    assert clf.autoencoder_.precision == "bf16"
    assert clf.score(X, y) > 0.9


def test_tf32_flags_set_while_training_and_restored(digits):
    X, _ = digits
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    ae = AutoEncoderTransformer(
        4, precision="tf32", callbacks=[("flags", _RecordTF32())], **FAST
    ).fit(X)
    assert set(dict(ae.net_.callbacks_)["flags"].flags) == {(True, True)}
    assert (
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    ) == before
    # Without a CUDA device, TF32 changes nothing.
    full = AutoEncoderTransformer(4, **FAST).fit(X)
    np.testing.assert_array_equal(ae.transform(X), full.transform(X))


def test_tf32_flags_restored_after_divergence(digits):
    X, _ = digits
    before = torch.backends.cuda.matmul.allow_tf32
    ae = AutoEncoderTransformer(4, precision="tf32", learning_rate_init=1e30, **FAST)
    with pytest.raises(FloatingPointError):
        ae.fit(X * 1e30)
    assert torch.backends.cuda.matmul.allow_tf32 == before


def test_warm_start_takes_the_new_precision(digits):
    X, _ = digits
    ae = AutoEncoderTransformer(4, warm_start=True, **FAST).fit(X)
    ae.set_params(precision="bf16")
    # The net's callbacks were set up by the first fit: record with one of its.
    recorder = _RecordDtypes().initialize()
    ae.net_.callbacks_.append(("dtypes", recorder))
    ae.fit(X)
    assert ae.net_.precision == "bf16"
    assert set(recorder.dtypes) == {torch.bfloat16}


def test_invalid_precision():
    X = np.random.RandomState(0).rand(20, 4)
    with pytest.raises(ValueError, match="precision"):
        AutoEncoderTransformer(2, precision="fp8").fit(X)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_cuda_precision(digits, precision):
    X, _ = digits
    params = dict(n_components=8, max_iter=20, random_state=0, device="cuda")
    full = AutoEncoderTransformer(**params).fit(X)
    fast = AutoEncoderTransformer(precision=precision, **params).fit(X)
    mse_full, mse_fast = -full.score(X), -fast.score(X)
    assert abs(mse_fast - mse_full) < 0.05 * mse_full


def test_bf16_warns_on_a_cpu_that_would_emulate_it():
    # oneDNN limited to AVX2 emulates bfloat16, as a CPU without AVX-512
    # would; the warning is raised where this machine has it natively too.
    code = (
        "import warnings, numpy as np\n"
        "from skae import AutoEncoderTransformer\n"
        "warnings.filterwarnings('error', message='precision')\n"
        "X = np.random.RandomState(0).rand(20, 4)\n"
        "AutoEncoderTransformer(2, max_iter=1, precision='{}').fit(X)\n"
    )
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    result = subprocess.run(
        [sys.executable, "-c", code.format("bf16")], env=env, capture_output=True
    )
    assert result.returncode != 0
    assert b"without fast bfloat16 arithmetic" in result.stderr
    result = subprocess.run(
        [sys.executable, "-c", code.format("float32")], env=env, capture_output=True
    )
    assert result.returncode == 0, result.stderr.decode()
