"""Safe model files: :func:`save` and :func:`load`, without pickle.

:func:`save` writes an estimator's weights, optimizer state and fitted
arrays as tensors and the rest as JSON (the layout is in
:mod:`skae._model_file`). Nothing in the file is executed on loading: the
class is looked up among skae's public estimators by name, every value is
data (JSON or a numeric tensor), and every tensor must have the name, shape
and dtype that the estimator it describes needs.
"""

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from . import _model_file
from ._base import _BaseAutoEncoder
from ._layer_rates import DECAYED
from ._model_file import ATTR, MODULE, OPTIMIZER, Contents, split, to_json
from ._validation import resolve_device


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
        estimator but :class:`AutoEncoderClassifier` and
        :class:`AutoEncoderOutlierDetector`, which pickle and joblib save).
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
    params = _savable_params(estimator)
    contents, tensors = _contents(estimator, params)
    _model_file.write(path, contents, tensors)


def _savable_params(estimator):
    """The parameters of ``estimator``, once it is known that it can be saved."""
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
    return params


def _contents(estimator, params):
    """What the file holds of ``estimator``: its :class:`Contents` and tensors."""
    params_json = {k: to_json(v, f"Parameter {k!r}") for k, v in params.items()}
    attributes, arrays, array_tensors = _fitted_attributes(estimator, params)
    net = estimator.net_
    module_tensors = {
        MODULE + name: _on_cpu(tensor)
        for name, tensor in net.module_.state_dict().items()
    }
    optimizer_tensors, param_groups = _optimizer_state(net.optimizer_)
    contents = Contents(
        estimator=type(estimator).__name__,
        params=params_json,
        attributes=attributes,
        arrays=arrays,
        history=to_json(net.history.to_list(), "The training history"),
        optimizer={"param_groups": param_groups},
        versions=_model_file.package_versions(),
    )
    return contents, {**array_tensors, **module_tensors, **optimizer_tensors}


def _fitted_attributes(estimator, params):
    """The fitted attributes as JSON, array specs and ``attr.`` tensors."""
    attributes, arrays, tensors = {}, {}, {}
    for name, value in vars(estimator).items():
        if name in params or name == "net_" or name.startswith("__"):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            # A copy: attributes that are views of one array (a slice of
            # another) would share memory, which safetensors refuses.
            tensors[ATTR + name] = torch.from_numpy(np.array(value, order="C"))
            arrays[name] = {"shape": list(value.shape), "dtype": str(value.dtype)}
        else:
            attributes[name] = to_json(value, f"Fitted attribute {name!r}")
    return attributes, arrays, tensors


def _optimizer_state(optimizer):
    """The optimizer's ``optimizer.`` tensors and its param groups as JSON."""
    state = optimizer.state_dict()
    tensors = {
        f"{OPTIMIZER}{index}.{name}": _on_cpu(torch.as_tensor(tensor))
        for index, per_param in state["state"].items()
        for name, tensor in per_param.items()
    }
    return tensors, to_json(state["param_groups"], "The optimizer's settings")


def _on_cpu(tensor):
    return tensor.detach().cpu().contiguous()


# ----------------------------------------------------------------------
# Checks of what a file holds
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


# ----------------------------------------------------------------------
# load
# ----------------------------------------------------------------------
def load(path, device="cpu"):
    """Load an estimator saved with :func:`save`.

    No code from the file runs: the estimator's class is looked up by name
    among skae's public estimators, its parameters and attributes are JSON,
    and its network is rebuilt as ``fit`` built it before the weights, which
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
        The fitted estimator, with the parameters, fitted attributes,
        weights, optimizer state and history of the one saved: its methods
        give the same results.

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
    resolved = resolve_device(device)
    contents, tensors = _model_file.read(path)
    cls = _estimator_class(contents.estimator)
    estimator = _unfitted(cls, contents.params, device)
    _set_fitted_attributes(estimator, contents, split(tensors, ATTR))
    estimator.net_ = _trained_net(estimator, contents, tensors, resolved)
    return estimator


def _unfitted(cls, params, device):
    """A ``cls`` with the file's parameters, ``device`` replacing the saved one."""
    valid = cls().get_params(deep=False)
    if not isinstance(params, dict) or set(params) - set(valid):
        unknown = sorted(set(params) - set(valid)) if isinstance(params, dict) else []
        raise ValueError(
            f"The file's parameters do not belong to {cls.__name__} "
            f"(unknown: {unknown}); it is corrupted or was tampered with."
        )
    params = {**params, "device": device}
    if params.get("callbacks") is not None:
        raise ValueError("The file sets callbacks, which skae never saves.")
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The file's parameters are invalid: {exc}") from exc
    return estimator


