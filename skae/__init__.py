"""skae: scikit-learn estimators for autoencoders, trained with skorch on PyTorch."""

from ._autoencoder import AutoEncoderTransformer
from ._binary import BinaryAutoEncoder
from ._contractive import ContractiveAE
from ._conv import ConvAutoEncoder
from ._denoising import DenoisingAE
from ._impute import AutoEncoderImputer
from ._outlier import AutoEncoderOutlierDetector
from ._persistence import load, save
from ._retrieval import HammingIndex, precision_at_k
from ._semisupervised import AutoEncoderClassifier
from ._sparse import SparseAE
from ._vae import VAESampler

__version__ = "0.1.0"

__all__ = [
    "AutoEncoderClassifier",
    "AutoEncoderImputer",
    "AutoEncoderOutlierDetector",
    "AutoEncoderTransformer",
    "BinaryAutoEncoder",
    "ContractiveAE",
    "ConvAutoEncoder",
    "DenoisingAE",
    "HammingIndex",
    "SparseAE",
    "VAESampler",
    "__version__",
    "load",
    "precision_at_k",
    "save",
]
