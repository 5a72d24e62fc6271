"""Test configuration shared by tests/ and the doctests in skae/."""

import os
import warnings

import pytest
from _pytest.doctest import DoctestItem
from sklearn.exceptions import ConvergenceWarning

# Lets scikit-learn's array-API common check run (with NumPy inputs) instead
# of skipping itself; it must be set before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _examples_train_briefly(request):
    """Docstring examples train a few epochs to run in seconds.

    The ConvergenceWarning that this triggers by design is silenced for them
    (a user who copies an example sees it, as they should).
    """
    if not isinstance(request.node, DoctestItem):
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
