"""ContractiveAE: an autoencoder whose codes are insensitive to small input changes."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import _BaseAutoEncoder
from ._docstrings import fill_doc
from ._losses import contractive_penalty
from ._principal import PrincipalCodesMixin


@fill_doc
class ContractiveAE(PrincipalCodesMixin, _BaseAutoEncoder):
    """Contractive autoencoder: penalises the Jacobian of its encoder.

    The training objective is the reconstruction loss plus
    ``contractive_weight`` times the squared Frobenius norm of the Jacobian
    of the encoder with respect to its input, averaged over rows. The
    encoder is thus pushed to be locally flat in every direction except
    those along which the data vary, which reconstruction needs: its codes
    change little under small perturbations of the input, and the network
    cannot learn the identity even with a wide code.

    The code units are sigmoids, as in Rifai et al. With linear codes the
    encoder could satisfy the penalty by shrinking every code and letting the
    decoder scale them back up, which makes codes small rather than robust;
    bounded codes leave it only the contraction (on digits, relative to the
    spread of the codes, the Jacobian is about half a plain sigmoid-code
    autoencoder's).

    Parameters
    ----------
    {n_components_or_fraction}

    contractive_weight : float, default=0.1
        Weight of the Jacobian penalty, relative to the mean reconstruction
        error per entry of the standardised data (about 1 for a model that
        predicts the mean, and a few hundredths for a good one). On data
        such as digits, 0.1 halves the sensitivity of the codes to input
        perturbations (compared with an :class:`AutoEncoderTransformer`)
        at a small cost in reconstruction error; larger values trade more
        reconstruction for more contraction.

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
    AutoEncoderTransformer : The same network without the penalty.
    DenoisingAE : Autoencoder regularised by corrupting its training input.
    SparseAE : Autoencoder regularised by a sparsity penalty on its codes.

    Notes
    -----
    The Jacobian is exact, for any depth and activation: it is computed by
    reverse-mode automatic differentiation, one batched vector-Jacobian
    product per code unit, so a training step costs roughly
    ``n_components`` extra backward passes through the encoder (see
    :func:`skae._losses.contractive_penalty`).

    With ``loss='mse'`` the encoder sees standardised rows
    ``(x - shift_) / scale_``, so the Jacobian it penalises is
    ``J_std = scale_ * J``, where ``J`` is the Jacobian of ``transform`` in
    the units of ``X``. The penalty is therefore
    ``contractive_weight * scale_**2 * ||J||_F**2``: proportional to the
    Jacobian of ``transform``, and independent of the units of ``X``.

    References
    ----------
    S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio, "Contractive
    auto-encoders: explicit invariance during feature extraction",
    Proceedings of the 28th International Conference on Machine Learning
    (ICML), 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> cae = ContractiveAE(n_components=8, max_iter=3, random_state=0)
    >>> codes = cae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        **PrincipalCodesMixin._principal_constraints,
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
    }

    # The contractive penalty keeps overcomplete codes from learning the identity.
    _warn_overcomplete = False
    # Bounded codes, as in the paper: the penalty cannot be met by shrinkage.
    _code_activation = "sigmoid"

    def __init__(
        self,
        n_components=2,
        *,
        contractive_weight=0.1,
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
        self.contractive_weight = contractive_weight
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

    def _penalty(self, inputs, codes, output, module):
        return self.contractive_weight * contractive_penalty(module.encode, inputs)
