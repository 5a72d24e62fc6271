"""skae: scikit-learn estimators for autoencoders, trained with skorch on PyTorch."""

from ._autoencoder import AutoEncoderTransformer
from ._contractive import ContractiveAE
from ._denoising import DenoisingAE
from ._persistence import load, save
from ._sparse import SparseAE
from ._vae import VAESampler

__version__ = "0.1.0"

__all__ = [
    "AutoEncoderTransformer",
    "ContractiveAE",
    "DenoisingAE",
    "SparseAE",
    "VAESampler",
    "__version__",
    "load",
    "save",
]
