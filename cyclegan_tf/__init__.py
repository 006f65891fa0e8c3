"""CycleGAN (Zhu et al., 2017) in Keras 3: train with `model.fit`, export to quantized TFLite."""

from cyclegan_tf.config import PRESETS, CycleGANConfig

__version__ = "0.1.0"

__all__ = ["PRESETS", "CycleGANConfig", "__version__"]
