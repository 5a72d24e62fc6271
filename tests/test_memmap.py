"""transform, inverse_transform and score_samples over memory-mapped files."""

import numpy as np
import pytest

from skae import AutoEncoderTransformer, ConvAutoEncoder

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
