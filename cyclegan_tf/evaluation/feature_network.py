"""What every feature network for FID, KID and the probe shares: batching, resizing, the error
for missing weights. The networks (`efficientnet_lite.py`, `inception.py`) build on it, and
`features.py` picks one by name.
"""

from __future__ import annotations

import keras
import numpy as np

from cyclegan_tf.errors import UserError


class FeatureWeightsError(UserError, RuntimeError):
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
