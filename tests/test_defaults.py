"""The defaults that make skae a safe PCA drop-in: the PCA start (``init``),
the held-out split of ``early_stopping='auto'`` that keeps the best model,
and the batch size and learning rate of ``batch_size='auto'``."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_low_rank_matrix
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderTransformer, DenoisingAE, SparseAE, VAESampler
from skae._stopping import KeepBestStopping

# Fits here run a few epochs by design.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# A learning rate at which one epoch of Adam moves no weight by more than
# float32 rounding: the fitted model is the one training started from.
_FROZEN = dict(learning_rate_init=1e-30, max_iter=1, early_stopping=False)


def _digits():
    return load_digits().data[:400]


def _linear(n=600, d=20, seed=0):
    X = make_low_rank_matrix(n, d, effective_rank=3, tail_strength=0.1, random_state=1)
    X = X + 1e-3 * np.random.RandomState(seed).normal(size=(n, d))
    return StandardScaler().fit_transform(X)


@pytest.mark.parametrize("Estimator", [AutoEncoderTransformer, DenoisingAE])
@pytest.mark.parametrize("init", ["pca", "auto"])
def test_pca_start_reconstructs_as_pca(Estimator, init):
    # Raw digits (scale_ far from 1), so that the codes' units are checked too.
    X = _digits()
    k = 6
    ae = Estimator(k, init=init, hidden_layer_sizes=(32,), random_state=0, **_FROZEN)
    ae.fit(X)
    pca = PCA(k).fit(X)
    np.testing.assert_allclose(
        ae.inverse_transform(ae.transform(X)),
        pca.inverse_transform(pca.transform(X)),
        atol=1e-4 * np.abs(X).max(),
    )
    # The codes are PCA's scores, signed as PCA signs them, in standardised units.
    np.testing.assert_allclose(
        ae.transform(X) * ae.scale_, pca.transform(X), atol=1e-4 * np.abs(X).max()
    )


def test_random_start_is_not_pca():
    X = _digits()
    ae = AutoEncoderTransformer(
        6, init="random", hidden_layer_sizes=(32,), random_state=0, **_FROZEN
    ).fit(X)
    pca = PCA(6).fit(X)
    error = np.mean((ae.inverse_transform(ae.transform(X)) - X) ** 2)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    assert error > 2 * pca_error
    assert not any("skip" in name for name in ae.net_.module_.state_dict())


def test_pca_start_with_more_codes_than_features():
    X = StandardScaler().fit_transform(_digits()[:, :8])
    with pytest.warns(UserWarning, match="identity"):
        ae = AutoEncoderTransformer(10, hidden_layer_sizes=(16,), random_state=0)
        ae.set_params(**_FROZEN).fit(X)
    # The axes run out after 8: the last two codes start at zero.
    np.testing.assert_allclose(ae.transform(X)[:, 8:], 0, atol=1e-6)
    np.testing.assert_allclose(ae.inverse_transform(ae.transform(X)), X, atol=1e-4)


def test_init_auto_is_random_where_pca_does_not_apply():
    X = _digits() / 16
    for ae in (
        AutoEncoderTransformer(4, loss="bce", hidden_layer_sizes=(8,)),
        AutoEncoderTransformer(4, pretraining="greedy", hidden_layer_sizes=(8,)),
        SparseAE(4, hidden_layer_sizes=(8,)),
    ):
        ae.set_params(max_iter=1, random_state=0).fit(X)
        assert ae._architecture["init"] == "random"
        assert not any("skip" in name for name in ae.net_.module_.state_dict())


@pytest.mark.parametrize(
    "params", [dict(loss="bce"), dict(pretraining="greedy", pretraining_max_iter=1)]
)
def test_init_pca_refused_where_it_does_not_apply(params):
    ae = AutoEncoderTransformer(4, init="pca", max_iter=1, **params)
    with pytest.raises(ValueError, match="init='pca'"):
        ae.fit(_digits() / 16)
    assert not hasattr(ae, "n_features_in_")


def test_training_that_only_overfits_returns_the_start():
    # Linear data: PCA is optimal, and a learning rate this large only makes
    # the held-out error worse, epoch after epoch. The model kept is the one
    # training started from, PCA's, measured before the first epoch.
    X = _linear()
    ae = AutoEncoderTransformer(
        3,
        hidden_layer_sizes=(32,),
        learning_rate_init=0.05,
        max_iter=5,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X)
    pca = PCA(3).fit(X)
    assert max(ae.validation_scores_) < ae.best_validation_score_
    np.testing.assert_allclose(ae.transform(X), pca.transform(X), atol=1e-4)


class _Scored:
    """Stands in for the net: the held-out groups' losses, as given."""

    def __init__(self, losses):
        self.losses = np.asarray(losses, dtype=float)

    def validation_losses(self, valid, n_groups):
        return self.losses, np.ones(len(self.losses))


