"""
==================================================
Flagging digits that are not like the training set
==================================================

:class:`~skae.AutoEncoderOutlierDetector` gives an autoencoder's
reconstruction score scikit-learn's outlier-detector interface, as
:class:`~sklearn.ensemble.IsolationForest` has it: ``score_samples`` (higher
is more normal), ``decision_function`` (negative for outliers) and
``predict`` (+1 inlier, -1 outlier).

It is trained on the images of one digit only, and scores held-out images
of that digit (inliers) and of every other digit (outliers). The
histograms show how far apart the two groups' scores lie; the ROC AUC says
how often an outlier scores below an inlier.
"""

# %%
# Train on the eights, score everything held out
# ----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoEncoderOutlierDetector, AutoEncoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.3, random_state=0
)
# About 110 training images of the digit. Early stopping holds out a tenth
# of them, which keeps the network from learning the training images by
# heart (their scores set the threshold).
digit = 8
detector = AutoEncoderOutlierDetector(AutoEncoderTransformer(8, random_state=0))
detector.fit(X_train[y_train == digit])
forest = IsolationForest(random_state=0).fit(X_train[y_train == digit])

outlier = y_test != digit
scores = detector.score_samples(X_test)
for name, s in [
    ("AutoEncoderOutlierDetector", scores),
    ("IsolationForest", forest.score_samples(X_test)),
]:
    print(f"{name:>27}: ROC AUC {roc_auc_score(outlier, -s):.3f}")
flagged = detector.predict(X_test) == -1
print(
    f"flagged: {flagged[~outlier].mean():.1%} of the held-out {digit}s, "
    f"{flagged[outlier].mean():.1%} of the other digits"
)

# %%
# Scores of inliers and outliers
# ------------------------------
# The dashed line is ``offset_``: ``predict`` flags every image scoring
# below it (``contamination='auto'`` sets it by Tukey's fence on the
# training scores).
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.linspace(scores.min(), scores.max(), 50)
ax.hist(
    scores[~outlier],
    bins=bins,
    alpha=0.7,
    density=True,
    label=f"held-out {digit}s (inliers)",
)
ax.hist(
    scores[outlier], bins=bins, alpha=0.7, density=True, label="other digits (outliers)"
)
ax.axvline(detector.offset_, color="k", linestyle="--", label="offset_")
ax.set_xlabel("score_samples (higher is more normal)")
ax.set_ylabel("density")
ax.legend()
ax.set_title(f"Trained on the {digit}s of the digits data set")
plt.tight_layout()
plt.show()
