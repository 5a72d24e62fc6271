"""Small data sets built from what is installed: no download.

- :func:`load_docstrings`: a labelled text corpus, the docstrings of the
  public functions and classes of scikit-learn, SciPy and NumPy subpackages.
"""

import importlib
import inspect
import re

import numpy as np
from sklearn.utils import Bunch

# Subpackages with at least ~20 documented public objects of their own each.
_SUBPACKAGES = (
    "numpy.fft",
    "numpy.linalg",
    "numpy.random",
    "scipy.interpolate",
    "scipy.optimize",
    "scipy.signal",
    "scipy.stats",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.preprocessing",
)

# numpydoc section headers after which the text is dropped: examples and
# cross-references name the subpackage outright (``np.fft.fft(...)``,
# ``from sklearn.cluster import ...``), which would make retrieval trivial.
_DROPPED_SECTIONS = ("See Also", "References", "Examples")
_SECTION = re.compile(
    r"^[ \t]*(" + "|".join(_DROPPED_SECTIONS) + r")[ \t]*\n[ \t]*-{3,}[ \t]*$",
    re.MULTILINE,
)


def _strip(doc):
    """The docstring up to its first See Also / References / Examples section."""
    doc = inspect.cleandoc(doc)
    match = _SECTION.search(doc)
    return (doc[: match.start()] if match else doc).strip()


def _documented_objects(subpackage, min_length):
    """``(name, text)`` for the public objects of ``subpackage``, sorted by name."""
    module = importlib.import_module(subpackage)
    names = getattr(module, "__all__", None) or dir(module)
    found = {}
    for name in sorted(set(names)):
        if name.startswith("_"):
            continue
        obj = getattr(module, name, None)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        # Only the subpackage's own objects, not what it re-exports from
        # elsewhere (NumPy's random functions are methods of a hidden
        # RandomState, whose __module__ is 'numpy.random...' too).
        owner = getattr(obj, "__module__", None) or subpackage
        if not owner.startswith(subpackage.split(".")[0]):
            continue
        if owner.split(".")[:2] != subpackage.split(".")[:2]:
            continue
        doc = inspect.getdoc(obj)
        if not doc:
            continue
        text = _strip(doc)
        if len(text) >= min_length:
            found[name] = text
    return list(found.items())


def load_docstrings(*, return_X_y=False, min_length=200):
    """Load a labelled corpus of docstrings of installed scientific packages.

    Each document is the docstring of a public function or class defined in
    (not re-exported by) one of twelve subpackages, its label: ``numpy.fft``,
    ``numpy.linalg``, ``numpy.random``, ``scipy.interpolate``,
    ``scipy.optimize``, ``scipy.signal``, ``scipy.stats``,
    ``sklearn.cluster``, ``sklearn.decomposition``, ``sklearn.linear_model``,
    ``sklearn.metrics`` and ``sklearn.preprocessing``. It is a small
    topic-classification and retrieval corpus that needs no download. Each
    docstring is cut at its first "See Also", "References" or "Examples"
    section, which name the subpackage outright; docstrings shorter than
    ``min_length`` characters after the cut are dropped, and identical texts
    are kept once.

    The corpus is read from the installed packages, so its size and content
    depend on their versions (with NumPy 2.4, SciPy 1.17 and scikit-learn
    1.9: 742 documents, 18 to 157 per subpackage). The order is
    deterministic: by subpackage, then by name.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    min_length : int, default=200
        Minimum length of a kept docstring, in characters.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (list of str), ``target`` (ndarray of int, the index of
        the subpackage in ``target_names``), ``target_names`` (list of str),
        ``names`` (list of str, the documented objects' qualified names) and
        ``DESCR``.
    (data, target) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from skae.datasets import load_docstrings
    >>> corpus = load_docstrings()
    >>> corpus.target_names[:2]
    ['numpy.fft', 'numpy.linalg']
    >>> len(corpus.data) == len(corpus.target) == len(corpus.names)
    True
    """
    data, target, names = _corpus(min_length)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=list(_SUBPACKAGES),
        names=names,
        DESCR=load_docstrings.__doc__,
    )


def _corpus(min_length):
    """The texts, labels and qualified names, each text once, in order."""
    data, target, names, seen = [], [], [], set()
    for label, subpackage in enumerate(_SUBPACKAGES):
        for name, text in _documented_objects(subpackage, min_length):
            if text in seen:
                continue
            seen.add(text)
            data.append(text)
            target.append(label)
            names.append(f"{subpackage}.{name}")
    return data, np.asarray(target, dtype=np.int64), names
