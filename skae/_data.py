"""The data layer: every way rows reach training and inference.

A *row source* serves the rows of a data set as float tensors on a device,
standardised as the estimator asks. Every source fulfils the whole
:class:`RowSource` protocol, so no caller needs to know which one it holds:

- :class:`TensorRows`: a float32 tensor owned by the source, on the training
  device when it fits there (pinned in host memory otherwise): the training
  rows of an array in memory, and the codes of greedy pretraining.
- :class:`HostRows`: a NumPy array, a scipy CSR matrix or a lazily read
  array left where it is and converted batch by batch: sparse training rows
  (never densified whole) and the rows of ``transform`` and its siblings.
- :class:`~skae._streamed.StreamedRows`: an array larger than memory (a
  memmap, an h5py or zarr array), read in blocks gathered into shuffled
  buffers.

:func:`training_rows` and :func:`inference_rows` pick the source for an
input. Values are checked by a plain function passed in (``check``), so the
data layer never calls back into an estimator.
"""

import abc

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import get_config

from ._rowsource import (
    INFERENCE_BATCH_SIZE,
    ColumnStats,
    RowSource,
    Standardiser,
    block_rows,
    column_stats,
    file_mapping,
    lazy_array,
)
from ._streamed import StreamedRows

__all__ = [
    "ColumnStats",
    "HostRows",
    "RowSource",
    "StreamedRows",
    "TensorRows",
    "column_stats",
    "inference_rows",
    "lazy_array",
    "read_rows",
    "streams",
    "torch_dtype",
    "training_rows",
]

_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


class _IndexedRows(RowSource):
    """What :class:`TensorRows` and :class:`HostRows` share: rows by index."""

    @abc.abstractmethod
    def _gather(self, index):
        """Rows ``index`` (a slice or an index tensor) as a served tensor."""

    def _batch(self, index):
        rows = self._gather(index)
        if self.targets is None:
            return rows, rows
        if torch.is_tensor(index):
            index = index.to(self.targets.device)
        return rows, self.targets[index]

    def shuffled(self, batch_size, generator=None, shard=None):
        # The permutation is drawn where ``generator`` lives (a permutation
        # copied to a GPU would stall the host until the device caught up).
        rank, world = shard or (0, 1)
        device = generator.device if generator is not None else "cpu"
        perm = torch.randperm(len(self), generator=generator, device=device)
        for start in range(0, len(self), batch_size):
            yield self._batch(perm[start + rank : start + batch_size : world])

    def batches(self, batch_size, shard=None):
        rank, world = shard or (0, 1)
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            yield self._batch(slice(start + rank, stop, world))
            self._release_rows(start, stop)

    def _release_rows(self, start, stop):
        """Hook: drop what rows ``start:stop`` hold once served (see HostRows)."""

    def mapped(self, fn, n_out, batch_size):
        out = torch.empty((len(self), n_out), dtype=torch.float32, device=self.device)
        at = 0
        with torch.inference_mode():
            for inputs, _ in self.batches(batch_size):
                out[at : at + len(inputs)] = fn(inputs)
                at += len(inputs)
        return TensorRows(out, device=self.device, targets=self.targets)


class TensorRows(_IndexedRows):
    """Rows held as one float tensor, owned by the source.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        The rows, in their final dtype. The source owns it: ``standardised``
        standardises it in place.
    device : str or torch.device, default='cpu'
        Where batches are served (``X`` may be pinned host memory for a GPU).
    targets : torch.Tensor of shape (n_samples,), default=None
        What training batches are compared with; None means the rows.
    """

    def __init__(self, X, device="cpu", targets=None):
        self.X = X
        self.dtype = X.dtype
        self.device = torch.device(device)
        self.targets = targets

    @property
    def on_device(self):
        return self.X.device == self.device

    def _gather(self, index):
        return self.X[index].to(self.device, non_blocking=True)

    def take(self, index):
        index = torch.from_numpy(np.asarray(index)).to(self.X.device)
        targets = self._take_targets(index)
        return TensorRows(self.X[index], self.device, targets)

    def standardised(self, shift, scale):
        """The same rows as ``(x - shift) / scale``, computed in place.

        This source's tensor is overwritten: use only the returned source.
        """
        if shift is not None:
            shift = torch.as_tensor(shift, dtype=self.X.dtype, device=self.X.device)
            self.X.sub_(shift).div_(scale)
        return TensorRows(self.X, self.device, self.targets)

    def blocks(self):
        step = block_rows(self.n_features)
        for start in range(0, len(self), step):
            yield self.X[start : start + step]


