"""Running a Keras generator over a stack of images, in batches: what the sample grids, the
training-time metrics and the notebook share.

Example:
    fakes = translate_batch(model.generator_ab, images)  # float [-1, 1] in, uint8 out
"""

from __future__ import annotations

import keras
import numpy as np

from cyclegan_tf.imaging import model_to_uint8


def translate_batch(generator: keras.Model, images: np.ndarray, batch_size: int = 8) -> np.ndarray:
    """Run a generator over float images in [-1, 1] and return uint8 images."""
    outputs = [
        np.asarray(generator(images[i : i + batch_size], training=False), np.float32)
        for i in range(0, len(images), batch_size)
    ]
    return model_to_uint8(np.concatenate(outputs))
