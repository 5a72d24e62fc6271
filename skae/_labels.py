"""The labels of a semi-supervised fit: which rows have one, and labels for the rest.

As in :mod:`sklearn.semi_supervised`, ``-1`` marks an unlabeled row.
:class:`AutoEncoderClassifier` gives each unlabeled row the label that
label spreading (Zhou et al., 2004) carries to it over the nearest-neighbour
graph of the pretrained autoencoder's codes, and trains on every row.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.semi_supervised import LabelSpreading

from ._validation import user_stacklevel

# The label of unlabeled rows, as in ``sklearn.semi_supervised``.
UNLABELED = -1

# Neighbours of each row in the graph labels spread over, and the share of
# a row's label that comes from its neighbours at each step (``alpha`` of
# LabelSpreading). Chosen on pretrained codes (scratch runs, seed 0): on
# full MNIST with 10 labels per class (784-600-600-50, 10 epochs of
# pretraining), (15, 0.8) labeled the unlabeled rows with 13.9 % errors,
# against 15.2 % for (15, 0.2), 14.2 % for (30, 0.8), 14.2 % for (60, 0.8)
# and 20.5 % for (7, 0.2); on digits (70 % of the rows, 2 %, 5 % and 10 %
# of them labeled, seeds 0 and 1) (15, 0.8) and (7, 0.2) were within a few
# points of each other, each ahead in half the cases, (15, 0.2) behind.
N_NEIGHBORS = 15
ALPHA = 0.8


def labeled_rows(y):
    """Mask of the labeled rows of ``y`` (see AutoEncoderClassifier's Notes)."""
    if y.dtype.kind in "US":
        return np.ones(len(y), dtype=bool)
    if y.dtype.kind == "O":
        unlabeled = np.array(
            [isinstance(v, Integral) and v == UNLABELED for v in y], dtype=bool
        )
    else:
        unlabeled = y == UNLABELED
    if unlabeled.any() and len(np.unique(y[~unlabeled])) < 2:
        warnings.warn(
            "y holds -1 and a single other class: -1 is read as a class label "
            "(as in binary labels {-1, 1}), not as the mark of unlabeled rows. "
            "Label rows of at least two classes for semi-supervised training.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return np.ones(len(y), dtype=bool)
    return ~unlabeled


def spread_labels(codes, y_index, labeled):
    """Class indices for every row: the given ones, and spread ones for the rest.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_components)
        The rows' codes, whose Euclidean nearest neighbours form the graph.
    y_index : ndarray of shape (n_labeled,)
        Class indices (0, 1, ...) of the labeled rows, in row order.
    labeled : ndarray of bool of shape (n_samples,)
        Which rows ``y_index`` labels.

    Returns
    -------
    y_all : ndarray of int of shape (n_samples,)
        ``y_index`` on the labeled rows; on the others, the class whose
        spread label weight is largest, or ``-1`` where no label reached
        the row (a piece of the neighbour graph without a labeled row).
    """
    partial = np.full(len(codes), UNLABELED, dtype=np.int64)
    partial[labeled] = y_index
    spreading = LabelSpreading(
        kernel="knn",
        n_neighbors=min(N_NEIGHBORS, len(codes) - 1),
        alpha=ALPHA,
        max_iter=1000,
    )
    spreading.fit(np.asarray(codes, dtype=np.float64), partial)
    weights = spreading.label_distributions_
    y_all = np.asarray(spreading.transduction_, dtype=np.int64)
    reached = np.isfinite(weights).all(axis=1) & (weights.sum(axis=1) > 0)
    y_all[~reached] = UNLABELED
    y_all[labeled] = y_index
    return y_all
