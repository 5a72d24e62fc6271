"""The training engine: a private skorch ``NeuralNet`` with a fast data path.

The estimators in :mod:`skae._base` build and own an :class:`AutoEncoderNet`.
Compared with skorch's defaults it changes only how data reaches the module
(``get_iterator`` / ``run_single_epoch``) and how the loss is assembled
(``train_step_single`` / ``get_loss``); callbacks, history, devices and
pickling are skorch's own.

- Rows are served by a :class:`RowSource`: a tensor that is already
  standardised and on the training device is sliced with a permutation drawn
  on that device; a NumPy array or a scipy CSR matrix is sliced on the host
  and converted batch by batch, so sparse data is never densified whole.
  A :class:`StreamedRows` serves an array larger than memory (a memmap, an
  h5py or zarr array), reading it in blocks gathered into shuffled buffers.
- There is no ``Dataset``/``DataLoader`` and no host-device synchronisation
  inside an epoch: batch losses are summed on the device and read once per
  epoch, which is also when a non-finite loss is detected.
- ``precision`` trades accuracy for speed: ``'bf16'`` runs the forward
  pass under bfloat16 autocast, ``'tf32'`` lets CUDA matmuls and
  convolutions use TensorFloat-32; weights, gradients, the optimizer and the
  loss stay in float32.
- Inside a ``torch.distributed`` process group each process trains on its
  share of every batch, and the gradients are combined into the whole
  batch's before each optimizer step (data parallelism).
"""

import contextlib
import math
import mmap
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PrintLog

from ._modules import set_generator

_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


