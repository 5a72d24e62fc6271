"""skae.save / skae.load: safe model files (safetensors + JSON, no pickle)."""

import json
import pickle
import struct

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

import skae
from skae import AutoEncoderTransformer, VAESampler, load, save
from skae.utils import all_estimators

FAST = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
# The format stores the autoencoders; AutoEncoderClassifier,
# AutoEncoderImputer and AutoEncoderOutlierDetector are pickled.
PICKLED = (
    skae.AutoEncoderClassifier,
    skae.AutoEncoderImputer,
    skae.AutoEncoderOutlierDetector,
)
ESTIMATORS = [cls for _, cls in all_estimators() if cls not in PICKLED]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(size=(40, 9))


@pytest.fixture(scope="module")
def fitted_path(X, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "ae.safetensors"
    save(AutoEncoderTransformer(2, **FAST).fit(X), path)
    return path


def _rewrite(path, out, *, metadata=None, tensors=None):
    """Copy a model file, replacing metadata entries and tensors."""
    with safe_open(path, "pt") as f:
        meta = {**f.metadata(), **(metadata or {})}
        data = {k: f.get_tensor(k) for k in f.keys()}
    save_file({**data, **(tensors or {})}, out, metadata=meta)
    return out


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_round_trip_reproduces_every_output(cls, early_stopping, X, tmp_path):
    est = cls(3, early_stopping=early_stopping, **FAST).fit(X)
    path = tmp_path / "model.safetensors"
    save(est, path)
    loaded = load(path)

    assert type(loaded) is cls
    assert loaded.get_params() == est.get_params()
    codes = est.transform(X)
    np.testing.assert_array_equal(loaded.transform(X), codes)
    np.testing.assert_array_equal(
        loaded.inverse_transform(codes), est.inverse_transform(codes)
    )
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    np.testing.assert_array_equal(
        loaded.sample(5, random_state=0), est.sample(5, random_state=0)
    )
    # float64 input is computed on a float64 copy of the module: also equal.
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(loaded.transform(X32), est.transform(X32))
    # Every fitted attribute, public and private, comes back with its type.
    for name in ("n_iter_", "loss_curve_", "validation_scores_", "best_loss_"):
        assert getattr(loaded, name) == getattr(est, name)
    for name, value in vars(est).items():
        if name == "net_" or name in est.get_params():
            continue
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(loaded, name), value)
            assert getattr(loaded, name).dtype == value.dtype
        else:
            assert getattr(loaded, name) == value, name
            assert type(getattr(loaded, name)) is type(value), name
    assert loaded.net_.history.to_list() == est.net_.history.to_list()
    assert not loaded.net_.module_.training


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_warm_start_continues_as_the_original_would(cls, X, tmp_path):
    # The optimizer's state is saved too, so continuing after a round trip
    # gives the very model that continuing in the same session gives.
    est = cls(3, **FAST).fit(X)
    save(est, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    est.set_params(warm_start=True).fit(X)
    loaded.set_params(warm_start=True).fit(X)
    assert loaded.n_iter_ == est.n_iter_ == 6
    assert loaded.loss_curve_ == est.loss_curve_
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_feature_names_survive(X, tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = AutoEncoderTransformer(2, **FAST).fit(df)
    save(est, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    assert loaded.feature_names_in_.dtype == object
    np.testing.assert_array_equal(
        loaded.get_feature_names_out(), est.get_feature_names_out()
    )
    np.testing.assert_array_equal(loaded.transform(df), est.transform(df))
    with pytest.raises(ValueError, match="feature names"):
        loaded.transform(df.rename(columns={"f0": "other"}))


def test_tuple_and_set_output_config_survive(X, tmp_path):
    pytest.importorskip("pandas")
    est = AutoEncoderTransformer(2, **FAST).set_output(transform="pandas").fit(X)
    save(est, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert loaded.hidden_layer_sizes == (16,)
    assert list(loaded.transform(X).columns) == list(est.transform(X).columns)


def test_file_is_safetensors_with_json_metadata_only(fitted_path):
    raw = fitted_path.read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_size])
    metadata = header.pop("__metadata__")
    numeric = {"F32", "F64", "I64", "I32", "BOOL", "U8"}
    end = 0
    for name, entry in header.items():
        assert name.split(".")[0] in ("module", "optimizer", "attr")
        assert entry["dtype"] in numeric
        end = max(end, entry["data_offsets"][1])
    # The tensors' bytes fill the rest of the file: nothing else is hidden.
    assert 8 + header_size + end == len(raw)
    decoded = {k: json.loads(v) for k, v in metadata.items()}
    assert decoded["format"] == "skae" and decoded["format_version"] == 1
    assert decoded["estimator"] == "AutoEncoderTransformer"
    assert decoded["params"]["n_components"] == 2
    assert set(decoded["versions"]) >= {"skae", "torch", "scikit-learn", "skorch"}
    assert len(decoded["history"]) == 3


def test_save_and_load_never_use_pickle(X, tmp_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("dump", "dumps", "load", "loads", "Pickler", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(torch, "save", forbidden)
    est = VAESampler(2, **FAST).fit(X)
    save(est, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_load_on_a_device_sets_the_parameter(fitted_path):
    loaded = load(fitted_path, device="cpu")
    assert loaded.device == "cpu"
    assert loaded._module_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            load(fitted_path, device="cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_model_loads_on_cpu(X, tmp_path):
    est = AutoEncoderTransformer(2, device="cuda", **FAST).fit(X)
    save(est, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert loaded.device == "cpu"
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), atol=1e-5)
    on_gpu = load(tmp_path / "model.safetensors", device="cuda")
    np.testing.assert_array_equal(on_gpu.transform(X), est.transform(X))


# ----------------------------------------------------------------------
# What save refuses
# ----------------------------------------------------------------------
def test_save_refuses_callbacks(X, tmp_path):
    est = AutoEncoderTransformer(2, callbacks=[("cb", Callback())], **FAST).fit(X)
    with pytest.raises(ValueError, match="callbacks cannot be stored safely"):
        save(est, tmp_path / "model.safetensors")
    save(est.set_params(callbacks=None), tmp_path / "model.safetensors")


def test_save_refuses_unfitted_and_foreign_estimators(tmp_path):
    with pytest.raises(NotFittedError):
        save(AutoEncoderTransformer(), tmp_path / "model.safetensors")
    from sklearn.decomposition import PCA

    with pytest.raises(ValueError, match="save expects one of skae's autoencoders"):
        save(PCA(), tmp_path / "model.safetensors")


def test_save_refuses_a_random_state_instance(X, tmp_path):
    est = AutoEncoderTransformer(2, **FAST).fit(X)
    est.set_params(random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="'random_state' is a RandomState"):
        save(est, tmp_path / "model.safetensors")


# ----------------------------------------------------------------------
# What load refuses
# ----------------------------------------------------------------------
def test_load_refuses_a_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("These are not the weights you are looking for.\n")
    with pytest.raises(ValueError, match="not a skae model file"):
        load(path)


def test_load_refuses_a_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, path, metadata={"format": "pt"})
    with pytest.raises(ValueError, match="not a skae model"):
        load(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_load_refuses_a_truncated_file(fitted_path, tmp_path, keep):
    raw = fitted_path.read_bytes()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        load(path)


def test_load_refuses_an_unknown_class(fitted_path, tmp_path):
    for name in ("os.system", "PCA", "_BaseAutoEncoder"):
        path = _rewrite(
            fitted_path,
            tmp_path / "bad.safetensors",
            metadata={"estimator": json.dumps(name)},
        )
        with pytest.raises(ValueError, match="not one of skae's autoencoders"):
            load(path)


@pytest.mark.parametrize("version", ["0", "2", "1.5", '"1"', "one"])
def test_load_refuses_another_format_version(fitted_path, tmp_path, version):
    path = _rewrite(
        fitted_path, tmp_path / "bad.safetensors", metadata={"format_version": version}
    )
    with pytest.raises(ValueError, match="format version"):
        load(path)


def test_load_refuses_metadata_that_is_not_json(fitted_path, tmp_path):
    path = _rewrite(
        fitted_path, tmp_path / "bad.safetensors", metadata={"params": "{oops"}
    )
    with pytest.raises(ValueError, match="'params' is missing or not valid JSON"):
        load(path)


def test_load_refuses_unknown_parameters_and_attributes(fitted_path, tmp_path):
    with safe_open(fitted_path, "pt") as f:
        meta = f.metadata()
    params = {**json.loads(meta["params"]), "evil": 1}
    path = _rewrite(
        fitted_path, tmp_path / "a.safetensors", metadata={"params": json.dumps(params)}
    )
    with pytest.raises(ValueError, match="unknown: \\['evil'\\]"):
        load(path)
    # An attribute that would shadow a method.
    attributes = {**json.loads(meta["attributes"]), "transform": 1}
    path = _rewrite(
        fitted_path,
        tmp_path / "b.safetensors",
        metadata={"attributes": json.dumps(attributes)},
    )
    with pytest.raises(ValueError, match="attribute 'transform'"):
        load(path)


def test_load_refuses_tampered_tensor_shapes(fitted_path, tmp_path):
    with safe_open(fitted_path, "pt") as f:
        weight = f.get_tensor("module.encoder.network.0.weight")
    wider = torch.zeros(weight.shape[0] + 1, weight.shape[1])
    path = _rewrite(
        fitted_path,
        tmp_path / "bad.safetensors",
        tensors={"module.encoder.network.0.weight": wider},
    )
    with pytest.raises(ValueError, match="'encoder.network.0.weight' has shape"):
        load(path)
    path = _rewrite(
        fitted_path,
        tmp_path / "bad2.safetensors",
        tensors={"module.encoder.network.0.weight": weight.double()},
    )
    with pytest.raises(ValueError, match="dtype torch.float64"):
        load(path)
    path = _rewrite(
        fitted_path, tmp_path / "bad3.safetensors", tensors={"attr.shift_": wider}
    )
    with pytest.raises(ValueError, match="'shift_' has shape"):
        load(path)
    path = _rewrite(
        fitted_path,
        tmp_path / "bad4.safetensors",
        tensors={"optimizer.0.exp_avg": wider},
    )
    with pytest.raises(ValueError, match="optimizer state '0.exp_avg' has shape"):
        load(path)


def test_load_refuses_missing_and_extra_tensors(fitted_path, tmp_path):
    with safe_open(fitted_path, "pt") as f:
        meta = f.metadata()
        data = {
            k: f.get_tensor(k) for k in f.keys() if k != "module.decoder.network.0.bias"
        }
    path = tmp_path / "missing.safetensors"
    save_file(data, path, metadata=meta)
    with pytest.raises(ValueError, match="missing \\['decoder.network.0.bias'\\]"):
        load(path)
    path = _rewrite(
        fitted_path,
        tmp_path / "extra.safetensors",
        tensors={"module.backdoor": torch.zeros(1)},
    )
    with pytest.raises(ValueError, match="unexpected \\['backdoor'\\]"):
        load(path)


def test_public_api():
    assert skae.save is save and skae.load is load
    assert {"save", "load"} <= set(skae.__all__)
    # all_estimators lists exactly the estimator classes of skae.__all__, by
    # name and sorted: not the functions (save, load, precision_at_k), nor
    # HammingIndex, a search structure that is no scikit-learn estimator.
    estimators = [
        "AutoEncoderClassifier",
        "AutoEncoderImputer",
        "AutoEncoderOutlierDetector",
        "AutoEncoderTransformer",
        "BinaryAutoEncoder",
        "ContractiveAE",
        "ConvAutoEncoder",
        "DenoisingAE",
        "SparseAE",
        "VAESampler",
    ]
    others = {"HammingIndex", "__version__", "load", "precision_at_k", "save"}
    assert set(skae.__all__) == set(estimators) | others
    assert all_estimators() == [(name, getattr(skae, name)) for name in estimators]
    assert not issubclass(skae.HammingIndex, BaseEstimator)


def test_the_classifier_is_refused_with_advice(tmp_path):
    X = np.random.RandomState(0).uniform(size=(40, 9))
    y = np.arange(40) % 2
    clf = skae.AutoEncoderClassifier(
        2, hidden_layer_sizes=(4,), pretraining_max_iter=1, max_iter=1
    ).fit(X, y)
    with pytest.raises(ValueError, match="save other estimators with pickle"):
        save(clf, tmp_path / "clf.safetensors")
