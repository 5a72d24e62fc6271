"""AutoEncoderOutlierDetector: scikit-learn's outlier-detector interface."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    AutoEncoderClassifier,
    AutoEncoderOutlierDetector,
    AutoEncoderTransformer,
    DenoisingAE,
    VAESampler,
)

FAST = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Small networks: one thread is as fast as two on a shared machine.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def _plane(n, seed):
    """Rows near a plane in 8-D (inliers)."""
    rng = np.random.RandomState(seed)
    basis = np.random.RandomState(42).normal(size=(2, 8))
    return rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 8))


def _off_plane(n, seed):
    """Rows of the same spread as ``_plane``'s, in all eight directions."""
    return 1.5 * np.random.RandomState(seed).normal(size=(n, 8))


@pytest.fixture(scope="module")
def X():
    return _plane(300, seed=0)


@pytest.fixture(scope="module")
def detector(X):
    return AutoEncoderOutlierDetector(AutoEncoderTransformer(2, **FAST)).fit(X)


def test_predict_is_the_sign_of_the_shifted_score(detector, X):
    X_new = np.vstack([_plane(50, seed=1), _off_plane(50, seed=2)])
    scores = detector.score_samples(X_new)
    decision = detector.decision_function(X_new)
    np.testing.assert_allclose(decision, scores - detector.offset_)
    y_pred = detector.predict(X_new)
    assert y_pred.dtype.kind == "i"
    np.testing.assert_array_equal(y_pred, np.where(decision >= 0, 1, -1))
    # Both labels occur: the rows off the plane are outliers.
    assert set(np.unique(y_pred)) == {-1, 1}
    assert (y_pred[50:] == -1).all()
    # The score is the wrapped autoencoder's.
    np.testing.assert_array_equal(scores, detector.estimator_.score_samples(X_new))


def test_planted_outliers_score_lower(detector):
    inliers, outliers = _plane(200, seed=3), _off_plane(20, seed=4)
    scores = detector.score_samples(np.vstack([inliers, outliers]))
    is_inlier = np.r_[np.ones(200), np.zeros(20)]
    # Higher is more normal: inliers rank above the planted outliers.
    assert roc_auc_score(is_inlier, scores) > 0.9


@pytest.mark.parametrize("contamination", [0.05, 0.1, 0.2, 0.5])
def test_contamination_is_the_fraction_flagged_on_training_rows(X, contamination):
    ae = AutoEncoderTransformer(2, **FAST)
    detector = AutoEncoderOutlierDetector(ae, contamination=contamination)
    y_pred = detector.fit_predict(X)
    assert np.sum(y_pred == -1) == round(contamination * len(X))
    # As IsolationForest: the percentile of the training scores.
    scores = detector.score_samples(X)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 100 * contamination))


def test_auto_contamination_is_tukeys_fence(detector, X):
    scores = detector.score_samples(X)
    q1, q3 = np.percentile(scores, [25, 75])
    assert detector.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))
    # Below the first quartile, so that at most a quarter is ever flagged.
    assert detector.offset_ < q1
    flagged = np.mean(detector.predict(X) == -1)
    assert 0 < flagged < 0.25
    # Training with planted outliers, 'auto' finds them all.
    X_dirty = np.vstack([X, _off_plane(15, seed=5)])
    dirty = clone(detector).fit(X_dirty)
    assert (dirty.predict(X_dirty)[-15:] == -1).all()


def test_default_wraps_autoencoder_transformer_defaults():
    X = _plane(30, seed=6)
    detector = AutoEncoderOutlierDetector().fit(X)
    assert detector.estimator is None
    assert type(detector.estimator_) is AutoEncoderTransformer
    assert detector.estimator_.get_params() == AutoEncoderTransformer().get_params()
    assert detector.n_features_in_ == 8


def test_the_given_estimator_is_cloned_not_fitted(X):
    ae = AutoEncoderTransformer(2, **FAST)
    detector = AutoEncoderOutlierDetector(ae).fit(X)
    assert detector.estimator_ is not ae
    assert not hasattr(ae, "net_")
    assert detector.estimator_.get_params() == ae.get_params()


