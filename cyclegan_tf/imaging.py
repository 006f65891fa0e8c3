"""Pixels and the networks' value range, in one place: uint8 [0, 255] <-> float32 [-1, 1]; and
the one PSNR every part of the project reports (per image, peak 255; `mean_psnr` averages it).

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


def check_pair(a: np.ndarray, b: np.ndarray) -> None:
    """Two image stacks (N, H, W, 3) of the same shape, or a ValueError saying how not."""
    if a.shape != b.shape:
        raise ValueError(f"image stacks differ in shape: {a.shape} vs {b.shape}")
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) image stacks, got {a.shape}")


def psnr_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PSNR in dB of each image pair (peak 255); identical images give inf."""
    a, b = np.asarray(a), np.asarray(b)
    check_pair(a, b)
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = np.mean(diff**2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10 * np.log10(255.0**2 / mse)


def finite_mean(values: np.ndarray) -> float:
    """Mean that ignores inf (identical pairs), so one perfect image does not make PSNR inf."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("inf")


def mean_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """The mean PSNR of image pairs (inf only when every pair is identical)."""
    return finite_mean(psnr_per_image(a, b))
