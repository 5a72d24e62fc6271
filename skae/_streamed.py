"""StreamedRows: rows of an array larger than memory, read in blocks.

For a ``numpy.memmap`` or a lazily read array (an h5py dataset, a zarr or
dask array: anything with ``shape``, a NumPy ``dtype`` and slicing) that
``fit`` does not load whole. It is one implementation of
:class:`skae._rowsource.RowSource`, complete like the others.
"""

import tempfile

import numpy as np
import torch

from ._rowsource import RowSource, Standardiser, file_mapping


class StreamedRows(RowSource):
    """Rows of an array that is read in blocks, never loaded whole.

    Each training epoch reads the array in random order, block by block: it
    draws a permutation of the blocks, gathers them into buffers of
    ``buffer_rows`` rows, shuffles each buffer and slices batches from it;
    the rows left over from one buffer start the next, so every batch but
    the last is full. A buffer holds 64 blocks drawn from anywhere in the
    array, so its batches mix rows from 64 places even when the array is
    sorted (by class, say). Each block is copied into the buffer and its
    pages released, so resident memory grows by about one buffer.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The array, read with ``X[start:stop]``.
    shift, scale : ndarray of shape (n_features,) and float, default=None, 1.0
        Standardisation ``(x - shift) / scale`` of every served batch.
    device : str or torch.device, default='cpu'
        Where batches are served (float32).
    check : callable, default=None
        ``check(block)``, called on the values of every block read, until
        :meth:`column_stats` has read them all once (the checking pass
        before training); sources derived after that do not check again.
    index : ndarray of int, default=None
        Sorted rows of ``X`` to serve (a training or validation split);
        None serves them all.
    buffer_rows : int, default=65536
        Rows shuffled together; a block is 1/64 of a buffer.
    targets : torch.Tensor of shape (n_served,), default=None
        What training batches are compared with; None means the rows.
    """

    dtype = torch.float32

    def __init__(
        self,
        X,
        shift=None,
        scale=1.0,
        device="cpu",
        check=None,
        index=None,
        buffer_rows=65536,
        targets=None,
    ):
        self.X = X
        self.shift, self.scale = shift, scale
        self.device = torch.device(device)
        self.check = check
        self.index = index
        self.buffer_rows = max(1, int(buffer_rows))
        self.block_rows = max(1, self.buffer_rows // 64)
        self.targets = targets
        self._standardise = Standardiser(shift, scale, self.dtype, self.device)
        self._mapping = file_mapping(X)

    def __len__(self):
        return self.X.shape[0] if self.index is None else len(self.index)

    def _copy(self, **changes):
        # Once every value has been checked, derived sources read unchecked.
        fields = dict(
            shift=self.shift,
            scale=self.scale,
            device=self.device,
            check=self.check if self._stats is None else None,
            index=self.index,
            buffer_rows=self.buffer_rows,
            targets=self.targets,
        )
        return StreamedRows(self.X, **{**fields, **changes})

    def take(self, index):
        index = np.asarray(index)
        targets = self._take_targets(torch.from_numpy(index))
        if self.index is not None:
            index = self.index[index]
        return self._copy(index=index, targets=targets)

    def standardised(self, shift, scale):
        return self._copy(shift=shift, scale=scale)

    def read(self, start, stop, out=None):
        """Served rows ``start:stop``, checked, as a float32 NumPy array.

        Reads contiguous ranges of ``X`` of at most ``block_rows`` rows (a
        split reads the rows between its own too, and drops them), copies
        them into ``out`` (a new array by default) and releases their pages.
        """
        if out is None:
            out = np.empty((max(stop - start, 0), self.n_features), dtype=np.float32)
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
            if self._mapping is not None:
                self._mapping.release(self.X, first, last)
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

    def batches(self, batch_size, shard=None):
        rank, world = shard or (0, 1)
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            block = np.ascontiguousarray(self.read(start + rank, stop)[::world])
            inputs = torch.from_numpy(block).to(self.device, non_blocking=True)
            ids = np.arange(start + rank, stop, world)
            yield self._with_targets(self._standardise(inputs), ids)

    def blocks(self):
        """The served rows, block by block, in order, as NumPy arrays."""
        for start in range(0, len(self), self.block_rows):
            yield self.read(start, min(start + self.block_rows, len(self)))

    def shuffled(self, batch_size, generator=None, shard=None):
        rank, world = shard or (0, 1)
        n, block = len(self), self.block_rows
        order = torch.randperm(-(-n // block), generator=generator)
        per_buffer = max(1, self.buffer_rows // block)
        leftover = np.empty((0, self.n_features), dtype=np.float32)
        # Served positions of the buffer's rows, to pick their targets.
        left_ids = np.empty(0, dtype=np.int64)
        for group in order.split(per_buffer):
            spans = [(b * block, min(b * block + block, n)) for b in group.tolist()]
            host, ids = self._fill_buffer(spans, leftover, left_ids)
            # The buffer is the only copy: blocks are read into it, and
            # batches are gathered from it and standardised one at a time.
            buffer = torch.from_numpy(host).to(self.device)
            perm = torch.randperm(len(host), generator=generator)
            on_device = perm.to(self.device)
            n_full = len(host) - len(host) % batch_size
            for start in range(0, n_full, batch_size):
                pick = slice(start + rank, start + batch_size, world)
                inputs = self._standardise(buffer[on_device[pick]])
                yield self._with_targets(inputs, ids, perm[pick].numpy())
            rest = perm[n_full:].numpy()
            leftover = host[rest]
            left_ids = ids[rest] if ids is not None else left_ids
            del buffer, host
        if len(leftover):
            batch = torch.from_numpy(leftover[rank::world]).to(self.device)
            yield self._with_targets(self._standardise(batch), left_ids[rank::world])

    def _fill_buffer(self, spans, leftover, left_ids):
        """A buffer: the leftover rows, then the blocks ``spans``.

        Returns the buffer and the served positions of its rows (None
        without targets).
        """
        size = len(leftover) + sum(stop - start for start, stop in spans)
        host = np.empty((size, self.n_features), dtype=np.float32)
        host[: len(leftover)] = leftover
        at = len(leftover)
        for start, stop in spans:
            self.read(start, stop, out=host[at : at + stop - start])
            at += stop - start
        if self.targets is None:
            return host, None
        ids = [left_ids] + [np.arange(start, stop) for start, stop in spans]
        return host, np.concatenate(ids)

    def _with_targets(self, inputs, ids, picked=None):
        """The batch ``(inputs, target)``; rows ``ids[picked]`` pick targets."""
        if self.targets is None:
            return inputs, inputs
        rows = ids if picked is None else ids[picked]
        return inputs, self.targets[torch.as_tensor(rows).to(self.targets.device)]

    def mapped(self, fn, n_out, batch_size):
        """``fn`` of every row, written to a file and streamed in turn.

        The file is an anonymous temporary file in :func:`tempfile.gettempdir`
        (``TMPDIR``), removed once its memory map is closed; its buffers hold
        as many bytes as those of this source.
        """
        with tempfile.TemporaryFile() as file:
            with torch.inference_mode():
                for inputs, _ in self.batches(batch_size):
                    codes = fn(inputs).cpu().numpy()
                    file.write(np.ascontiguousarray(codes, dtype=np.float32).data)
            file.flush()
            # The map keeps the (already unlinked) file alive once closed.
            shape = (len(self), n_out)
            codes = np.memmap(file, dtype=np.float32, mode="r", shape=shape)
        return StreamedRows(
            codes,
            device=self.device,
            buffer_rows=self.buffer_rows * self.n_features // n_out,
            targets=self.targets,
        )