@pytest.mark.parametrize(
    "wrapped",
    [
        DenoisingAE(2, noise="gaussian", noise_level=0.1, **FAST),
        # The ELBO ranks these rows once trained for VAESampler's default
        # 200 epochs (an AUC of 0.72 after 20).
        VAESampler(2, **{**FAST, "max_iter": 200}),
    ],
    ids=lambda e: type(e).__name__,
)
def test_wraps_any_autoencoder_by_its_score_samples(X, wrapped):
    detector = AutoEncoderOutlierDetector(wrapped).fit(X)
    alone = clone(wrapped).fit(X)
    assert type(detector.estimator_) is type(wrapped)
    # The score is the wrapped estimator's own (for VAESampler, the ELBO):
    # the same as the same autoencoder fitted alone gives.
    X_new = np.vstack([_plane(40, seed=7), _off_plane(10, seed=8)])
    scores = detector.score_samples(X_new)
    np.testing.assert_allclose(scores, alone.score_samples(X_new), rtol=1e-6)
    np.testing.assert_allclose(
        detector.decision_function(X_new), scores - detector.offset_
    )
    assert roc_auc_score(np.r_[np.ones(40), np.zeros(10)], scores) > 0.9


def test_clone_and_pickle_give_the_same_scores(detector, X):
    X_new = np.vstack([_plane(20, seed=9), _off_plane(5, seed=10)])
    expected = detector.decision_function(X_new)
    loaded = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(loaded.decision_function(X_new), expected)
    assert loaded.offset_ == detector.offset_
    refitted = clone(detector).fit(X)
    np.testing.assert_array_equal(refitted.decision_function(X_new), expected)


def test_bad_input_gets_scikit_learns_errors(detector, X):
    unfitted = AutoEncoderOutlierDetector(AutoEncoderTransformer(2, **FAST))
    for method in ("predict", "decision_function", "score_samples"):
        with pytest.raises(NotFittedError):
            getattr(unfitted, method)(X)
        with pytest.raises(ValueError, match="X has 7 features, but .* expecting 8"):
            getattr(detector, method)(X[:, :7])
        X_nan = X[:5].copy()
        X_nan[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            getattr(detector, method)(X_nan)
    with pytest.raises(ValueError, match="NaN"):
        clone(unfitted).fit(np.where(X > 2, np.nan, X))


def test_a_failed_fit_leaves_the_detector_unfitted(X):
    detector = AutoEncoderOutlierDetector(AutoEncoderTransformer(2, **FAST)).fit(X)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.fit(X_nan)
    with pytest.raises(NotFittedError):
        detector.predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(contamination=0.6), "contamination"),
        (dict(contamination=0.0), "contamination"),
        (dict(contamination="high"), "contamination"),
        # No ``score_samples``: nothing to score rows with.
        (dict(estimator=AutoEncoderClassifier()), "estimator"),
    ],
)
def test_bad_parameters_are_refused_at_fit(X, params, match):
    detector = AutoEncoderOutlierDetector(**params)
    with pytest.raises(InvalidParameterError, match=match):
        detector.fit(X)


def test_input_tags_are_the_wrapped_estimators():
    default = AutoEncoderOutlierDetector().__sklearn_tags__()
    assert default.input_tags.sparse
    assert not default.input_tags.positive_only
    bce = AutoEncoderOutlierDetector(AutoEncoderTransformer(loss="bce"))
    assert bce.__sklearn_tags__().input_tags.positive_only


def test_feature_names_are_those_of_fit(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    detector = AutoEncoderOutlierDetector(AutoEncoderTransformer(2, **FAST)).fit(df)
    np.testing.assert_array_equal(detector.feature_names_in_, df.columns)
    with pytest.raises(ValueError, match="feature names"):
        detector.predict(df.rename(columns={"f0": "other"}))
