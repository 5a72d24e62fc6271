"""Find every public estimator of skae, so common tests cover new ones."""

import inspect

from sklearn.base import BaseEstimator


def all_estimators():
    """List the public estimators exported by :mod:`skae`.

    Returns
    -------
    estimators : list of (name, class) tuples
        Sorted by name.

    Examples
    --------
    >>> from skae.utils import all_estimators
    >>> [name for name, _ in all_estimators()][:1]
    ['AutoEncoderClassifier']
    """
    import skae

    found = []
    for name in skae.__all__:
        obj = getattr(skae, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append((name, obj))
    return sorted(found)