def _set_fitted_attributes(estimator, contents, array_tensors):
    """Set the file's fitted attributes: JSON values, then numeric arrays."""
    attributes, arrays = contents.attributes, contents.arrays
    if not isinstance(attributes, dict) or not isinstance(arrays, dict):
        raise ValueError("The file's attribute metadata is corrupted.")
    expected = {}
    for name, spec in arrays.items():
        dtype = getattr(torch, str(spec.get("dtype")), None)
        if not isinstance(dtype, torch.dtype) or not isinstance(spec["shape"], list):
            raise ValueError("The file's array metadata is corrupted.")
        expected[name] = (spec["shape"], dtype)
    _check_tensors("arrays", array_tensors, expected)
    cls, params = type(estimator), estimator.get_params(deep=False)
    for name, value in attributes.items():
        _check_attribute_name(cls, name, params)
        setattr(estimator, name, value)
    for name, tensor in array_tensors.items():
        _check_attribute_name(cls, name, params)
        setattr(estimator, name, tensor.numpy().copy())
    for name in ("n_features_in_", "_architecture"):
        if name not in attributes:
            raise ValueError(f"The file lacks the fitted attribute {name!r}.")


def _trained_net(estimator, contents, tensors, device):
    """The skorch net, with the file's weights, optimizer state and history."""
    module = _untrained_module(estimator)
    weights = split(tensors, MODULE)
    expected = {k: (v.shape, v.dtype) for k, v in module.state_dict().items()}
    _check_tensors("weights", weights, expected)
    module.load_state_dict(weights)
    net = estimator._build_net(module, device, 1)
    net.initialize()
    _group_as_the_file(net, contents.optimizer)
    _load_optimizer(net, contents.optimizer, split(tensors, OPTIMIZER))
    net.module_.eval()
    history = contents.history
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ValueError("The file's training history is corrupted.")
    net.history_ = History(history)
    return net


def _untrained_module(estimator):
    """A network shaped as the one ``fit`` built, before weights are copied in.

    The shape is the architecture recorded at fit time, which differs from
    the parameters if they were changed after fitting. The network is built
    by a clone set to that architecture and given the fitted state that
    ``fit`` derives from the data before building (the estimator's
    ``_build_state``).
    """
    architecture = estimator._architecture
    if not isinstance(architecture, dict):
        raise ValueError("The file's fitted attribute '_architecture' is corrupted.")
    # Files written before ``init`` existed hold networks started at random.
    architecture = {"init": "random", **architecture}
    params = estimator.get_params(deep=False)
    # VAESampler records its ``loss``, which likelihood sets: not a parameter.
    builder = clone(estimator).set_params(
        **{k: v for k, v in architecture.items() if k in params}
    )
    for name in estimator._build_state:
        if hasattr(estimator, name):
            setattr(builder, name, getattr(estimator, name))
    hidden = tuple(architecture.get("hidden_layer_sizes", ()))
    try:
        return builder._new_module(int(estimator.n_features_in_), hidden, seed=0)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"The file's network description is invalid: {exc}") from exc


def _group_as_the_file(net, meta):
    """Group the optimizer's parameters as the file's optimizer did.

    Files written before wide layers had rates of their own
    (``skae._layer_rates``) hold two groups for every network, the decayed
    weights and the rest, at one rate; a continued fit keeps that rate.
    """
    groups = meta.get("param_groups") if isinstance(meta, dict) else None
    if isinstance(groups, list) and len(groups) == 2 < len(net.optimizer_.param_groups):
        net.optimizer__param_groups = [(DECAYED, {})]
        net.initialize_optimizer()


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
        if name != "step":
            # In the parameter's memory layout: fused optimizers step
            # parameter and state as flat memory, so a channels-last kernel
            # with contiguous moments would be updated element for wrong
            # element.
            tensor = torch.empty_like(param).copy_(tensor)
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
