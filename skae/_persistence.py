"""Safe model files: :func:`save` and :func:`load`, without pickle.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_
file. Its tensors hold numbers only:

- ``module.<name>``: the torch module's ``state_dict``;
- ``optimizer.<index>.<name>``: the optimizer's state (Adam's moments), so
  that training can continue with ``warm_start=True`` exactly as it would
  have in the original session;
- ``attr.<name>``: every fitted NumPy array attribute with a numeric dtype.

Its metadata (a str-to-str mapping in the file's JSON header) holds one
JSON document per entry: the format marker and version, the estimator's
class name, its parameters, its other fitted attributes, the skorch
history, the optimizer's hyperparameters and the versions of the packages
that wrote it.

Nothing in the file is executed: the class is looked up among skae's public
estimators by name, and every value is data (JSON or a numeric tensor).
Tuples, which JSON lacks, are written as ``{"__tuple__": [...]}`` and arrays
of strings (``feature_names_in_``) as ``{"__array__": [...]}``.
"""

import json
import os
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._base import _BaseAutoEncoder
from ._validation import resolve_device

FORMAT = "skae"
FORMAT_VERSION = 1

# Metadata keys that hold JSON.
_JSON_KEYS = (
    "estimator",
    "params",
    "attributes",
    "arrays",
    "history",
    "optimizer",
    "versions",
)

_MODULE, _OPTIMIZER, _ATTR = "module.", "optimizer.", "attr."


