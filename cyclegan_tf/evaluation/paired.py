"""Metrics against ground truth, for data with true pairs (the embedded dataset's test split).

All functions take uint8 RGB stacks (N, H, W, 3) and return one value per image, so callers can
average them or pick the best and worst translations.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"image stacks differ in shape: {a.shape} vs {b.shape}")
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) image stacks, got {a.shape}")


def psnr_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PSNR in dB of each image pair (peak 255); identical images give inf."""
    _check_pair(a, b)
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    mse = np.mean(diff**2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10 * np.log10(255.0**2 / mse)


def ssim_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM of each image pair (Wang et al., 2004: 11x11 Gaussian window, sigma 1.5, peak 255).

    Images smaller than the window use a window of their size.
    """
    _check_pair(a, b)
    filter_size = min(11, a.shape[1], a.shape[2])
    return tf.image.ssim(
        tf.constant(a, tf.float32), tf.constant(b, tf.float32), 255.0, filter_size=filter_size
    ).numpy()


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference of each pair in the training losses' [-1, 1] units."""
    _check_pair(a, b)
    diff = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 127.5
    return diff.mean(axis=(1, 2, 3))


def finite_mean(values: np.ndarray) -> float:
    """Mean that ignores inf (identical pairs), so one perfect image does not make PSNR inf."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("inf")