def test_the_start_gives_way_only_to_a_gain_beyond_its_standard_error():
    stopping = KeepBestStopping()
    stopping.start_losses_, valid = np.ones(10), object()
    # Lower on average, through one group alone: within chance.
    assert not stopping._beats_start(_Scored([0.0] + [1.01] * 9), valid)
    # A smaller gain shared by every group.
    assert stopping._beats_start(_Scored([0.9] * 9 + [0.95]), valid)
    # A single held-out row: any gain (there is no spread to measure).
    stopping.start_losses_ = np.ones(1)
    assert stopping._beats_start(_Scored([0.99]), valid)
    # Once the start is replaced, epochs compete by their loss alone.
    stopping.start_losses_ = None
    assert stopping._beats_start(_Scored([2.0] * 10), valid)


def test_best_epoch_is_kept_exactly():
    X = StandardScaler().fit_transform(_digits())
    ae = AutoEncoderTransformer(
        4, hidden_layer_sizes=(32,), max_iter=30, early_stopping=True, random_state=0
    ).fit(X)
    assert ae.best_validation_score_ == max(ae.validation_scores_)
    # The kept weights are those of the best epoch, not of the last one.
    best = int(np.argmax(ae.validation_scores_))
    assert best < len(ae.validation_scores_) - 1 or ae.n_iter_ == 30
    net = ae.net_
    valid_loss = -ae.best_validation_score_
    assert np.isclose(net.history[best, "valid_loss"], valid_loss)


@pytest.mark.parametrize(
    "init, n_samples, holds_out",
    [
        ("random", 60, False),
        ("random", 94, False),
        ("random", 95, True),
        ("random", 400, True),
        ("pca", 5, False),
        ("pca", 6, True),
        ("pca", 60, True),
    ],
)
def test_early_stopping_auto_holds_out_from_ten_validation_rows_or_one_from_pca(
    init, n_samples, holds_out
):
    # Ten validation rows, or one when the start is PCA's solution.
    X = StandardScaler().fit_transform(_digits()[:n_samples])
    ae = AutoEncoderTransformer(
        2, hidden_layer_sizes=(8,), init=init, max_iter=2, random_state=0
    )
    ae.fit(X)
    assert ae.early_stopping_ is holds_out
    assert (ae.validation_scores_ is not None) is holds_out
    assert (ae.best_loss_ is None) is holds_out


def test_few_rows_are_not_memorised():
    # 60 rows of a low-rank table: trained on every row, the network learnt
    # them by heart, 1.38 times PCA's held-out error; the rows held out keep
    # PCA's solution where training only overfits.
    X = make_low_rank_matrix(
        400, 50, effective_rank=8, tail_strength=0.3, random_state=1
    )
    scaler = StandardScaler().fit(X[:60])
    train, test = scaler.transform(X[:60]), scaler.transform(X[60:])
    pca = PCA(8).fit(train)
    pca_error = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
    ae = AutoEncoderTransformer(8, random_state=0).fit(train)
    error = np.mean((ae.inverse_transform(ae.transform(test)) - test) ** 2)
    assert ae.early_stopping_
    assert error <= 1.001 * pca_error


