"""Plots of a fitted autoencoder: reconstructions, codes, samples, learning curve.

Each function returns the matplotlib :class:`~matplotlib.figure.Figure` it
drew on. matplotlib is an optional dependency, imported when a function is
called: ``pip install 'skae[plot]'``.
"""

import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "plot_codes",
    "plot_learning_curve",
    "plot_reconstructions",
    "plot_samples",
]

# More classes than this are shown with a colorbar rather than a legend
# (when the labels are numbers).
_MAX_LEGEND_CLASSES = 20


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skae.plotting needs matplotlib: pip install 'skae[plot]'"
        ) from exc
    return plt


def _image_shape(n_features, image_shape):
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"Rows of {n_features} features are not square images; pass "
                "image_shape=(height, width)."
            )
        return side, side
    image_shape = tuple(int(s) for s in image_shape)
    if math.prod(image_shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape} has {math.prod(image_shape)} pixels, "
            f"but the rows have {n_features} features."
        )
    return image_shape


def _head(X, n):
    """The first ``n`` rows of an array, DataFrame or sparse matrix."""
    return X.iloc[:n] if hasattr(X, "iloc") else X[:n]


def _dense(X):
    if sp.issparse(X):
        return X.toarray()
    return np.asarray(X, dtype=np.float64)


def _image_grid(plt, images, n_rows, n_cols, image_shape, fig, cmap):
    """Draw ``images`` row-major in an ``n_rows`` by ``n_cols`` grid.

    All images share one colour scale, so that their intensities compare.
    Unused cells are removed; returns the figure and the 2-D array of axes
    (None where removed).
    """
    if fig is None:
        fig = plt.figure(figsize=(1.2 * n_cols, 1.3 * n_rows))
    axes = np.empty((n_rows, n_cols), dtype=object)
    vmin, vmax = float(np.min(images)), float(np.max(images))
    for i in range(n_rows * n_cols):
        if i >= len(images):
            break
        ax = fig.add_subplot(n_rows, n_cols, i + 1)
        ax.imshow(
            images[i].reshape(image_shape),
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        axes.flat[i] = ax
    return fig, axes


def plot_reconstructions(
    estimator, X, n_images=10, image_shape=None, *, cmap="gray", fig=None
):
    """Show images next to their reconstructions by the autoencoder.

    The first row shows the first ``n_images`` rows of ``X`` as images, the
    second row ``estimator.inverse_transform(estimator.transform(X))``, on
    the same colour scale.

    Parameters
    ----------
    estimator : fitted skae estimator
        Any estimator with ``transform`` and ``inverse_transform``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Images, one per row.
    n_images : int, default=10
        How many of the first rows to show (at most ``n_samples``).
    image_shape : tuple of int, default=None
        Shape of one image, e.g. ``(28, 28)``. None infers square images
        (64 features are 8x8 images) and raises a ``ValueError`` otherwise.
    cmap : str, default='gray'
        Colour map.
    fig : matplotlib Figure, default=None
        Figure to draw on; a new one by default.

    Returns
    -------
    fig : matplotlib Figure
        Two rows of ``n_images`` axes, one image each.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> from skae.plotting import plot_reconstructions
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoEncoderTransformer(8, max_iter=3, random_state=0).fit(X / 16)
    >>> fig = plot_reconstructions(ae, X / 16, n_images=5)
    >>> len(fig.axes)
    10
    """
    plt = _pyplot()
    check_is_fitted(estimator)
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}.")
    rows = _head(X, n_images)
    originals = _dense(rows)
    n_images = originals.shape[0]
    shape = _image_shape(originals.shape[1], image_shape)
    recon = _dense(estimator.inverse_transform(estimator.transform(rows)))
    images = np.concatenate([originals, recon])
    # Row-major: originals fill the first row, reconstructions the second.
    fig, axes = _image_grid(plt, images, 2, n_images, shape, fig, cmap)
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("reconstruction")
    fig.suptitle(f"{type(estimator).__name__} reconstructions")
    return fig


def plot_codes(estimator_or_codes, X=None, y=None, *, ax=None, **scatter_kwargs):
    """Scatter plot of the first two code components, coloured by label.

    Parameters
    ----------
    estimator_or_codes : fitted estimator or array-like of shape (n_samples, n_codes)
        An estimator with ``transform`` (then ``X`` is required), or codes
        already computed. Only the first two columns are drawn.
    X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        Data to encode with the estimator.
    y : array-like of shape (n_samples,), default=None
        Labels that colour the points: class labels (few distinct values, or
        strings) get a legend, continuous values a colorbar. None draws all
        points in one colour.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure by default.
    **scatter_kwargs : dict
        Passed to :meth:`matplotlib.axes.Axes.scatter` (e.g. ``s``,
        ``alpha``, ``cmap``).

    Returns
    -------
    fig : matplotlib Figure
        The figure of ``ax``; its scatter is ``ax.collections[0]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> from skae.plotting import plot_codes
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoEncoderTransformer(2, max_iter=3, random_state=0).fit(X / 16)
    >>> fig = plot_codes(ae, X / 16, y)
    >>> fig.axes[0].collections[0].get_offsets().shape
    (1797, 2)
    >>> len(fig.axes[0].get_legend().get_texts())
    10
    """
    plt = _pyplot()
    codes, names, title = _codes_to_plot(estimator_or_codes, X)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    kwargs = {"s": 10, **scatter_kwargs}
    if y is None:
        ax.scatter(codes[:, 0], codes[:, 1], **kwargs)
    else:
        _scatter_by_label(ax, codes, y, kwargs)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title)
    return ax.figure


