"""The phases of ``fit`` that every skae estimator shares.

:class:`TrainingMixin` gives the autoencoders (:mod:`skae._base`) and
:class:`~skae.AutoEncoderClassifier` the same steps, each a named method
over the estimator's own hyperparameters (the names of ``MLPRegressor``):
the training device, the value checks handed to the data layer, the input
standardisation, the network and the skorch net that trains it, training
with rollback, and the convergence warning. Neither estimator calls into the
other's internals.
"""

import contextlib
import copy
import os
import warnings
from fnmatch import fnmatch

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._averaging import AveragedWeights
from ._layer_rates import DECAYED, parameter_groups
from ._losses import LOSS_OUTPUTS, ReconstructionLoss
from ._modules import MLPAutoEncoder
from ._net import AutoEncoderNet, WarmUp, distributed_shard, loss_curve
from ._rowsource import principal_axes
from ._stopping import LR_DROPS, KeepBestStopping
from ._validation import (
    check_precision,
    check_support,
    hidden_layer_sizes,
    resolve_device,
    user_stacklevel,
    value_check,
)

# ``batch_size='auto'``: batches of 64 rows until an epoch would take more
# than this many steps, then larger batches, up to the maximum size.
AUTO_STEPS_PER_EPOCH = 100
AUTO_MAX_BATCH_SIZE = 4096
# The learning rate grows with the batch as a power of its growth.
AUTO_LEARNING_RATE_POWER = 0.5
# Regularisation measured on up to this many rows (``alpha``, VAESampler's
# ``dropout='auto'``) falls in proportion to the rows beyond it.
REGULARISATION_ROWS = 4000
# ... and ``alpha`` stays whole up to one row per this many connection
# weights (see ``regularisation_scale``).
WEIGHTS_PER_ROW = 47


def regularisation_scale(n_samples, n_weights=0):
    """The factor on regularisation measured for up to ``REGULARISATION_ROWS``.

    1 up to that many rows, or up to ``n_weights / WEIGHTS_PER_ROW`` rows
    where that is more, and falling as ``1 / n_samples`` beyond: a fixed L2
    prior on the weights pulls on the mean loss per row with a weight that
    falls as ``1 / n_samples``, but a network with many weights for its rows
    still overfits them. Measured with ``alpha`` (see its docstring): the
    784-1000-500-250-30 autoencoder (2.8 million weights) on 60,000 MNIST
    images fitted best with the decay it has on 4,000, and the default
    784-256-128-30 (0.48 million) on 20,000 with 2.5 times ``4000 /
    n_samples``; 784-128-64-32 (0.22 million) on 60,000 wanted no more.
    """
    rows = max(REGULARISATION_ROWS, n_weights / WEIGHTS_PER_ROW)
    return min(1.0, rows / max(n_samples, 1))


def connection_weights(module):
    """How many connection weights ``module`` has: those ``alpha`` decays."""
    named = module.named_parameters()
    return sum(p.numel() for name, p in named if fnmatch(name, DECAYED))


