"""The row-source protocol, column statistics, and what kind of array an input is.

Every row source of :mod:`skae._data` implements :class:`RowSource` in full.
This module also tells a lazily read array (a memmap, an h5py dataset, a
zarr or dask array) from one in memory, and finds the file mapping behind a
memmap so that its pages can be released once read.
"""

import abc
import mmap
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch

# Rows per batch in transform, inverse_transform and score_samples: large
# enough to keep the device busy, small enough that memory stays bounded.
INFERENCE_BATCH_SIZE = 4096


class ColumnStats(NamedTuple):
    """Per-feature mean, variance, minimum and maximum (float64 arrays)."""

    mean: np.ndarray
    var: np.ndarray
    min: np.ndarray
    max: np.ndarray


def column_stats(blocks):
    """:class:`ColumnStats` of the rows given block by block, in one pass.

    ``blocks`` yields 2-D NumPy arrays or tensors; each is computed on in
    float64, on its own device. Each block's moments are taken about its own
    mean, and blocks are combined with Chan et al.'s pairwise update, which
    stays accurate where a running sum of squares would cancel (the
    variance of values far from zero, or of sparse data).
    """
    n, mean, m2, low, high = 0, None, None, None, None
    for block in blocks:
        block = torch.as_tensor(block).double()
        k = len(block)
        if not k:
            continue
        block_mean = block.mean(dim=0)
        block_m2 = (block - block_mean).square().sum(dim=0)
        block_low, block_high = block.amin(dim=0), block.amax(dim=0)
        if mean is None:
            n, mean, m2, low, high = k, block_mean, block_m2, block_low, block_high
            continue
        delta = block_mean - mean
        total = n + k
        mean = mean + delta * (k / total)
        m2 = m2 + block_m2 + delta.square() * (n * k / total)
        low, high = torch.minimum(low, block_low), torch.maximum(high, block_high)
        n = total
    return ColumnStats(*(t.cpu().numpy() for t in (mean, m2 / n, low, high)))


# Up to this many features, principal axes come from the exact covariance
# matrix (32 MiB in float64); beyond, from a randomized range finder.
EXACT_AXES_MAX_FEATURES = 2048