def _codes_to_plot(estimator_or_codes, X):
    """The codes as a dense 2-D array, the names of their axes, and a title."""
    if hasattr(estimator_or_codes, "transform"):
        if X is None:
            raise ValueError("X is required to plot the codes of an estimator.")
        check_is_fitted(estimator_or_codes)
        codes = estimator_or_codes.transform(X)
        names = list(estimator_or_codes.get_feature_names_out()[:2])
        title = f"{type(estimator_or_codes).__name__} codes"
    else:
        codes = estimator_or_codes
        names = ["code 0", "code 1"]
        title = "Codes"
    codes = _dense(codes)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(
            "plot_codes draws the first two components; the codes have shape "
            f"{codes.shape}."
        )
    return codes, names, title


def _scatter_by_label(ax, codes, y, kwargs):
    """Scatter ``codes`` coloured by ``y``: a legend for classes, else a colorbar."""
    y = np.asarray(y).ravel()
    if y.shape[0] != codes.shape[0]:
        raise ValueError(
            f"y has {y.shape[0]} labels for {codes.shape[0]} rows of codes."
        )
    classes, index = np.unique(y, return_inverse=True)
    numeric = y.dtype.kind in "biuf"
    discrete = type_of_target(y) in ("binary", "multiclass") and (
        len(classes) <= _MAX_LEGEND_CLASSES or not numeric
    )
    if discrete:
        _scatter_classes(ax, codes, classes, index, kwargs)
    else:
        points = ax.scatter(codes[:, 0], codes[:, 1], c=y.astype(float), **kwargs)
        ax.figure.colorbar(points, ax=ax, label="label")


def _scatter_classes(ax, codes, classes, index, kwargs):
    """One colour per class (``index`` into ``classes``), with a legend."""
    cmap = "tab10" if len(classes) <= 10 else "tab20"
    points = ax.scatter(
        codes[:, 0],
        codes[:, 1],
        c=index,
        cmap=kwargs.pop("cmap", cmap),
        vmin=0,
        vmax=max(len(classes) - 1, 1),
        **kwargs,
    )
    handles, _ = points.legend_elements(num=None)
    ax.legend(handles, [str(c) for c in classes], title="label", fontsize="small")


def plot_samples(
    estimator,
    n_samples=16,
    image_shape=None,
    random_state=None,
    *,
    cmap="gray",
    fig=None,
):
    """Show rows generated by ``estimator.sample`` as a grid of images.

    Parameters
    ----------
    estimator : fitted skae estimator
        Any estimator with a ``sample(n_samples, random_state)`` method.
    n_samples : int, default=16
        Number of images, laid out in a grid of ``ceil(sqrt(n_samples))``
        columns.
    image_shape : tuple of int, default=None
        Shape of one image; None infers square images.
    random_state : int, RandomState instance or None, default=None
        Passed to ``estimator.sample``: the same value draws the same images.
    cmap : str, default='gray'
        Colour map.
    fig : matplotlib Figure, default=None
        Figure to draw on; a new one by default.

    Returns
    -------
    fig : matplotlib Figure
        One axes, with one image, per sample.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAESampler
    >>> from skae.plotting import plot_samples
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAESampler(4, max_iter=3, random_state=0).fit(X / 16)
    >>> fig = plot_samples(vae, n_samples=9, random_state=0)
    >>> len(fig.axes)
    9
    """
    plt = _pyplot()
    check_is_fitted(estimator)
    samples = _dense(estimator.sample(n_samples, random_state=random_state))
    shape = _image_shape(samples.shape[1], image_shape)
    n_cols = math.ceil(math.sqrt(len(samples)))
    n_rows = math.ceil(len(samples) / n_cols)
    fig, _ = _image_grid(plt, samples, n_rows, n_cols, shape, fig, cmap)
    fig.suptitle(f"{type(estimator).__name__} samples")
    return fig


def plot_learning_curve(estimator, *, ax=None):
    """Training loss, and validation loss with early stopping, per epoch.

    Parameters
    ----------
    estimator : fitted skae estimator
        Its ``loss_curve_`` is drawn, and ``-validation_scores_`` when it was
        fitted with ``early_stopping=True``.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure by default.

    Returns
    -------
    fig : matplotlib Figure
        The figure of ``ax``, with one line per curve and a legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> from skae.plotting import plot_learning_curve
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoEncoderTransformer(8, max_iter=3, early_stopping=True,
    ...                             random_state=0).fit(X / 16)
    >>> fig = plot_learning_curve(ae)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training loss', 'validation loss']
    """
    plt = _pyplot()
    check_is_fitted(estimator, "loss_curve_")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    ax.plot(epochs, estimator.loss_curve_, label="training loss")
    scores = getattr(estimator, "validation_scores_", None)
    if scores is not None:
        ax.plot(epochs, -np.asarray(scores), label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(f"{type(estimator).__name__} learning curve")
    ax.legend()
    return ax.figure
