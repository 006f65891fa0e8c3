"""Wide shots with a known answer: a face photo scaled down, turned and placed off-centre.

Tests, the face benchmark and the README pictures all need photos where a face is small, tilted
and off to one side, and where we know exactly where it went. `wide_shot` makes one from any
face photo and returns the matrix that maps the face photo's pixels into the wide shot, so a
landmark found in the original can be carried over and compared with what the detector finds.

Example:
    shot, matrix = wide_shot(skimage.data.astronaut(), angle=15.0, centre=(0.3, 0.4))
    expected_eyes = apply(matrix, eyes_in_original)
"""

from __future__ import annotations

import numpy as np

from cyclegan_tf.faces.framing import feather_mask, warp


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """2x3 matrix applied to (N, 2) points."""
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def placement_matrix(
    face_size: tuple[int, int],
    canvas: tuple[int, int],
    height_share: float,
    centre: tuple[float, float],
    angle: float,
) -> np.ndarray:
    """Face pixels -> canvas pixels: scale so the face photo's height is `height_share` of the
    canvas height, turn by `angle` degrees (positive: counter-clockwise on screen), move its
    centre to `centre` (shares of the canvas width and height)."""
    width, height = face_size
    scale = height_share * canvas[1] / height
    theta = np.deg2rad(angle)
    cos, sin = scale * np.cos(theta), scale * np.sin(theta)
    rotation = np.asarray([[cos, sin], [-sin, cos]])  # y points down: this turns anticlockwise
    target = np.asarray([centre[0] * canvas[0], centre[1] * canvas[1]])
    shift = target - rotation @ np.asarray([width / 2, height / 2])
    return np.hstack([rotation, shift[:, None]])


def background(canvas: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random colour field with a little grain: a stand-in for a room or a street."""
    from PIL import Image

    coarse = rng.integers(40, 220, size=(3, 4, 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(coarse).resize(canvas, Image.BICUBIC), np.float32)
    grain = rng.normal(0.0, 6.0, size=field.shape)
    return np.clip(field + grain, 0, 255).astype(np.uint8)


def wide_shot(
    face: np.ndarray,
    canvas: tuple[int, int] = (1280, 960),
    height_share: float = 0.45,
    centre: tuple[float, float] = (0.3, 0.4),
    angle: float = 15.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(wide shot uint8 (H, W, 3), 2x3 matrix from `face` pixels to wide-shot pixels).

    The face photo's edges are feathered into the background, so no hard rectangle gives the
    detector a frame to lock on to.
    """
    height, width = face.shape[:2]
    matrix = placement_matrix((width, height), canvas, height_share, centre, angle)
    rng = np.random.default_rng(seed)
    placed = warp(face, matrix, *canvas).astype(np.float32)
    mask = feather_mask(max(height, width), 0.08)[:height, :width]
    mask = (np.repeat(mask[:, :, None], 3, 2) * 255).astype(np.uint8)
    alpha = warp(mask, matrix, *canvas)[..., :1].astype(np.float32) / 255.0
    shot = alpha * placed + (1.0 - alpha) * background(canvas, rng)
    return np.clip(np.round(shot), 0, 255).astype(np.uint8), matrix
