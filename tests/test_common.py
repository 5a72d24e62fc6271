"""scikit-learn's own estimator checks, over every public skae estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae.utils import all_estimators


def _cheap(Estimator):
    # Small networks and few epochs keep the ~50 checks per estimator fast;
    # the checks exercise the API, not the quality of the fit.
    return Estimator(hidden_layer_sizes=(8,), max_iter=10, random_state=0)


ESTIMATORS = [_cheap(Estimator) for _, Estimator in all_estimators()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "Estimator", [E for _, E in all_estimators()], ids=lambda E: E.__name__
)
def test_check_estimator_with_defaults(Estimator):
    # The acceptance criterion: the checks pass with default hyperparameters.
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(Estimator())