class HostRows(_IndexedRows):
    """Rows left where they are and converted to tensors batch by batch.

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix or lazily read array
        The rows; a sparse matrix is served as CSR and densified one batch
        at a time.
    shift, scale : ndarray of shape (n_features,) and float, default=None, 1.0
        Standardisation ``(x - shift) / scale`` of every served batch.
    dtype : torch.dtype, default=torch.float32
        Dtype of the served batches.
    device : str or torch.device, default='cpu'
        Where batches are served.
    check : callable, default=None
        ``check(rows)``, called on each batch's values (a NumPy array) before
        they are converted: validation of data that is never loaded whole.
    targets : torch.Tensor of shape (n_samples,), default=None
        What training batches are compared with; None means the rows.
    """

    def __init__(
        self,
        X,
        shift=None,
        scale=1.0,
        dtype=torch.float32,
        device="cpu",
        check=None,
        targets=None,
    ):
        self.X = X.tocsr() if sp.issparse(X) else X
        self.shift, self.scale = shift, scale
        self.dtype = dtype
        self.device = torch.device(device)
        self.check = check
        self.targets = targets
        self._standardise = Standardiser(shift, scale, dtype, self.device)
        self._mapping = file_mapping(X)

    on_device = False

    def _gather(self, index):
        if torch.is_tensor(index):
            index = index.numpy()
        rows = self.X[index]
        rows = rows.toarray() if sp.issparse(rows) else rows
        if self.check is not None:
            self.check(rows)
        rows = np.ascontiguousarray(rows, dtype=_NUMPY_DTYPES[self.dtype])
        # Zero-copy where possible; read-only memory (a memmap) is copied,
        # since torch cannot wrap it.
        batch = torch.from_numpy(rows) if rows.flags.writeable else torch.tensor(rows)
        return self._standardise(batch.to(self.device, non_blocking=True))

    def _release_rows(self, start, stop):
        """Drop the file pages of rows ``start:stop`` of a memory-mapped ``X``.

        Pages of a file read through a memory map stay resident until the
        system needs them back; releasing each batch once served keeps a
        pass over a file larger than memory from growing the resident set.
        The file is untouched (pages are read again if needed).
        """
        if self._mapping is not None:
            self._mapping.release(self.X, start, stop)

    def _copy(self, X, shift, scale, targets):
        return HostRows(X, shift, scale, self.dtype, self.device, self.check, targets)

    def take(self, index):
        index = np.asarray(index)
        targets = self._take_targets(torch.from_numpy(index))
        return self._copy(self.X[index], self.shift, self.scale, targets)

    def standardised(self, shift, scale):
        return self._copy(self.X, shift, scale, self.targets)

    def blocks(self):
        # A sparse matrix is densified no more than an inference batch of
        # rows at a time, whatever its width.
        step = min(block_rows(self.n_features), INFERENCE_BATCH_SIZE)
        for start in range(0, len(self), step):
            block = self.X[start : start + step]
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            if self.check is not None:
                self.check(block)
            yield block


def torch_dtype(X):
    """The dtype inference runs in: float32 for float32 ``X``, else float64.

    As ``validate_data(dtype=[np.float64, np.float32])`` would convert ``X``.
    """
    return torch.float32 if X.dtype == np.float32 else torch.float64


def streams(X):
    """Whether ``fit`` streams ``X`` instead of loading it as float32.

    True for a memory-mapped or lazily read array larger, as float32, than
    scikit-learn's ``working_memory``.
    """
    if not lazy_array(X):
        return False
    n_bytes = 4 * int(np.prod(X.shape, dtype=np.int64))
    return n_bytes > get_config()["working_memory"] * 2**20


def _buffer_rows(n_features):
    """Rows of float32 in half of scikit-learn's ``working_memory``.

    The size of a streamed fit's shuffled buffer (the only copy of the rows
    it holds); the other half is left for batches and the model.
    """
    return get_config()["working_memory"] * 2**20 // 2 // (4 * n_features)


def _fits_on_device(nbytes, device):
    """Whether a training set of ``nbytes`` can stay resident on ``device``."""
    device = torch.device(device)
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    # Leave room for the model, its gradients and the optimizer state.
    return nbytes < 0.5 * free


def training_rows(X, *, device, check, targets=None):
    """The training rows of validated ``X``, converted once.

    A dense array becomes an owned float32 :class:`TensorRows`, on
    ``device`` when it fits there; a sparse matrix a :class:`HostRows` of
    CSR rows; an array that :func:`streams` a :class:`StreamedRows`. The
    values are passed to ``check`` before any conversion: whole for data in
    memory, block by block, in one pass before training, for a streamed
    array (which also computes its column statistics).
    """
    if targets is not None:
        # Served beside the batches, on the same device.
        targets = targets.to(device)
    if sp.issparse(X):
        check(X.data)
        return HostRows(X, device=device, targets=targets)
    if streams(X):
        rows = StreamedRows(
            X,
            device=device,
            check=check,
            buffer_rows=_buffer_rows(X.shape[1]),
            targets=targets,
        )
        rows.column_stats()  # Checks every value once, before training.
        return rows
    check(X)
    X = np.asarray(X, dtype=np.float32)
    if torch.device(device).type == "cpu":
        tensor = torch.tensor(X)
    else:
        tensor = torch.from_numpy(X) if X.flags.writeable else torch.tensor(X)
        if _fits_on_device(tensor.nbytes, device):
            tensor = tensor.to(device)
        else:
            tensor = tensor.pin_memory()
    return TensorRows(tensor, device=device, targets=targets)


def inference_rows(X, *, shift, scale, device, check=None):
    """A :class:`HostRows` serving validated ``X`` in its own dtype.

    ``check`` is applied batch by batch to an array read lazily (see
    :func:`lazy_array`), whose values ``validate_data`` could not check
    without loading it whole; an array in memory was checked already.
    """
    return HostRows(
        X,
        shift,
        scale,
        dtype=torch_dtype(X),
        device=device,
        check=check if lazy_array(X) else None,
    )


def read_rows(X, index, *, check):
    """Rows ``index`` (sorted) of a lazily read ``X``, as one float32 array.

    Read in blocks of contiguous rows, never more than a block beyond them.
    """
    rows = StreamedRows(X, check=check, buffer_rows=_buffer_rows(X.shape[1]))
    return rows.take(index).read(0, len(index))
