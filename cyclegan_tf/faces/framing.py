"""Aligned face crops framed like the training data, and pasting a translated crop back.

A crop is a similarity transform of the photo (rotation, uniform scale, shift) that levels the
eyes, scales them to the training data's eye distance and puts their midpoint where the training
images have it. The constants are selfie2anime trainA's medians, measured by
`python benchmarks/faces.py --framing ~/data/selfie2anime/trainA` (`docs/faces.md`).

Example:
    crop = align_face(photo, faces[0], size=256)       # FaceCrop: pixels + transform
    photo_with_anime_face = paste_back(photo, anime_crop, crop.matrix)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Framing:
    """Where the eyes sit in a square crop, as shares of its side."""

    eye_x: float  # midpoint between the eyes, from the left
    eye_y: float  # eye line, from the top
    eye_distance: float  # between the two eye centres


# selfie2anime trainA (3,400 selfies at 256x256; a face in 3,382), BlazeFace eye keypoints as
# `FaceDetector` finds them: medians, with the interquartile range beside each: eye_x 0.503
# (0.481-0.528), eye_y 0.364 (0.341-0.389), eye_distance 0.286 (0.262-0.309); roll -0.3 deg
# (-6.7-7.0): the dataset's heads are upright on average, so levelling the eyes matches it.
# benchmarks/results/faces.md. The numbers live in framing.json, which the web app reads too.
SHARED = json.loads(Path(__file__).with_name("framing.json").read_text())
TRAINA_FRAMING = Framing(**SHARED["framing"])
FEATHER = SHARED["paste"]["feather"]  # the pasted face fades out over this share of its side


@dataclass(frozen=True)
class FaceCrop:
    """An aligned square crop and the 2x3 matrix that maps photo pixels to crop pixels."""

    pixels: np.ndarray
    matrix: np.ndarray

    @property
    def size(self) -> int:
        return self.pixels.shape[0]


def alignment_matrix(eyes: np.ndarray, size: int, framing: Framing = TRAINA_FRAMING) -> np.ndarray:
    """The 2x3 similarity matrix sending the two eyes (image-left first) to the framing's."""
    eyes = np.asarray(eyes, np.float64)
    target = np.asarray(
        [
            [(framing.eye_x - framing.eye_distance / 2) * size, framing.eye_y * size],
            [(framing.eye_x + framing.eye_distance / 2) * size, framing.eye_y * size],
        ]
    )
    source_vector = eyes[1] - eyes[0]
    target_vector = target[1] - target[0]
    length = np.hypot(*source_vector)
    if length < 1e-6:
        raise ValueError("the two eye positions coincide: cannot align the face")
    scale = np.hypot(*target_vector) / length
    angle = np.arctan2(target_vector[1], target_vector[0]) - np.arctan2(*source_vector[::-1])
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    rotation = np.asarray([[cos, -sin], [sin, cos]])
    shift = target.mean(0) - rotation @ eyes.mean(0)
    return np.hstack([rotation, shift[:, None]])


def centre_matrix(width: int, height: int, size: int) -> np.ndarray:
    """The 2x3 matrix of the largest centred square, scaled to `size`: the no-face fallback."""
    side = min(width, height)
    scale = size / side
    return np.asarray(
        [[scale, 0.0, -(width - side) / 2 * scale], [0.0, scale, -(height - side) / 2 * scale]]
    )


def invert(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def warp(image: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` seen through `matrix` (source pixels -> output pixels) at width x height.

    Only the part of the source the output sees is touched: it is cut out first, and a strong
    reduction is done by a filtered resize of that part, so a small crop of a large photo is
    both cheap and not aliased (an affine warp samples, it does not average).
    """
    inverse = invert(matrix)
    corners = np.asarray([[0, 0], [width, 0], [0, height], [width, height]], np.float64)
    seen = corners @ inverse[:, :2].T + inverse[:, 2]
    x0, y0 = np.maximum(np.floor(seen.min(0)) - 2, 0).astype(int)
    x1 = int(min(np.ceil(seen[:, 0].max()) + 2, image.shape[1]))
    y1 = int(min(np.ceil(seen[:, 1].max()) + 2, image.shape[0]))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((height, width) + image.shape[2:], image.dtype)
    picture = Image.fromarray(np.ascontiguousarray(image[y0:y1, x0:x1]))
    matrix = matrix.copy()
    matrix[:, 2] += matrix[:, :2] @ np.asarray([x0, y0], np.float64)  # cut-out coordinates
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        factor = scale * 1.5
        shrunk = (max(1, round(picture.width * factor)), max(1, round(picture.height * factor)))
        factors = np.asarray([shrunk[0] / picture.width, shrunk[1] / picture.height])
        picture = picture.resize(shrunk, Image.LANCZOS)
        matrix[:, :2] = matrix[:, :2] / factors  # the source coordinates are now scaled
    coefficients = tuple(invert(matrix).ravel())  # PIL asks where each output pixel reads
    return np.asarray(picture.transform((width, height), Image.AFFINE, coefficients, Image.BICUBIC))


def align_face(
    image: np.ndarray, eyes: np.ndarray, size: int, framing: Framing = TRAINA_FRAMING
) -> FaceCrop:
    """The `size` x `size` crop of `image` (uint8 RGB) framed like the training data."""
    matrix = alignment_matrix(eyes, size, framing)
    return FaceCrop(warp(image, matrix, size, size), matrix)


def centre_crop(image: np.ndarray, size: int) -> FaceCrop:
    matrix = centre_matrix(image.shape[1], image.shape[0], size)
    return FaceCrop(warp(image, matrix, size, size), matrix)


def feather_mask(size: int, feather: float = FEATHER) -> np.ndarray:
    """float32 (size, size): 1 inside, falling smoothly to 0 over `feather` x size at the edges."""
    ramp = np.clip((np.arange(size) + 0.5) / (feather * size), 0.0, 1.0)
    edge = np.minimum(ramp, ramp[::-1])
    edge = edge * edge * (3.0 - 2.0 * edge)  # smoothstep: no visible seam where it reaches 1
    return np.outer(edge, edge).astype(np.float32)


def paste_back(
    photo: np.ndarray, crop: np.ndarray, matrix: np.ndarray, feather: float = FEATHER
) -> np.ndarray:
    """`photo` with `crop` (e.g. its translation) blended back where it was cut, feathered."""
    height, width = photo.shape[:2]
    inverse = invert(matrix)
    placed = warp(crop, inverse, width, height).astype(np.float32)
    mask = (feather_mask(crop.shape[0], feather) * 255).astype(np.uint8)
    alpha = warp(np.repeat(mask[:, :, None], 3, 2), inverse, width, height)[..., :1] / 255.0
    blended = alpha * placed + (1.0 - alpha) * photo.astype(np.float32)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)
