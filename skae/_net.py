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
- There is no ``Dataset``/``DataLoader`` and no host-device synchronisation
  inside an epoch: batch losses are summed on the device and read once per
  epoch, which is also when a non-finite loss is detected.
- Inside a ``torch.distributed`` process group each process trains on its
  share of every batch, and the gradients are combined into the whole
  batch's before each optimizer step (data parallelism).
"""

import math
import mmap

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PrintLog

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
        batch = batch.to(self.device, non_blocking=True)
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
        if self._mapping is None or not isinstance(index, slice):
            return
        mapping, base = self._mapping
        row_bytes = self.X.strides[0]
        start = self.X.ctypes.data - base + index.start * row_bytes
        stop = start + (index.stop - index.start) * row_bytes
        start -= start % mmap.PAGESIZE
        stop = min(len(mapping), -(-stop // mmap.PAGESIZE) * mmap.PAGESIZE)
        if stop > start:
            mapping.madvise(mmap.MADV_DONTNEED, start, stop - start)


def memory_map(X):
    """The ``numpy.memmap`` that ``X`` is, or is a view of; None if none."""
    while isinstance(X, np.ndarray):
        if isinstance(X, np.memmap):
            return X
        X = X.base
    return None


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

    With ``shuffle``, each pass draws a new permutation from ``generator``,
    which lives where the rows do. The target is the clean batch (or the
    source's ``targets``); corruption, where an estimator asks for it,
    happens in the train step.
    With ``shard=(rank, world_size)`` each process keeps every
    ``world_size``-th row of each batch, starting at ``rank``: the processes
    draw the same permutation, so together they cover each batch once.
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
        n, bs = len(self.source), self.batch_size
        rank, world = self.shard or (0, 1)
        if not self.shuffle:
            for index in self.source.batches(bs):
                yield self._batch(slice(index.start + rank, index.stop, world))
            return
        # Drawn where the rows live: a permutation copied to a GPU would stall
        # the host until the device caught up, once per epoch.
        device = self.generator.device if self.generator is not None else "cpu"
        perm = torch.randperm(n, generator=self.generator, device=device)
        for start in range(0, n, bs):
            yield self._batch(perm[start + rank : start + bs : world])

    def _batch(self, index):
        rows = self.source.rows(index)
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
    """

    def __init__(
        self,
        *args,
        penalty=None,
        corrupt=None,
        generator=None,
        host_generator=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.penalty = penalty
        self.corrupt = corrupt
        self.generator = generator
        self.host_generator = host_generator

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
