"""Memory-mapped and lazily read arrays: streamed fit, batched inference."""

import numpy as np
import pytest
import torch
from sklearn import config_context
from skorch.callbacks import Callback

from skae import (
    AutoEncoderClassifier,
    AutoEncoderTransformer,
    ConvAutoEncoder,
    DenoisingAE,
)
from skae._data import StreamedRows
from skae._rowsource import INFERENCE_BATCH_SIZE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    return np.random.RandomState(0).uniform(size=(3000, 16)).astype(np.float32)


@pytest.fixture
def model(data):
    return AutoEncoderTransformer(
        3, hidden_layer_sizes=(8,), max_iter=2, random_state=0
    ).fit(data)


def _saved(path, X):
    np.save(path, X)
    return path


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_same_results_as_in_memory(tmp_path, data, model, mode):
    X = np.load(_saved(tmp_path / "X.npy", data), mmap_mode=mode)
    np.testing.assert_array_equal(model.transform(X), model.transform(data))
    np.testing.assert_array_equal(model.score_samples(X), model.score_samples(data))
    # A view of a memmap, starting mid-page, is read from the right rows.
    np.testing.assert_array_equal(
        model.transform(X[1001:2999]), model.transform(data[1001:2999])
    )
    # Copy-on-write changes survive: their pages are never released.
    if mode == "c":
        X[5] = 0
        np.testing.assert_array_equal(X[5], 0)
        model.transform(X)
        np.testing.assert_array_equal(X[5], 0)


def test_values_are_checked_batch_by_batch(tmp_path, data, model):
    data[2900, 3] = np.nan
    X = np.load(_saved(tmp_path / "X.npy", data), mmap_mode="r")
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.transform(X)
    data[2900, 3] = -1
    poisson = AutoEncoderTransformer(
        2, hidden_layer_sizes=(4,), loss="poisson", max_iter=1
    ).fit(np.abs(data))
    X = np.load(_saved(tmp_path / "Y.npy", data), mmap_mode="r")
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        poisson.transform(X)


def _file_pages():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) * 1024
    pytest.fail("no RssFile in /proc/self/status")


@pytest.mark.skipif(
    not __import__("os").path.exists("/proc/self/status"), reason="Linux only"
)
def test_pages_of_the_file_are_released(tmp_path, model):
    # 100 MB of rows: read through the map without releasing, they would
    # all stay resident.
    n_rows = 100 * 2**20 // (16 * 4)
    X = np.lib.format.open_memmap(
        tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(n_rows, 16)
    )
    X[:] = 0.5
    X.flush()
    del X
    X = np.load(tmp_path / "big.npy", mmap_mode="r")
    before = _file_pages()
    codes = model.transform(X)
    assert codes.shape == (n_rows, 3)
    assert _file_pages() - before < 20 * 2**20


def test_four_dimensional_memmap_of_images(tmp_path):
    images = np.random.RandomState(0).uniform(size=(50, 1, 6, 6)).astype(np.float32)
    ae = ConvAutoEncoder(2, conv_channels=(2,), max_iter=1, random_state=0)
    ae.fit(images)
    X = np.load(_saved(tmp_path / "images.npy", images), mmap_mode="r")
    np.testing.assert_array_equal(ae.transform(X), ae.transform(images))


def test_uint8_memmap_is_read_as_in_memory(tmp_path, model):
    pixels = np.random.RandomState(1).randint(0, 2, size=(500, 16)).astype(np.uint8)
    X = np.load(_saved(tmp_path / "X.npy", pixels), mmap_mode="r")
    codes = model.transform(X)
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(codes, model.transform(pixels))


# Streamed fit ----------------------------------------------------------
# ``fit`` streams a memmap (or lazily read array) larger than scikit-learn's
# working_memory; 1 MiB here, so that a few MB of rows are streamed.


class _Reads:
    """A lazily read array (as an h5py dataset) that records every read."""

    def __init__(self, X):
        self._X = X
        self.shape, self.dtype, self.ndim = X.shape, X.dtype, X.ndim
        self.reads = []

    def __getitem__(self, index):
        rows = self._X[index]
        self.reads.append(len(rows))
        return rows


