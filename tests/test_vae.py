"""Behaviour of VAESampler, its loss functions, and sampling from autoencoders."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skae import AutoEncoderTransformer, VAESampler, load, save
from skae._losses import (
    NegativeELBO,
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_likelihood,
    standard_normal_log_density,
)
from skae._modules import Dropout

FAST = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # These networks are small: one thread is as fast as two, and does not
    # collapse when the machine is shared with other processes.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def fitted_vae(digits_split):
    # The acceptance model: defaults, 8 components.
    X_train = digits_split[0]
    return VAESampler(n_components=8, random_state=0).fit(X_train)


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(size=(60, 12))


def inception_score(classifier, X):
    """exp(E_x KL(p(y|x) || p(y))) under ``classifier``."""
    p = classifier.predict_proba(X)
    p_y = p.mean(axis=0)
    kl = np.sum(p * (np.log(p + 1e-12) - np.log(p_y + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


# Loss functions against hand computation -------------------------------
def test_gaussian_kl_matches_closed_form():
    rng = np.random.RandomState(0)
    mean, log_var = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    var = np.exp(log_var)
    # 1-D: KL(N(m, s^2) || N(0, 1)) = -log s + (s^2 + m^2) / 2 - 1/2.
    expected = (-0.5 * log_var + (var + mean**2) / 2 - 0.5).sum(axis=1)
    got = gaussian_kl(torch.tensor(mean), torch.tensor(log_var)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4)).abs().max() == 0


def test_gaussian_log_likelihood_matches_scipy():
    rng = np.random.RandomState(1)
    mean, x = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    log_var = rng.normal(size=6)  # per feature, broadcast over rows
    expected = stats.norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=1)
    got = gaussian_log_likelihood(
        torch.tensor(mean), torch.tensor(log_var), torch.tensor(x)
    ).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    z = torch.tensor(x)
    np.testing.assert_allclose(
        standard_normal_log_density(z).numpy(),
        stats.norm.logpdf(x).sum(axis=1),
        rtol=1e-12,
    )


def test_bernoulli_log_likelihood_matches_hand_computation():
    rng = np.random.RandomState(2)
    logits, x = rng.normal(size=(3, 5)), rng.uniform(size=(3, 5))
    p = 1 / (1 + np.exp(-logits))
    expected = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    got = bernoulli_log_likelihood(torch.tensor(logits), torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_negative_elbo_weights_the_kl_term():
    rng = np.random.RandomState(3)
    out, x = (
        torch.tensor(rng.normal(size=(4, 5))),
        torch.tensor(rng.normal(size=(4, 5))),
    )
    mean, log_var = torch.tensor(rng.normal(size=(4, 2))), torch.zeros(4, 2)
    out_lv = torch.zeros(5)
    y_pred = (out, None, mean, log_var, out_lv)
    nll = -gaussian_log_likelihood(out, out_lv, x)
    kl = gaussian_kl(mean, log_var)
    for w in (0.0, 1.0, 4.0):
        got = NegativeELBO("gaussian", w)(y_pred, x)
        assert float(got) == pytest.approx(float((nll + w * kl).mean()))


def test_kl_factor_scales_the_gradient_not_the_value():
    # KL warm-up: training sees a share of the KL term's gradient, while the
    # loss (what early stopping and loss_curve_ read) is the whole ELBO.
    rng = np.random.RandomState(4)
    x = torch.tensor(rng.normal(size=(6, 5)))
    out_lv = torch.zeros(5)

    def value_and_gradients(factor):
        out = torch.tensor(rng.normal(size=(6, 5)), requires_grad=True)
        mean = torch.tensor(rng.normal(size=(6, 2)), requires_grad=True)
        criterion = NegativeELBO("gaussian", 2.0)
        criterion.kl_factor = factor
        loss = criterion((out, None, mean, torch.zeros(6, 2), out_lv), x)
        loss.backward()
        return float(loss.detach()), out.grad, mean.grad, out, mean

    rng.seed(0)
    full, out_grad, mean_grad, out, mean = value_and_gradients(1.0)
    rng.seed(0)
    part, out_grad_part, mean_grad_part, _, _ = value_and_gradients(0.25)
    assert part == pytest.approx(full)
    np.testing.assert_allclose(out_grad_part, out_grad)  # reconstruction only
    # The KL term's gradient in the mean is 2.0 * mean / n_rows, scaled.
    kl_grad = 2.0 * mean.detach() / 6
    np.testing.assert_allclose(mean_grad_part, mean_grad - 0.75 * kl_grad)


def test_held_out_rows_keep_their_noise_from_epoch_to_epoch(X):
    # Early stopping compares epochs on the same draws (common random
    # numbers): in eval mode a row's code noise is a function of the row.
    module = VAESampler(3, **FAST).fit(X).net_.module_.eval()
    x = torch.as_tensor(X[:10], dtype=torch.float32)
    with torch.no_grad():
        z = module(x)[1]
        torch.testing.assert_close(module(x)[1], z)
        torch.testing.assert_close(module(x[3:5])[1], z[3:5])  # any batch
        assert not torch.allclose(z, module.encode(x))  # still sampled
        module.train()
        assert not torch.allclose(module(x)[1], module(x)[1])


class _KLFactors(Callback):
    """Records the criterion's ``kl_factor`` at each training step."""

    def initialize(self):
        self.factors_ = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.factors_.append(net.criterion_.kl_factor)