def test_partial_fit_after_a_fit_that_held_out():
    X = StandardScaler().fit_transform(_digits())
    ae = AutoEncoderTransformer(2, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    ae.fit(X)
    assert ae.early_stopping_
    ae.partial_fit(X)
    assert not ae.early_stopping_ and ae.validation_scores_ is None
    assert ae.n_iter_ == len(ae.loss_curve_)
    with pytest.raises(ValueError, match="early_stopping=False"):
        ae.set_params(early_stopping=True).partial_fit(X)


# The autoencoders keep an epoch at 100 steps beyond 6,400 rows, VAESampler
# at 600 beyond 38,400.
AUTO_BATCHES = [
    (AutoEncoderTransformer, n_samples, batch_size)
    for n_samples, batch_size in [
        (50, 16),
        (300, 30),
        (1000, 64),
        (6400, 64),
        (20000, 200),
        (10**6, 4096),
    ]
] + [
    (VAESampler, n_samples, batch_size)
    for n_samples, batch_size in [
        (50, 16),
        (1000, 64),
        (20000, 64),
        (38400, 64),
        (60000, 100),
        (10**7, 4096),
    ]
]


@pytest.mark.parametrize("cls, n_samples, batch_size", AUTO_BATCHES)
def test_auto_batch_size_grows_with_the_rows(cls, n_samples, batch_size):
    model = cls(batch_size="auto", learning_rate_init=1e-3)
    assert model._effective_batch_size(n_samples) == batch_size
    expected_lr = 1e-3 * np.sqrt(max(1, batch_size / 64))
    assert np.isclose(model._effective_learning_rate(n_samples), expected_lr)
    explicit = model.set_params(batch_size=32)
    assert explicit._effective_batch_size(n_samples) == min(32, n_samples)
    assert explicit._effective_learning_rate(n_samples) == 1e-3


def test_fitted_net_trains_with_the_auto_batch_and_rate():
    X = np.random.RandomState(0).normal(size=(13000, 5))
    ae = AutoEncoderTransformer(2, hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    ae.fit(X)
    assert ae.net_.batch_size == 130
    assert np.isclose(ae.net_.lr, 1e-3 * np.sqrt(130 / 64))
    # One epoch of 11,700 training rows in 90 steps of 130.
    assert ae.net_.history[-1, "train_batch_count"] == 90
    # The weight decay falls as 4,000 / n_samples above 4,000 rows, and is
    # taken at the base learning rate; on the connection weights only.
    decays = sorted(g["weight_decay"] for g in ae.net_.optimizer_.param_groups)
    expected = ae.alpha * 4000 / 13000 / np.sqrt(130 / 64)
    assert decays == [0.0, pytest.approx(expected)]


@pytest.mark.parametrize(
    "n_samples, factor",
    [(100, 1.0), (4000, 1.0), (8000, 0.5), (60000, 4000 / 60000)],
)
@pytest.mark.parametrize("batch_size", ["auto", 256])
def test_weight_decay_per_step_scales_with_the_rows_above_4000(
    n_samples, factor, batch_size
):
    # AdamW shrinks the weights by the learning rate times the decay at
    # each step: that falls as 4,000 / n_samples, however the batch (and
    # with it the learning rate) grows, for a network of few weights.
    module = torch.nn.Linear(20, 10)
    for alpha in (1.0, 1e-4):
        ae = AutoEncoderTransformer(alpha=alpha, batch_size=batch_size)
        alpha_per_step = ae._effective_alpha(n_samples, module)
        shrink = alpha_per_step * ae._effective_learning_rate(n_samples)
        assert shrink == pytest.approx(alpha * factor * ae.learning_rate_init)


@pytest.mark.parametrize(
    "n_samples, factor", [(4000, 1.0), (10000, 1.0), (20000, 0.5), (40000, 0.25)]
)
def test_weight_decay_stays_whole_up_to_a_row_per_47_weights(n_samples, factor):
    # A network of 470,000 connection weights keeps the decay it has on
    # 4,000 rows up to 10,000 rows, and only then lets it fall with the
    # rows; its biases do not count.
    module = torch.nn.Sequential(torch.nn.Linear(1000, 235), torch.nn.Linear(235, 1000))
    ae = AutoEncoderTransformer(alpha=1.0)
    alpha_per_step = ae._effective_alpha(n_samples, module)
    shrink = alpha_per_step * ae._effective_learning_rate(n_samples)
    assert shrink == pytest.approx(factor * ae.learning_rate_init)


def test_fitted_wide_network_keeps_the_decay_of_few_rows():
    # 4,500 rows, beyond 4,000, but 365,568 connection weights (100 x 512,
    # 512 x 256, 256 x 2, and back): the decay stays alpha's up to 7,778 rows.
    X = np.random.RandomState(0).normal(size=(4500, 100)).astype(np.float32)
    ae = AutoEncoderTransformer(
        2, hidden_layer_sizes=(512, 256), max_iter=1, random_state=0
    ).fit(X)
    # Every layer's weights shrink by alpha times the rate per step (the two
    # fed by 512 units at half the rate and twice the decay).
    groups = ae.net_.optimizer_.param_groups
    shrinks = [g["lr"] * g["weight_decay"] for g in groups if g["weight_decay"]]
    assert shrinks == pytest.approx([ae.alpha * ae.learning_rate_init] * 3)
    narrow = ae.set_params(hidden_layer_sizes=(8,)).fit(X)
    decays = sorted(g["weight_decay"] for g in narrow.net_.optimizer_.param_groups)
    assert decays == [0.0, pytest.approx(ae.alpha * 4000 / 4500)]


def test_warm_start_trains_with_the_new_weight_decay():
    # A warm-started fit keeps the network and Adam's state but takes the
    # current alpha, scaled for the rows it is given, as the lr and batch do.
    X = np.random.RandomState(0).normal(size=(300, 8))
    ae = AutoEncoderTransformer(
        2, hidden_layer_sizes=(8,), max_iter=2, warm_start=True, random_state=0
    )
    ae.fit(X)
    optimizer = ae.net_.optimizer_
    ae.set_params(alpha=0.25).fit(X)
    assert ae.net_.optimizer_ is optimizer
    decays = sorted(g["weight_decay"] for g in optimizer.param_groups)
    assert decays == [0.0, pytest.approx(0.25)]