def principal_axes(source, mean, n_components, *, seed=0):
    """The first ``n_components`` principal axes of a row source's rows.

    Rows are read block by block (``source.blocks()``) and centred by
    ``mean``; the result is a float64 array of orthonormal rows, largest
    variance first, each signed so that its largest entry is positive (as
    :class:`~sklearn.decomposition.PCA` signs its components). Up to
    ``EXACT_AXES_MAX_FEATURES`` features the covariance matrix is
    accumulated in one pass and diagonalised exactly; wider data take
    ``n_components + 10`` directions through seven passes of subspace
    iteration from a seeded random start (Halko et al., 2011), so memory
    stays ``O(n_features * n_components)``. Where ``n_components`` exceeds
    ``n_features`` the extra rows are zero.
    """
    n_features = len(mean)
    k = min(n_components, n_features)
    axes = _leading_axes(source, mean, k, seed)[1].T.numpy()
    signs = np.sign(axes[np.arange(k), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1, signs)[:, None]
    return np.vstack([axes, np.zeros((n_components - k, n_features))])


def variance_width(source, mean, fraction, *, seed=0):
    """How many principal axes explain ``fraction`` of the rows' variance.

    What ``PCA(n_components=fraction).n_components_`` would be on the rows
    centred by ``mean``: the smallest number of axes whose variances add up
    to more than ``fraction`` of the total. Wide data (see
    :func:`principal_axes`) look at 64 axes, then four times as many, until
    enough are found.
    """
    n_features = len(mean)
    if n_features <= EXACT_AXES_MAX_FEATURES:
        # Every axis's variance: their sum is the total, no further pass.
        values = _leading_axes(source, mean, n_features, seed)[0].clamp(min=0)
        shares = np.cumsum(values.numpy()) / max(float(values.sum()), _TINY)
        return int(min(np.searchsorted(shares, fraction, side="right") + 1, n_features))
    total = sum(
        float(((_as_float64(block) - _on(mean, block)) ** 2).sum())
        for block in source.blocks()
    )
    k = 64
    while True:
        values = _leading_axes(source, mean, min(k, n_features), seed)[0]
        shares = np.cumsum(values.clamp(min=0).numpy()) / total
        if shares[-1] > fraction or k >= n_features:
            break
        k *= 4
    return int(min(np.searchsorted(shares, fraction, side="right") + 1, len(shares)))


_TINY = np.finfo(np.float64).tiny


def _as_float64(block):
    # The rows as training sees them (float32), whatever the source stores:
    # dense and sparse copies of the data give the same axes.
    return torch.as_tensor(block).float().double()


def _on(mean, block):
    return torch.as_tensor(mean, dtype=torch.float64).to(block.device)


def _leading_axes(source, mean, k, seed):
    """The ``k`` largest variances (times n) of the centred rows, and their axes.

    ``(values, vectors)``: float64 tensors on the host, values descending,
    axes as the columns of ``vectors``.
    """
    n_features = len(mean)

    def times_covariance(basis=None):
        # The centred rows' scatter matrix (times ``basis``), block by block.
        total = None
        for block in source.blocks():
            block = _as_float64(block)
            centred = block - _on(mean, block)
            right = centred if basis is None else centred @ basis.to(block.device)
            part = centred.T @ right
            total = part if total is None else total + part.to(total.device)
        return total.cpu()

    if n_features <= EXACT_AXES_MAX_FEATURES:
        values, vectors = torch.linalg.eigh(times_covariance())
        return values.flip(0)[:k], vectors.flip(1)[:, :k]
    generator = torch.Generator().manual_seed(seed)
    width = min(k + 10, n_features)
    basis = torch.randn(n_features, width, dtype=torch.float64, generator=generator)
    for _ in range(7):
        basis = torch.linalg.qr(times_covariance(basis))[0]
    small = basis.T @ times_covariance(basis)
    values, vectors = torch.linalg.eigh((small + small.T) / 2)
    return values.flip(0)[:k], (basis @ vectors.flip(1))[:, :k]


class Standardiser:
    """``(x - shift) / scale`` of served batches, as ``offset + x / scale``.

    One pass over the batch instead of two; ``shift=None`` leaves batches as
    they are.
    """

    def __init__(self, shift, scale, dtype, device):
        self.scale = scale
        self.offset = None
        if shift is not None:
            offset = -torch.as_tensor(shift, dtype=torch.float64) / scale
            self.offset = offset.to(dtype=dtype, device=device)

    def __call__(self, batch):
        if self.offset is None:
            return batch
        return torch.add(self.offset, batch, alpha=1 / self.scale)


def unstandardised(x, shift, scale):
    """Tensor ``x`` back in the data's units, ``x * scale + shift`` (None: as it is)."""
    if shift is None:
        return x
    return x * scale + torch.as_tensor(shift, dtype=x.dtype, device=x.device)


def block_rows(n_features, nbytes=2**24):
    """Rows per block of float64 values that fill ``nbytes`` (16 MiB)."""
    return max(1, nbytes // (8 * max(n_features, 1)))


class RowSource(abc.ABC):
    """Rows of a data set served as standardised float tensors on a device.

    Batches are pairs ``(inputs, target)``: the target is the batch itself
    for an autoencoder, or the rows' ``targets`` (class indices, say).

    Attributes
    ----------
    X : array-like or tensor of shape (n_samples, n_features)
        Where the rows come from.
    dtype : torch.dtype
        Dtype of the served batches.
    device : torch.device
        Where batches are served.
    targets : torch.Tensor of shape (n_samples,) or None
        What training batches are compared with; None means the rows.
    on_device : bool
        Whether the rows already live on ``device`` (then permutations are
        drawn there).
    """

    X = None
    dtype = torch.float32
    device = torch.device("cpu")
    targets = None
    on_device = False
    _stats = None

    def __len__(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def shape(self):
        return (len(self), self.n_features)

    @abc.abstractmethod
    def shuffled(self, batch_size, generator=None, shard=None):
        """Training batches ``(inputs, target)`` in a new random order.

        The order is drawn from ``generator``. With
        ``shard=(rank, world_size)`` each batch keeps every
        ``world_size``-th row, starting at ``rank``: processes that draw the
        same order cover each batch once between them.
        """

    @abc.abstractmethod
    def batches(self, batch_size, shard=None):
        """Batches ``(inputs, target)`` of consecutive rows, in order."""

    @abc.abstractmethod
    def take(self, index):
        """The same kind of source restricted to rows ``index`` (sorted).

        Standardisation, checks and targets are kept.
        """

    @abc.abstractmethod
    def standardised(self, shift, scale):
        """The same rows served as ``(x - shift) / scale`` (None: as they are)."""

    @abc.abstractmethod
    def blocks(self):
        """The rows as stored (not standardised), in order, block by block.

        Each block (a NumPy array or a tensor) holds a bounded number of
        rows; values are checked as they are read, where the source checks.
        """

    def column_stats(self):
        """:class:`ColumnStats` of the rows as stored, computed once from
        :meth:`blocks` (see :func:`column_stats`) and cached."""
        if self._stats is None:
            self._stats = column_stats(self.blocks())
        return self._stats

    @abc.abstractmethod
    def mapped(self, fn, n_out, batch_size):
        """A source of ``fn(inputs)`` (``n_out`` wide) for every batch, in order.

        Computed once, under ``torch.inference_mode``, and stored as this
        kind of source stores rows: the codes of a layer, for the next stage
        of greedy pretraining.
        """

    def split(self, validation_fraction, rng):
        """Sources ``(train, valid)`` of the rows, split at random.

        ``valid`` holds ``validation_fraction`` of the rows (at least one,
        and at least one is left for training), drawn from ``rng``, a NumPy
        ``RandomState``; both keep the rows' order.
        """
        n_samples = len(self)
        n_valid = round(validation_fraction * n_samples)
        n_valid = min(max(1, n_valid), n_samples - 1)
        perm = rng.permutation(n_samples)
        return self.take(np.sort(perm[n_valid:])), self.take(np.sort(perm[:n_valid]))

    def _take_targets(self, index):
        if self.targets is None:
            return None
        return self.targets[index.to(self.targets.device)]


def memory_map(X):
    """The ``numpy.memmap`` that ``X`` is, or is a view of; None if none."""
    while isinstance(X, np.ndarray):
        if isinstance(X, np.memmap):
            return X
        X = X.base
    return None


def lazy_array(X):
    """Whether ``X`` is an array read from storage as it is sliced.

    True for a ``numpy.memmap`` (or a view of one) and for array-likes that
    are not NumPy arrays but have a ``shape``, a NumPy ``dtype`` and slicing
    (an h5py dataset, a zarr or dask array): data that may be larger than
    memory, and is best read a block at a time.
    """
    if memory_map(X) is not None:
        return True
    if isinstance(X, np.ndarray) or sp.issparse(X) or torch.is_tensor(X):
        return False
    if hasattr(X, "iloc"):
        # pandas: validated (and its feature names read) as a whole.
        return False
    return (
        isinstance(getattr(X, "dtype", None), np.dtype)
        and hasattr(X, "shape")
        and hasattr(X, "__getitem__")
    )


class FileMapping(NamedTuple):
    """The shared file mapping behind a memmap, whose pages can be released."""

    mapping: mmap.mmap
    base: int

    def release(self, X, start, stop):
        """Drop the pages that rows ``start:stop`` of ``X`` occupy.

        ``X`` is the memmap (or a C-contiguous view of it) this mapping was
        found for. The file's contents are untouched: the pages are read
        again if needed.
        """
        row_bytes = X.strides[0]
        first = X.ctypes.data - self.base + start * row_bytes
        last = first + (stop - start) * row_bytes
        first -= first % mmap.PAGESIZE
        last = min(len(self.mapping), -(-last // mmap.PAGESIZE) * mmap.PAGESIZE)
        if last > first:
            self.mapping.madvise(mmap.MADV_DONTNEED, first, last - first)


def file_mapping(X):
    """The :class:`FileMapping` behind ``X``, or None.

    ``X`` may be a ``numpy.memmap`` or a view of one (``check_array`` returns
    a plain ndarray view). Private (copy-on-write, ``mode='c'``) mappings are
    left alone: releasing their pages would discard the changes made to
    them.
    """
    base = memory_map(X)
    if base is None or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    if X.ndim != 2 or not X.flags.c_contiguous:
        return None
    mapping = getattr(base, "_mmap", None)
    if not isinstance(mapping, mmap.mmap) or base.mode == "c":
        return None
    # The mapping's own address: the start of a zero-copy view of it.
    view = np.frombuffer(mapping, dtype=np.uint8, count=1)
    address = view.ctypes.data
    del view
    return FileMapping(mapping, address)
