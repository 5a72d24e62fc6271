"""skae.plotting: the figures' content, drawn with the Agg backend."""

import builtins
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from skae import AutoEncoderTransformer, VAESampler
from skae.plotting import (
    plot_codes,
    plot_learning_curve,
    plot_reconstructions,
    plot_samples,
)

plt = pytest.importorskip("matplotlib.pyplot")

FAST = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:200] / 16, y[:200]


@pytest.fixture(scope="module")
def ae(digits):
    return AutoEncoderTransformer(4, **FAST).fit(digits[0])


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_reconstructions_grid(ae, digits, tmp_path):
    X = digits[0]
    fig = plot_reconstructions(ae, X, n_images=6)
    assert len(fig.axes) == 12
    assert all(len(ax.images) == 1 for ax in fig.axes)
    # Row 1 shows the originals, row 2 the reconstructions, as 8x8 images.
    first, below = fig.axes[0].images[0], fig.axes[6].images[0]
    assert first.get_array().shape == (8, 8)
    np.testing.assert_allclose(first.get_array(), X[0].reshape(8, 8))
    recon = ae.inverse_transform(ae.transform(X[:1]))
    np.testing.assert_allclose(below.get_array(), recon.reshape(8, 8))
    # One colour scale for all images.
    assert len({im.get_clim() for ax in fig.axes for im in ax.images}) == 1
    assert fig.axes[0].get_ylabel() == "original"
    assert fig.axes[6].get_ylabel() == "reconstruction"
    assert "AutoEncoderTransformer" in fig._suptitle.get_text()
    fig.savefig(tmp_path / "recon.png")
    assert (tmp_path / "recon.png").stat().st_size > 0


def test_reconstructions_of_a_dataframe_and_sparse_rows(ae, digits):
    pd = pytest.importorskip("pandas")
    X = digits[0]
    df = pd.DataFrame(X, columns=[f"p{i}" for i in range(64)])
    fig = plot_reconstructions(
        AutoEncoderTransformer(4, **FAST).fit(df), df, n_images=3
    )
    assert len(_image_axes(fig)) == 6
    fig = plot_reconstructions(ae, sp.csr_matrix(X), n_images=500)
    # n_images is capped at the number of rows... of which there are 200.
    assert len(_image_axes(fig)) == 400


def test_reconstructions_image_shape(digits):
    X = digits[0][:, :60]
    ae = AutoEncoderTransformer(3, **FAST).fit(X)
    with pytest.raises(ValueError, match="not square images; pass image_shape"):
        plot_reconstructions(ae, X)
    fig = plot_reconstructions(ae, X, n_images=2, image_shape=(6, 10))
    assert fig.axes[0].images[0].get_array().shape == (6, 10)
    with pytest.raises(ValueError, match="has 64 pixels"):
        plot_reconstructions(ae, X, image_shape=(8, 8))


def test_codes_of_an_estimator_with_class_labels(ae, digits, tmp_path):
    X, y = digits
    fig = plot_codes(ae, X, y)
    ax = fig.axes[0]
    points = ax.collections[0]
    assert points.get_offsets().shape == (200, 2)
    np.testing.assert_allclose(points.get_offsets(), ae.transform(X)[:, :2])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [str(c) for c in range(10)]
    assert ax.get_xlabel() == "autoencodertransformer0"
    assert ax.get_ylabel() == "autoencodertransformer1"
    assert ax.get_title() == "AutoEncoderTransformer codes"
    fig.savefig(tmp_path / "codes.png")
    assert (tmp_path / "codes.png").exists()


def test_codes_given_as_an_array(digits):
    codes = np.random.RandomState(0).normal(size=(50, 3))
    fig = plot_codes(codes)
    ax = fig.axes[0]
    assert ax.collections[0].get_offsets().shape == (50, 2)
    assert ax.get_legend() is None and len(fig.axes) == 1
    assert ax.get_xlabel() == "code 0" and ax.get_title() == "Codes"
    # String labels get a legend; continuous values a colorbar.
    labels = np.array(["cat", "dog"] * 25)
    ax = plot_codes(codes, y=labels).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cat", "dog"]
    fig = plot_codes(codes, y=np.linspace(0, 1, 50))
    assert len(fig.axes) == 2  # the scatter's axes and the colorbar's
    assert fig.axes[0].get_legend() is None


def test_codes_on_given_axes_and_errors(ae, digits):
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_codes(ae, digits[0], ax=right) is fig
    assert len(right.collections) == 1 and not left.collections
    with pytest.raises(ValueError, match="X is required"):
        plot_codes(ae)
    with pytest.raises(ValueError, match="first two components"):
        plot_codes(np.zeros((5, 1)))
    with pytest.raises(ValueError, match="3 labels for 5 rows"):
        plot_codes(np.zeros((5, 2)), y=[0, 1, 0])


def test_samples_grid(digits, tmp_path):
    vae = VAESampler(3, **FAST).fit(digits[0])
    fig = plot_samples(vae, n_samples=7, random_state=0)
    axes = _image_axes(fig)
    assert len(fig.axes) == len(axes) == 7  # a 3x3 grid, two cells removed
    np.testing.assert_allclose(
        axes[0].images[0].get_array(), vae.sample(7, random_state=0)[0].reshape(8, 8)
    )
    assert "VAESampler samples" == fig._suptitle.get_text()
    fig.savefig(tmp_path / "samples.png")
    assert (tmp_path / "samples.png").exists()
    with pytest.raises(ValueError, match="not square"):
        plot_samples(VAESampler(2, **FAST).fit(digits[0][:, :10]))


@pytest.mark.parametrize("early_stopping", [False, True])
def test_learning_curve(digits, early_stopping, tmp_path):
    est = AutoEncoderTransformer(4, early_stopping=early_stopping, **FAST)
    est.fit(digits[0])
    fig = plot_learning_curve(est)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == (2 if early_stopping else 1)
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines[0].get_ydata(), est.loss_curve_)
    if early_stopping:
        np.testing.assert_allclose(
            lines[1].get_ydata(), -np.asarray(est.validation_scores_)
        )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss"][: len(lines)]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    fig.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").exists()


def test_unfitted_estimator_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plot_learning_curve(AutoEncoderTransformer())
    with pytest.raises(NotFittedError):
        plot_samples(AutoEncoderTransformer())


def test_missing_matplotlib_names_the_extra(monkeypatch, ae):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install 'skae\[plot\]'"):
        plot_learning_curve(ae)
