"""The fills mixed into AutoEncoderImputer's network's, in held-out shares.

Two fills stand beside the network's: the conditional mean under a normal
fitted by EM to the observed entries, the best linear fill for each row's
own pattern of missing entries; and the conditional mean under a mixture
of normals fitted to the training rows as the first two fills complete
them, a fill that is linear within each component and so follows curved
or clustered data (digits of ten classes) where one normal cannot. Each
enters in the least-squares share that restores the held-out rows' hidden
entries best: first the normal's beside the network's, then the
mixture's beside that blend. Last, that blend is moved by a monotone map
(:mod:`skae._calibration`) fitted to the same entries, in its share.
"""

from typing import NamedTuple

import numpy as np
import torch

from ._calibration import (
    Calibration,
    calibrated,
    cross_fitted,
    fit_calibration,
    observed_range,
)
from ._data import TensorRows
from ._gaussian import (
    MAX_FEATURES,
    MAX_ROWS,
    Mixture,
    Normal,
    conditional_mean,
    fit_mixture,
    fit_normal,
    mixture_conditional_mean,
)
from ._missing import split_inputs

# Numbers of mixture components tried, on the held-out rows; each needs
# ROWS_PER_COMPONENT training rows. With 30 % of the entries missing, one
# mixture fitted to every row as the imputer before it completed them,
# and the least-squares share on every removed entry (a scratch run),
# 10 components (of 1, 3, 10, 20) restored digits/16 best (RMSE 0.1263
# alone, 0.1235 in the blend, against 0.1300 without), 3 standardised
# wine (0.7538 against 0.7746) and 20 a curved 2,000-row manifold table
# (0.3415 against 0.3596): the number is the data's, so it is chosen on
# them.
MIXTURE_COMPONENTS = (2, 4, 8, 16, 32)
ROWS_PER_COMPONENT = 25

# Mixtures fitted from different k-means starts, whose fills are averaged:
# one start's mixture varies with it. On digits/16 (16 components chosen),
# the imputer's RMSE with one start was 0.1107 at 10 % missing and 0.1244
# at 30 %; with five starts' average 0.1093 and 0.1231; with the five then
# fitted again to every row (held-out ones included) 0.1088 and 0.1223.
STARTS = 5

# The most features the mixture is fitted for: it keeps a precision
# matrix of n_features ** 2 entries per component and start (32 components
# of 128 features, five starts: 21 MB).
MIXTURE_MAX_FEATURES = 128

# The most training rows the mixtures are fitted to. Each of the 15 fits
# (five numbers of components, five starts, five again on every row) costs
# rows x components x features ** 2 an EM iteration: on a 10,000-row,
# 128-feature curved table with 10 % missing (20 epochs' network) they
# took 141 s of a 160 s fit with every row, 53 s of 72 s with 5,000 (RMSE
# 0.1104 against 0.1165). Tables of up to 5,000 rows are not affected.
MIXTURE_ROWS = 5000


# The calibration is kept only where its gain on the held-out entries
# (fitted to the other fold) is over this many standard errors of the mean
# gain per held-out row: on standardised wine (18 held-out rows, 29 to 52
# hidden entries) the map fitted to noise otherwise raised the RMSE at 50 %
# missing from 0.818 to 0.935.
SIGNIFICANCE = 2.0


class Blend(NamedTuple):
    """The fitted fills beside the network's and their shares."""

    normal: Normal | None = None
    normal_weight: float = 0.0
    mixtures: tuple[Mixture, ...] = ()
    mixture_weight: float = 0.0
    calibration: Calibration | None = None