class RowSource:
    """Rows of a data set served as standardised float tensors on a device.

    Parameters
    ----------
    X : torch.Tensor, ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        A tensor is taken as already standardised and in its final dtype; an
        array or sparse matrix is sliced, densified, converted and
        standardised one batch at a time.
    shift, scale : ndarray of shape (n_features,) and float, default=None
        Standardisation ``(x - shift) / scale`` applied to host rows.
    dtype : torch.dtype, default=torch.float32
        Dtype of the served batches (host rows only).
    device : str or torch.device, default='cpu'
        Where batches are served.
    check : callable, default=None
        ``check(rows)``, called on every batch of host rows (a NumPy array)
        before it is converted: input validation done batch by batch for
        data that is never loaded whole.
    targets : torch.Tensor of shape (n_samples,), default=None
        What training batches are compared with (class indices for a
        classifier); None means the rows themselves, as an autoencoder's.
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
        if sp.issparse(X):
            X = X.tocsr()
        self.X = X
        self.dtype = dtype
        self.device = torch.device(device)
        self.scale = scale
        self.check = check
        self.targets = targets
        # ``(x - shift) / scale`` as ``offset + x / scale``: one pass over
        # the batch instead of two.
        self.offset = None
        if shift is not None and not isinstance(X, torch.Tensor):
            shift = torch.as_tensor(shift, dtype=torch.float64) / scale
            self.offset = (-shift).to(dtype=dtype, device=self.device)
        self._mapping = _file_mapping(X)

    def __len__(self):
        return self.X.shape[0]

    @property
    def on_device(self):
        return isinstance(self.X, torch.Tensor) and self.X.device == self.device

    def rows(self, index):
        """Rows ``index`` (a slice, or an index tensor/array) as a tensor."""
        if isinstance(self.X, torch.Tensor):
            return self.X[index].to(self.device, non_blocking=True)
        if isinstance(index, torch.Tensor):
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

    def _standardise(self, batch):
        if self.offset is not None:
            batch = torch.add(self.offset, batch, alpha=1 / self.scale)
        return batch

    def batches(self, batch_size):
        """Consecutive row slices, for inference."""
        for start in range(0, len(self), batch_size):
            yield slice(start, min(start + batch_size, len(self)))

    def release(self, index):
        """Drop the pages of a memory-mapped file that rows ``index`` occupy.

        Pages of a file read through a memory map stay in the process's
        resident memory until the system needs them back; releasing each
        batch once it has been used keeps a pass over a file larger than
        memory from growing the resident set. The file's contents are
        untouched (the pages are read again if needed). Does nothing for
        data that is not a shared mapping of a file, or for ``index`` that
        is not a slice.
        """
        if isinstance(index, slice):
            self._release_rows(index.start, index.stop)

    def _release_rows(self, start, stop):
        """Drop the file pages of rows ``start:stop`` of ``X`` (see ``release``)."""
        if self._mapping is None:
            return
        mapping, base = self._mapping
        row_bytes = self.X.strides[0]
        first = self.X.ctypes.data - base + start * row_bytes
        last = first + (stop - start) * row_bytes
        first -= first % mmap.PAGESIZE
        last = min(len(mapping), -(-last // mmap.PAGESIZE) * mmap.PAGESIZE)
        if last > first:
            mapping.madvise(mmap.MADV_DONTNEED, first, last - first)

    def shuffled(self, batch_size, generator=None, shard=None):
        """Training batches ``(index, rows)`` in a new random order.

        The permutation is drawn from ``generator``, where it lives (a
        permutation copied to a GPU would stall the host until the device
        caught up, once per epoch). With ``shard=(rank, world_size)`` each
        batch keeps every ``world_size``-th row, starting at ``rank``.
        """
        rank, world = shard or (0, 1)
        device = generator.device if generator is not None else "cpu"
        perm = torch.randperm(len(self), generator=generator, device=device)
        for start in range(0, len(self), batch_size):
            index = perm[start + rank : start + batch_size : world]
            yield index, self.rows(index)


class ColumnStats(NamedTuple):
    """Per-feature mean, variance, minimum and maximum (float64 arrays)."""

    mean: np.ndarray
    var: np.ndarray
    min: np.ndarray
    max: np.ndarray


class StreamedRows(RowSource):
    """Rows of an array that is read in blocks, never loaded whole.

    For a ``numpy.memmap`` or a lazily read array (an h5py dataset, a zarr
    or dask array: anything with ``shape``, a NumPy ``dtype`` and slicing)
    larger than memory. Each training epoch reads the array in random
    order, block by block: it draws a permutation of the blocks, gathers
    them into buffers of ``buffer_rows`` rows, shuffles each buffer and
    slices batches from it; the rows left over from one buffer start the
    next, so every batch but the last is full. A buffer holds 64 blocks
    drawn from anywhere in the array, so its batches mix rows from 64
    places even when the array is sorted (by class, say). Each block is
    copied into the buffer and its pages released, so resident memory grows
    by about one buffer.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The array, read with ``X[start:stop]``.
    shift, scale, dtype, device, check :
        As for :class:`RowSource`.
    index : ndarray of int, default=None
        Sorted rows of ``X`` to serve (a training or validation split);
        None serves them all.
    buffer_rows : int, default=65536
        Rows shuffled together; a block is 1/64 of a buffer.
    """

    def __init__(
        self,
        X,
        shift=None,
        scale=1.0,
        dtype=torch.float32,
        device="cpu",
        check=None,
        index=None,
        buffer_rows=65536,
    ):
        super().__init__(X, shift, scale, dtype, device, check)
        self.index = index
        self.buffer_rows = max(1, int(buffer_rows))
        self.block_rows = max(1, self.buffer_rows // 64)
        self._moments = None

    def __len__(self):
        return self.X.shape[0] if self.index is None else len(self.index)

    @property
    def on_device(self):
        return False

    def take(self, index):
        """The same array restricted to rows ``index`` of those it serves."""
        index = np.asarray(index)
        if self.index is not None:
            index = self.index[index]
        return type(self)(
            self.X,
            dtype=self.dtype,
            device=self.device,
            check=self.check,
            index=index,
            buffer_rows=self.buffer_rows,
        )

    def standardised(self, shift, scale, check=None):
        """The same rows, served standardised as ``(x - shift) / scale``."""
        return type(self)(
            self.X,
            shift,
            scale,
            dtype=self.dtype,
            device=self.device,
            check=check,
            index=self.index,
            buffer_rows=self.buffer_rows,
        )

    def _read(self, start, stop, out=None):
        """Served rows ``start:stop``, checked, as a NumPy array in ``dtype``.

        Reads contiguous ranges of ``X`` of at most ``block_rows`` rows (a
        split reads the rows between its own too, and drops them), copies
        them into ``out`` (a new array by default) and releases their pages.
        """
        if out is None:
            shape = (stop - start, self.X.shape[1])
            out = np.empty(shape, dtype=_NUMPY_DTYPES[self.dtype])
        if self.index is None:
            step = self.block_rows
            spans = [(a, min(a + step, stop), None) for a in range(start, stop, step)]
        else:
            spans = self._spans(self.index[start:stop])
        at = 0
        for first, last, keep in spans:
            block = np.asarray(self.X[first:last])
            if keep is not None:
                block = block[keep]
            if self.check is not None:
                self.check(block)
            out[at : at + len(block)] = block
            at += len(block)
            self._release_rows(first, last)
        return out

    def _spans(self, rows):
        """``(first, last, keep)`` ranges of ``X`` that hold sorted ``rows``.

        Each range spans at most ``block_rows`` rows of ``X``, so a sparse
        split (a few labeled rows, a validation set) never reads much more
        than a block at a time; ``keep`` picks the split's rows out of it
        (None where the range holds nothing else).
        """
        if not len(rows):
            return
        window = (rows - rows[0]) // self.block_rows
        cuts = np.flatnonzero(np.diff(window)) + 1
        for group in np.split(rows, cuts):
            first, last = int(group[0]), int(group[-1]) + 1
            keep = None if last - first == len(group) else group - first
            yield first, last, keep

    def rows(self, index):
        """Rows ``index`` (a slice of the served rows) as a tensor."""
        if not isinstance(index, slice):
            raise TypeError("StreamedRows serves slices of rows only.")
        start, stop, step = index.indices(len(self))
        if stop <= start:
            block = np.empty((0, self.X.shape[1]), dtype=_NUMPY_DTYPES[self.dtype])
        else:
            block = self._read(start, stop)[::step]
        batch = torch.from_numpy(np.ascontiguousarray(block))
        return self._standardise(batch.to(self.device, non_blocking=True))

    def release(self, index):
        """Nothing to do: ``rows`` releases the pages it reads."""

    def blocks(self):
        """The served rows, block by block, in order, as NumPy arrays."""
        for start in range(0, len(self), self.block_rows):
            yield self._read(start, min(start + self.block_rows, len(self)))

    @property
    def shape(self):
        return (len(self), self.X.shape[1])

    def moments(self):
        """Per-feature statistics of the served rows, from one pass in blocks.

        Returns a :class:`ColumnStats` of float64 arrays, computed on the
        first call (which also runs ``check`` on every row) and cached.
        Blocks are combined with Chan et al.'s pairwise update, which stays
        accurate where a running sum of squares would cancel.
        """
        if self._moments is not None:
            return self._moments
        n, mean, m2 = 0, 0.0, 0.0
        low, high = np.inf, -np.inf
        for block in self.blocks():
            block = block.astype(np.float64)
            k = len(block)
            block_mean = block.mean(axis=0)
            block_m2 = ((block - block_mean) ** 2).sum(axis=0)
            delta = block_mean - mean
            total = n + k
            mean = mean + delta * (k / total)
            m2 = m2 + block_m2 + delta**2 * (n * k / total)
            n = total
            low = np.minimum(low, block.min(axis=0))
            high = np.maximum(high, block.max(axis=0))
        self._moments = ColumnStats(mean, m2 / n, low, high)
        return self._moments

    def shuffled(self, batch_size, generator=None, shard=None):
        rank, world = shard or (0, 1)
        n, block = len(self), self.block_rows
        order = torch.randperm(-(-n // block), generator=generator)
        per_buffer = max(1, self.buffer_rows // block)
        leftover = np.empty((0, self.X.shape[1]), dtype=_NUMPY_DTYPES[self.dtype])
        for group in order.split(per_buffer):
            spans = [(b * block, min(b * block + block, n)) for b in group.tolist()]
            size = len(leftover) + sum(stop - start for start, stop in spans)
            # The buffer is the only copy: blocks are read into it, and
            # batches are gathered from it and standardised one at a time.
            host = np.empty((size, leftover.shape[1]), dtype=leftover.dtype)
            host[: len(leftover)] = leftover
            at = len(leftover)
            for start, stop in spans:
                self._read(start, stop, out=host[at : at + stop - start])
                at += stop - start
            buffer = torch.from_numpy(host).to(self.device)
            perm = torch.randperm(size, generator=generator)
            on_device = perm.to(self.device)
            n_full = size - size % batch_size
            for start in range(0, n_full, batch_size):
                index = on_device[start + rank : start + batch_size : world]
                yield None, self._standardise(buffer[index])
            leftover = host[perm[n_full:].numpy()]
            del buffer, host
        if len(leftover):
            batch = torch.from_numpy(leftover[rank::world]).to(self.device)
            yield None, self._standardise(batch)


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


def _file_mapping(X):
    """``(mmap, base address)`` of the shared file mapping behind ``X``, or None.

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
    return mapping, address


