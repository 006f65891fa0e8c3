"""Pixels and the networks' value range, in one place: uint8 [0, 255] <-> float32 [-1, 1].

Every generator and discriminator works on [-1, 1] (the official code's normalisation); files,
screens and uint8 `.tflite` models work on bytes. (Inside `tf.data` graphs the same two maps are
`cyclegan_tf.data.pipeline.to_unit_range` / `to_uint8`.)

Example:
    x = uint8_to_model(photo)            # float32 in [-1, 1]
    picture = model_to_uint8(generator(x[None])[0])
"""

from __future__ import annotations

import numpy as np


def uint8_to_model(images) -> np.ndarray:
    """uint8 (or any 0-255) pixels -> float32 in [-1, 1]."""
    return np.asarray(images, np.float32) / 127.5 - 1.0


def model_to_uint8(images) -> np.ndarray:
    """Values in [-1, 1] (clipped outside it) -> uint8 pixels, rounded to the nearest level."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(
        np.uint8
    )
