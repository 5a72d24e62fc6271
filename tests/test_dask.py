"""Hyperparameter search on a Dask cluster gives the local result."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import AutoEncoderTransformer

distributed = pytest.importorskip("distributed")


def _search():
    pipe = Pipeline(
        [
            (
                "ae",
                AutoEncoderTransformer(
                    hidden_layer_sizes=(32,), max_iter=5, random_state=0
                ),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    grid = {"ae__n_components": [4, 8], "ae__activation": ["relu", "tanh"]}
    return GridSearchCV(pipe, grid, cv=3, n_jobs=-1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_grid_search_on_local_dask_cluster_matches_local_run(tmp_path):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16, y[:600]
    local = _search().fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=str(tmp_path),
            # One torch thread per worker: two workers share this machine's cores.
            env={"OMP_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as tasks, parallel_backend("dask"):
            remote = _search().fit(X, y)
        workers = {task["worker"] for task in tasks.data}
    # The 4 x 3 cross-validation fits ran on the cluster, on both workers.
    assert len(tasks.data) >= 12 and len(workers) == 2
    np.testing.assert_array_equal(
        local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"]
    )
    assert local.best_params_ == remote.best_params_