# ----------------------------------------------------------------------
# JSON encoding of parameters and attributes
# ----------------------------------------------------------------------
def _to_json(value, where):
    """``value`` as JSON-ready data; tuples and string arrays tagged."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if any(k in ("__tuple__", "__array__") for k in value):
            raise ValueError(f"{where} uses a reserved key and cannot be saved.")
        return {k: _to_json(v, where) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "OU":
        if all(isinstance(v, str) for v in value.ravel()) and value.ndim == 1:
            return {"__array__": [str(v) for v in value]}
    raise ValueError(
        f"{where} is a {type(value).__name__}, which cannot be stored safely "
        "(only numbers, strings, None, lists, tuples, dicts and arrays)."
    )


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if set(value) == {"__array__"}:
            return np.asarray(value["__array__"], dtype=object)
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _safetensors():
    """The safetensors package, imported when a model is saved or loaded."""
    try:
        import safetensors
        import safetensors.torch
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "skae.save and skae.load need the safetensors package: "
            "pip install safetensors"
        ) from exc
    return safetensors


def _versions():
    versions = {}
    for name in ("skae", "torch", "scikit-learn", "skorch", "numpy", "safetensors"):
        try:
            versions[name] = _package_version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


# ----------------------------------------------------------------------
# save
# ----------------------------------------------------------------------
def save(estimator, path):
    """Save a fitted skae estimator to a safetensors file, without pickle.

    The file holds the network's weights, the optimizer's state and every
    fitted array as tensors, and the estimator's class name, parameters,
    other fitted attributes and training history as JSON. Unlike a pickle,
    loading it with :func:`load` runs no code from the file, so a model can
    be shared with people who should not have to trust its author.

    Parameters
    ----------
    estimator : skae autoencoder
        A fitted instance of one of skae's autoencoders (every public
        estimator but :class:`AutoEncoderClassifier`, which pickle and
        joblib save).
    path : str or path-like
        Where to write the file (by convention ending in ``.safetensors``).
        An existing file is overwritten.

    Raises
    ------
    ValueError
        If ``estimator`` is not a skae estimator, if its ``callbacks`` are
        set (skorch callbacks are objects that only pickle can store), or if
        a parameter such as a ``RandomState`` instance cannot be stored.
    NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load : Read a file written by :func:`save`.

    Notes
    -----
    The weights are copied to the CPU before writing, so a model trained on
    a GPU loads on any machine. The file is a plain safetensors file: its
    metadata (``safetensors.safe_open(path, "pt").metadata()``) is readable
    JSON, and its tensors load in any safetensors reader.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skae import AutoEncoderTransformer, load, save
    >>> X = np.random.RandomState(0).uniform(size=(50, 6))
    >>> ae = AutoEncoderTransformer(2, hidden_layer_sizes=(8,), max_iter=3,
    ...                             random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save(ae, path)
    >>> ae2 = load(path)
    >>> np.array_equal(ae.transform(X), ae2.transform(X))
    True
    """
    try:
        cls = _estimator_class(type(estimator).__name__)
    except ValueError:
        cls = None
    if type(estimator) is not cls:
        raise ValueError(
            "save expects one of skae's autoencoders, got "
            f"{type(estimator).__name__}; save other estimators with pickle or "
            "joblib."
        )
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if params.get("callbacks") is not None:
        raise ValueError(
            "callbacks cannot be stored safely: skorch callbacks are Python "
            "objects that only pickle can save. Set callbacks=None (with "
            "set_params) before saving, and pass them again after loading; "
            "or use pickle/joblib if you trust everyone who will load the file."
        )
    params_json = {k: _to_json(v, f"Parameter {k!r}") for k, v in params.items()}

    tensors, attributes, arrays = {}, {}, {}
    for name, value in vars(estimator).items():
        if name in params or name == "net_" or name.startswith("__"):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            tensors[_ATTR + name] = torch.from_numpy(np.ascontiguousarray(value))
            arrays[name] = {"shape": list(value.shape), "dtype": str(value.dtype)}
        else:
            attributes[name] = _to_json(value, f"Fitted attribute {name!r}")

    net = estimator.net_
    for name, tensor in net.module_.state_dict().items():
        tensors[_MODULE + name] = tensor.detach().cpu().contiguous()
    opt_state = net.optimizer_.state_dict()
    for index, state in opt_state["state"].items():
        for name, tensor in state.items():
            key = f"{_OPTIMIZER}{index}.{name}"
            tensors[key] = torch.as_tensor(tensor).detach().cpu().contiguous()
    param_groups = _to_json(opt_state["param_groups"], "The optimizer's settings")

    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "params": params_json,
        "attributes": attributes,
        "arrays": arrays,
        "history": _to_json(net.history.to_list(), "The training history"),
        "optimizer": {"param_groups": param_groups},
        "versions": _versions(),
    }
    metadata = {k: json.dumps(v) for k, v in metadata.items()}
    _safetensors().torch.save_file(tensors, os.fspath(path), metadata=metadata)


# ----------------------------------------------------------------------
# load
# ----------------------------------------------------------------------
def _estimator_class(name):
    """The autoencoder class called ``name``; the format stores no other."""
    from .utils import all_estimators

    classes = {
        n: cls for n, cls in all_estimators() if issubclass(cls, _BaseAutoEncoder)
    }
    if name not in classes:
        raise ValueError(
            f"{name!r} is not one of skae's autoencoders "
            f"({', '.join(sorted(classes))}), which are what skae.save and "
            "skae.load store; save other estimators with pickle or joblib."
        )
    return classes[name]


def _read(path):
    """The metadata (JSON decoded) and tensors of a skae model file."""
    where = f"{os.fspath(path)!r}"
    safetensors = _safetensors()
    try:
        with safetensors.safe_open(os.fspath(path), framework="pt", device="cpu") as f:
            raw = f.metadata() or {}
            if raw.get("format") != json.dumps(FORMAT):
                raise ValueError(
                    f"{where} is a safetensors file but not a skae model "
                    "(its metadata has no format='skae' marker)."
                )
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except safetensors.SafetensorError as exc:
        raise ValueError(
            f"{where} is not a skae model file, or it is truncated or "
            f"corrupted: safetensors could not read it ({exc})."
        ) from exc
    try:
        version = json.loads(raw.get("format_version", "null"))
    except json.JSONDecodeError:
        version = raw["format_version"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(
            f"{where} uses skae model format version {version!r}; this "
            f"version of skae reads format version {FORMAT_VERSION} only. "
            "Load it with the version of skae that wrote it."
        )
    metadata = {}
    for key in _JSON_KEYS:
        try:
            metadata[key] = _from_json(json.loads(raw[key]))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"{where} is corrupted: its metadata entry {key!r} is missing "
                "or not valid JSON."
            ) from exc
    return metadata, tensors


def _split(tensors, prefix):
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _check_tensors(what, found, expected):
    """``found`` and ``expected`` map names to tensors of the same shapes."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ValueError(
            f"The file's {what} do not match the estimator it describes: "
            f"missing {missing}, unexpected {extra}. The file is corrupted "
            "or was tampered with."
        )
    for name, tensor in found.items():
        shape, dtype = expected[name]
        if tuple(tensor.shape) != tuple(shape) or tensor.dtype != dtype:
            raise ValueError(
                f"The file's {what} {name!r} has shape {tuple(tensor.shape)} "
                f"and dtype {tensor.dtype}, but the estimator it describes "
                f"needs {tuple(shape)} and {dtype}. The file is corrupted or "
                "was tampered with."
            )


def _check_attribute_name(cls, name, params):
    if (
        not isinstance(name, str)
        or not name.isidentifier()
        or name.startswith("__")
        or name in params
        or name == "net_"
        or hasattr(cls, name)
    ):
        raise ValueError(
            f"The file sets an attribute {name!r} that a fitted "
            f"{cls.__name__} cannot have; it is corrupted or was tampered with."
        )


