"""The training engine: a private skorch ``NeuralNet`` that only trains.

The estimators build and own an :class:`AutoEncoderNet`. Compared with
skorch's defaults it changes how batches reach the module
(``get_iterator`` / ``run_single_epoch``, over a row source of
:mod:`skae._data`) and adds the estimator's penalty to the loss
(``get_loss`` calls skorch's and adds the term, as skorch's guide shows);
callbacks, history, devices and pickling are skorch's own.

- There is no ``Dataset``/``DataLoader`` and no host-device synchronisation
  inside an epoch: batch losses are summed on the device and read once per
  epoch, which is also when divergence is detected (a non-finite loss, or
  one ``DIVERGED_RATIO`` times the fit's first batch's).
- ``precision`` trades accuracy for speed: ``'bf16'`` runs the forward
  pass under bfloat16 autocast, ``'tf32'`` lets CUDA matmuls and
  convolutions use TensorFloat-32; weights, gradients, the optimizer and the
  loss stay in float32.
- Inside a ``torch.distributed`` process group each process trains on its
  share of every batch, and the gradients are combined into the whole
  batch's before each optimizer step (data parallelism).

:func:`infer_batches` is the matching inference loop: a trained module run
over a row source, batch by batch, into one preallocated array.
"""

import contextlib
import copy
import dataclasses
import math
from typing import NamedTuple

import numpy as np
import torch
import torch.distributed as dist
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PrintLog

from ._layer_rates import scaled_rate
from ._modules import set_generator
from ._rowsource import INFERENCE_BATCH_SIZE

# An epoch's training loss this many times above the first batch's of the
# fit (or above 1, where that was smaller: the squared error per entry of
# standardised data when the mean is predicted) means training diverged.
# Fits that diverged and stayed finite (uniform data scaled by 100, learning
# rates of 1 and 10) had first epochs 5e5 to 2e28 times their first batch's
# loss; on digits and standardised breast cancer, rates up to 0.03 stayed
# under 60 times it in every epoch, for the eight estimators tried.
DIVERGED_RATIO = 1000.0


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


@dataclasses.dataclass
class BatchIterator:
    """Mini-batches ``(inputs, target)`` of a row source (see :mod:`skae._data`).

    With ``shuffle``, each pass serves the rows in a new random order drawn
    from ``generator``; without, in order. The target is the clean batch (or
    the source's ``targets``); corruption, where an estimator asks for it,
    happens in the train step. With ``shard=(rank, world_size)`` each
    process keeps every ``world_size``-th row of each batch, starting at
    ``rank``: the processes draw the same order, so together they cover each
    batch once.
    """

    source: object
    batch_size: int
    shuffle: bool
    generator: torch.Generator = None
    shard: tuple = None

    def __len__(self):
        return math.ceil(len(self.source) / self.batch_size)

    def __iter__(self):
        if self.shuffle:
            return self.source.shuffled(self.batch_size, self.generator, self.shard)
        return self.source.batches(self.batch_size, self.shard)


def infer_batches(module, rows, fn, n_out, batch_size=INFERENCE_BATCH_SIZE):
    """``fn(module, inputs)`` for every batch of ``rows``, into one array.

    Runs under ``torch.inference_mode`` in the dtype of ``rows``: float64
    rows are computed in float64 (on a float64 copy of the module), so
    results do not depend on how rows are batched. Memory stays bounded by
    one batch beside the output, for any number of rows.
    """
    if next(module.parameters()).dtype != rows.dtype:
        module = copy.deepcopy(module).to(rows.dtype)
    module.eval()
    out_dtype = np.float64 if rows.dtype == torch.float64 else np.float32
    out = np.empty((len(rows), n_out), dtype=out_dtype)
    at = 0
    with torch.inference_mode():
        for inputs, _ in rows.batches(batch_size):
            out[at : at + len(inputs)] = fn(module, inputs).cpu().numpy()
            at += len(inputs)
    return out


class CodeMoments(NamedTuple):
    """What :func:`code_moments` accumulates, in float64."""

    n: int
    mean: np.ndarray
    covariance: np.ndarray
    # The rows' summed squared deviation from their mean (None unless asked).
    total: float | None
    # The same for each source's rows, about their own mean (empty unless asked).
    source_totals: tuple = ()


def code_moments(module, sources, *, data_total=False, batch_size=INFERENCE_BATCH_SIZE):
    """Count, mean and covariance of ``module.encode`` over ``sources``' rows.

    ``sources`` is a sequence of row sources taken as one set of rows. With
    ``data_total`` the rows' own total sum of squares about their mean is
    accumulated in the same pass, over every row (``total``) and over each
    source's rows about their own mean (``source_totals``). Accumulated on
    the device in float64, batch by batch, without copying codes to the host.
    """
    per_source = []
    with torch.inference_mode():
        for source in sources:
            sums = {}
            for inputs, _ in source.batches(batch_size):
                codes = module.encode(inputs).double()
                parts = {"codes": codes.sum(dim=0), "outer": codes.T @ codes}
                if data_total:
                    x = inputs.double()
                    parts.update(x=x.sum(dim=0), x2=torch.sum(x * x))
                for key, value in parts.items():
                    sums[key] = value + sums[key] if key in sums else value
            per_source.append((len(source), sums))
    n = sum(count for count, _ in per_source)
    sums = {key: sum(s[key] for _, s in per_source) for key in per_source[0][1]}
    mean = sums["codes"] / n
    covariance = (sums["outer"] - n * torch.outer(mean, mean)) / max(n - 1, 1)
    if not data_total:
        return CodeMoments(n, mean.cpu().numpy(), covariance.cpu().numpy(), None)
    totals = [_total(count, s) for count, s in [(n, sums), *per_source]]
    moments = (mean.cpu().numpy(), covariance.cpu().numpy())
    return CodeMoments(n, *moments, totals[0], tuple(totals[1:]))


