"""skae: scikit-learn estimators for autoencoders, trained with skorch on PyTorch."""

from ._autoencoder import AutoEncoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoEncoderTransformer", "__version__"]
