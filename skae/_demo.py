"""The ``python -m skae demo`` job: PCA against an autoencoder on digits."""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from ._autoencoder import AutoEncoderTransformer


class _EpochProgress(Callback):
    """A one-line progress bar over epochs with the current training loss."""

    def __init__(self, label, total):
        self.label = label
        self.total = total

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc=self.label, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        self.bar_.update()
        self.bar_.set_postfix(loss=f"{net.history[-1, 'train_loss']:.4f}")

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


def _evaluate(model, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        # The demo trains for the default max_iter whether or not the loss is
        # still creeping down; that is expected here, not a problem to report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    fit_time = time.perf_counter() - start
    codes_train, codes_test = model.transform(X_train), model.transform(X_test)
    mse = float(((model.inverse_transform(codes_test) - X_test) ** 2).mean())
    clf = LogisticRegression(max_iter=2000).fit(codes_train, y_train)
    return {"mse": mse, "accuracy": clf.score(codes_test, y_test), "fit_time": fit_time}


def _autoencoder(n_components, device, random_state, label):
    ae = AutoEncoderTransformer(n_components, device=device, random_state=random_state)
    return ae.set_params(callbacks=[("progress", _EpochProgress(label, ae.max_iter))])


def run_demo(n_components=8, device="cpu", output="skae-demo.png", random_state=0):
    """Fit PCA and AutoEncoderTransformer on digits, print a table, save a figure.

    Parameters
    ----------
    n_components : int, default=8
        Code size of both models.
    device : str, default='cpu'
        Device to train the autoencoder on.
    output : str, default='skae-demo.png'
        Path of the PNG to write (needs matplotlib).
    random_state : int, default=0
        Seed of the data split and of the autoencoder.

    Returns
    -------
    results : dict
        ``{"PCA": {...}, "AutoEncoderTransformer": {...}}`` with the held-out
        ``mse``, ``accuracy`` and ``fit_time`` of each model.
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=random_state
    )
    print(
        f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 "
        f"pixels; codes of size {n_components}."
    )
    pca = PCA(n_components)
    ae = _autoencoder(n_components, device, random_state, "autoencoder")
    results = {
        "PCA": _evaluate(pca, X_train, X_test, y_train, y_test),
        "AutoEncoderTransformer": _evaluate(ae, X_train, X_test, y_train, y_test),
    }
    print()
    print(f"{'model':<24}{'held-out MSE':>14}{'LogReg acc.':>13}{'fit time':>10}")
    for name, r in results.items():
        print(
            f"{name:<24}{r['mse']:>14.5f}{r['accuracy']:>13.3f}{r['fit_time']:>9.2f}s"
        )
    ratio = results["AutoEncoderTransformer"]["mse"] / results["PCA"]["mse"]
    print(f"\nThe autoencoder's reconstruction error is {ratio:.2f} x PCA's.")

    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'skae[plot]').")
        return results
    matplotlib.use("Agg")
    print("\nFitting 2-D codes for the scatter plots...")
    pca2 = PCA(2)
    ae2 = _autoencoder(2, device, random_state, "2-D autoencoder")
    for model in (pca2, ae2):
        _evaluate(model, X_train, X_test, y_train, y_test)
    _save_figure(output, X_test, y_test, pca, ae, pca2, ae2)
    print(f"Wrote {output}.")
    return results


def _save_figure(path, X_test, y_test, pca, ae, pca2, ae2):
    import matplotlib.pyplot as plt

    n_show = 10
    rows = [
        ("original", X_test[:n_show]),
        (
            f"PCA ({pca.n_components})",
            pca.inverse_transform(pca.transform(X_test[:n_show])),
        ),
        (
            f"autoencoder ({ae.n_components})",
            ae.inverse_transform(ae.transform(X_test[:n_show])),
        ),
    ]
    fig = plt.figure(figsize=(12, 8.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.5])
    top.suptitle("Held-out digits and their reconstructions")
    axes = top.subplots(len(rows), n_show)
    for r, (label, images) in enumerate(rows):
        for c in range(n_show):
            ax = axes[r, c]
            ax.imshow(
                np.clip(images[c], 0, 1).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1
            )
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    scatter_axes = bottom.subplots(1, 2)
    for ax, (name, model) in zip(
        scatter_axes, [("PCA", pca2), ("AutoEncoderTransformer", ae2)], strict=True
    ):
        codes = model.transform(X_test)
        points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=8)
        ax.set_title(f"{name}: 2-D codes of held-out digits")
        ax.set_xlabel("code 0")
        ax.set_ylabel("code 1")
    bottom.colorbar(points, ax=scatter_axes, label="digit", ticks=range(10))
    fig.savefig(path, dpi=100)
    plt.close(fig)