def test_kl_warmup_ramps_over_its_epochs_and_partial_fit_goes_on(X):
    # 60 rows in batches of 16: 4 steps an epoch, 8 over 2 epochs.
    params = dict(FAST, batch_size=16, early_stopping=False, kl_warmup=2)
    vae = VAESampler(callbacks=[("factors", _KLFactors())], **params)
    vae.set_params(max_iter=3).fit(X)
    factors = dict(vae.net_.callbacks_)["factors"].factors_
    np.testing.assert_allclose(factors, [*(np.arange(1, 9) / 8), 1, 1, 1, 1])
    # A fresh fit ramps up again; partial_fit continues the ramp.
    vae = VAESampler(callbacks=[("factors", _KLFactors())], **params)
    vae.set_params(max_iter=1).partial_fit(X).partial_fit(X)
    factors = dict(vae.net_.callbacks_)["factors"].factors_
    np.testing.assert_allclose(factors, np.arange(1, 9) / 8)
    # None: the whole term from the first step, and no ramp to record.
    vae = VAESampler(callbacks=[("factors", _KLFactors())], **params)
    vae.set_params(max_iter=1, kl_warmup=0).fit(X)
    assert dict(vae.net_.callbacks_)["factors"].factors_ == [1.0] * 4
    assert "kl_warmup" not in dict(vae.net_.callbacks_)


def test_kl_warmup_goes_on_after_a_model_file_and_a_warm_start(X, tmp_path):
    # 60 rows in batches of 16: 4 steps an epoch, 16 over the ramp's 4 epochs.
    params = dict(FAST, batch_size=16, early_stopping=False, kl_warmup=4, max_iter=1)
    vae = VAESampler(**params).fit(X)
    assert vae.net_.criterion_.kl_factor == 4 / 16
    save(vae, tmp_path / "vae.skae")
    loaded = load(tmp_path / "vae.skae").partial_fit(X)
    assert loaded.net_.criterion_.kl_factor == 8 / 16
    vae.set_params(warm_start=True).fit(X)
    assert vae.net_.criterion_.kl_factor == 8 / 16
    # A finished ramp stays finished after loading.
    vae.set_params(max_iter=3).fit(X)
    save(vae, tmp_path / "vae.skae")
    loaded = load(tmp_path / "vae.skae")
    assert loaded.net_.criterion_.kl_factor == 1.0
    assert loaded.partial_fit(X).net_.criterion_.kl_factor == 1.0