def _total(n, sums):
    """Summed squared deviation of ``n`` rows from their mean, from their sums."""
    return float(sums["x2"] - torch.sum(sums["x"] ** 2) / n)


def loss_curve(net):
    """The training loss of each epoch that ``net`` finished."""
    return [row["train_loss"] for row in net.history]


class WarmUp(Callback):
    """The learning rate ramped up linearly over the first ``steps`` steps.

    From ``start`` at the first training step to the net's ``lr`` at step
    ``steps``, after which the rate is left alone (to a scheduler among the
    callbacks, if any). A large batch takes a larger rate
    (``batch_size='auto'``); taken from the very first step, with Adam's
    moments not yet estimated, it can kill a wide network at once: a
    784-1000-1000-1000 autoencoder on 5,000 MNIST images in batches of 540
    at 2.9e-3 fell to predicting the mean within its first epoch (its loss
    stayed at 1.0001 of the data's variance for 6 epochs); ramped up from
    1e-3 over 100 steps it trained (0.47 after 4 epochs, 0.18 after 16).
    The "gradual warm-up" of Goyal et al. (2017), "Accurate, large
    minibatch SGD". Each parameter group takes the rate times its own
    factor (``lr_scale``, see ``skae._layer_rates``).
    """

    def __init__(self, start, steps):
        self.start = start
        self.steps = steps

    def initialize(self):
        self.taken_ = 0
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training or self.taken_ >= self.steps:
            return
        self.taken_ += 1
        lr = self.start + (net.lr - self.start) * self.taken_ / self.steps
        for group in net.optimizer_.param_groups:
            group["lr"] = scaled_rate(group, lr)


class AutoEncoderNet(NeuralNet):
    """skorch net that trains an autoencoder module on row sources.

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
    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's, forgetting the history row of an epoch cut short.

        skorch catches ``KeyboardInterrupt`` (Ctrl-C, or a stopping
        callback) and ends training; an interrupt inside an epoch leaves
        that epoch's row in the history without its loss. The epochs counted
        (``n_iter_``) and the loss curve are those that finished.
        """
        super().partial_fit(X, y, classes=classes, **fit_params)
        if len(self.history) and "train_loss" not in self.history[-1]:
            del self.history[-1]
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        return X

    def get_iterator(self, dataset, training=False):
        generator = self.generator if dataset.on_device else self.host_generator
        return BatchIterator(
            dataset, self.batch_size, training, generator, distributed_shard()
        )

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # The first training batch's loss, what divergence is judged against.
        self._start_loss = None

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        loss, n_batches = self._mean_loss(iterator, training, step_fn, **fit_params)
        self.history.record(prefix + "_loss", loss)
        self.history.record(prefix + "_batch_count", n_batches)

    def validation_losses(self, valid, n_groups):
        """Mean validation loss of consecutive groups of ``valid``'s rows.

        Up to ``n_groups`` groups of equal size (the last may be smaller),
        scored as an epoch's ``valid_loss`` would score them, without
        callbacks, by every process on every row. Returns the groups'
        losses and sizes, as float64 arrays.
        """
        size = math.ceil(len(valid) / n_groups)
        iterator = BatchIterator(valid, size, False)
        losses, sizes = [], []
        with tf32_matmuls(self.precision == "tf32"):
            for batch in iterator:
                losses.append(self.validation_step(batch)["loss"].detach())
                sizes.append(len(batch[0]))
        # One host-device synchronisation for all groups.
        losses = torch.stack(losses).double().cpu().numpy()
        self._check_diverged(float(losses.sum()), training=False)
        return losses, np.asarray(sizes, dtype=np.float64)

    def _mean_loss(self, iterator, training, step_fn, **fit_params):
        """``(mean loss per row, number of batches)`` of one pass of ``step_fn``."""
        total, n_batches = 0.0, 0
        with tf32_matmuls(self.precision == "tf32"):
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                total = total + step["loss"].detach() * len(batch[0])
                self.notify("on_batch_end", batch=batch, training=training, **step)
                if training and self._start_loss is None:
                    world = iterator.shard[1] if iterator.shard else 1
                    start = self._summed(step["loss"].detach(), iterator)
                    self._start_loss = start / world
                n_batches += 1
        # The epoch's only host-device synchronisation.
        loss = self._summed(total, iterator) / len(iterator.source)
        self._check_diverged(loss, training)
        return loss, n_batches

    def _summed(self, value, iterator):
        """``value`` as a float, summed over the processes of a shard, so
        that every process records the same losses and callbacks such as
        early stopping take the same decisions everywhere.
        """
        if iterator.shard is not None:
            value = torch.as_tensor(value, dtype=torch.float64, device=self.device)
            dist.all_reduce(value)
        return float(value)

    def _check_diverged(self, loss, training):
        """Raise ``FloatingPointError`` where ``loss`` says training diverged."""
        start = self._start_loss if training else None
        if math.isfinite(loss) and (
            start is None or loss <= DIVERGED_RATIO * max(start, 1.0)
        ):
            return
        grew = "" if start is None else f" (it was {start:.4g} at the first batch)"
        raise FloatingPointError(
            f"The {'training' if training else 'validation'} loss became "
            f"{loss:.4g} at epoch {len(self.history)}{grew}: training "
            f"diverged. Try a smaller learning_rate_init (it is {self.lr}) or "
            "scale the input features."
        )

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
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if self.penalty is not None:
            output, codes = y_pred[0], y_pred[1]
            loss = loss + self.penalty(X, codes, output, self.module_)
        return loss
