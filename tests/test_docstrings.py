"""Docstrings document the signatures they describe.

For every public class of :mod:`skae` (its estimators and HammingIndex),
their public methods, and the public functions (``save``, ``load``,
``precision_at_k``, :mod:`skae.plotting`), the numpydoc ``Parameters``
section names the signature's parameters in order, and an estimator's
class docstring states the defaults of its ``__init__``. The docstrings
are read as Python sees them (``__doc__``), after ``fill_doc`` has filled
in the shared entries.
"""

import ast
import inspect
import math

import pytest
from numpydoc.docscrape import NumpyDocString

import skae
from skae import plotting
from skae.utils import all_estimators

ESTIMATORS = [cls for _, cls in all_estimators()]
CLASSES = [*ESTIMATORS, skae.HammingIndex]
FUNCTIONS = [
    skae.save,
    skae.load,
    skae.precision_at_k,
    *(getattr(plotting, name) for name in plotting.__all__),
]

# Sections that make a docstring numpydoc's (a one-line docstring has none).
_SECTIONS = (
    "Parameters",
    "Returns",
    "Yields",
    "Raises",
    "Attributes",
    "Methods",
    "Other Parameters",
    "See Also",
    "Notes",
    "Examples",
)


def _doc(obj):
    return NumpyDocString(inspect.cleandoc(obj.__doc__ or ""))


def _is_numpydoc(obj):
    doc = _doc(obj)
    return any(doc[section] for section in _SECTIONS)


def _methods():
    """The public methods defined in skae (not scikit-learn's) of CLASSES."""
    for cls in CLASSES:
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not callable(member):
                continue
            if isinstance(inspect.getattr_static(cls, name), property | type):
                continue
            function = inspect.unwrap(member)
            if not getattr(function, "__module__", "").startswith("skae"):
                continue
            if _is_numpydoc(member):
                yield pytest.param(member, id=f"{cls.__name__}.{name}")


def _signature_names(function, drop_first):
    parameters = list(inspect.signature(function).parameters.values())
    if drop_first:
        parameters = parameters[1:]
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [stars.get(p.kind, "") + p.name for p in parameters]


def _documented(obj):
    """``(name, type)`` of each entry of the Parameters section, in order.

    An entry may document several parameters (``shift, scale : float``).
    """
    entries = []
    for parameter in _doc(obj)["Parameters"]:
        for name in parameter.name.split(","):
            entries.append((name.strip().replace("\\", ""), parameter.type))
    return entries


def _check_names(obj, function, drop_first):
    expected = _signature_names(function, drop_first)
    documented = [name for name, _ in _documented(obj)]
    assert documented == expected, (
        f"{obj.__qualname__}: the Parameters section documents {documented}, "
        f"the signature has {expected}"
    )


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_class_docstring_documents_init(cls):
    _check_names(cls, cls.__init__, drop_first=True)


@pytest.mark.parametrize("method", list(_methods()))
def test_method_docstring_documents_its_parameters(method):
    # Methods are looked up on the class: ``self`` is the first parameter
    # (a classmethod comes bound, without ``cls``).
    _check_names(method, method, drop_first=not inspect.ismethod(method))


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_function_docstring_documents_its_parameters(function):
    assert _is_numpydoc(function)
    _check_names(function, function, drop_first=False)


def _default(type_text):
    """The value stated by ``default=...`` in a numpydoc type, or its text."""
    _, _, text = type_text.partition("default=")
    if text.strip() == "np.nan":  # As scikit-learn's imputers write it.
        return math.nan
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def _same(stated, default):
    """Whether a stated default is the signature's (NaN states NaN)."""
    if type(stated) is not type(default):
        return False
    if isinstance(default, float) and math.isnan(default):
        return math.isnan(stated)
    return stated == default


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_class_docstring_states_the_defaults(cls):
    signature = inspect.signature(cls.__init__).parameters
    wrong = []
    for name, type_text in _documented(cls):
        if name not in signature:
            continue  # reported by test_class_docstring_documents_init
        default = signature[name].default
        if default is inspect.Parameter.empty:
            if "default=" in type_text:
                wrong.append(f"{name}: states {type_text!r}, but has no default")
        elif "default=" not in type_text:
            wrong.append(f"{name}: states no default, the signature's is {default!r}")
        else:
            stated = _default(type_text)
            if not _same(stated, default):
                wrong.append(
                    f"{name}: states {type_text!r}, the default is {default!r}"
                )
    assert not wrong, f"{cls.__name__}: " + "; ".join(wrong)


def test_every_public_object_is_checked():
    # What skae exports is covered: a new export is added above.
    covered = {cls.__name__ for cls in CLASSES} | {"save", "load", "precision_at_k"}
    assert set(skae.__all__) - {"__version__"} == covered
    assert len(list(_methods())) > 2 * len(ESTIMATORS)