# Estimator outputs ------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_shapes_and_dtypes(X, dtype, likelihood):
    X = X.astype(dtype)
    vae = VAESampler(3, likelihood=likelihood, **FAST).fit(X)
    codes = vae.transform(X)
    assert codes.shape == (60, 3) and codes.dtype == dtype
    recon = vae.inverse_transform(codes)
    assert recon.shape == X.shape and recon.dtype == dtype
    scores = vae.score_samples(X)
    assert scores.shape == (60,) and scores.dtype == dtype
    assert np.all(np.isfinite(scores))
    assert vae.score(X) == pytest.approx(scores.mean(), rel=1e-5)
    if likelihood == "bernoulli":
        assert recon.min() >= 0 and recon.max() <= 1
        assert np.all(scores <= 0)
    assert vae.sample(7, random_state=0).shape == (7, 12)
    # The posterior mean: deterministic.
    np.testing.assert_array_equal(codes, vae.transform(X))


def test_scores_are_reproducible_and_batch_independent(X):
    vae = VAESampler(3, n_importance_samples=5, **FAST).fit(X)
    full = vae.score_samples(X)
    np.testing.assert_array_equal(full, vae.score_samples(X))
    np.testing.assert_allclose(vae.score_samples(X[7:9]), full[7:9], rtol=1e-6)
    # A row's noise follows the row: reversed rows, reversed scores.
    np.testing.assert_allclose(vae.score_samples(X[::-1]), full[::-1], rtol=1e-6)
    # float32 rows round their standardisation otherwise, which moves their
    # noise a little (most where the normal's tail is steep): far less than
    # the noise itself (these rows' K=5 bounds vary over noise seeds by 1.9
    # nats, median standard deviation).
    np.testing.assert_allclose(
        full, vae.score_samples(X.astype(np.float32)), rtol=1e-4, atol=0.05
    )


def test_score_noise_averages_out_over_rows(fitted_vae, digits_split):
    # Each row has noise of its own, so the mean ELBO of 540 test digits
    # barely moves with the noise seed (one draw shared by all rows moved it
    # by 2.1 nats on 450, standard deviation over 20 seeds).
    X_test = digits_split[1]
    seed = fitted_vae._score_seed
    try:
        scores = []
        for fitted_vae._score_seed in range(10):
            scores.append(fitted_vae.score(X_test))
    finally:
        fitted_vae._score_seed = seed
    assert np.std(scores) < 0.5


def test_global_random_state_untouched(X):
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    vae = VAESampler(3, **FAST).fit(X)
    vae.score_samples(X)
    vae.sample(3, random_state=1)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


def test_score_units_follow_the_data_scale(X):
    # Standardisation makes training identical; the score of c * X is the
    # score of X minus n_features * log(c) nats, as for any density.
    a = VAESampler(3, **FAST).fit(X)
    b = VAESampler(3, **FAST).fit(10 * X)
    np.testing.assert_allclose(
        b.score_samples(10 * X),
        a.score_samples(X) - X.shape[1] * math.log(10),
        rtol=1e-4,
        atol=1e-3,
    )


def test_likelihood_maps_to_base_loss():
    assert VAESampler().loss == "mse"
    assert VAESampler(likelihood="bernoulli").loss == "bce"
    assert "loss" not in VAESampler().get_params()


# Sampling ---------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [VAESampler, AutoEncoderTransformer])
def test_sample_reproducible(X, Estimator):
    est = Estimator(3, **FAST).fit(X)
    a = est.sample(10, random_state=0)
    assert a.shape == (10, 12) and a.dtype == np.float64
    np.testing.assert_array_equal(a, est.sample(10, random_state=0))
    assert not np.allclose(a, est.sample(10, random_state=1))
    # A RandomState instance is drawn from: each call advances it, and a
    # fresh one in the same state draws the same rows again.
    rs = np.random.RandomState(5)
    first, second = est.sample(4, random_state=rs), est.sample(4, random_state=rs)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(
        first, est.sample(4, random_state=np.random.RandomState(5))
    )


