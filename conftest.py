"""Test configuration shared by tests/ and the doctests in skae/."""

import os

# Lets scikit-learn's array-API common check run (with NumPy inputs) instead
# of skipping itself; it must be set before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
