"""The model file's layout: safetensors tensors and JSON metadata.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_
file. Its tensors hold numbers only, under three prefixes:

- ``module.<name>``: the torch module's ``state_dict``;
- ``optimizer.<index>.<name>``: the optimizer's state (Adam's moments), so
  that training can continue with ``warm_start=True`` exactly as it would
  have in the original session;
- ``attr.<name>``: every fitted NumPy array attribute with a numeric dtype.

Its metadata (a str-to-str mapping in the file's JSON header) holds one
JSON document per entry: the format marker and version, then the fields of
:class:`Contents`. Tuples, which JSON lacks, are written as
``{"__tuple__": [...]}`` and arrays of strings (``feature_names_in_``) as
``{"__array__": [...]}``. What of an estimator goes in, and how it is
checked on the way back, is :mod:`skae._persistence`'s business.
"""

import json
import os
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch

FORMAT = "skae"
FORMAT_VERSION = 1

MODULE, OPTIMIZER, ATTR = "module.", "optimizer.", "attr."


class Contents(NamedTuple):
    """The JSON entries of a file's metadata, after the format marker.

    :func:`save` fills every field by keyword and :func:`read` decodes each
    one, so the two cannot disagree on the layout.
    """

    estimator: str  # the class name
    params: dict  # get_params(deep=False)
    attributes: dict  # fitted attributes other than numeric arrays
    arrays: dict  # shape and dtype of each ``attr.<name>`` tensor
    history: list  # the skorch history
    optimizer: dict  # {"param_groups": ...}: its hyperparameters
    versions: dict  # the versions of the packages that wrote the file


# ----------------------------------------------------------------------
# JSON encoding of parameters and attributes
# ----------------------------------------------------------------------
def to_json(value, where):
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
        return {"__tuple__": [to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [to_json(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if any(k in ("__tuple__", "__array__") for k in value):
            raise ValueError(f"{where} uses a reserved key and cannot be saved.")
        return {k: to_json(v, where) for k, v in value.items()}
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


def package_versions():
    """The installed versions of skae and the packages a model depends on."""
    versions = {}
    for name in ("skae", "torch", "scikit-learn", "skorch", "numpy", "safetensors"):
        try:
            versions[name] = _package_version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


# ----------------------------------------------------------------------
# Writing and reading
# ----------------------------------------------------------------------
def write(path, contents, tensors):
    """Write ``tensors`` and the :class:`Contents`, JSON encoded, to ``path``."""
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION}
    metadata.update(contents._asdict())
    metadata = {k: json.dumps(v) for k, v in metadata.items()}
    _safetensors().torch.save_file(tensors, os.fspath(path), metadata=metadata)


def read(path):
    """The :class:`Contents` (JSON decoded) and tensors of a skae model file."""
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
    _check_format_version(raw, where)
    contents = {}
    for key in Contents._fields:
        try:
            contents[key] = _from_json(json.loads(raw[key]))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"{where} is corrupted: its metadata entry {key!r} is missing "
                "or not valid JSON."
            ) from exc
    return Contents(**contents), tensors


def _check_format_version(raw, where):
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


def split(tensors, prefix):
    """The tensors whose names start with ``prefix``, named without it."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
