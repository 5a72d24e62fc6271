"""SparseAE: an autoencoder whose code units are active only rarely."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseAutoEncoder
from ._docstrings import fill_doc
from ._losses import kl_sparsity, l1_sparsity
from ._principal import PrincipalCodesMixin


@fill_doc
class SparseAE(PrincipalCodesMixin, _BaseAutoEncoder):
    """Sparse autoencoder: a sparsity penalty on the codes regularises it.

    The training objective is the reconstruction loss plus a penalty that
    keeps most code units inactive for most rows. Each unit then responds
    to a specific pattern of the input, so the code may be wider than the
    input (``n_components > n_features``, an overcomplete code) and still be
    useful: the penalty, not a bottleneck, stops the network from learning
    the identity.

    Parameters
    ----------
    n_components : int or float, default=2
        Number of code units (the dimension of ``transform``'s output). It
        may exceed the number of features; sparse codes are typically
        overcomplete. A float in (0, 1) keeps the fewest codes that explain
        that fraction of the variance, as in
        :class:`AutoEncoderTransformer`.

    sparsity : {'kl', 'l1'}, default='kl'
        Sparsity penalty:

        - ``'kl'``: the code units are sigmoids and the penalty is
          ``sparsity_weight * sum_j KL(rho || rho_hat_j)``, where ``rho`` is
          ``sparsity_target`` and ``rho_hat_j`` the mean activation of unit
          ``j`` over the mini-batch (Ng's sparse autoencoder). Every unit's
          mean activation is driven towards ``rho``.
        - ``'l1'``: the code units are rectified (ReLU), so that inactive
          units are exactly 0, and the penalty is
          ``sparsity_weight * mean(|h|)`` over rows and units.

    sparsity_target : float, default=0.05
        Desired mean activation ``rho`` of each unit with ``sparsity='kl'``,
        in (0, 1); ignored with ``'l1'``. 0.05 is the value of Ng's notes.

    sparsity_weight : float, default=0.1
        Weight of the sparsity penalty, relative to the mean reconstruction
        error per entry of the standardised data (about 1 for a model that
        predicts the mean, and a few hundredths for a good one). With
        ``'kl'`` the penalty is summed over code units, so 0.1 makes a unit
        whose mean activation is twice the target (KL of about 0.02 nats)
        cost about as much as a small loss of reconstruction: strong enough
        to hold the mean activation within a factor of two of the target,
        weak enough for the reconstruction to stay good.

    {hidden_layer_sizes}

    {activation}

    {loss}

    {alpha}

    {dropout}

    {batch_size}

    {principal_parameters}

    {training_parameters}

    {random_state}

    {verbose}

    Attributes
    ----------
    {fitted_attributes}

    {principal_attributes}

    {code_gaussian_attributes}

    {input_attributes}

    See Also
    --------
    AutoEncoderTransformer : The same network without the sparsity penalty.
    DenoisingAE : Autoencoder regularised by corrupting its training input.
    ContractiveAE : Autoencoder regularised by the Jacobian of its encoder.
    sklearn.decomposition.MiniBatchDictionaryLearning : Linear sparse coding.

    Notes
    -----
    The penalty is computed on each mini-batch, during training and on the
    validation rows with ``early_stopping``, so ``rho_hat`` is a batch
    estimate; with very small batches it is noisy.

    References
    ----------
    A. Ng, "Sparse autoencoder", CS294A Lecture notes, Stanford University,
    2011.

    H. Lee, C. Ekanadham and A. Ng, "Sparse deep belief net model for visual
    area V2", Advances in Neural Information Processing Systems 20, 2008.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> sae = SparseAE(n_components=100, max_iter=5, random_state=0)
    >>> codes = sae.fit_transform(X)
    >>> codes.shape
    (1797, 100)
    >>> bool(codes.min() >= 0 and codes.max() <= 1)
    True
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        **PrincipalCodesMixin._principal_constraints,
        "sparsity": [StrOptions({"kl", "l1"})],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    }

    # The sparsity penalty keeps overcomplete codes from learning the identity.
    _warn_overcomplete = False

    def __init__(
        self,
        n_components=2,
        *,
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=0.1,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        loss="mse",
        alpha=1e-4,
        dropout=0.0,
        batch_size="auto",
        ordered_codes="auto",
        whiten=False,
        learning_rate_init=1e-3,
        max_iter=200,
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
        self.sparsity = sparsity
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.ordered_codes = ordered_codes
        self.whiten = whiten
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
    def _code_activation(self):
        return "sigmoid" if self.sparsity == "kl" else "relu"

    def _penalty(self, inputs, codes, output, module):
        if self.sparsity == "kl":
            penalty = kl_sparsity(codes, self.sparsity_target)
        else:
            penalty = l1_sparsity(codes)
        return self.sparsity_weight * penalty