@pytest.mark.parametrize("Estimator", [VAESampler, AutoEncoderTransformer])
def test_sample_errors(X, Estimator):
    with pytest.raises(NotFittedError):
        Estimator(3, **FAST).sample(2)
    est = Estimator(3, **FAST).fit(X)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="n_samples"):
            est.sample(bad)


def test_autoencoder_code_gaussian(X):
    ae = AutoEncoderTransformer(3, **FAST).fit(X)
    codes = ae.transform(X)
    # The codes start as PCA's centred scores: a mean near zero, so absolute.
    np.testing.assert_allclose(
        ae.code_mean_, codes.mean(axis=0), rtol=1e-5, atol=1e-6 * codes.std()
    )
    np.testing.assert_allclose(
        ae.code_covariance_, np.cov(codes, rowvar=False), rtol=1e-4, atol=1e-7
    )
    # Samples are decoded codes drawn from that Gaussian, through the
    # Cholesky factor of its covariance (the same draws on every CPU).
    rng = np.random.RandomState(0)
    factor = np.linalg.cholesky(ae.code_covariance_)
    z = ae.code_mean_ + rng.standard_normal((5, 3)) @ factor.T
    np.testing.assert_allclose(
        ae.sample(5, random_state=0), ae.inverse_transform(z), rtol=1e-6
    )


def test_vae_samples_decode_the_prior(X):
    vae = VAESampler(3, **FAST).fit(X)
    z = np.random.RandomState(0).standard_normal((5, 3))
    np.testing.assert_allclose(
        vae.sample(5, random_state=0), vae.inverse_transform(z), rtol=1e-6
    )
    assert not hasattr(vae, "code_mean_")


# Errors -----------------------------------------------------------------
def test_bernoulli_needs_unit_interval(X):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        VAESampler(likelihood="bernoulli", **FAST).fit(X * 2)
    vae = VAESampler(likelihood="bernoulli", **FAST).fit(X)
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        vae.score_samples(X - 0.5)
    # A Gaussian VAE takes any real data.
    VAESampler(**FAST).fit(X * 2 - 5)


@pytest.mark.parametrize(
    "params",
    [
        {"likelihood": "poisson"},
        {"kl_weight": -1.0},
        {"kl_warmup": -1},
        {"kl_warmup": 1.5},
        {"n_importance_samples": 0},
    ],
)
def test_invalid_parameters(X, params):
    with pytest.raises(ValueError):
        VAESampler(**params, **FAST).fit(X)


# Digits: units, bounds and the acceptance criterion ----------------------
def test_iwae_bound_is_tighter_than_elbo(fitted_vae, digits_split):
    X_test = digits_split[1]
    elbo = fitted_vae.score(X_test)
    fitted_vae.set_params(n_importance_samples=50)
    try:
        iwae = fitted_vae.score(X_test)
    finally:
        fitted_vae.set_params(n_importance_samples=1)
    assert iwae > elbo


def test_score_units_comparable_to_pca(fitted_vae, digits_split):
    X_train, X_test = digits_split[:2]
    pca_score = PCA(8).fit(X_train).score(X_test)
    vae_score = fitted_vae.score(X_test)
    # Both are log-densities of raw digits in nats per image: same order of
    # magnitude (PCA ~13 nats; the VAE's bound is higher).
    assert 0.3 < vae_score / pca_score < 10


