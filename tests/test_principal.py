"""Codes read as principal components: explained variance, fractions, whitening.

The options of ``PrincipalCodesMixin`` on the fully connected autoencoders.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

import skae

FC = [skae.AutoEncoderTransformer, skae.DenoisingAE, skae.SparseAE, skae.ContractiveAE]
FAST = dict(hidden_layer_sizes=(32,), max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def X():
    return StandardScaler().fit_transform(load_digits().data[:400])


def _r2(X, X_hat):
    return 1 - np.sum((X - X_hat) ** 2) / np.sum((X - X.mean(0)) ** 2)


def _truncated(est, X, j):
    Z = est.transform(X)
    Z[:, j:] = est.code_mean_[j:]
    return est.inverse_transform(Z)


@pytest.mark.parametrize("cls", FC, ids=lambda c: c.__name__)
def test_explained_variance_cumsum_is_the_truncated_r2(cls, X):
    est = cls(6, ordered_codes=True, **FAST).fit(X)
    ratio = est.explained_variance_ratio_
    assert ratio.shape == (6,) and est.n_components_ == 6
    for j in (1, 3, 6):
        np.testing.assert_allclose(
            ratio[:j].sum(), _r2(X, _truncated(est, X, j)), atol=1e-4
        )
    total = np.var(X, axis=0, ddof=1).sum()
    np.testing.assert_allclose(est.explained_variance_, ratio * total, rtol=1e-5)


def test_wide_codes_are_scored_on_a_subset_of_the_rows(X, monkeypatch):
    # One decoder pass per code and row: past the budget, the explained
    # variance comes from rows spread over the data, and stays close.
    est = skae.AutoEncoderTransformer(6, early_stopping=False, **FAST).fit(X)
    monkeypatch.setattr(skae._principal, "TRUNCATION_MIN_ROWS", 50)
    monkeypatch.setattr(skae._principal, "TRUNCATION_ROW_BUDGET", 6 * 100)
    subset = skae.AutoEncoderTransformer(6, early_stopping=False, **FAST).fit(X)
    np.testing.assert_allclose(
        subset.explained_variance_ratio_, est.explained_variance_ratio_, atol=0.03
    )
    assert not np.allclose(
        subset.explained_variance_ratio_, est.explained_variance_ratio_, atol=1e-6
    )
    # The codes' moments still come from every row.
    np.testing.assert_allclose(subset.code_mean_, est.code_mean_, rtol=1e-5)


def test_pca_start_explains_as_pca_does(X):
    # Before training, the model is PCA's solution: so is its explained variance.
    est = skae.AutoEncoderTransformer(
        5, max_iter=1, learning_rate_init=1e-12, random_state=0
    )
    est.fit(X)
    pca = PCA(5).fit(X)
    np.testing.assert_allclose(
        est.explained_variance_ratio_, pca.explained_variance_ratio_, atol=1e-4
    )


def test_fraction_keeps_the_codes_that_reach_it(X):
    # No rows held out: the fraction is reached on the training rows.
    est = skae.AutoEncoderTransformer(0.8, early_stopping=False, **FAST).fit(X)
    width = PCA(0.8).fit(X).n_components_
    assert est._architecture["n_components"] == width
    assert 1 <= est.n_components_ <= width
    assert est.explained_variance_ratio_.sum() >= 0.8 or est.n_components_ == width
    assert est._orders_codes()
    Z = est.transform(X)
    assert Z.shape == (len(X), est.n_components_)
    assert est.get_feature_names_out().shape == (est.n_components_,)
    assert est.inverse_transform(Z).shape == X.shape
    assert est.sample(2, random_state=0).shape == (2, X.shape[1])


def test_fraction_is_reached_on_the_held_out_rows_where_there_are_any(X):
    from skae._data import inference_rows

    # Epochs enough that the fit needs fewer codes than its width.
    params = dict(FAST, max_iter=20)
    est = skae.AutoEncoderTransformer(0.8, early_stopping=False, **params).fit(X)
    width = est._architecture["n_components"]

    def kept(held_out):
        rows = inference_rows(
            X.astype(np.float32), shift=est.shift_, scale=est.scale_, device="cpu"
        )
        if held_out is not None:
            held_out = inference_rows(
                held_out.astype(np.float32),
                shift=est.shift_,
                scale=est.scale_,
                device="cpu",
            )
        est._finish_fit(rows, held_out)
        return est.n_components_

    on_training_rows = kept(None)
    assert on_training_rows < width
    # Rows like the training ones reach the fraction with as many codes;
    # rows the codes cannot explain (noise) never do, so every code is kept.
    assert kept(X[::-1].copy()) == on_training_rows
    noise = np.random.RandomState(0).normal(size=X.shape)
    assert kept(noise) == width
    # The explained variance is still over every row given.
    assert len(est.explained_variance_ratio_) == width


def test_scores_follow_the_kept_codes(X):
    est = skae.AutoEncoderTransformer(0.6, whiten=True, random_state=0).fit(X)
    assert est.n_components_ < est._architecture["n_components"]
    X_hat = est.inverse_transform(est.transform(X))
    expected = -np.mean((X - X_hat) ** 2, axis=1)
    np.testing.assert_allclose(est.score_samples(X), expected, rtol=1e-4, atol=1e-6)


def test_whiten(X):
    plain = skae.AutoEncoderTransformer(4, **FAST).fit(X)
    white = skae.AutoEncoderTransformer(4, whiten=True, **FAST).fit(X)
    Z = white.transform(X)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(4), atol=1e-6)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-6)
    # Whitening is a map on the codes: the model is the same.
    expected = plain.inverse_transform(plain.transform(X))
    np.testing.assert_allclose(white.inverse_transform(Z), expected, atol=1e-5)
    np.testing.assert_array_equal(white.code_covariance_, np.eye(4))
    assert white.sample(3, random_state=0).shape == (3, X.shape[1])


def test_whitened_fraction_round_trips_through_a_model_file(X, tmp_path):
    est = skae.AutoEncoderTransformer(0.7, whiten=True, **FAST).fit(X)
    skae.save(est, tmp_path / "m.safetensors")
    loaded = skae.load(tmp_path / "m.safetensors")
    assert loaded.n_components_ == est.n_components_
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(
        loaded.explained_variance_ratio_, est.explained_variance_ratio_
    )
    Z = est.transform(X[:5])
    np.testing.assert_array_equal(loaded.inverse_transform(Z), est.inverse_transform(Z))


def test_ordered_codes_order_the_truncations(X):
    est = skae.AutoEncoderTransformer(
        8, ordered_codes=True, random_state=0, max_iter=30
    )
    est.fit(X)
    errors = [np.mean((X - _truncated(est, X, j)) ** 2) for j in range(1, 9)]
    assert np.all(np.diff(errors) < 0)


def test_linear_ordered_codes_are_the_principal_components():
    # Rippel et al.'s theorem, from a random start: a linear autoencoder
    # with ordered codes recovers PCA, components in order. Full batches
    # and no weight decay, so that training reaches the optimum.
    from scipy.linalg import subspace_angles

    X = StandardScaler().fit_transform(load_digits().data)
    est = skae.AutoEncoderTransformer(
        4,
        activation="identity",
        hidden_layer_sizes=(),
        init="random",
        ordered_codes=True,
        alpha=0.0,
        batch_size=len(X),
        learning_rate_init=0.01,
        early_stopping=False,
        tol=0.0,
        max_iter=300,
        n_iter_no_change=300,
        random_state=0,
    ).fit(X)
    pca = PCA(4).fit(X)
    np.testing.assert_allclose(
        est.explained_variance_ratio_, pca.explained_variance_ratio_, atol=0.002
    )
    # The directions the first j codes move the reconstruction along.
    steps = est.inverse_transform(est.code_mean_ + np.eye(4)) - est.inverse_transform(
        est.code_mean_[None]
    )
    for j in range(1, 5):
        angles = subspace_angles(steps[:j].T, pca.components_[:j].T)
        assert np.degrees(angles.max()) < 3


@pytest.mark.parametrize("linear_path", [False, True])
@pytest.mark.parametrize("hidden", [(), (8,)])
def test_rebased_codes_leave_the_outputs_unchanged(linear_path, hidden):
    import torch

    from skae._modules import MLPAutoEncoder

    generator = torch.Generator().manual_seed(0)
    module = MLPAutoEncoder(6, 3, hidden, linear_path=linear_path).double()
    module.reset_parameters(generator)
    for p in module.parameters():
        p.data.normal_(generator=generator)
    x = torch.randn(20, 6, dtype=torch.float64, generator=generator)
    with torch.no_grad():
        codes, output = module.encode(x), module.decode(module.encode(x))
        center = torch.randn(3, dtype=torch.float64, generator=generator)
        basis = torch.randn(3, 3, dtype=torch.float64, generator=generator)
        module.rebase_codes(center.numpy(), basis.numpy())
        torch.testing.assert_close(module.encode(x), (codes - center) @ basis)
        torch.testing.assert_close(module.decode(module.encode(x)), output)


def test_nested_dropout_only_while_training():
    import torch

    from skae._modules import NestedDropout

    layer = NestedDropout().eval()
    codes = torch.randn(64, 5)
    assert layer(codes) is codes
    layer.train()
    layer.generator = torch.Generator().manual_seed(0)
    codes = torch.randn(20000, 5)
    out = layer(codes)
    # Rows keep their first b codes: 90 % every code, every row its first.
    kept = (out == codes).sum(dim=1)
    assert torch.equal(out[:, 0], codes[:, 0])
    assert abs((kept == 5).float().mean() - 0.9) < 0.01
    # The truncated rows draw b log-uniformly: b = 1 as often as 2..4.
    truncated = kept[kept < 5]
    shares = torch.bincount(truncated, minlength=5)[1:5] / len(truncated)
    expected = torch.log(torch.tensor([2 / 1, 3 / 2, 4 / 3, 5 / 4])) / np.log(5)
    assert torch.allclose(shares, expected.float(), atol=0.03)


def test_fraction_refused_where_it_does_not_apply(X):
    with pytest.raises(ValueError, match="n_components"):
        skae.VAESampler(0.5).fit(X)
    with pytest.raises(ValueError, match="n_components"):
        skae.AutoEncoderTransformer(1.5).fit(X)
