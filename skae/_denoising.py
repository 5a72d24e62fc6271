"""DenoisingAE: an autoencoder trained to undo corruption of its input."""

from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseAutoEncoder
from ._docstrings import fill_doc
from ._principal import PrincipalCodesMixin
from ._validation import resolve_init


@fill_doc
class DenoisingAE(PrincipalCodesMixin, _BaseAutoEncoder):
    """Denoising autoencoder: learns to reconstruct clean rows from corrupted ones.

    While training, every mini-batch is corrupted afresh (Gaussian noise,
    masking or salt-and-pepper noise) before it is encoded, and the network
    is asked to reconstruct the *clean* batch. It must therefore learn the
    structure of the data rather than the identity, so its codes are useful
    even when ``n_components`` is not smaller than the number of features,
    and ``inverse_transform(transform(X_noisy))`` removes noise of the kind it
    was trained on. Corruption happens only in ``fit``: ``transform``,
    ``inverse_transform`` and ``score_samples`` are deterministic.

    Parameters
    ----------
    {n_components_or_fraction}

    noise : {'masking', 'gaussian', 'salt_pepper'}, default='masking'
        Kind of corruption applied to training batches:

        - ``'masking'``: a ``noise_level`` fraction of the entries, chosen at
          random, is set to 0 (in the input's units), as in Vincent et al.;
        - ``'gaussian'``: independent Gaussian noise of standard deviation
          ``noise_level``, in the input's units, is added to every entry,
          and the result is clipped to the feature's range over the
          training data (``data_min_``, ``data_max_``), so that corrupted
          rows of bounded data such as pixels remain plausible rows;
        - ``'salt_pepper'``: a ``noise_level`` fraction of the entries is set
          to its feature's minimum or maximum over the training data (each
          with probability 1/2).

        Masking is the default because its ``noise_level`` is a fraction, so
        it means the same thing whatever the scale of the data.

    noise_level : float, default=0.25
        Strength of the corruption: the fraction of corrupted entries for
        ``'masking'`` and ``'salt_pepper'`` (must then be at most 1), or the
        standard deviation of the noise for ``'gaussian'``. Vincent et al.
        found destruction rates of 10% to 50% to give the most useful
        features; 0.25 is in the middle of that range. For ``'gaussian'`` it
        is in the units of ``X`` (0.25 is a quarter of the range of data in
        [0, 1], such as images scaled by their maximum): set it to the noise
        you expect at test time.


    {hidden_layer_sizes}

    {activation}

    {loss}

    {alpha}

    {dropout}

    {batch_size}

    {principal_parameters}

    {init}

    {training_parameters}

    {random_state}

    {verbose}

    Attributes
    ----------
    {fitted_attributes}

    {principal_attributes}

    {code_gaussian_attributes}

    data_min_ : ndarray of shape (n_features,)
        Per-feature minimum of the training data (the "pepper" of
        ``noise='salt_pepper'``).

    data_max_ : ndarray of shape (n_features,)
        Per-feature maximum of the training data (the "salt").

    {input_attributes}

    See Also
    --------
    AutoEncoderTransformer : The same network trained without corruption.
    SparseAE : Autoencoder regularised by a sparsity penalty on its codes.
    ContractiveAE : Autoencoder regularised by the Jacobian of its encoder.

    Notes
    -----
    With ``loss='mse'`` the network sees standardised batches
    ``(x - shift_) / scale_``; the corruption is applied to them in a way
    that is equivalent to corrupting the raw rows (Gaussian noise is divided
    by ``scale_``, a masked entry takes the standardised value of a raw 0).
    All random draws come from the estimator's own ``torch.Generator``,
    seeded by ``random_state``.

    References
    ----------
    P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and
    composing robust features with denoising autoencoders", Proceedings of
    the 25th International Conference on Machine Learning (ICML), 2008.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> dae = DenoisingAE(n_components=8, noise="gaussian", noise_level=0.2,
    ...                   max_iter=5, random_state=0)
    >>> codes = dae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> dae.inverse_transform(codes).shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **_BaseAutoEncoder._parameter_constraints,
        **PrincipalCodesMixin._principal_constraints,
        "noise": [StrOptions({"gaussian", "masking", "salt_pepper"})],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"auto", "pca", "random"})],
    }

    # The corruption keeps overcomplete codes from learning the identity.
    _warn_overcomplete = False

    def __init__(
        self,
        n_components=2,
        *,
        noise="masking",
        noise_level=0.25,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        loss="mse",
        alpha=1e-4,
        dropout=0.0,
        batch_size="auto",
        ordered_codes="auto",
        whiten=False,
        init="auto",
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
        self.noise = noise
        self.noise_level = noise_level
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.ordered_codes = ordered_codes
        self.whiten = whiten
        self.init = init
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

    def _check_params(self):
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(
                f"noise_level={self.noise_level} is the fraction of entries "
                f"corrupted by noise={self.noise!r}, so it must be in [0, 1]."
            )

    def _resolved_init(self):
        return resolve_init(
            self.init, loss=self.loss, code_activation=self._code_activation
        )

    def _prepare_fit(self, rows):
        super()._prepare_fit(rows)
        stats = rows.column_stats()
        self.data_min_, self.data_max_ = stats.min, stats.max

    def _standardised(self, values, x):
        """Raw per-feature ``values`` in the standardised units of batch ``x``."""
        values = np.asarray(values, dtype=np.float64)
        if self.shift_ is not None:
            values = (values - self.shift_) / self.scale_
        return torch.as_tensor(values, dtype=x.dtype, device=x.device)

    def _corrupt(self, inputs, generator):
        if self.noise_level == 0:
            return inputs
        if self.noise == "gaussian":
            noise = torch.randn(
                inputs.shape,
                generator=generator,
                device=inputs.device,
                dtype=inputs.dtype,
            )
            noisy = inputs + noise * (self.noise_level / self.scale_)
            # Keep corrupted rows inside the training data's range, as real
            # noisy observations of bounded data (pixels, counts) are.
            low = self._standardised(self.data_min_, inputs)
            high = self._standardised(self.data_max_, inputs)
            return torch.clamp(noisy, low, high)
        draws = torch.rand(
            inputs.shape,
            generator=generator,
            device=inputs.device,
            dtype=inputs.dtype,
        )
        corrupted = draws < self.noise_level
        if self.noise == "masking":
            zero = self._standardised(np.zeros(inputs.shape[1]), inputs)
            return torch.where(corrupted, zero, inputs)
        # salt_pepper: given that an entry is corrupted (draw < level), its
        # draw is uniform on [0, level), so its lower half picks the minimum.
        pepper = draws < self.noise_level / 2
        low = self._standardised(self.data_min_, inputs)
        high = self._standardised(self.data_max_, inputs)
        return torch.where(corrupted, torch.where(pepper, low, high), inputs)
