"""scikit-learn's own estimator checks, over every public skae estimator."""

import warnings
from functools import partial
from unittest import mock

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_fit_check_is_fitted,
    check_n_features_in,
    estimator_checks_generator,
    parametrize_with_checks,
)

from skae import AutoEncoderImputer, AutoEncoderTransformer
from skae.utils import all_estimators

# The settings every check runs with: small networks and few epochs keep the
# ~50 checks per estimator fast, and they exercise the API, not the quality
# of the fit. They differ from the defaults in nothing else.
_CHEAP = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)


# Estimators whose ``estimator=None`` is a network of their own, which
# their own parameters configure; a given autoencoder is checked below.
_OWN_NETWORK = (AutoEncoderImputer,)


def _wraps(Estimator):
    """Whether ``Estimator`` wraps an autoencoder (an ``estimator``
    parameter, whose None stands for ``AutoEncoderTransformer()``).
    """
    params = Estimator().get_params(deep=False)
    return "estimator" in params and Estimator not in _OWN_NETWORK


def _cheap(Estimator):
    """``Estimator`` with the cheap settings; one that wraps an autoencoder
    wraps a cheap one.
    """
    if _wraps(Estimator):
        return Estimator(estimator=AutoEncoderTransformer(**_CHEAP))
    return Estimator(**_CHEAP)


def _settings(estimator):
    """Its parameters, with those of the autoencoder it wraps, if any.

    A wrapped autoencoder's parameters are named ``estimator__<name>``; an
    ``estimator`` of None is the ``AutoEncoderTransformer()`` it stands for.
    """
    params = estimator.get_params(deep=False)
    if _wraps(type(estimator)):
        wrapped = params.pop("estimator") or AutoEncoderTransformer()
        params.update({f"estimator__{k}": v for k, v in _settings(wrapped).items()})
    return params


ESTIMATORS = [_cheap(E) for _, E in all_estimators()]
CLASSES = [E for _, E in all_estimators()]


# Ten epochs do not converge, and the checks' data has as few as two
# features, narrower than the codes: both warnings are by design here.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:n_components=.* is not smaller than n_features")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# Options that build another model than the defaults: codes read as
# principal components (skae._principal: a fraction of the variance,
# whitening, ordering), and the imputer with a given autoencoder.
OPTIONS = [
    AutoEncoderTransformer(n_components=0.5, whiten=True, **_CHEAP),
    AutoEncoderTransformer(ordered_codes=True, **_CHEAP),
    AutoEncoderImputer(estimator=AutoEncoderTransformer(**_CHEAP), random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:n_components=.* is not smaller than n_features")
@parametrize_with_checks(OPTIONS)
def test_sklearn_compatible_with_options(estimator, check):
    check(estimator)


# What the defaults add over the cheap settings, checked once and cheaply:
# the default values themselves (validated, stored, cloned, shown), the tags
# they imply, and one fit. Every other check ran above on an estimator that
# differs from the default one only in the network's width and the epochs.
@pytest.mark.parametrize("Estimator", CLASSES, ids=lambda E: E.__name__)
def test_cheap_settings_differ_from_the_defaults_only_in_size(Estimator):
    default = _settings(Estimator())
    cheap = _settings(_cheap(Estimator))
    assert default.keys() == cheap.keys()
    # ``is`` first: a NaN default (``missing_values``) is not equal to itself.
    differ = {
        k.removeprefix("estimator__")
        for k in default
        if default[k] is not cheap[k] and default[k] != cheap[k]
    }
    assert differ <= set(_CHEAP)
    # Tags decide which checks run; the defaults' are the cheap ones'.
    assert Estimator().__sklearn_tags__() == _cheap(Estimator).__sklearn_tags__()


def _check_name(check):
    return (check.func if isinstance(check, partial) else check).__name__


def _checks_without_fit(estimator):
    """The checks of ``check_estimator`` that never call ``fit``."""
    Estimator = type(estimator)

    class _Fitted(Exception):
        pass

    def refuse(self, *args, **kwargs):
        raise _Fitted

    checks = []
    for est, check in estimator_checks_generator(estimator, mark=None):
        try:
            with warnings.catch_warnings(), mock.patch.object(Estimator, "fit", refuse):
                warnings.simplefilter("ignore")
                check(est)
        except Exception:
            # _Fitted, or what a check that fits inside a ``raises`` context
            # turned it into: it fits, so the cheap run covers it.
            continue
        checks.append(check)
    return checks


@pytest.mark.parametrize("Estimator", CLASSES, ids=lambda E: E.__name__)
def test_checks_that_do_not_fit_pass_with_defaults(Estimator):
    estimator = Estimator()
    checks = _checks_without_fit(estimator)
    names = {_check_name(check) for check in checks}
    # The checks of parameters and of the unfitted estimator are among them.
    assert {
        "check_parameters_default_constructible",
        "check_no_attributes_set_in_init",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimators_unfitted",
        "check_estimator_repr",
    } <= names
    for check in checks:
        check(estimator)


@pytest.mark.parametrize("Estimator", CLASSES, ids=lambda E: E.__name__)
def test_default_fit_passes_the_fitted_state_checks(Estimator):
    with warnings.catch_warnings():
        # The checks' data is tiny (two features: codes as wide as the
        # input are warned about); the default epoch budget is no concern.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        check_fit_check_is_fitted(Estimator.__name__, Estimator())
        check_n_features_in(Estimator.__name__, Estimator())