@contextlib.contextmanager
def tf32_matmuls(enabled):
    """Let CUDA matmuls and cuDNN convolutions use TensorFloat-32 inside.

    The flags are process-wide; they are restored on exit.
    """
    if not enabled:
        yield
        return
    flags = torch.backends.cuda.matmul, torch.backends.cudnn
    before = [f.allow_tf32 for f in flags]
    try:
        for f in flags:
            f.allow_tf32 = True
        yield
    finally:
        for f, value in zip(flags, before, strict=True):
            f.allow_tf32 = value


def distributed_shard():
    """``(rank, world_size)`` inside a multi-process torch.distributed group.

    None when no process group is initialised (or it has one process): then
    training is the ordinary single-process loop.
    """
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return None


class BatchIterator:
    """Mini-batches ``(inputs, target)`` of a :class:`RowSource`.

    With ``shuffle``, each pass serves the rows in a new random order drawn
    from ``generator`` (see :meth:`RowSource.shuffled`). The target is the
    clean batch (or the source's ``targets``); corruption, where an
    estimator asks for it, happens in the train step.
    With ``shard=(rank, world_size)`` each process keeps every
    ``world_size``-th row of each batch, starting at ``rank``: the processes
    draw the same order, so together they cover each batch once.
    """

    def __init__(self, source, batch_size, shuffle, generator=None, shard=None):
        self.source = source
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.shard = shard

    def __len__(self):
        return math.ceil(len(self.source) / self.batch_size)

    def __iter__(self):
        if self.shuffle:
            for index, rows in self.source.shuffled(
                self.batch_size, self.generator, self.shard
            ):
                yield self._batch(index, rows)
            return
        rank, world = self.shard or (0, 1)
        for index in self.source.batches(self.batch_size):
            index = slice(index.start + rank, index.stop, world)
            yield self._batch(index, self.source.rows(index))

    def _batch(self, index, rows):
        targets = self.source.targets
        if targets is None:
            return rows, rows
        if torch.is_tensor(index):
            index = index.to(targets.device)
        return rows, targets[index]


