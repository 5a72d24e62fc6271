"""AutoEncoderClassifier: semi-supervised and supervised classification."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skae import AutoEncoderClassifier, AutoEncoderTransformer
from skae._averaging import AveragedWeights
from skae._labels import spread_labels
from skae._semisupervised import FINE_TUNING_RATE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(
    hidden_layer_sizes=(32,),
    n_components=8,
    pretraining_max_iter=3,
    max_iter=5,
    random_state=0,
)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16, y


def _few_labels(y, per_class, seed):
    """``y`` with all but ``per_class`` rows of each class set to -1."""
    rng = np.random.RandomState(seed)
    keep = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == c), per_class, replace=False)
            for c in np.unique(y)
        ]
    )
    partial = np.full_like(y, -1)
    partial[keep] = y[keep]
    return partial, keep


def test_five_labels_per_class_beat_an_mlp_on_the_labels_alone(digits):
    # The acceptance figure: digits, 5 labels per class, 3 seeds, default
    # settings against MLPClassifier of the same hidden shape.
    X, y = digits
    ours, theirs, unpretrained = [], [], []
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        partial, keep = _few_labels(y_train, 5, seed)
        clf = AutoEncoderClassifier(random_state=seed).fit(X_train, partial)
        ours.append(clf.score(X_test, y_test))
        mlp = MLPClassifier(
            hidden_layer_sizes=(256, 128, 32), max_iter=2000, random_state=seed
        ).fit(X_train[keep], y_train[keep])
        theirs.append(mlp.score(X_test, y_test))
        # The same network trained on the labeled rows from a random start.
        alone = AutoEncoderClassifier(pretraining_max_iter=0, random_state=seed)
        unpretrained.append(alone.fit(X_train, partial).score(X_test, y_test))
        assert clf.n_labeled_ == 50
        # The autoencoder saw every row, labeled or not.
        assert clf.autoencoder_.n_features_in_ == 64
        assert clf.autoencoder_.loss_curve_[-1] < clf.autoencoder_.loss_curve_[0]
    assert np.mean(ours) > np.mean(theirs)
    assert np.mean(ours) > np.mean(unpretrained)


def test_spread_labels_train_every_row_and_beat_the_labeled_rows_alone(digits):
    # pseudo_labels='spread' (the default) against None, same splits, 5
    # labels per class: the spread labels reach every unlabeled row, most
    # of them right, and the test accuracy is higher in each split.
    X, y = digits
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        partial, keep = _few_labels(y_train, 5, seed)
        spread = AutoEncoderClassifier(random_state=seed).fit(X_train, partial)
        alone = AutoEncoderClassifier(pseudo_labels=None, random_state=seed)
        alone.fit(X_train, partial)
        assert spread.score(X_test, y_test) > alone.score(X_test, y_test)
        # The given labels are kept; every other row got a spread one.
        np.testing.assert_array_equal(spread.transduction_[keep], y_train[keep])
        assert np.all(spread.transduction_ != -1)
        unlabeled = partial == -1
        assert np.mean(spread.transduction_[unlabeled] == y_train[unlabeled]) > 0.8
        # Without spreading the unlabeled rows keep their -1.
        np.testing.assert_array_equal(alone.transduction_, partial)
        assert spread.n_labeled_ == alone.n_labeled_ == 50


def test_spread_labels_leave_rows_no_label_reaches():
    # Two labeled blobs and a third without a label, on the other side of the
    # centre (the graph joins rows whose centred codes point alike): its rows
    # are not trained on, and keep -1.
    rng = np.random.RandomState(0)
    centres = np.repeat([[0.0, 0.0], [10.0, 0.0], [1000.0, 1000.0]], 40, axis=0)
    codes = centres + rng.normal(scale=0.5, size=centres.shape)
    y_all = np.full(120, -1)
    y_all[[0, 1]] = 0
    y_all[[40, 41]] = 1
    spread = spread_labels(codes, y_all)
    np.testing.assert_array_equal(spread[:80], np.repeat([0, 1], 40))
    np.testing.assert_array_equal(spread[80:], -1)
    # With every row labeled there is nothing to spread.
    labels = np.repeat([0, 1, 1], 40)
    assert spread_labels(codes, labels) is labels


def test_without_pretraining(digits):
    X, y = digits
    partial, _ = _few_labels(y, 5, 0)
    clf = AutoEncoderClassifier(**{**FAST, "pretraining_max_iter": 0})
    clf.fit(X, partial)
    assert clf.autoencoder_ is None and clf.head_loss_curve_ == []
    assert clf.n_iter_ == len(clf.loss_curve_)
    assert clf.shift_.shape == (64,) and clf.scale_ > 0
    assert clf.predict_proba(X).shape == (len(X), 10)


def test_fully_supervised(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = AutoEncoderClassifier(pretraining_max_iter=20, random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    assert clf.n_labeled_ == len(y_train)


def test_supervised_stages_keep_their_epoch_of_lowest_loss(digits, monkeypatch):
    # At a learning rate this high (from a random start: the head on
    # pretrained codes learns too smoothly to show it) the training loss
    # climbs back after its lowest epoch; the classifier ends with the
    # average of its weights as it stood after that epoch.
    averages = []
    record = AveragedWeights.on_epoch_end

    def spy(self, net, **kwargs):
        record(self, net, **kwargs)
        averages.append([tensor.clone() for tensor in self.average_])

    monkeypatch.setattr(AveragedWeights, "on_epoch_end", spy)
    X, y = digits
    params = dict(FAST, max_iter=15, learning_rate_init=0.03, pretraining_max_iter=0)
    clf = AutoEncoderClassifier(**params).fit(X, y)
    best = int(np.argmin(clf.loss_curve_))
    assert best < len(clf.loss_curve_) - 1
    assert len(averages) == len(clf.loss_curve_)
    weights = [param.detach() for param in clf.net_.module_.parameters()]
    torch.testing.assert_close(weights, averages[best])


def test_the_head_reads_the_codes_standardised(digits):
    # An autoencoder's codes may lie far from unit scale (a median standard
    # deviation of 27 on full MNIST), where the head's Adam steps swing its
    # logits: it reads them centred and scaled by their spread over the
    # training rows, as the pretrained encoder gave them.
    X, y = digits
    clf = AutoEncoderClassifier(**FAST).fit(X, y)
    codes = clf.autoencoder_.transform(X).astype(np.float64)
    module = clf.net_.module_
    np.testing.assert_allclose(module.code_shift, codes.mean(0), atol=1e-4)
    np.testing.assert_allclose(module.code_scale, codes.std(0), rtol=1e-4)
    with torch.no_grad():
        inputs = torch.as_tensor((X[:5] - clf.shift_) / clf.scale_).float()
        logits, raw = module(inputs)
        expected = module.head((raw - module.code_shift) / module.code_scale)
    torch.testing.assert_close(logits, expected)
    # An untrained encoder's codes have the scale its initialisation set,
    # which the head reads as they are.
    fresh = AutoEncoderClassifier(**{**FAST, "pretraining_max_iter": 0, "max_iter": 1})
    module = fresh.fit(X, y).net_.module_
    assert torch.all(module.code_shift == 0) and torch.all(module.code_scale == 1)


def test_fine_tuning_takes_a_tenth_of_a_grown_learning_rate():
    # Above 6,400 rows batch_size='auto' grows the batch and the rate;
    # fine-tuning a pretrained network takes a tenth of that rate (on full
    # MNIST the grown one made its loss jump), training from scratch all of
    # it, and a rate that was not grown stays as given.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(7000, 10))
    y = (X[:, 0] > 0).astype(int)
    params = dict(FAST, pretraining_max_iter=1, max_iter=1)
    pretrained = AutoEncoderClassifier(**params).fit(X, y)
    grown = pretrained._effective_learning_rate(len(X))
    assert grown > pretrained.learning_rate_init
    assert pretrained.net_.lr == pytest.approx(FINE_TUNING_RATE * grown)
    scratch = AutoEncoderClassifier(**{**params, "pretraining_max_iter": 0})
    assert scratch.fit(X, y).net_.lr == pytest.approx(grown)
    fixed = AutoEncoderClassifier(**params, batch_size=64).fit(X, y)
    assert fixed.net_.lr == fixed.learning_rate_init


def test_probabilities(digits):
    X, y = digits
    clf = AutoEncoderClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32


def test_string_and_object_labels(digits):
    X, y = digits
    names = np.array(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
        ],
        dtype=object,
    )[y]
    partial = names.copy()
    unlabeled = np.random.RandomState(0).rand(len(y)) < 0.5
    partial[unlabeled] = -1
    clf = AutoEncoderClassifier(**FAST).fit(X, partial)
    # The integer -1 among the strings marks the unlabeled rows, no class.
    np.testing.assert_array_equal(clf.classes_, np.sort(names[:10].astype(str)))
    assert clf.classes_.dtype == object
    assert clf.n_labeled_ == np.sum(~unlabeled)
    # Each name is learnt as the class of its rows (chance is 0.1).
    predicted = clf.predict(X)
    assert predicted.dtype == object
    assert np.mean(predicted == names) > 0.5
    # A string array cannot hold the integer -1: '-1' is a class like any
    # other, and every row is labeled.
    clf = AutoEncoderClassifier(**FAST).fit(X, partial.astype(str))
    assert clf.n_labeled_ == len(X)
    assert "-1" in clf.classes_ and len(clf.classes_) == 11


def test_minus_one_is_a_class_when_the_rest_is_one_class(digits):
    X, y = digits
    binary = np.where(y < 5, -1, 1)
    with pytest.warns(UserWarning, match="-1 is read as a class label"):
        clf = AutoEncoderClassifier(**FAST).fit(X, binary)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])
    assert clf.n_labeled_ == len(X)


def test_sparse_input(digits):
    X, y = digits
    dense = AutoEncoderClassifier(**FAST).fit(X, y)
    sparse = AutoEncoderClassifier(**FAST).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), atol=1e-5
    )


def test_reproducible_and_pickles(digits):
    X, y = digits
    partial, _ = _few_labels(y, 5, 0)
    state = torch.random.get_rng_state()
    a = AutoEncoderClassifier(**FAST).fit(X, partial)
    # The global random state is never used.
    assert torch.equal(torch.random.get_rng_state(), state)
    b = AutoEncoderClassifier(**FAST).fit(X, partial)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(loaded.predict_proba(X), a.predict_proba(X))


def test_pretrained_autoencoder_is_kept_apart_from_the_fine_tuned_encoder(digits):
    X, y = digits
    clf = AutoEncoderClassifier(**FAST, dropout=0.3, input_dropout=0.1).fit(X, y)
    assert isinstance(clf.autoencoder_, AutoEncoderTransformer)
    # autoencoder_ is what pretraining left, untouched by fine-tuning: the
    # same as the autoencoder fitted alone, with the seed the classifier
    # draws for it (the first of two from its random_state).
    ae_seed = np.random.RandomState(FAST["random_state"]).randint(
        np.iinfo(np.int32).max, size=2
    )[0]
    alone = AutoEncoderTransformer(
        FAST["n_components"],
        hidden_layer_sizes=FAST["hidden_layer_sizes"],
        max_iter=FAST["pretraining_max_iter"],
        alpha=clf.alpha,
        init="random",
        early_stopping=False,
        random_state=ae_seed,
    ).fit(X)  # without dropout: it is the supervised stages'
    assert clf.autoencoder_.n_iter_ == FAST["pretraining_max_iter"]
    assert clf.autoencoder_.loss_curve_ == alone.loss_curve_
    np.testing.assert_array_equal(clf.autoencoder_.transform(X), alone.transform(X))
    # While the classifier's encoder moved on from it.
    pretrained = clf.autoencoder_.net_.module_.encoder[0].weight.detach()
    fine_tuned = clf.net_.module_.encoder[1].weight.detach()  # [0]: input dropout
    assert not np.allclose(pretrained, fine_tuned)
    assert len(clf.head_loss_curve_) + len(clf.loss_curve_) == clf.n_iter_


def test_dropout_follows_the_inputs_and_each_hidden_layer_of_the_supervised_network(
    digits,
):
    X, y = digits
    for pretraining in (3, 0):
        params = dict(
            FAST, hidden_layer_sizes=(32, 16), pretraining_max_iter=pretraining
        )
        clf = AutoEncoderClassifier(**params, dropout=0.3, input_dropout=0.1)
        clf.fit(X, y)
        layers = [type(m).__name__ for m in clf.net_.module_.encoder]
        expected = ["Dropout"] + ["Linear", "ReLU", "Dropout"] * 2 + ["Linear"]
        assert layers[:8] == expected  # then the codes' activation
        rates = [m.p for m in clf.net_.module_.encoder if hasattr(m, "p")]
        assert rates == [0.1, 0.3, 0.3]
        # Predictions leave dropout out.
        np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    # Without input dropout the encoder starts with its first layer.
    clf.set_params(input_dropout=0.0).fit(X, y)
    assert type(clf.net_.module_.encoder[0]).__name__ == "Linear"
    pretrained = clf.set_params(pretraining_max_iter=3).fit(X, y).autoencoder_
    assert not any(hasattr(m, "p") for m in pretrained.net_.module_.modules())


def test_patience_counts_epochs_of_at_least_ten_steps(digits):
    X, y = digits
    clf = AutoEncoderClassifier(**FAST, n_iter_no_change=4)
    # One step an epoch (10 rows, one batch): 4 epochs of 10 steps.
    assert clf._effective_batch_size(10) == 10
    assert clf._supervised_patience(10) == 40
    # 3 steps an epoch (48 rows, batches of 16): ceil(10 / 3) = 4 times.
    assert clf._supervised_patience(48) == 16
    # Ten steps or more an epoch: as given.
    assert clf._supervised_patience(len(X)) == 4
    # And a fit on 10 labeled rows, no pretraining, stops after it.
    partial = np.full_like(y, -1)
    keep = [np.flatnonzero(y == c)[0] for c in range(10)]
    partial[keep] = y[keep]
    clf.set_params(pretraining_max_iter=0, max_iter=1000).fit(X, partial)
    stopping = dict(clf.net_.callbacks_)["stopping"]
    assert stopping.patience == 40
    assert stopping.misses_ == 40
    assert len(clf.loss_curve_) >= 40


class TestErrors:
    def test_no_two_classes(self, digits):
        X, y = digits
        with pytest.raises(ValueError, match="at least two classes"):
            AutoEncoderClassifier(**FAST).fit(X, np.full_like(y, 3))
        clf = AutoEncoderClassifier(**FAST)
        with (
            pytest.warns(UserWarning, match="-1 is read as a class label"),
            pytest.raises(ValueError, match="at least two classes"),
        ):
            clf.fit(X, np.full_like(y, -1))
        # The checks after validate_data leave no half-fitted classifier.
        assert not hasattr(clf, "n_features_in_")
        with pytest.raises(NotFittedError):
            clf.predict(X)

    def test_regression_targets(self, digits):
        X, _ = digits
        with pytest.raises(ValueError, match="Unknown label type"):
            AutoEncoderClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))

    def test_bad_input(self, digits):
        X, y = digits
        bad = X.copy()
        bad[3, 3] = np.nan
        with pytest.raises(ValueError, match="Input X contains NaN"):
            AutoEncoderClassifier(**FAST).fit(bad, y)
        clf = AutoEncoderClassifier(**FAST)
        with pytest.raises(NotFittedError):
            clf.predict(X)
        clf.fit(X, y)
        with pytest.raises(ValueError, match="X has 10 features"):
            clf.predict(X[:, :10])

    def test_bad_device(self, digits):
        X, y = digits
        with pytest.raises(ValueError, match="device='not a device'"):
            AutoEncoderClassifier(
                device="not a device", **{k: v for k, v in FAST.items()}
            ).fit(X, y)
