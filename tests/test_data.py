"""The data layer: every row source fulfils the same protocol, the same way."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skae._data import (
    HostRows,
    StreamedRows,
    TensorRows,
    column_stats,
    read_rows,
    training_rows,
)


def _X(n=1000, d=5, seed=0):
    return np.random.RandomState(seed).uniform(-1, 3, size=(n, d)).astype(np.float32)


def _sources(X, targets=None):
    """The same rows served by each kind of source."""
    return {
        "tensor": TensorRows(torch.tensor(X), targets=targets),
        "host": HostRows(X, targets=targets),
        "sparse": HostRows(sp.csr_matrix(X), targets=targets),
        "streamed": StreamedRows(X, buffer_rows=128, targets=targets),
    }


KINDS = ["tensor", "host", "sparse", "streamed"]


@pytest.mark.parametrize("kind", KINDS)
def test_batches_serve_every_row_in_order(kind):
    X = _X()
    rows = _sources(X)[kind]
    assert len(rows) == len(X) and rows.shape == X.shape
    batches = list(rows.batches(64))
    assert [len(b) for b, _ in batches] == [64] * 15 + [40]
    np.testing.assert_array_equal(torch.cat([b for b, _ in batches]).numpy(), X)
    # Without targets an autoencoder's batch is its own target.
    assert all(t is b for b, t in batches)


@pytest.mark.parametrize("kind", KINDS)
def test_shuffled_batches_are_a_new_permutation_each_epoch(kind):
    X = np.arange(1000, dtype=np.float32)[:, None]
    rows = _sources(X)[kind]
    generator = torch.Generator().manual_seed(0)
    orders = []
    for _ in range(2):
        batches = [b for b, _ in rows.shuffled(64, generator)]
        assert all(len(b) == 64 for b in batches[:-1])
        order = torch.cat(batches).numpy().ravel()
        np.testing.assert_array_equal(np.sort(order), np.arange(1000))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], np.arange(1000))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shuffle", [True, False])
def test_shards_make_up_each_batch(kind, shuffle):
    X = np.arange(300, dtype=np.float32)[:, None]
    rows = _sources(X)[kind]

    def batches(shard):
        if shuffle:
            generator = torch.Generator().manual_seed(1)
            return list(rows.shuffled(32, generator, shard))
        return list(rows.batches(32, shard))

    whole, first, second = batches(None), batches((0, 2)), batches((1, 2))
    assert len(whole) == len(first) == len(second)
    for (batch, _), (a, _), (b, _) in zip(whole, first, second, strict=True):
        shares = torch.cat([a, b]).numpy().ravel()
        np.testing.assert_array_equal(np.sort(shares), np.sort(batch.numpy().ravel()))


@pytest.mark.parametrize("kind", KINDS)
def test_targets_follow_their_rows(kind):
    X = np.arange(500, dtype=np.float32)[:, None]
    targets = torch.arange(500) * 10
    rows = _sources(X, targets)[kind].take(np.arange(100, 500, 2))
    for batches in (
        rows.shuffled(48, torch.Generator().manual_seed(0)),
        rows.batches(48),
        rows.shuffled(48, torch.Generator().manual_seed(0), (1, 2)),
    ):
        for inputs, target in batches:
            np.testing.assert_array_equal(inputs.numpy().ravel() * 10, target.numpy())


@pytest.mark.parametrize("kind", KINDS)
def test_take_and_split_keep_the_standardisation(kind):
    X = _X()
    shift, scale = X.mean(axis=0), 2.5
    rows = _sources(X.copy())[kind].standardised(shift, scale)
    index = np.array([3, 10, 11, 500, 999])
    taken = torch.cat([b for b, _ in rows.take(index).batches(2)]).numpy()
    np.testing.assert_allclose(taken, (X[index] - shift) / scale, rtol=1e-5, atol=1e-6)
    train, valid = rows.split(0.2, np.random.RandomState(0))
    assert (len(train), len(valid)) == (800, 200)
    served = [torch.cat([b for b, _ in part.batches(64)]) for part in (train, valid)]
    both = np.sort(torch.cat(served).numpy(), axis=0)
    expected = np.sort((X - shift) / scale, axis=0)
    np.testing.assert_allclose(both, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_column_stats_agree_with_numpy(kind):
    X = _X(n=3000)
    stats = _sources(X)[kind].column_stats()
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(stats.mean, X64.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.var, X64.var(axis=0), rtol=1e-10)
    np.testing.assert_array_equal(stats.min, X64.min(axis=0))
    np.testing.assert_array_equal(stats.max, X64.max(axis=0))


def test_column_stats_do_not_cancel_far_from_zero():
    # Values 1e8 + U(0, 1): E[x^2] - E[x]^2 loses every digit of the
    # variance (1/12) in float64; the pairwise update keeps it.
    rng = np.random.RandomState(0)
    X = 1e8 + rng.uniform(size=(20000, 3))
    blocks = np.array_split(X, 37)
    stats = column_stats(blocks)
    np.testing.assert_allclose(stats.var, X.var(axis=0), rtol=1e-6)
    naive = (X**2).mean(axis=0) - X.mean(axis=0) ** 2
    assert np.abs(naive - X.var(axis=0)).max() > 1e-3  # What is avoided.
    sparse = HostRows(sp.csr_matrix(X)).column_stats()
    np.testing.assert_allclose(sparse.var, X.var(axis=0), rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_mapped_rows_are_fn_of_every_row(kind):
    X = _X(n=700)
    rows = _sources(X)[kind]
    codes = rows.mapped(lambda x: x[:, :2] * 2, 2, 100)
    assert len(codes) == 700 and codes.n_features == 2
    served = torch.cat([b for b, _ in codes.batches(256)]).numpy()
    np.testing.assert_allclose(served, X[:, :2] * 2)
    assert type(codes) is (StreamedRows if kind == "streamed" else TensorRows)


def test_checks_run_on_values_before_conversion():
    def refuse_negative(values):
        if values.min() < 0:
            raise ValueError("negative")

    X = _X()
    for data in (X, sp.csr_matrix(X)):
        with pytest.raises(ValueError, match="negative"):
            training_rows(data, device="cpu", check=refuse_negative)
    rows = StreamedRows(X, check=refuse_negative, buffer_rows=128)
    with pytest.raises(ValueError, match="negative"):
        rows.column_stats()
    with pytest.raises(ValueError, match="negative"):
        read_rows(X, np.array([1, 5]), check=refuse_negative)


def test_training_rows_own_their_tensor():
    X = _X()
    before = X.copy()
    rows = training_rows(X, device="cpu", check=lambda values: None)
    rows.standardised(X.mean(axis=0), 2.0)
    # Standardised in place, but in the source's own copy.
    np.testing.assert_array_equal(X, before)