def fit_blend(train, valid, network, rng, seed, normal=None):
    """The fills beside the network's, their shares and the calibration.

    Parameters
    ----------
    train : TensorRows
        Training imputer inputs, rows ``[values, missing]``; at most
        ``MAX_ROWS`` of them (drawn with ``rng``) fit the normal, at most
        ``MIXTURE_ROWS`` the mixtures.
    valid : TensorRows
        Held-out imputer inputs with entries hidden, their clean inputs as
        targets: the shares (and the mixture's number of components) are
        chosen on how well the hidden entries are restored.
    network : callable
        The network's standardised fill (an array) of a source of rows.
    rng : RandomState
        Draws the row subset.
    seed : int
        Seed of the mixtures' first k-means start; the others count up
        from it.
    normal : Normal, default=None
        The normal, where :func:`start_normal` fitted it already.
    """
    n_features = train.X.shape[1] // 2
    low, width = observed_range(train.X, valid.targets)
    held_out = HeldOut(valid)
    blend, fill = Blend(), held_out.entries_of(network(valid))
    if n_features <= MAX_FEATURES:
        train = _subset(train, MAX_ROWS, rng)
        normal = fitted_normal(train) if normal is None else normal
        first = held_out.fill(fill, held_out.restore(conditional_mean, normal))
        blend, fill = Blend(normal, first.weight), first.values
    if n_features <= MIXTURE_MAX_FEATURES:
        train = _subset(train, MIXTURE_ROWS, rng)
        completed = _completed(train, network, blend)
        mixtures, weight, fill = _fit_mixtures(completed, held_out, fill, seed)
        if mixtures:
            # Number and share chosen, the mixtures are fitted again to every
            # row: the held-out ones as the first fills complete them.
            clean = TensorRows(valid.targets, device=valid.device)
            completed = np.vstack([completed, _completed(clean, network, blend)])
            mixtures = _fit_starts(completed, len(mixtures[0].weights), seed)
        blend = blend._replace(mixtures=mixtures, mixture_weight=weight)
    # The map is fitted to the held-out fill of the mixtures before they
    # saw those rows.
    return blend._replace(calibration=held_out.calibration(fill, low, width))


def start_normal(train, rng):
    """The normal fitted to at most ``MAX_ROWS`` of the imputer rows
    ``train`` (drawn with ``rng``); None with over ``MAX_FEATURES`` features.
    """
    if train.X.shape[1] // 2 > MAX_FEATURES:
        return None
    return fitted_normal(_subset(train, MAX_ROWS, rng))


def fitted_normal(rows):
    """The normal fitted by EM to the observed entries of imputer ``rows``,
    as arrays.
    """
    normal = fit_normal(*split_inputs(rows.X))
    return Normal(*(a.cpu().numpy() for a in normal))


def blend_fills(blend, network_fill, inputs):
    """The imputation of ``inputs`` (imputer rows, a tensor): the network's
    fill (an array) mixed with the blend's fills, in their shares.
    """
    fill = network_fill
    values, missing = split_inputs(inputs)
    if blend.normal_weight > 0:
        gaussian = conditional_mean(values, missing, blend.normal).cpu().numpy()
        fill = _mix(fill, gaussian, blend.normal_weight)
    if blend.mixture_weight > 0:
        mixture = _mixtures_mean(values, missing, blend.mixtures)
        fill = _mix(fill, mixture.cpu().numpy(), blend.mixture_weight)
    return calibrated(blend.calibration, fill)


class _Fill(NamedTuple):
    """A fill of the held-out rows' hidden entries, its share and its error."""

    values: torch.Tensor
    weight: float
    error: float


class HeldOut:
    """The held-out rows' hidden entries, which the shares are chosen on."""

    def __init__(self, valid):
        self.values, self.hidden = split_inputs(valid.X)
        truth, missing = split_inputs(valid.targets)
        self.entries = (self.hidden.bool() & ~missing.bool()).cpu()
        self.truth = truth.cpu().to(torch.float64)[self.entries]
        self.rows, self.columns = self.entries.nonzero().numpy().T

    def entries_of(self, fill):
        """The hidden entries of a fill of every entry (an array)."""
        return torch.as_tensor(fill, dtype=torch.float64)[self.entries]

    def error(self, fill):
        """Mean squared error of a fill of every entry on the hidden ones."""
        return _squared_error(self.entries_of(fill), self.truth)

    def restore(self, conditional, fitted):
        """The hidden entries' ``conditional`` mean (:func:`conditional_mean`
        or :func:`_mixtures_mean`) under ``fitted``.
        """
        return conditional(self.values, self.hidden, fitted).cpu()[self.entries]

    def calibration(self, fill, low, width):
        """The calibration of a fill of the hidden entries (a tensor), in
        the share that restores them best when each fold's map is fitted to
        the other fold; None where that share is 0 or its gain is within
        noise (under ``SIGNIFICANCE`` standard errors over the rows).
        """
        fill, truth = fill.numpy(), self.truth.numpy()
        where = (fill, truth, self.columns)
        crossed = cross_fitted(*where, self.rows, low, width)
        weight = 0.0 if crossed is None else blend_weight(fill, crossed, truth)
        if weight == 0:
            return None
        mixed = _mix(fill, crossed, weight)
        gain = (fill - truth) ** 2 - (mixed - truth) ** 2
        gain = np.bincount(self.rows, gain, minlength=len(self.entries))
        if gain.mean() <= SIGNIFICANCE * gain.std(ddof=1) / np.sqrt(len(gain)):
            return None
        return fit_calibration(*where, low, width, weight)

    def fill(self, first, second):
        """The mix of two fills of the hidden entries that restores them best."""
        weight = blend_weight(first, second, self.truth)
        mixed = _mix(first, second, weight)
        return _Fill(mixed, weight, _squared_error(mixed, self.truth))