class AutoEncoderNet(NeuralNet):
    """skorch net that trains an autoencoder module on :class:`RowSource` data.

    ``fit``/``partial_fit`` take ``X`` as a pair ``(train, valid)`` of row
    sources (``valid`` may be None). The estimator sets the hooks below for
    the duration of training and clears them afterwards, so that a fitted
    net holds no reference back to its estimator.

    Parameters
    ----------
    penalty : callable or None
        ``penalty(inputs, codes, output, module) -> scalar tensor`` added to
        the criterion's loss while training and validating.
    corrupt : callable or None
        ``corrupt(inputs, generator) -> inputs``, applied to training batches.
    generator : torch.Generator or None
        Random stream on the device, for corruption, dropout and sampling.
    host_generator : torch.Generator or None
        Random stream on the host, for shuffling rows that live there (the
        same object as ``generator`` when training on a CPU).
    precision : {'float32', 'tf32', 'bf16'}, default='float32'
        Arithmetic of the training and validation steps: full float32,
        float32 with TensorFloat-32 CUDA matmuls, or a bfloat16 forward pass
        (float32 weights, gradients and loss).
    """

    def __init__(
        self,
        *args,
        penalty=None,
        corrupt=None,
        generator=None,
        host_generator=None,
        precision="float32",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.penalty = penalty
        self.corrupt = corrupt
        self.generator = generator
        self.host_generator = host_generator
        self.precision = precision

    def __getstate__(self):
        state = super().__getstate__()
        # The estimators pass ``module`` and ``criterion`` as instances, so
        # they are the very objects in ``module_`` and ``criterion_``, which
        # skorch pickles apart, device-independently. Pickled again here they
        # would tie the file to the training device (a GPU-trained model
        # would not load on a machine without CUDA).
        for name in ("module", "criterion"):
            if state.get(name) is getattr(self, name + "_", None):
                state[name] = None
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        for name in ("module", "criterion"):
            if getattr(self, name, None) is None:
                setattr(self, name, getattr(self, name + "_"))

    def get_default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("print_log", PrintLog())]

    @contextlib.contextmanager
    def random_streams(self, seed, host_seed):
        """Seed the random streams of training for the duration of the block.

        ``generator`` lives on the net's device, seeded from ``seed``, and
        drives corruption and the module's dropout; ``host_generator``
        shuffles rows that live on the host. On a CPU one stream serves
        both, so that dense and sparse input (whose rows live on the host)
        draw the same permutations and the same noise; elsewhere the host's
        is seeded from ``host_seed``. On exit the streams are dropped, so
        the fitted net holds none, and the module is left in eval mode.
        """
        generator = torch.Generator(device=self.device).manual_seed(seed)
        host_generator = generator
        if generator.device.type != "cpu":
            host_generator = torch.Generator().manual_seed(host_seed)
        self.generator, self.host_generator = generator, host_generator
        set_generator(self.module_, generator)
        try:
            yield
        finally:
            self.generator = self.host_generator = None
            set_generator(self.module_, None)
            self.module_.eval()

    # Data path ---------------------------------------------------------
    def check_data(self, X, y=None):
        pass

    def get_split_datasets(self, X, y=None, **fit_params):
        return X

    def get_iterator(self, dataset, training=False):
        generator = self.generator if dataset.on_device else self.host_generator
        return BatchIterator(
            dataset, self.batch_size, training, generator, distributed_shard()
        )

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        total, n_batches = 0.0, 0
        with tf32_matmuls(self.precision == "tf32"):
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                total = total + step["loss"].detach() * len(batch[0])
                self.notify("on_batch_end", batch=batch, training=training, **step)
                n_batches += 1
        if iterator.shard is not None:
            # Every process records the same epoch loss, so callbacks such as
            # early stopping take the same decisions everywhere.
            total = torch.as_tensor(total, dtype=torch.float64, device=self.device)
            dist.all_reduce(total)
        # The epoch's only host-device synchronisation.
        loss = float(total / len(iterator.source))
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The {'training' if training else 'validation'} loss became "
                f"{loss} at epoch {len(self.history)}: training diverged. Try a "
                f"smaller learning_rate_init (it is {self.lr}) or scale the "
                "input features."
            )
        self.history.record(prefix + "_loss", loss)
        self.history.record(prefix + "_batch_count", n_batches)

    def _set_training(self, training=True):
        # skorch sets the mode of every module for every batch; walking the
        # module tree each time costs more than a small network's step.
        if self.module_.training != training:
            super()._set_training(training)

    # Loss assembly -----------------------------------------------------
    def infer(self, x, **fit_params):
        if self.precision != "bf16":
            return super().infer(x, **fit_params)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            y_pred = super().infer(x, **fit_params)
        # The loss, its penalty and the epoch's sum are computed in float32:
        # in bfloat16 (8 significant bits) a loss would change in steps of
        # 0.4%, too coarse for ``tol``.
        return tuple(
            t.float() if torch.is_tensor(t) and t.is_floating_point() else t
            for t in y_pred
        )

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        inputs, target = batch
        if self.corrupt is not None:
            inputs = self.corrupt(inputs, self.generator)
        if len(inputs) == 0:
            # A process whose share of a short last batch is empty still
            # takes part in the gradient exchange.
            loss, y_pred = torch.zeros((), device=inputs.device), None
        else:
            y_pred = self.infer(inputs, **fit_params)
            loss = self.get_loss(y_pred, target, X=inputs, training=True)
            loss.backward()
        if distributed_shard() is not None:
            self._all_reduce_gradients(len(inputs))
        return {"loss": loss, "y_pred": y_pred}

    def _all_reduce_gradients(self, n_rows):
        """Replace each process's gradient by the whole batch's.

        Each process's gradient is of the mean loss over its rows; weighted
        by its number of rows, summed over processes (one collective call)
        and divided by the batch size, it is the gradient of the mean loss
        over the whole batch, exactly for losses that sum over rows.
        """
        params = [p for p in self.module_.parameters() if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat(
            [g.reshape(-1) * n_rows for g in grads] + [grads[0].new_full((1,), n_rows)]
        )
        dist.all_reduce(flat)
        flat = flat[:-1] / flat[-1]
        offset = 0
        for p in params:
            p.grad = flat[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.criterion_(y_pred, y_true)
        if self.penalty is not None:
            output, codes = y_pred[0], y_pred[1]
            loss = loss + self.penalty(X, codes, output, self.module_)
        return loss
