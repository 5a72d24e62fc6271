"""Count losses ('poisson', 'softmax') for word counts, and text retrieval."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skae import AutoEncoderTransformer, BinaryAutoEncoder, precision_at_k
from skae._losses import (
    LOSS_OUTPUTS,
    RECONSTRUCTION_LOSSES,
    multinomial_cross_entropy,
    poisson_nll,
)

FAST = dict(hidden_layer_sizes=(16,), max_iter=2, early_stopping=False, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def corpus():
    from skae.datasets import load_docstrings

    return load_docstrings()


@pytest.fixture(scope="module")
def counts(corpus):
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        stop_words="english",
        min_df=2,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
    return vectorizer.fit_transform(corpus.data).astype(np.float32)


def test_poisson_by_hand():
    o = torch.tensor([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 1.0]], dtype=torch.float64)
    expected = [
        ((1 - 0) + (np.e - 0) + (np.exp(-1) + 3)) / 3,
        ((np.exp(2) - 0) + (1 - 0) + (np.exp(0.5) - 0.5)) / 3,
    ]
    np.testing.assert_allclose(poisson_nll(o, x).numpy(), expected)
    # Up to log(x!), the Poisson negative log-likelihood.
    nll = -torch.distributions.Poisson(o.exp()).log_prob(x).mean(dim=1)
    log_factorial = torch.lgamma(x + 1).mean(dim=1)
    np.testing.assert_allclose(poisson_nll(o, x), nll - log_factorial)


def test_softmax_by_hand():
    o = torch.tensor([[0.0, np.log(3.0)]], dtype=torch.float64)  # p = 1/4, 3/4
    x = torch.tensor([[2.0, 1.0]], dtype=torch.float64)
    expected = -(2 * np.log(0.25) + 1 * np.log(0.75)) / 2
    np.testing.assert_allclose(multinomial_cross_entropy(o, x).numpy(), [expected])


def test_losses_are_registered():
    assert {"poisson", "softmax"} <= set(RECONSTRUCTION_LOSSES)
    assert LOSS_OUTPUTS["poisson"] == "exp" and LOSS_OUTPUTS["softmax"] == "softmax"
    # The base's parameter table accepts them.
    AutoEncoderTransformer(loss="poisson")._validate_params()
    AutoEncoderTransformer(loss="softmax")._validate_params()


@pytest.mark.parametrize("loss", ["poisson", "softmax"])
def test_negative_input_is_rejected(loss):
    X = np.abs(np.random.RandomState(0).normal(size=(20, 5)))
    X[3, 2] = -1.0
    with pytest.raises(ValueError, match="Negative values"):
        AutoEncoderTransformer(2, loss=loss, **FAST).fit(X)
    with pytest.raises(ValueError, match="Negative values"):
        AutoEncoderTransformer(2, loss=loss, **FAST).fit(sp.csr_matrix(X))


@pytest.mark.parametrize("loss", ["poisson", "softmax"])
def test_no_standardisation_and_sensible_means(counts, loss):
    ae = AutoEncoderTransformer(8, loss=loss, **{**FAST, "max_iter": 5}).fit(counts)
    assert ae.shift_ is None and ae.scale_ == 1.0
    means = ae.inverse_transform(ae.transform(counts[:50]))
    assert np.all(means > 0)
    if loss == "softmax":
        # Word frequencies of each document.
        np.testing.assert_allclose(means.sum(axis=1), 1, rtol=1e-4)
    else:
        # Expected counts, on the scale of the data.
        totals = np.asarray(counts.sum(axis=1)).ravel()
        assert 0.1 < means.sum() / totals[:50].sum() < 10
    scores = ae.score_samples(counts[:50])
    assert scores.shape == (50,) and np.all(np.isfinite(scores))


@pytest.mark.parametrize("loss", ["poisson", "softmax"])
def test_sparse_text_is_never_densified_whole(counts, loss, monkeypatch):
    from skae._net import INFERENCE_BATCH_SIZE as _INFERENCE_BATCH_SIZE

    # More rows than one inference batch, so that "whole" means something.
    counts = sp.vstack([counts] * 6).tocsr()
    assert counts.shape[0] > _INFERENCE_BATCH_SIZE
    densified = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        densified.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    params = {**FAST, "max_iter": 1}
    ae = BinaryAutoEncoder(16, loss=loss, batch_size=32, **params).fit(counts)
    assert densified.count(32) == counts.shape[0] // 32
    assert max(densified) == _INFERENCE_BATCH_SIZE
    densified.clear()
    ae.transform_packed(counts)
    assert max(densified) == _INFERENCE_BATCH_SIZE


@pytest.mark.parametrize("weighting", ["counts", "tfidf"])
def test_ten_codes_beat_lsa_at_ten(corpus, counts, weighting):
    """Issue 6's acceptance: codes of 10 dimensions beat LSA(10), precision@10.

    Each model gets the representation that suits it best, and LSA the same
    matrix: word counts with the Poisson loss, tf-idf with the squared error.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer

    y = corpus.target
    X, loss = counts, "poisson"
    if weighting == "tfidf":
        X, loss = TfidfTransformer().fit_transform(counts), "mse"
    lsa = TruncatedSVD(10, random_state=0).fit_transform(X)
    ae = AutoEncoderTransformer(10, loss=loss, max_iter=50, random_state=0)
    codes = ae.fit_transform(X)
    p_lsa = precision_at_k(lsa, y, 10, metric="cosine")
    p_ae = precision_at_k(codes, y, 10, metric="cosine")
    print(f"precision@10 on {weighting}: LSA-10 {p_lsa:.4f}  AE-10 ({loss}) {p_ae:.4f}")
    assert p_ae > p_lsa


def test_text_retrieval_beats_lsa_on_counts(corpus, counts):
    """32 codes on word counts: Poisson autoencoder vs LSA (TruncatedSVD)."""
    from sklearn.decomposition import TruncatedSVD

    y = corpus.target
    lsa = TruncatedSVD(32, random_state=0).fit_transform(counts)
    ae = AutoEncoderTransformer(32, loss="poisson", max_iter=50, random_state=0)
    codes = ae.fit_transform(counts)
    p_lsa = precision_at_k(lsa, y, 10, metric="cosine")
    p_ae = precision_at_k(codes, y, 10, metric="cosine")
    print(f"precision@10: LSA-32 {p_lsa:.4f}  AE-32 (poisson) {p_ae:.4f}")
    assert p_ae > p_lsa