def test_vae_samples_beat_pca_and_autoencoder(fitted_vae, digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    pca = PCA(8).fit(X_train)
    z = np.random.RandomState(0).standard_normal((2000, 8))
    pca_samples = pca.inverse_transform(z * np.sqrt(pca.explained_variance_))
    ae = AutoEncoderTransformer(n_components=8, random_state=0).fit(X_train)

    real = inception_score(clf, X_test)
    pca_is = inception_score(clf, pca_samples)
    ae_is = inception_score(clf, ae.sample(2000, random_state=0))
    vae_is = inception_score(clf, fitted_vae.sample(2000, random_state=0))
    assert vae_is >= 1.25 * pca_is
    assert vae_is >= ae_is
    assert vae_is < real


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "n_samples, rate, warmup", [(400, 0.1, None), (8000, 0.025, 15)]
)
def test_auto_regularisation_falls_with_the_rows_above_4000(
    n_samples, rate, warmup, tmp_path
):
    X = np.random.RandomState(0).normal(size=(n_samples, 3))
    vae = VAESampler(2, hidden_layer_sizes=(4,), max_iter=1, random_state=0).fit(X)
    rates = [m.p for m in vae.net_.module_.modules() if isinstance(m, Dropout)]
    assert rates and rates == pytest.approx([rate] * len(rates))
    # The KL warm-up: none up to 4,000 rows, 30 * (1 - 4000 / n) epochs beyond.
    schedule = dict(vae.net_.callbacks_).get("kl_warmup")
    assert (schedule and schedule.epochs) == warmup
    # A model file rebuilds the network with the rate fit resolved.
    path = tmp_path / "vae.skae"
    save(vae, path)
    loaded = load(path)
    assert loaded._dropout == pytest.approx(rate)
    np.testing.assert_array_equal(loaded.transform(X[:5]), vae.transform(X[:5]))
    explicit = VAESampler(2, hidden_layer_sizes=(4,), dropout=0.3, max_iter=1)
    modules = explicit.fit(X).net_.module_.modules()
    assert {m.p for m in modules if isinstance(m, Dropout)} == {0.3}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_reconstructions_draw_around_the_reconstruction(X, dtype):
    X = X.astype(dtype)
    # Linear: the mean of the decoder's means over the posterior is the
    # decoder's mean at the posterior mean, the reconstruction.
    vae = VAESampler(2, **dict(FAST, hidden_layer_sizes=(), max_iter=30)).fit(X)
    first = vae.sample_reconstructions(X, random_state=0)
    assert first.shape == X.shape and first.dtype == dtype
    np.testing.assert_array_equal(first, vae.sample_reconstructions(X, random_state=0))
    assert not np.array_equal(first, vae.sample_reconstructions(X, random_state=1))
    # The average of many draws is near the mean reconstruction, and the
    # draws stray from it by about the decoder's standard deviation.
    draws = np.stack(
        [vae.sample_reconstructions(X[:20], random_state=k) for k in range(200)]
    )
    mean = vae.inverse_transform(vae.transform(X[:20]))
    noise = vae.scale_ * np.exp(
        0.5 * vae.net_.module_.output_log_variance().detach().numpy()
    )
    standard_error = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * standard_error)
    assert np.all(draws.std(axis=0) > 0.75 * noise)


def test_bernoulli_reconstructions_are_binary(X):
    X = (X > np.median(X)).astype(float)
    vae = VAESampler(2, likelihood="bernoulli", **FAST).fit(X)
    draws = vae.sample_reconstructions(X, random_state=0)
    assert set(np.unique(draws)) <= {0.0, 1.0}


def test_sample_reconstructions_checks_its_input(X):
    with pytest.raises(NotFittedError):
        VAESampler(2).sample_reconstructions(X)
    vae = VAESampler(2, **FAST).fit(X)
    with pytest.raises(ValueError, match="features"):
        vae.sample_reconstructions(X[:, :-1])


def test_held_out_loss_samples_codes_and_transforms_do_not(digits_split):
    # The held-out loss early stopping watches is a one-sample ELBO: the
    # module samples codes in eval mode too, seeded by its generator.
    X_train = digits_split[0]
    vae = VAESampler(4, **FAST).fit(X_train)
    module = vae.net_.module_.eval()
    x = torch.as_tensor(X_train[:5], dtype=torch.float32)
    module.generator = torch.Generator().manual_seed(0)
    _, z, mean, _, _ = module(x)
    assert not torch.allclose(z, mean)
    module.generator = torch.Generator().manual_seed(0)
    torch.testing.assert_close(module(x)[1], z)
    module.generator = None
    np.testing.assert_array_equal(vae.transform(X_train), vae.transform(X_train))
