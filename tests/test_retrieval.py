"""HammingIndex against brute force, and precision_at_k."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skae import HammingIndex, precision_at_k


def _brute_force(database_bits, query_bits, k, leave_out=False):
    """Distances by unpacked bits, ties broken by index (a stable sort)."""
    dist = (query_bits[:, None, :] != database_bits[None, :, :]).sum(axis=2)
    if leave_out:
        np.fill_diagonal(dist, dist.max() + 1)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(dist, order, axis=1), order


@pytest.mark.parametrize("n_bits", [64, 128, 7, 12, 40, 100])
def test_matches_brute_force(n_bits):
    rng = np.random.RandomState(n_bits)
    # Few distinct bits make many ties, which must come in order of index.
    database = (rng.uniform(size=(300, n_bits)) < 0.1).astype(np.uint8)
    queries = (rng.uniform(size=(25, n_bits)) < 0.1).astype(np.uint8)
    index = HammingIndex().fit(np.packbits(database, axis=1))
    distances, indices = index.kneighbors(np.packbits(queries, axis=1), 15)
    expected_dist, expected_ind = _brute_force(database, queries, 15)
    np.testing.assert_array_equal(distances, expected_dist)
    np.testing.assert_array_equal(indices, expected_ind)
    assert distances.dtype == indices.dtype == np.int64


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
def test_chunking_does_not_change_results(chunk_size):
    rng = np.random.RandomState(0)
    database = np.packbits(rng.randint(0, 2, size=(200, 24)).astype(np.uint8), 1)
    queries = np.packbits(rng.randint(0, 2, size=(20, 24)).astype(np.uint8), 1)
    reference = HammingIndex().fit(database).kneighbors(queries, 5)
    chunked = HammingIndex(chunk_size=chunk_size).fit(database).kneighbors(queries, 5)
    for a, b in zip(reference, chunked, strict=True):
        np.testing.assert_array_equal(a, b)


def test_leave_one_out_and_all_neighbours():
    rng = np.random.RandomState(1)
    bits = rng.randint(0, 2, size=(50, 16)).astype(np.uint8)
    index = HammingIndex().fit(np.packbits(bits, axis=1))
    distances, indices = index.kneighbors(None, 49)
    expected_dist, expected_ind = _brute_force(bits, bits, 49, leave_out=True)
    np.testing.assert_array_equal(distances, expected_dist)
    np.testing.assert_array_equal(indices, expected_ind)
    assert not np.any(indices == np.arange(50)[:, None])
    # k equal to the database size: everything, sorted.
    indices = index.kneighbors(np.packbits(bits[:2], axis=1), 50, False)
    assert sorted(indices[0]) == list(range(50))


def test_numpy_fallback_popcount(monkeypatch):
    from skae import _retrieval

    words = np.random.RandomState(0).randint(0, 2**63, size=(4, 3), dtype=np.int64)
    words = words.astype(np.uint64) * 2 + 1
    expected = _retrieval._popcount(words)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    np.testing.assert_array_equal(_retrieval._popcount(words), expected)


def test_torch_path_on_cpu_matches_numpy():
    rng = np.random.RandomState(2)
    database = np.packbits(rng.randint(0, 2, size=(100, 20)).astype(np.uint8), 1)
    queries = np.packbits(rng.randint(0, 2, size=(10, 20)).astype(np.uint8), 1)
    a = HammingIndex().fit(database).kneighbors(queries, 7)
    b = HammingIndex(device="cpu", chunk_size=3).fit(database).kneighbors(queries, 7)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    a = HammingIndex().fit(database).kneighbors(None, 7)
    b = HammingIndex(device="cpu").fit(database).kneighbors(None, 7)
    np.testing.assert_array_equal(a[1], b[1])


def test_bad_input():
    index = HammingIndex()
    with pytest.raises(NotFittedError, match="not fitted"):
        index.kneighbors(np.zeros((1, 1), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        index.fit(np.zeros((3, 8)))
    index.fit(np.zeros((3, 2), np.uint8))
    with pytest.raises(ValueError, match="bytes per code"):
        index.kneighbors(np.zeros((1, 3), np.uint8), 1)
    with pytest.raises(ValueError, match="n_neighbors"):
        index.kneighbors(np.zeros((1, 2), np.uint8), 4)
    with pytest.raises(ValueError, match="n_neighbors"):
        index.kneighbors(None, 3)


def test_precision_at_k_by_hand():
    # Codes on a line, with labels: 0 (a), 1 (a), 3 (b), 10 (b), 12 (b), 20 (a).
    codes = np.array([[0.0], [1.0], [3.0], [10.0], [12.0], [20.0]])
    labels = np.array([0, 0, 1, 1, 1, 0])
    # Leave-one-out, k=2: neighbours 0:{1,2} 1:{0,2} 2:{1,0} 3:{4,2} 4:{3,5}
    # 5:{4,3}; matches 1/2, 1/2, 0, 1, 1/2, 0 -> mean 5/12.
    assert precision_at_k(codes, labels, k=2) == pytest.approx(5 / 12)
    queries = np.array([[0.4], [11.4]])
    # Query 0 retrieves 0 and 1 (label 0); query 1 retrieves 4 and 3 (label 1).
    assert precision_at_k(codes, labels, 2, queries, [0, 1]) == 1.0
    assert precision_at_k(codes, labels, 2, queries, [0, 0]) == 0.5
    assert precision_at_k(codes, labels, 2, queries, [1, 0]) == 0.0
    with pytest.raises(ValueError, match="query_labels"):
        precision_at_k(codes, labels, 2, queries)


def test_precision_at_k_on_binary_codes_and_index():
    bits = np.array([[0, 0, 0], [0, 0, 1], [1, 1, 1], [1, 1, 0]], dtype=np.uint8)
    packed = np.packbits(bits, axis=1)
    labels = [0, 0, 1, 1]
    assert precision_at_k(packed, labels, k=1) == 1.0
    index = HammingIndex().fit(packed)
    assert precision_at_k(index, labels, k=1) == 1.0
    # The two nearest of each code: the other member of its pair (distance
    # 1), then a member of the other pair (distance 2).
    assert precision_at_k(index, labels, k=2) == 0.5


def test_retrieval_example_in_docstring_of_hamming_route():
    # The documented scikit-learn route gives the same neighbours' distances.
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.RandomState(3)
    bits = rng.randint(0, 2, size=(60, 32)).astype(np.uint8)
    nn = NearestNeighbors(metric="hamming").fit(bits)
    sk_dist, _ = nn.kneighbors(bits[:5], 6)
    dist, _ = (
        HammingIndex().fit(np.packbits(bits, 1)).kneighbors(np.packbits(bits[:5], 1), 6)
    )
    np.testing.assert_allclose(sk_dist * 32, dist)
