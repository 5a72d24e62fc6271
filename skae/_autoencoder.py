"""AutoEncoderTransformer: a nonlinear drop-in for PCA."""

from ._base import _BaseAutoEncoder
from ._docstrings import fill_doc


@fill_doc
class AutoEncoderTransformer(_BaseAutoEncoder):
    """Autoencoder as a scikit-learn transformer: a nonlinear drop-in for PCA.

    A fully connected encoder maps each row to ``n_components`` codes and a
    mirrored decoder maps codes back to the input space. ``transform``
    returns the codes, ``inverse_transform`` decodes them and
    ``score_samples`` is the negative reconstruction error, usable as an
    anomaly score. Training runs in PyTorch through a skorch net, on CPU or
    GPU.

    Parameters
    ----------
    {n_components}

    {hidden_layer_sizes}

    {activation}

    {loss}

    {alpha}

    {dropout}

    {batch_size}

    {training_parameters}

    {random_state}

    {verbose}

    Attributes
    ----------
    {fitted_attributes}

    {code_gaussian_attributes}

    {input_attributes}

    See Also
    --------
    sklearn.decomposition.PCA : The linear method this estimator replaces.
    sklearn.neural_network.MLPRegressor : Source of the training parameter names.

    Notes
    -----
    The network is trained with Adam on mini-batches; the data are converted
    once to a float32 tensor (and moved to the GPU when they fit there), and
    batches are sliced from it without a ``DataLoader``. ``transform``,
    ``inverse_transform`` and ``score_samples`` run in batches, in the dtype
    of their input.

    References
    ----------
    G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
    data with neural networks", Science 313(5786), 2006.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> ae = AutoEncoderTransformer(n_components=8, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    >>> ae.sample(3, random_state=0).shape
    (3, 64)
    """