@pytest.fixture
def low_rank():
    """20,000 x 32 float32 rows (2.4 MiB) near a 4-dimensional subspace."""
    rng = np.random.RandomState(0)
    codes = rng.normal(size=(24000, 4))
    X = np.tanh(codes @ rng.normal(size=(4, 32))) + 0.05 * rng.normal(size=(24000, 32))
    return X[:20000].astype(np.float32), X[20000:].astype(np.float32)


def _ae(**params):
    params = {
        "hidden_layer_sizes": (32,),
        "max_iter": 8,
        "early_stopping": False,
        "random_state": 0,
        **params,
    }
    return AutoEncoderTransformer(4, **params)


def _mse(model, X):
    return np.mean((model.inverse_transform(model.transform(X)) - X) ** 2)


def test_streamed_fit_learns_as_well_as_in_memory(tmp_path, low_rank):
    train, test = low_rank
    X = np.load(_saved(tmp_path / "X.npy", train), mmap_mode="r")
    in_memory = _ae().fit(train)
    with config_context(working_memory=1):
        streamed = _ae().fit(X)
        again = _ae().fit(X)
    # Reproducible, and as good as the model trained on the loaded rows.
    np.testing.assert_array_equal(streamed.transform(test), again.transform(test))
    assert streamed.n_iter_ == in_memory.n_iter_ == 8
    assert _mse(streamed, test) < 1.1 * _mse(in_memory, test)
    # The statistics come from the streamed pass.
    np.testing.assert_allclose(streamed.shift_, train.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(streamed.scale_, in_memory.scale_, rtol=1e-5)
    # A memmap within the working memory is loaded: the in-memory result.
    np.testing.assert_array_equal(
        _ae().fit(X).transform(test), in_memory.transform(test)
    )


class _EpochReads(Callback):
    """Marks where each training epoch starts and ends in ``reads``."""

    def __init__(self, reads):
        self.reads = reads
        self.marks = []

    def __deepcopy__(self, memo):
        # fit deep-copies its callbacks: the copy is this one.
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.marks.append(len(self.reads))

    def on_epoch_end(self, net, **kwargs):
        self.marks.append(len(self.reads))


def test_streamed_fit_reads_in_blocks_once_per_epoch(low_rank):
    train, _ = low_rank
    X = _Reads(train)
    epochs = _EpochReads(X.reads)
    with config_context(working_memory=1):
        model = _ae(max_iter=3, callbacks=[epochs]).fit(X)
    # One pass to check the values and standardise, one per epoch, then two
    # (in inference batches): the codes' statistics, and the explained
    # variance, which holds codes at the mean the first pass found.
    begins, ends = epochs.marks[::2], epochs.marks[1::2]
    assert len(begins) == len(ends) == 3
    check, codes = X.reads[: begins[0]], X.reads[ends[-1] :]
    training = [X.reads[a:b] for a, b in zip(begins, ends, strict=True)]
    # Nothing is read between epochs.
    assert begins[1:] == ends[:-1]
    # The check and each epoch read every row once, a block at a time; before
    # training, a second pass finds PCA's axes for the PCA start.
    block_rows = 2**20 // 2 // (4 * 32) // 64
    assert sum(check) == 2 * len(train) and max(check) <= block_rows
    for reads in training:
        assert sum(reads) == len(train)
        assert max(reads) <= block_rows
    assert sum(codes) == 2 * len(train)
    assert model.transform(train).shape == (len(train), 4)


def test_streamed_epochs_are_permutations_of_mixed_batches():
    n = 5000
    X = np.arange(n, dtype=np.float32)[:, None]
    rows = StreamedRows(X, buffer_rows=640)
    generator = torch.Generator().manual_seed(0)
    seen = []
    for _ in range(2):
        batches = [b for _, b in rows.shuffled(128, generator)]
        assert all(len(b) == 128 for b in batches[:-1])
        order = torch.cat(batches).ravel().numpy()
        np.testing.assert_array_equal(np.sort(order), np.arange(n))
        seen.append(order)
        # A batch mixes rows from all over the file, not one block's.
        assert np.ptp(batches[0].numpy()) > n / 4
    assert not np.array_equal(seen[0], seen[1])
    # Two processes' shares of each batch make the batch.
    shares = [
        list(rows.shuffled(128, torch.Generator().manual_seed(1), (rank, 2)))
        for rank in (0, 1)
    ]
    whole = list(rows.shuffled(128, torch.Generator().manual_seed(1)))
    for (_, a), (_, b), (_, batch) in zip(*shares, whole, strict=True):
        np.testing.assert_array_equal(
            np.sort(torch.cat([a, b]).ravel().numpy()), np.sort(batch.ravel().numpy())
        )


def test_a_sparse_split_is_read_a_block_at_a_time():
    X = _Reads(np.arange(10000, dtype=np.float32)[:, None])
    index = np.sort(np.random.RandomState(0).choice(10000, 300, replace=False))
    split = StreamedRows(X, buffer_rows=640).take(index)
    rows = np.concatenate(list(split.blocks()))
    np.testing.assert_array_equal(rows.ravel(), index)
    assert max(X.reads) <= split.block_rows == 10
    np.testing.assert_array_equal(split.read(5, 50).ravel(), index[5:50])


def test_streamed_fit_with_early_stopping_and_denoising(tmp_path, low_rank):
    train, _ = low_rank
    X = np.load(_saved(tmp_path / "X.npy", train), mmap_mode="r")
    with config_context(working_memory=1):
        model = _ae(early_stopping=True, max_iter=3).fit(X)
        denoising = DenoisingAE(
            4, hidden_layer_sizes=(8,), max_iter=1, random_state=0
        ).fit(X)
    assert len(model.validation_scores_) == model.n_iter_ == 3
    assert model.validation_scores_[-1] > model.validation_scores_[0]
    np.testing.assert_array_equal(denoising.data_min_, train.min(axis=0))
    np.testing.assert_array_equal(denoising.data_max_, train.max(axis=0))


def test_streamed_greedy_pretraining_streams_every_stage(
    tmp_path, low_rank, monkeypatch
):
    train, test = low_rank
    X = np.load(_saved(tmp_path / "X.npy", train), mmap_mode="r")
    stages = []
    mapped = StreamedRows.mapped

    def recording(rows, fn, n_out, batch_size):
        codes = mapped(rows, fn, n_out, batch_size)
        # The codes are the stage's encoding of the rows it was given.
        with torch.inference_mode():
            expected = fn(next(rows.batches(100))[0]).numpy()
        np.testing.assert_allclose(codes.read(0, 100), expected, rtol=1e-6)
        stages.extend([rows, codes])
        return codes

    params = dict(hidden_layer_sizes=(24, 16), pretraining="greedy")
    params.update(pretraining_max_iter=2, max_iter=4)
    in_memory = _ae(**params).fit(train)
    monkeypatch.setattr(StreamedRows, "mapped", recording)
    with config_context(working_memory=1):
        model = _ae(**params).fit(X)
    # Two stages read the codes of the one below: both from a file, the
    # deepest's layer activations from the middle one's.
    assert len(stages) == 4
    assert all(isinstance(rows, StreamedRows) for rows in stages)
    for rows, codes, width in [(stages[0], stages[1], 24), (stages[2], stages[3], 16)]:
        assert isinstance(codes.X, np.memmap) and codes.X.shape == (len(train), width)
        # The same memory per buffer, in rows of the codes' width.
        assert codes.buffer_rows * width <= rows.buffer_rows * rows.X.shape[1]
    assert len(model.pretraining_loss_curves_) == 3
    assert _mse(model, test) < 1.1 * _mse(in_memory, test)


def test_streamed_fit_checks_values_before_training(tmp_path, low_rank):
    train, _ = low_rank
    train = train.copy()
    train[19000, 5] = np.inf
    X = np.load(_saved(tmp_path / "X.npy", train), mmap_mode="r")
    model = _ae()
    with config_context(working_memory=1), pytest.raises(ValueError, match="infinity"):
        model.fit(X)
    assert not hasattr(model, "net_")
    train[19000, 5] = -1
    X = np.load(_saved(tmp_path / "Y.npy", train), mmap_mode="r")
    with config_context(working_memory=1), pytest.raises(ValueError, match="Negative"):
        _ae(loss="poisson").fit(X)


def test_lazy_array_shape_and_dtype_errors(low_rank):
    train, _ = low_rank
    with config_context(working_memory=1):
        with pytest.raises(ValueError, match="Expected a 2D array"):
            _ae().fit(_Reads(train.reshape(-1)))
        with pytest.raises(ValueError, match="Complex data not supported"):
            _ae().fit(_Reads(train.astype(np.complex64)))
        with pytest.raises(ValueError, match="needs numeric data"):
            _ae().fit(_Reads(train.astype("U3")))
        model = _ae(max_iter=1).fit(_Reads(train))
    with pytest.raises(ValueError, match="X has 31 features"):
        model.transform(_Reads(train[:, :31]))
    with pytest.raises(ValueError, match="minimum of 1 is required"):
        model.transform(_Reads(train[:0]))


def test_dask_and_h5py_arrays_stream(tmp_path, low_rank):
    da = pytest.importorskip("dask.array")
    h5py = pytest.importorskip("h5py")
    train, test = low_rank
    with h5py.File(tmp_path / "X.h5", "w") as f:
        f.create_dataset("X", data=train, chunks=(512, 32))
    with config_context(working_memory=1):
        reference = _ae(max_iter=2).fit(train[:, :])
        with h5py.File(tmp_path / "X.h5", "r") as f:
            from_h5 = _ae(max_iter=2).fit(f["X"])
            np.testing.assert_array_equal(
                from_h5.transform(f["X"]), from_h5.transform(train)
            )
        from_dask = _ae(max_iter=2).fit(da.from_array(train, chunks=(1000, 32)))
    # The same rows in the same blocks: the same model.
    np.testing.assert_array_equal(from_h5.transform(test), from_dask.transform(test))
    assert _mse(from_h5, test) < 1.2 * _mse(reference, test)


@pytest.mark.skipif(
    not __import__("os").path.exists("/proc/self/status"), reason="Linux only"
)
def test_streamed_fit_releases_the_file(tmp_path):
    n_rows = 100 * 2**20 // (16 * 4)
    X = np.lib.format.open_memmap(
        tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(n_rows, 16)
    )
    X[:] = np.random.RandomState(0).uniform(size=(1, 16))
    X.flush()
    del X
    X = np.load(tmp_path / "big.npy", mmap_mode="r")
    before = _file_pages()
    with config_context(working_memory=16):
        AutoEncoderTransformer(
            2, hidden_layer_sizes=(4,), max_iter=1, batch_size=4096, random_state=0
        ).fit(X)
    assert _file_pages() - before < 20 * 2**20


def test_classifier_streams_a_memmap(tmp_path, low_rank):
    train, test = low_rank
    y = (train[:, 0] > np.median(train[:, 0])).astype(int)
    y[np.random.RandomState(0).uniform(size=len(y)) < 0.9] = -1
    X = np.load(_saved(tmp_path / "X.npy", train), mmap_mode="r")
    params = dict(n_components=4, hidden_layer_sizes=(16,), random_state=0)
    params.update(pretraining_max_iter=3, max_iter=5)
    in_memory = AutoEncoderClassifier(**params).fit(train, y)
    reads, labeled_only = _Reads(train), _Reads(train)
    with config_context(working_memory=1):
        streamed = AutoEncoderClassifier(**params).fit(X, y)
        AutoEncoderClassifier(**params).fit(reads, y)
        AutoEncoderClassifier(pseudo_labels=None, **params).fit(labeled_only, y)
    # Never read whole: blocks of the autoencoder's buffers, and blocks
    # holding the labeled rows (with the unlabeled ones between them); the
    # codes the labels spread over are computed batch by batch, as
    # transform reads a memmap.
    assert max(labeled_only.reads) <= 2**20 // 2 // (4 * 32) // 64
    assert max(reads.reads) <= INFERENCE_BATCH_SIZE < len(train)
    assert streamed.n_features_in_ == 32
    y_test = (test[:, 0] > np.median(train[:, 0])).astype(int)
    assert streamed.score(test, y_test) > in_memory.score(test, y_test) - 0.05
    # predict_proba reads a memmap batch by batch, as it would the array.
    Xt = np.load(_saved(tmp_path / "Xt.npy", test), mmap_mode="r")
    np.testing.assert_array_equal(
        streamed.predict_proba(Xt), streamed.predict_proba(test)
    )
    bad = test.copy()
    bad[7, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        streamed.predict(np.load(_saved(tmp_path / "bad.npy", bad), mmap_mode="r"))
