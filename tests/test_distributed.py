"""Data-parallel training over torch.distributed, on two CPU processes (gloo)."""

import socket
import warnings

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from skae import AutoEncoderTransformer, DenoisingAE

# A random start and no held-out split: from the PCA start, Adam's first steps
# follow rounding noise, which differs between one process's gradient and two
# halves' summed, so the models would part in the third decimal.
PARAMS = dict(
    n_components=3,
    hidden_layer_sizes=(16,),
    batch_size=64,
    max_iter=4,
    tol=0.0,
    init="random",
    early_stopping=False,
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(rank, world_size, port, Estimator, X, out):
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Different seeds on purpose: the first process's seed is
            # broadcast, so every process starts from the same model.
            est = Estimator(**PARAMS, random_state=0 if rank == 0 else 1).fit(X)
        np.save(out / f"codes{rank}.npy", est.transform(X))
        np.save(out / f"loss{rank}.npy", np.array(est.loss_curve_))
        # Tear the group down only once both are done: a process whose peer
        # has closed its connections can abort in gloo's threads.
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _fit_in_two_processes(Estimator, X, tmp_path):
    mp.spawn(
        _train, args=(2, _free_port(), Estimator, X, tmp_path), nprocs=2, join=True
    )
    return [
        (np.load(tmp_path / f"codes{r}.npy"), np.load(tmp_path / f"loss{r}.npy"))
        for r in range(2)
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_processes_train_the_single_process_model(tmp_path):
    # 250 rows: the last batch of each epoch (58 rows) is split 29/29, and
    # the gradients of the halves, weighted by their rows, make the whole's.
    X = np.random.RandomState(0).uniform(size=(250, 10))
    (codes0, loss0), (codes1, loss1) = _fit_in_two_processes(
        AutoEncoderTransformer, X, tmp_path
    )
    # Both processes hold the same model and the same history.
    np.testing.assert_array_equal(codes0, codes1)
    np.testing.assert_array_equal(loss0, loss1)
    single = AutoEncoderTransformer(**PARAMS, random_state=0).fit(X)
    np.testing.assert_allclose(codes0, single.transform(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(loss0, single.loss_curve_, rtol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_uneven_last_batch_and_corruption(tmp_path):
    # 129 rows: the last batch holds one row, so one process's share is empty.
    X = np.random.RandomState(1).uniform(size=(129, 6))
    (codes0, loss0), (codes1, loss1) = _fit_in_two_processes(DenoisingAE, X, tmp_path)
    np.testing.assert_array_equal(codes0, codes1)
    np.testing.assert_array_equal(loss0, loss1)
    assert np.isfinite(codes0).all() and loss0[-1] < loss0[0]
