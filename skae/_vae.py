"""VAESampler: a variational autoencoder that transforms, scores and samples."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseAutoEncoder
from ._docstrings import fill_doc
from ._kl_warmup import KLWarmUp
from ._losses import NegativeELBO
from ._row_noise import RowNoise
from ._rowsource import unstandardised
from ._training import REGULARISATION_ROWS, regularisation_scale
from ._vae_modules import GaussianEncoderAutoEncoder

# The base class's ``loss`` that each likelihood corresponds to: 'mse'
# standardises the input, 'bce' checks that it lies in [0, 1].
_LIKELIHOOD_LOSS = {"gaussian": "mse", "bernoulli": "bce"}

# Floor of the Gaussian decoder's per-feature variance, in standardised units
# (the data divided by ``scale_``): a standard deviation of 3% of the data's
# typical spread.
_MIN_VARIANCE = 1e-3

# ``dropout='auto'``: the rate up to ``REGULARISATION_ROWS`` rows (likelihood
# and samples on six data sets); beyond, times ``regularisation_scale`` squared.
_AUTO_DROPOUT = 0.1
# ``kl_warmup='auto'``: epochs of KL warm-up on many rows, times one minus
# ``regularisation_scale`` (none up to ``REGULARISATION_ROWS`` rows).
_AUTO_KL_WARMUP = 30


@fill_doc
class VAESampler(_BaseAutoEncoder):
    """Variational autoencoder (VAE): transform, density scores and sampling.

    The encoder maps each row to a Gaussian posterior
    ``q(z|x) = N(mu(x), diag sigma**2(x))`` over ``n_components`` latent
    units; the decoder maps a code ``z`` to a likelihood ``p(x|z)`` (a
    Gaussian with learned per-feature variances, or a Bernoulli); the prior
    is ``N(0, I)``. Training minimises the negative evidence lower bound
    (ELBO), ``-log p(x|z) + kl_weight * KL(q(z|x) || N(0, I))``, with one
    reparameterised sample ``z = mu + sigma * eps`` per row. ``transform``
    returns the posterior mean ``mu(x)``, ``inverse_transform`` the
    decoder's mean, ``score_samples`` the ELBO of each row in nats,
    :meth:`sample` decodes codes drawn from the prior and
    :meth:`sample_reconstructions` draws a reconstruction of given rows
    (as :class:`AutoEncoderImputer` draws multiple imputations).

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space (of ``transform``'s output).

    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
        ``()`` gives linear encoder and decoder (probabilistic PCA's model
        with an amortised posterior).

    activation : {'relu', 'tanh', 'sigmoid', 'identity'}, default='relu'
        Nonlinearity of the hidden layers.

    likelihood : {'gaussian', 'bernoulli'}, default='gaussian'
        Decoder distribution. ``'gaussian'``: the input is centred and
        divided by one global scale (the fitted ``shift_`` and ``scale_``)
        and each feature has its own learned variance, floored at ``1e-3``
        in those standardised units so that the density cannot collapse on
        constant features; scores are log-densities of ``X`` in its own
        units. ``'bernoulli'``: for data in [0, 1] (a ``ValueError``
        otherwise), with a sigmoid output; scores are Bernoulli
        log-likelihoods. Gaussian is the default because it accepts any
        real data and its score is comparable to
        :meth:`sklearn.decomposition.PCA.score`.

    kl_weight : float, default=1.0
        Weight of the KL term: 1 is the VAE; above 1 the beta-VAE, whose
        codes are more disentangled and whose samples are smoother; below 1
        sharper reconstructions but a latent space that matches the prior
        less well.

    kl_warmup : int or 'auto', default='auto'
        Epochs over which the KL term's gradient rises linearly from 0 to
        its full weight at the start of ``fit`` (the losses reported always
        hold the whole ELBO); 0 trains on the ELBO from the first step.
        ``'auto'`` is none up to 4,000 rows and ``30 * (1 - 4000 /
        n_samples)`` epochs beyond (28 at 60,000). The warm-up raised the
        test bound on binarized MNIST (seed 0, K = 1,000): at 15,000 rows
        from -96.64 nats to -95.62, -95.27 and -95.00 with 10, 30 and 60
        epochs, at 8,000 from -101.60 to -99.62 with this rule's 15 (60,000:
        ``benchmarks/literature.py vae``). On fewer rows it cost samples: 30
        epochs on digits (8 latents) scored them 3.88 by the inception-style
        score against 4.16 without (PCA's 3.28; 60 epochs 3.92), though the
        bound rose (IWAE50 51.5 against 51.0 nats).

    n_importance_samples : int, default=1
        Samples per row in :meth:`score_samples`. With 1, the ELBO (one
        reconstruction sample, the KL term in closed form); with ``K > 1``,
        the importance-weighted bound of Burda et al., tighter as ``K``
        grows. Training always uses the ELBO.

    {alpha}

    dropout : float or 'auto', default='auto'
        Dropout rate after every hidden layer while training. ``'auto'`` is
        0.1 up to 4,000 rows and ``0.1 * (4000 / n_samples) ** 2`` beyond.
        Some dropout holds back a decoder that overfits a few thousand rows
        and makes samples that a classifier recognises more confidently, at
        a cost in likelihood. Test rows' ELBO (mean of seeds 0 and 1, 75/25
        splits; these ELBOs shared one noise draw among the rows, which
        moves a digits score by about 2 nats), 0.1 against 0.2 (the default
        before), 0.05 and none: digits / 16 (8 latents) 51.6 against 47.0,
        52.3 and 41.6 nats; MNIST-5k / 255 (16 latents) 1,122 against 1,050,
        1,140 and 1,078; binarized MNIST-5k (Bernoulli, 50 latents, 200-200)
        -121.9 against -125.3, -119.8 and -120.0; breast cancer
        (standardised, 4 latents) -23.6 against -26.5, -23.6 and -24.5;
        equal within noise on wine and Bernoulli digits. The digits model's
        samples (inception-style score, seeds 0 to 2; PCA's Gaussian 3.28)
        scored 4.16 to 4.18 at 0.1, 4.19 to 4.59 at 0.2 and 4.07 to 4.29 at
        0.05: 0.1 keeps them above 1.25 times PCA's. Beyond 4,000 rows less
        is better (full binarized MNIST's bound on its 10,000 test images,
        seed 0): at 15,000 rows (K = 1,000) -98.12 nats at 0.027 (``0.1 *
        4000 / n_samples``, the rule before), -96.64 at this rule's 0.0071,
        -96.48 with none; 60,000 (K = 5,000) -89.27 at 0.00044, -90.66 at 0.0067.

    batch_size : int or 'auto', default='auto'
        Rows per mini-batch. ``'auto'`` takes 64 rows from 640 to 38,400
        rows (below 640, a tenth of them and at least 16), and beyond grows
        the batch to keep an epoch at 600 steps, up to 4,096 rows, with the
        learning rate multiplied by the square root of the batch's growth
        over 64 (reached over the first epoch). The autoencoders keep an
        epoch at 100 steps; on full binarized MNIST the VAE's importance
        bound was -90.74 nats with its batches of 100 rows against -91.41
        with the autoencoders' 600 (seed 0, with the rate's drops), in 551 s
        against 364 s on a 2-core CPU. An explicit size keeps
        ``learning_rate_init`` as given.

    {learning_rate_init}

    max_iter : int, default=1000
        Maximum number of epochs. Early stopping on the held-out ELBO,
        after its two drops of the rate (see Notes), ends a fit; the
        autoencoders' 200 cut off VAEs still improving. Against 200 (seed
        0, held-out ELBO in nats): digits / 16 (8 latents) 66.8 after 465
        epochs against 48.6, its samples scored 4.34 against 4.16 (see
        ``kl_warmup``); MNIST-5k 1,088.9 (236) against 1,086.1; breast
        cancer (standardised, 4 latents) -23.7 (256) against -24.6; full
        binarized MNIST (50 latents, 200-200) a test bound of -88.28 (302)
        against -88.95. Fits that stopped sooner did not change.

    {stopping_and_device}

    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout, the reparameterisation
        noise and the Monte Carlo noise of :meth:`score_samples` through
        local generators; the global random state is never touched (except
        that None draws one seed from NumPy's global state, as
        scikit-learn does).

    {verbose}

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module, with
        ``posterior``, ``encode`` and ``decode`` methods.

    loss_curve_ : list of float
        Negative ELBO per row, in nats of the standardised data, at each
        epoch.

    {validation_scores_}

    {best_validation_score_}

    {best_loss_}

    {n_iter_}

    shift_ : ndarray of shape (n_features,) or None
        Per-feature mean subtracted before encoding
        (``likelihood='gaussian'``).

    scale_ : float
        Global scale the centred input is divided by
        (``likelihood='gaussian'``; 1 otherwise).

    {n_components_}

    {input_attributes}

    See Also
    --------
    AutoEncoderTransformer : Deterministic autoencoder; samples from a
        Gaussian fitted to its codes.
    sklearn.decomposition.PCA : Probabilistic PCA, the linear Gaussian
        latent-variable model; its ``score`` is in the same units.
    sklearn.mixture.GaussianMixture : Another density model with ``sample``.

    Notes
    -----
    Units of the scores: with ``likelihood='gaussian'`` the network sees
    ``(x - shift_) / scale_``; the bound is computed for that standardised
    row and then corrected by ``-n_features * log(scale_)``, the log of the
    Jacobian, so that it is a log-density of ``x`` itself in nats per
    sample, like ``PCA(n_components).score``. With
    ``likelihood='bernoulli'`` it is a Bernoulli log-likelihood in nats
    (a density only for binary data).

    The defaults were chosen on digits (pixels / 16, 8 components): a
    Gaussian decoder and ``kl_weight=1`` gave the best held-out ELBO and
    samples that a classifier of real digits recognises
    more confidently and more diversely than samples from PCA's Gaussian or
    from an :class:`AutoEncoderTransformer`'s code Gaussian.

    When the held-out ELBO stops improving for ``n_iter_no_change``
    epochs, the learning rate falls tenfold and training goes on, twice
    before it stops. Measured (test rows' ELBO in nats, higher is better,
    mean of seeds 0 and 1): MNIST-5k (pixels / 255, 16 components) 1052.3
    without the drops and 1057.5 with them, breast cancer (standardised, 4
    components) -28.86 and -28.08, digits equal (both ran to the
    ``max_iter`` of 200 then); full binarized MNIST (50 components, 200-200, seed 0)
    -91.79 and -91.41 by the importance bound (K = 1,000, 2,000 test
    rows). The autoencoders keep a constant rate: there the drops gained
    nothing on digits, the same tables, 784-32 MNIST or the deep
    784-1000-500-250-30 autoencoder, and cost ten epochs each.

    ``transform`` returns the posterior mean and ``inverse_transform`` the
    decoder's mean: both are deterministic. Codes are sampled in training,
    in the held-out loss that early stopping watches (one draw a row, the
    same at every epoch: an estimate of the negative ELBO, which the
    posterior mean had underestimated by 5 to 7 nats on full MNIST), in
    :meth:`score_samples` and in :meth:`sample`.

    References
    ----------
    D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR
    2014, arXiv:1312.6114.

    Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
    Autoencoders", ICLR 2016, arXiv:1509.00519.

    I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
    Constrained Variational Framework", ICLR 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAESampler
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> vae = VAESampler(n_components=2, max_iter=3, random_state=0)
    >>> vae.fit_transform(X).shape
    (1797, 2)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in _BaseAutoEncoder._parameter_constraints.items()
            if k != "loss"
        },
        "likelihood": [StrOptions(set(_LIKELIHOOD_LOSS))],
        "kl_weight": [Interval(Real, 0, None, closed="left")],
        "kl_warmup": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
    }
    # ``_dropout``: the rate ``dropout`` resolves to for the rows of ``fit``,
    # which ``_build_module`` reads.
    _private_fitted = (*_BaseAutoEncoder._private_fitted, "_dropout")
    _build_state = ("_dropout",)

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        likelihood="gaussian",
        kl_weight=1.0,
        kl_warmup="auto",
        n_importance_samples=1,
        alpha=1e-4,
        dropout="auto",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=1000,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        device="cpu",
        precision="float32",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.kl_weight = kl_weight
        self.kl_warmup = kl_warmup
        self.n_importance_samples = n_importance_samples
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.device = device
        self.precision = precision
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    @property
    def loss(self):
        """The base class's reconstruction loss implied by ``likelihood``.

        Not a parameter: 'mse' (Gaussian) makes the base class standardise the
        input, 'bce' (Bernoulli) makes it check that the input lies in [0, 1].
        """
        return _LIKELIHOOD_LOSS[self.likelihood]

    # The KL term regularises the codes: no identity to fear.
    _warn_overcomplete = False
    _loss_parameter = "likelihood"
    # Twice, when the held-out ELBO stops improving, the learning rate falls
    # tenfold and training goes on (see the class's Notes).
    _lr_drops = 2
    # ``batch_size='auto'``: 64 rows up to 38,400 rows, then 600 steps an
    # epoch (see the class's Notes).
    _auto_steps_per_epoch = 600

    # Hooks -------------------------------------------------------------
    def _prepare_fit(self, rows):
        self._dropout = self._resolved_dropout(len(rows))
        super()._prepare_fit(rows)

    def _resolved_dropout(self, n_samples):
        """``dropout``, with ``'auto'`` resolved for ``n_samples`` rows."""
        if self.dropout != "auto":
            return self.dropout
        return _AUTO_DROPOUT * regularisation_scale(n_samples) ** 2

    def _build_module(self, n_features, hidden_layer_sizes):
        # Model files written before ``dropout='auto'`` hold a float rate.
        dropout = getattr(self, "_dropout", None)
        if dropout is None:
            dropout = self._resolved_dropout(REGULARISATION_ROWS)
        return GaussianEncoderAutoEncoder(
            n_features,
            self.n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            likelihood=self.likelihood,
            dropout=dropout,
            min_variance=_MIN_VARIANCE,
        )

    def _build_criterion(self):
        return NegativeELBO(self.likelihood, self.kl_weight)

    def _schedules(self, n_samples):
        epochs = self.kl_warmup
        if epochs == "auto":
            epochs = round(_AUTO_KL_WARMUP * (1 - regularisation_scale(n_samples)))
        return [("kl_warmup", KLWarmUp(epochs))] if epochs > 0 else []

    def _finish_fit(self, rows, held_out=None):
        # Seed of the noise used by ``score_samples``, fixed at fit time so
        # that scores are reproducible and never touch the global RNG.
        rng = check_random_state(self.random_state)
        self._score_seed = int(rng.randint(np.iinfo(np.int32).max))

    def _sample_codes(self, n_samples, rng):
        # The prior N(0, I).
        return rng.standard_normal((n_samples, self.n_components))

    def _score_rows(self, module, x):
        """ELBO (or importance-weighted bound) of each row, in nats of raw X.

        Each row's noise is a function of the row and ``_score_seed`` (see
        ``_row_noise``): its own for each row, so that errors average out
        over rows, and the same in any batch.
        """
        n_samples = self.n_importance_samples
        eps = RowNoise(x, self._score_seed, n_samples, self.n_components).draw
        score = module.log_likelihood_bound(x, n_samples, eps)
        if self.likelihood == "gaussian":
            # From a density of (x - shift_) / scale_ to one of x itself.
            score = score - x.shape[1] * math.log(self.scale_)
        return score

    def sample_reconstructions(self, X, random_state=None):
        """Draw a random reconstruction of each row of ``X``.

        A code is drawn from the posterior ``q(z|x)`` of each row, then a
        row from the decoder's ``p(x|z)``: for ``likelihood='gaussian'``
        its mean plus noise of its learned per-feature variance, for
        ``'bernoulli'`` zeros and ones. Repeated draws spread as the model
        is unsure of each row; :class:`AutoEncoderImputer` draws multiple
        imputations from them (``sample_imputations``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to reconstruct.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws; the same value gives the same rows (in the
            same batches). None uses NumPy's global random state.

        Returns
        -------
        X_sampled : ndarray of shape (n_samples, n_features)
            One draw for each row, in the units and dtype of ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from skae import VAESampler
        >>> X = np.random.RandomState(0).normal(size=(100, 4))
        >>> vae = VAESampler(2, max_iter=5, random_state=0).fit(X)
        >>> vae.sample_reconstructions(X[:3], random_state=0).shape
        (3, 4)
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator().manual_seed(int(seed))

        def noise(like, draw):
            values = draw(like.shape, generator=generator, dtype=like.dtype)
            return values.to(like.device)

        def reconstruct(module, x):
            x = module.draw_reconstruction(x, noise)
            return unstandardised(x, self.shift_, self.scale_)

        return self._infer(self._inference_rows(X), reconstruct, self.n_features_in_)

    # Public methods, overridden for their documentation only -----------
    def score_samples(self, X):
        """Evidence lower bound on ``log p(x)`` of each sample, in nats.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The ELBO of each row (with ``n_importance_samples > 1``, the
            tighter importance-weighted bound), a lower bound on its
            log-likelihood. With ``likelihood='gaussian'`` it is a
            log-density of ``X`` in its own units, comparable to
            :meth:`sklearn.decomposition.PCA.score_samples`; with
            ``'bernoulli'``, the Bernoulli log-likelihood of ``X`` in [0, 1].
            The Monte Carlo noise is seeded at ``fit`` and is a function of
            each row, its own for each: the same model gives a row the same
            score in any batch, and the errors of many rows average out in
            :meth:`score`.
        """
        return super().score_samples(X)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over ``X``, in nats per sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            The average ELBO, comparable to
            :meth:`sklearn.decomposition.PCA.score` for
            ``likelihood='gaussian'``.
        """
        return super().score(X, y)