def load(path, device="cpu"):
    """Load an estimator saved with :func:`save`.

    No code from the file runs: the estimator's class is looked up by name
    among skae's public estimators, its parameters and attributes are JSON,
    and its network is rebuilt from the parameters before the weights, which
    must have exactly the expected names and shapes, are copied in.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default='cpu'
        Where to put the network: ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or
        ``'auto'``. It also becomes the estimator's ``device`` parameter, so
        that continued training (``warm_start=True``) runs there. A model
        trained on a GPU loads on the CPU.

    Returns
    -------
    estimator : skae estimator
        The fitted estimator, with the same parameters, fitted attributes,
        weights, optimizer state and history as the one saved: its
        ``transform``, ``inverse_transform``, ``score_samples`` and
        ``sample`` give the same results.

    Raises
    ------
    ValueError
        If the file is not a skae model file, is truncated or corrupted, was
        written in another format version, names a class that is not a skae
        estimator, or holds tensors whose names or shapes do not match the
        network its parameters describe; or if ``device`` is not available.

    See Also
    --------
    save : Write an estimator to a file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skae import AutoEncoderTransformer, load, save
    >>> X = np.random.RandomState(0).uniform(size=(50, 6))
    >>> ae = AutoEncoderTransformer(2, hidden_layer_sizes=(8,), max_iter=3,
    ...                             random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save(ae, path)
    >>> load(path)
    AutoEncoderTransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    >>> load(path).transform(X[:2]).shape
    (2, 2)
    """
    device_name = device
    device = resolve_device(device)
    meta, tensors = _read(path)
    cls = _estimator_class(meta["estimator"])

    params = meta["params"]
    valid = cls().get_params(deep=False)
    if not isinstance(params, dict) or set(params) - set(valid):
        unknown = sorted(set(params) - set(valid)) if isinstance(params, dict) else []
        raise ValueError(
            f"The file's parameters do not belong to {cls.__name__} "
            f"(unknown: {unknown}); it is corrupted or was tampered with."
        )
    params = {**params, "device": device_name}
    if params.get("callbacks") is not None:
        raise ValueError("The file sets callbacks, which skae never saves.")
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The file's parameters are invalid: {exc}") from exc

    # Fitted attributes: JSON values, then numeric arrays.
    attributes, arrays = meta["attributes"], meta["arrays"]
    if not isinstance(attributes, dict) or not isinstance(arrays, dict):
        raise ValueError("The file's attribute metadata is corrupted.")
    array_tensors = _split(tensors, _ATTR)
    expected = {}
    for name, spec in arrays.items():
        dtype = getattr(torch, str(spec.get("dtype")), None)
        if not isinstance(dtype, torch.dtype) or not isinstance(spec["shape"], list):
            raise ValueError("The file's array metadata is corrupted.")
        expected[name] = (spec["shape"], dtype)
    _check_tensors("arrays", array_tensors, expected)
    for name, value in attributes.items():
        _check_attribute_name(cls, name, params)
        setattr(estimator, name, value)
    for name, tensor in array_tensors.items():
        _check_attribute_name(cls, name, params)
        setattr(estimator, name, tensor.numpy().copy())
    for name in ("n_features_in_", "_architecture"):
        if name not in attributes:
            raise ValueError(f"The file lacks the fitted attribute {name!r}.")

    # The network, rebuilt as ``fit`` builds it, then filled with the weights.
    # It is built from the architecture recorded at fit time, which may
    # differ from the parameters if they were changed after fitting.
    architecture = estimator._architecture
    if not isinstance(architecture, dict):
        raise ValueError("The file's fitted attribute '_architecture' is corrupted.")
    hidden = tuple(architecture.get("hidden_layer_sizes", ()))
    builder = cls(
        **{**params, **{k: v for k, v in architecture.items() if k in params}}
    )
    # ``fit`` builds the network once fitted state derived from the data
    # (such as a ConvAutoEncoder's ``image_shape_``) is set.
    vars(builder).update({k: v for k, v in vars(estimator).items() if k.endswith("_")})
    try:
        module = builder._new_module(int(estimator.n_features_in_), hidden, seed=0)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"The file's network description is invalid: {exc}") from exc
    state = module.state_dict()
    weights = _split(tensors, _MODULE)
    _check_tensors(
        "weights", weights, {k: (v.shape, v.dtype) for k, v in state.items()}
    )
    module.load_state_dict(weights)
    net = estimator._build_net(module, device, 1)
    net.initialize()
    _load_optimizer(net, meta["optimizer"], _split(tensors, _OPTIMIZER))
    net.module_.eval()
    history = meta["history"]
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ValueError("The file's training history is corrupted.")
    net.history_ = History(history)
    estimator.net_ = net
    return estimator


def _load_optimizer(net, meta, tensors):
    optimizer = net.optimizer_
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state = {}
    for key, tensor in tensors.items():
        index, _, name = key.partition(".")
        if not index.isdigit() or int(index) >= len(params) or not name:
            raise ValueError(
                f"The file's optimizer state {key!r} does not match the network; "
                "it is corrupted or was tampered with."
            )
        param = params[int(index)]
        if name != "step" and tensor.shape != param.shape:
            raise ValueError(
                f"The file's optimizer state {key!r} has shape "
                f"{tuple(tensor.shape)}, but its parameter has "
                f"{tuple(param.shape)}; the file is corrupted or was tampered "
                "with."
            )
        state.setdefault(int(index), {})[name] = tensor
    try:
        optimizer.load_state_dict(
            {"state": state, "param_groups": meta["param_groups"]}
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            "The file's optimizer state does not match the network; it is "
            f"corrupted or was tampered with ({exc})."
        ) from exc