def _squared_error(entries, truth):
    """Mean squared error of ``entries`` (a tensor) on ``truth``; 0 for none."""
    return float(torch.mean((entries - truth) ** 2)) if len(entries) else 0.0


def _subset(rows, most, rng):
    """At most ``most`` of ``rows``, drawn with ``rng`` (in their order)."""
    if len(rows) <= most:
        return rows
    subset = np.sort(rng.choice(len(rows), most, replace=False))
    return rows.take(torch.from_numpy(subset).to(rows.X.device))


def _completed(rows, network, blend):
    """Imputer ``rows`` (standardised, as an array) with their missing
    entries filled by the ``network`` and the ``blend``.
    """
    fill = blend_fills(blend, network(rows), rows.X)
    values, missing = split_inputs(rows.X)
    missing = missing.bool().cpu().numpy()
    return np.where(missing, fill, values.cpu().numpy()).astype(np.float64)


def _fit_mixtures(completed, held_out, first, seed):
    """The mixtures whose average fill, beside the ``first`` fill (of the
    held-out entries), restores those entries best, its share and the
    blend's fill of them; ``((), 0.0, first)`` where none improves on
    ``first`` or there are too few rows for two components.

    The number of components is chosen with one start, then ``STARTS``
    mixtures of that number are averaged.
    """
    best, best_fill = None, held_out.fill(first, first)
    for n_components in MIXTURE_COMPONENTS:
        if n_components * ROWS_PER_COMPONENT > len(completed):
            break
        mixture = fit_mixture(completed, n_components, seed)
        restored = held_out.restore(_mixtures_mean, (mixture,))
        fill = held_out.fill(first, restored)
        if fill.weight > 0 and fill.error < best_fill.error:
            best, best_fill = mixture, fill
    if best is None:
        return (), 0.0, first
    mixtures = _fit_starts(completed, len(best.weights), seed)
    fill = held_out.fill(first, held_out.restore(_mixtures_mean, mixtures))
    return mixtures, fill.weight, fill.values


def _fit_starts(completed, n_components, seed):
    """``STARTS`` mixtures fitted to ``completed``, from as many k-means starts."""
    return tuple(
        fit_mixture(completed, n_components, seed + start) for start in range(STARTS)
    )


def _mixtures_mean(values, missing, mixtures):
    """The average of the mixtures' conditional means."""
    fills = [mixture_conditional_mean(values, missing, m) for m in mixtures]
    return sum(fills) / len(fills)


def _mix(first, second, weight):
    return (1 - weight) * first + weight * second


def blend_weight(first, second, truth):
    """The share ``w`` of ``second`` in ``(1 - w) * first + w * second``.

    The least-squares weight for restoring ``truth`` (equal-shaped tensors
    of the entries to restore), clipped to [0, 1]; 0 where the two fills
    agree or there is nothing to restore.
    """
    first = torch.as_tensor(first, dtype=torch.float64)
    second = torch.as_tensor(second, dtype=torch.float64)
    truth = torch.as_tensor(truth, dtype=torch.float64)
    difference = first - second
    spread = float(torch.sum(difference * difference))
    if spread == 0:
        return 0.0
    weight = float(torch.sum(difference * (first - truth))) / spread
    return min(max(weight, 0.0), 1.0)
