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
from sklearn.utils.multiclass import check_classification_targets

from ._validation import user_stacklevel

# The label of unlabeled rows, as in ``sklearn.semi_supervised``.
UNLABELED = -1

# Neighbours of each row in the graph labels spread over, and the share of
# a row's label that comes from its neighbours at each step (``alpha`` of
# LabelSpreading). The graph joins rows whose centred codes point the same
# way (Euclidean neighbours of the centred codes scaled to unit length).
# Chosen on pretrained codes (scratch runs, errors on the unlabeled rows):
# full MNIST, 10 labels per class, 784-600-600-50 pretrained 100 epochs:
# 11.1 % with (15, 0.8), against 12.8 % on the codes as they are, 11.3 %
# for (10, 0.8), 10.2 % for (15, 0.9) and 9.1 % for (15, 0.99). On small
# data a large alpha spreads too far: mean accuracy over 3 splits with
# (15, 0.8), (15, 0.9), (15, 0.99): digits (5 labels per class) 0.889,
# 0.890, 0.846; standardised breast cancer (5 per class) 0.918, 0.915,
# 0.814; standardised wine (3 per class, 124 rows) 0.872, 0.820, 0.632.
# The codes as they are gave 0.894, 0.881 and 0.864 with (15, 0.8).
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


def encode_labels(y, name):
    """``(labeled, classes, y_all)``: the labeled rows' mask, classes, indices.

    ``y_all`` holds each row's class index (into ``classes``), ``-1`` for
    an unlabeled row. ``name`` is the estimator's, for the error raised
    where fewer than two classes are labeled.
    """
    labeled = labeled_rows(y)
    # Only labels: an object array may mix them with the integer -1.
    check_classification_targets(y[labeled])
    classes, y_index = np.unique(y[labeled], return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{name} needs labeled rows of at least two classes; the labeled "
            f"rows hold {len(classes)} class(es)."
        )
    y_all = np.full(len(y), UNLABELED, dtype=np.int64)
    y_all[labeled] = y_index
    return labeled, classes, y_all


def decode_labels(y, labeled, classes, y_all):
    """``y`` with the unlabeled rows' class indices in ``y_all`` as labels.

    ``y_all`` holds a class index for every row (``-1``: none); the labeled
    rows keep their label, an unlabeled row without an index its ``-1``.
    """
    labels = y.copy()
    spread = ~labeled & (y_all != UNLABELED)
    labels[spread] = classes[y_all[spread]]
    return labels


def spread_labels(codes, y_all):
    """``y_all`` with labels spread to its unlabeled (``-1``) rows.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_components)
        The rows' codes; the graph joins each row to the rows whose centred
        codes point most nearly its way.
    y_all : ndarray of int of shape (n_samples,)
        Class index (0, 1, ...) of each row, ``-1`` where it has none.

    Returns
    -------
    y_spread : ndarray of int of shape (n_samples,)
        The labeled rows' indices unchanged; on the others, the class whose
        spread label weight is largest, or ``-1`` where no label reached
        the row (a piece of the neighbour graph without a labeled row).
    """
    unlabeled = y_all == UNLABELED
    if not unlabeled.any():
        return y_all
    spreading = LabelSpreading(
        kernel="knn",
        n_neighbors=min(N_NEIGHBORS, len(codes) - 1),
        alpha=ALPHA,
        max_iter=1000,
    )
    spreading.fit(_directions(codes), y_all)
    weights = spreading.label_distributions_
    reached = np.isfinite(weights).all(axis=1) & (weights.sum(axis=1) > 0)
    y_spread = y_all.copy()
    fill = unlabeled & reached
    y_spread[fill] = spreading.transduction_[fill]
    return y_spread


def _directions(codes):
    """The centred codes scaled to unit length (a zero row stays zero)."""
    centred = np.asarray(codes, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.maximum(norms, np.finfo(np.float64).tiny)
