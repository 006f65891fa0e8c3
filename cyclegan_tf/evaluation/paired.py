"""Metrics against ground truth, for data with true pairs (the embedded dataset's test split).

All functions take uint8 RGB stacks (N, H, W, 3) and return one value per image, so callers can
average them or pick the best and worst translations.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cyclegan_tf.imaging import check_pair, finite_mean, psnr_per_image

__all__ = ["finite_mean", "psnr_per_image", "ssim_per_image"]


def ssim_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM of each image pair (Wang et al., 2004: 11x11 Gaussian window, sigma 1.5, peak 255).

    Images smaller than the window use a window of their size.
    """
    check_pair(a, b)
    filter_size = min(11, a.shape[1], a.shape[2])
    return tf.image.ssim(
        tf.constant(a, tf.float32), tf.constant(b, tf.float32), 255.0, filter_size=filter_size
    ).numpy()


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference of each pair in the training losses' [-1, 1] units."""
    check_pair(a, b)
    diff = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 127.5
    return diff.mean(axis=(1, 2, 3))