class TrainingMixin:
    """Fit phases over MLPRegressor-style hyperparameters; not for direct use.

    The estimator provides ``n_components``, ``hidden_layer_sizes``,
    ``activation``, ``loss``, ``alpha``, ``dropout``, ``batch_size``,
    ``learning_rate_init``, ``tol``, ``n_iter_no_change``, ``device``,
    ``precision`` and ``verbose``.
    """

    # Nonlinearity of the code layer (a subclass may make it a property).
    _code_activation = "identity"
    # The parameter that chooses the reconstruction loss, for error messages.
    _loss_parameter = "loss"
    # Hooks of the train step; ``None`` means the estimator does not use it.
    # See ``AutoEncoderNet`` for the signatures of ``_penalty(inputs, codes,
    # output, module)`` and ``_corrupt(inputs, generator)``; both see
    # standardised batches.
    _penalty = None
    _corrupt = None
    # The decay of the weights' moving average over the training steps (see
    # ``AveragedWeights``); ``None``: the fit ends with the trained weights.
    _average_decay = None
    # Times the learning rate falls tenfold on a plateau before training
    # stops (see ``KeepBestStopping``).
    _lr_drops = LR_DROPS
    # Steps an epoch of ``batch_size='auto'`` takes on many rows.
    _auto_steps_per_epoch = AUTO_STEPS_PER_EPOCH
    # Whether wide layers learn at a rate of their own (``skae._layer_rates``).
    _rates_per_layer = True

    # Checks ------------------------------------------------------------
    def _loss_description(self):
        """How the estimator names its loss in messages (``"loss='bce'"``)."""
        return f"{self._loss_parameter}={getattr(self, self._loss_parameter)!r}"

    def _value_check(self, *, support=True, float32_range=False):
        """The check of input values handed to the data layer (a plain function)."""
        return value_check(
            self.loss if support else None,
            estimator_name=type(self).__name__,
            parameter=self._loss_description(),
            float32_range=float32_range,
        )

    def _check_support(self, values):
        """Refuse values outside the support of the loss (see ``check_support``)."""
        check_support(
            values,
            self.loss,
            estimator_name=type(self).__name__,
            parameter=self._loss_description(),
        )

    def _hidden_layer_sizes(self):
        return hidden_layer_sizes(self.hidden_layer_sizes)

    def _training_device(self):
        """The device ``fit`` trains on: ``device`` resolved and checked.

        Inside a multi-process ``torch.distributed`` group on CUDA, each
        process takes its own GPU, as torchrun numbers them.
        """
        device = resolve_device(self.device)
        check_precision(self.precision, device)
        shard = distributed_shard()
        if shard is not None and device == "cuda":
            local_rank = int(os.environ.get("LOCAL_RANK", shard[0]))
            device = f"cuda:{local_rank % torch.cuda.device_count()}"
        return device

    def _draw_seeds(self):
        """The seed of the network and training streams, and the split's RNG.

        Inside a multi-process ``torch.distributed`` group every process
        uses the first one's seed: the same initial weights, validation
        split and permutations, whatever their ``random_state``.
        """
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if distributed_shard() is not None:
            seeds = [seed]
            torch.distributed.broadcast_object_list(seeds, src=0)
            seed = seeds[0]
            rng = np.random.RandomState(seed)
        return seed, rng

    # Data --------------------------------------------------------------
    def _standardisation(self, rows):
        """Per-feature mean and one global scale, for ``loss='mse'``.

        Dividing by a single number keeps the objective proportional to the
        reconstruction error in the input's units (features are not
        reweighted, as in PCA) while making the default learning rate work
        whatever the data's scale. Other losses see the data as it is.
        """
        if self.loss != "mse":
            return None, 1.0
        stats = rows.column_stats()
        scale = float(np.sqrt(stats.var.mean()))
        if not np.isfinite(scale) or scale < 10 * np.finfo(np.float32).tiny:
            scale = 1.0
        return stats.mean, scale

    # Model -------------------------------------------------------------
    def _build_module(self, n_features, hidden_layer_sizes):
        """Hook: the untrained torch module (a fully connected autoencoder)."""
        return MLPAutoEncoder(
            n_features,
            self._n_codes(),
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            output=LOSS_OUTPUTS[self.loss],
            dropout=self.dropout,
            code_activation=self._code_activation,
            linear_path=self._resolved_init() == "pca",
            n_inputs=self._module_inputs(n_features),
            ordered_codes=self._orders_codes(),
        )

    def _n_codes(self):
        """Hook: the width of the code layer, ``n_components`` here."""
        return self.n_components

    def _orders_codes(self):
        """Hook: whether training orders the codes (nested dropout); not here."""
        return False

    def _module_inputs(self, n_features):
        """Hook: the width of the network's input for ``n_features`` columns.

        The columns themselves; an estimator that feeds the network more
        than the rows (an imputer's missing mask) widens it.
        """
        return n_features

    def _resolved_init(self):
        """Hook: how the network starts, ``'pca'`` or ``'random'``.

        Random here; the autoencoders with an ``init`` parameter resolve it
        (see ``skae._validation.resolve_init``).
        """
        return "random"

    def _start_from_data(self, module, rows):
        """Set the fresh ``module``'s starting point from the training rows.

        Called after random initialisation, with the rows as given and
        ``shift_``/``scale_`` set. When ``init`` resolves to ``'pca'`` the
        module starts as PCA's solution on the standardised rows
        (``MLPAutoEncoder.start_from_components``).
        """
        if self._resolved_init() == "pca":
            axes = principal_axes(rows, self.shift_, self._n_codes())
            module.start_from_components(axes)

    def _new_module(self, n_features, hidden_layer_sizes, seed):
        """A fresh network from ``_build_module``, initialised from ``seed``.

        Built on the meta device and initialised by the module's
        ``reset_parameters(generator)``: torch's default initialisation
        would draw from the global random state.
        """
        with torch.device("meta"):
            module = self._build_module(n_features, hidden_layer_sizes)
        module = module.to_empty(device="cpu")
        module.reset_parameters(torch.Generator().manual_seed(seed))
        return module

    def _build_criterion(self):
        """Hook: the loss the net minimises."""
        return ReconstructionLoss(self.loss)

    def _schedules(self, n_samples):
        """Hook: ``(name, callback)`` pairs that change the loss as training goes."""
        return []

    def _effective_batch_size(self, n_samples):
        """``batch_size``, or for ``'auto'`` a size that grows with the data.

        ``'auto'`` takes 64 rows from 640 up to ``64 * _auto_steps_per_epoch``
        rows (fewer: a tenth of them, at least 16, so that an epoch has
        about ten steps) and beyond grows so that an epoch takes
        ``_auto_steps_per_epoch`` steps (``AUTO_STEPS_PER_EPOCH`` unless the
        estimator sets it), up to ``AUTO_MAX_BATCH_SIZE`` rows.
        """
        if self.batch_size == "auto":
            size = n_samples // self._auto_steps_per_epoch
            if size < 64:
                # Few rows: at least ten steps an epoch, of 16 rows or more.
                size = max(16, min(64, n_samples // 10))
            return min(size, AUTO_MAX_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _effective_learning_rate(self, n_samples):
        """``learning_rate_init``, scaled as ``batch_size='auto'`` grows the batch.

        By the square root of the batch's growth over 64 rows (the rule
        under which Adam's noise per epoch stays the same); an explicit
        ``batch_size`` keeps ``learning_rate_init`` as given.
        """
        if self.batch_size != "auto":
            return self.learning_rate_init
        growth = max(1.0, self._effective_batch_size(n_samples) / 64)
        return self.learning_rate_init * growth**AUTO_LEARNING_RATE_POWER

    def _effective_alpha(self, n_samples, module):
        """``alpha``, scaled by ``regularisation_scale`` for ``module``'s
        weights and taken per step at ``learning_rate_init``.

        The decay measured best on a few thousand rows overregularised
        60,000; and AdamW shrinks the weights by the learning rate times the
        decay at every step, so the decay is divided by the learning rate's
        batch-growth factor (see ``_effective_learning_rate``), which would
        otherwise shrink the weights faster with every larger batch. Wide
        layers take it times their own factor (``skae._layer_rates``).
        """
        growth = self._effective_learning_rate(n_samples) / self.learning_rate_init
        scale = regularisation_scale(n_samples, connection_weights(module))
        return self.alpha * scale / growth

    def _build_net(
        self,
        module,
        device,
        n_samples,
        *,
        criterion=None,
        max_epochs=None,
        validation=False,
        keep_best=False,
        rate=1.0,
        patience=None,
        callbacks=(),
    ):
        """The skorch net that trains ``module``.

        ``criterion`` defaults to ``_build_criterion()``, ``max_epochs`` to
        ``max_iter``; ``rate`` scales the learning rate (and the warm-up's
        start); with ``validation`` training stops on the held-out
        loss and keeps the best model (see ``KeepBestStopping``), otherwise
        on the training loss, keeping the weights of the epoch with the
        lowest training loss where ``keep_best``, after ``patience`` epochs
        without improvement (default ``n_iter_no_change``). Where the estimator sets
        ``_average_decay``, the weights are averaged over the steps (see
        ``AveragedWeights``). ``callbacks`` come after the stopping one.
        """
        stopping = KeepBestStopping(
            monitor="valid_loss" if validation else "train_loss",
            patience=self.n_iter_no_change if patience is None else patience,
            threshold=self.tol,
            threshold_mode="abs",
            load_best=validation or keep_best,
            lr_drops=self._lr_drops,
        )
        lr = rate * self._effective_learning_rate(n_samples)
        batch_size = self._effective_batch_size(n_samples)
        callbacks = [*self._schedules(n_samples), *callbacks]
        if lr > rate * self.learning_rate_init:
            # The rate grown with the batch is reached over the first epoch.
            steps = -(-n_samples // batch_size)
            warm_up = WarmUp(rate * self.learning_rate_init, steps)
            callbacks = [("warm_up", warm_up), *callbacks]
        if self._average_decay is not None:
            # After the stopping callback, which scores the average.
            average = AveragedWeights(self._average_decay)
            callbacks = [("average", average), *callbacks]
        return AutoEncoderNet(
            module=module,
            criterion=self._build_criterion() if criterion is None else criterion,
            # Decoupled weight decay on connection weights only (``alpha``):
            # Adam with the L2 term in the gradient drives the weights of
            # units that stop learning, and the gradients through them, into
            # subnormal floats, which slowed a 100,000-row fit on a CPU from
            # 0.7 s to up to 15 s an epoch (see ``alpha``'s docstring).
            optimizer=torch.optim.AdamW,
            lr=lr,
            # A rate and a decay per layer (see ``skae._layer_rates``).
            optimizer__param_groups=parameter_groups(
                module,
                lr,
                self._effective_alpha(n_samples, module),
                per_layer=self._rates_per_layer,
            ),
            optimizer__weight_decay=0.0,
            # One fused kernel per parameter instead of a dozen small ops:
            # 15% faster training of a 784-512-128-32 network on a CPU.
            optimizer__fused=torch.device(device).type in ("cpu", "cuda"),
            max_epochs=self.max_iter if max_epochs is None else max_epochs,
            batch_size=batch_size,
            train_split=None,
            callbacks=[("stopping", stopping), *callbacks],
            device=device,
            precision=self.precision,
            verbose=self.verbose,
        )

    # Training ----------------------------------------------------------
    def _train_net(
        self, net, train, valid, *, seeds, epochs=None, before=None, rollback=False
    ):
        """Train ``net`` on row sources ``train`` (and ``valid``, or None).

        ``seeds`` seed the device and host random streams (see
        ``AutoEncoderNet.random_streams``), inside which ``before(net,
        train)`` runs first where given (pretraining). The estimator's
        ``_penalty`` and ``_corrupt`` hooks act for the duration. Training
        that diverges raises ``FloatingPointError``; with ``rollback`` the
        weights, optimizer state and history are first restored to what
        they were, so that no NaN model is left behind.
        """
        net.penalty, net.corrupt = self._penalty, self._corrupt
        with _restored_on_divergence(net, rollback):
            try:
                with net.random_streams(*seeds):
                    if before is not None:
                        before(net, train)
                    net.partial_fit((train, valid), epochs=epochs)
            finally:
                net.penalty = net.corrupt = None
        return net

    def _record_history(self, n_before, check_convergence=True):
        """Fitted attributes of the training history, as MLPRegressor names them."""
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = loss_curve(self.net_)
        # As MLPRegressor: validation scores when rows were held out, else loss.
        self.validation_scores_ = self.best_validation_score_ = None
        self.best_loss_ = None
        scores = [-h["valid_loss"] for h in history if "valid_loss" in h]
        if len(history) and "valid_loss" in history[-1]:
            self.validation_scores_ = scores
            # The kept model's, which may be the one training started from.
            stopping = dict(self.net_.callbacks_)["stopping"]
            self.best_validation_score_ = -stopping.best_loss_
        elif self.loss_curve_:
            self.best_loss_ = min(self.loss_curve_)
        if check_convergence:
            self._warn_unconverged(self.net_, self.n_iter_ - n_before)

    def _warn_unconverged(self, net, ran, what="epochs"):
        """Warn when ``ran`` epochs hit ``max_iter`` with the loss still falling."""
        stopping = dict(net.callbacks_)["stopping"]
        if ran == self.max_iter and stopping.misses_ < stopping.patience:
            warnings.warn(
                f"{type(self).__name__} reached max_iter={self.max_iter} {what} "
                "before the loss stopped improving; increase max_iter.",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )


@contextlib.contextmanager
def _restored_on_divergence(net, enabled):
    """Restore ``net``'s weights, optimizer and history if training diverges."""
    if not enabled:
        yield
        return
    # Adam's moments go NaN with the weights, so both are kept.
    snapshot = [
        copy.deepcopy(net.module_.state_dict()),
        copy.deepcopy(net.optimizer_.state_dict()),
    ]
    n_before = len(net.history)
    try:
        yield
    except FloatingPointError:
        net.module_.load_state_dict(snapshot[0])
        net.optimizer_.load_state_dict(snapshot[1])
        del net.history[n_before:]
        raise
