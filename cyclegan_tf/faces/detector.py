"""BlazeFace short-range: face boxes and six landmarks with the LiteRT we already ship with.

The model (`blazeface_short_range.tflite`, 229 KB, Apache-2.0, from MediaPipe's
`@mediapipe/face_detection` 0.4.1657300184) is package data, so detection works offline, and the
web app runs the same file with LiteRT.js: one detector, one framing on both sides
(`docs/faces.md` argues the choice). The decoding follows MediaPipe's short-range graph: 896 SSD
anchors (strides 8 and 16), boxes and keypoints relative to their anchor, sigmoid scores above 0.5,
weighted non-maximum suppression at IoU 0.3.

A photo is searched in square windows: the whole photo letterboxed, then (only when that finds
nothing) the photo with a margin, for faces that fill the frame, and overlapping half-size tiles,
for faces too small at 128 px.

Example:
    faces = FaceDetector().detect(image)   # uint8 (H, W, 3) -> [Face], largest first
    left_eye, right_eye = faces[0].eyes    # image-left eye first, in pixels
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from cyclegan_tf.imaging import uint8_to_model

# The constants are shared with the web app through framing.json (one home for both sides).
SETTINGS = json.loads(Path(__file__).with_name("framing.json").read_text())["detector"]
MODEL_PATH = Path(__file__).with_name(SETTINGS["model"])
INPUT_SIZE = SETTINGS["input_size"]
MIN_SCORE = SETTINGS["model_min_score"]  # the model's own threshold, before the search's NMS
NMS_IOU = SETTINGS["nms_iou"]
# What counts as a face. Searching up to 17 windows finds things scoring 0.5-0.66 in photos
# without a face (skimage's coffee, cat, rocket, Hubble field; a helmet in the astronaut's wide
# shots) while 161 of 162 real selfies (selfie2anime testA and the team's dev set) score above
# 0.75 (median 0.92).
CONFIDENT = SETTINGS["min_score"]
# Windows tried when the whole photo finds no face: a margin for faces that fill the frame, and
# tiles of this share of the shorter side (half-overlapping) for faces small in a wide shot.
MARGIN = SETTINGS["margin"]
TILE_SHARE = SETTINGS["tile_share"]
KEYPOINTS = (
    "eye_image_left",
    "eye_image_right",
    "nose_tip",
    "mouth",
    "ear_image_left",
    "ear_image_right",
)


def blazeface_anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1]: 2 per cell of the 16x16 grid, then 6 per cell of 8x8."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = INPUT_SIZE // stride
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
    return np.asarray(centres, np.float32)


@dataclass(frozen=True)
class Face:
    """A detected face in image pixels: box (x0, y0, x1, y1), six keypoints (x, y), score."""

    box: tuple[float, float, float, float]
    keypoints: np.ndarray
    score: float

    @property
    def eyes(self) -> np.ndarray:
        """(2, 2): the eye on the image's left first (the subject's right eye), then the other."""
        return self.keypoints[:2]

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


@dataclass(frozen=True)
class View:
    """How a window's 128x128 input maps back to the photo: pixel = origin + t * extent."""

    origin: np.ndarray
    extent: np.ndarray

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Window coordinates t in [0, 1] -> photo pixels."""
        return points * self.extent + self.origin


@dataclass(frozen=True)
class Window:
    """A square of the photo seen at 128x128; what lies outside the photo is black."""

    x0: int
    y0: int
    side: int

    def render(self, image: Image.Image) -> tuple[np.ndarray, View]:
        """The model's input, float32 (128, 128, 3) in [-1, 1], and its exact mapping back.

        Only the part inside the photo is resized (antialiased), then placed on black: resizing
        the whole padded window would cost several times more on a large photo.
        """
        k = INPUT_SIZE / self.side
        visible = (
            max(0, self.x0),
            max(0, self.y0),
            min(image.width, self.x0 + self.side),
            min(image.height, self.y0 + self.side),
        )
        target = [
            min(INPUT_SIZE, max(0, round((v - o) * k)))
            for v, o in zip(visible, (self.x0, self.y0) * 2, strict=True)
        ]
        size = (max(1, target[2] - target[0]), max(1, target[3] - target[1]))
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
        part = image.crop(visible).resize(size, Image.BILINEAR, reducing_gap=3.0)
        canvas[target[1] : target[1] + size[1], target[0] : target[0] + size[0]] = np.asarray(part)
        per_pixel = np.asarray(
            [(visible[2] - visible[0]) / size[0], (visible[3] - visible[1]) / size[1]]
        )
        origin = np.asarray(visible[:2], np.float64) - np.asarray(target[:2]) * per_pixel
        view = View(origin, per_pixel * INPUT_SIZE)
        return uint8_to_model(canvas), view


def letterbox_window(width: int, height: int, margin: float = 0.0) -> Window:
    side = round(max(width, height) * (1.0 + 2.0 * margin))
    return Window((width - side) // 2, (height - side) // 2, side)


def tile_windows(width: int, height: int, share: float = TILE_SHARE) -> list[Window]:
    """Half-overlapping squares of `share` x the shorter side covering the photo."""
    side = max(1, round(min(width, height) * share))
    step = max(1, side // 2)

    def starts(extent: int) -> list[int]:
        last = max(0, extent - side)
        return sorted(set(list(range(0, last, step)) + [last]))

    return [Window(x, y, side) for y in starts(height) for x in starts(width)]


def decode(
    regressors: np.ndarray,
    scores: np.ndarray,
    anchors: np.ndarray,
    view: View,
    min_score: float = MIN_SCORE,
) -> list[Face]:
    """The model's raw (896, 16) and (896,) outputs -> faces in photo pixels, before NMS."""
    logits = np.clip(scores.astype(np.float64), -100.0, 100.0)
    probability = 1.0 / (1.0 + np.exp(-logits))
    faces = []
    for i in np.flatnonzero(probability >= min_score):
        raw = regressors[i] / INPUT_SIZE
        centre = raw[:2] + anchors[i]
        half = raw[2:4] / 2.0
        corners = view.to_image(np.stack([centre - half, centre + half]))
        keypoints = view.to_image(raw[4:16].reshape(6, 2) + anchors[i])
        faces.append(
            Face(tuple(float(v) for v in corners.ravel()), keypoints, float(probability[i]))
        )
    return faces


def iou(a: tuple, b: tuple) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(faces: list[Face], threshold: float = NMS_IOU) -> list[Face]:
    """MediaPipe's weighted NMS: each cluster of overlapping boxes becomes their score-weighted
    mean (box and keypoints), scored by its best member."""
    remaining = sorted(faces, key=lambda f: f.score, reverse=True)
    merged = []
    while remaining:
        best = remaining[0]
        cluster = [f for f in remaining if iou(best.box, f.box) > threshold]
        remaining = [f for f in remaining if iou(best.box, f.box) <= threshold]
        weights = np.asarray([f.score for f in cluster])[:, None]
        box = np.sum(np.asarray([f.box for f in cluster]) * weights, 0) / weights.sum()
        points = np.sum(np.stack([f.keypoints for f in cluster]) * weights[:, :, None], 0)
        merged.append(Face(tuple(float(v) for v in box), points / weights.sum(), best.score))
    return merged


class FaceDetector:
    """BlazeFace short-range on LiteRT; `detect` returns the faces of a photo, largest first."""

    def __init__(
        self,
        model_path: str | Path = MODEL_PATH,
        num_threads: int = 1,
        min_score: float = CONFIDENT,
    ):
        self.min_score = min_score
        self._interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._regressors, self._scores = outputs["regressors"], outputs["classificators"]
        self._anchors = blazeface_anchors()

    def detect_in(self, image: Image.Image, window: Window) -> list[Face]:
        """Faces found in one window of the photo (before NMS)."""
        pixels, view = window.render(image)
        self._interpreter.set_tensor(self._input, pixels[None])
        self._interpreter.invoke()
        regressors = self._interpreter.get_tensor(self._regressors)[0]
        scores = self._interpreter.get_tensor(self._scores)[0, :, 0]
        return decode(regressors, scores, self._anchors, view)

    def _whole(self, picture: Image.Image) -> list[Face]:
        return self.detect_in(picture, letterbox_window(*picture.size))

    def _with_margin(self, picture: Image.Image) -> list[Face]:
        return self.detect_in(picture, letterbox_window(*picture.size, MARGIN))

    def _tiles(self, picture: Image.Image) -> list[Face]:
        """Tiles of a copy shrunk once so that a tile is the model's input size: resizing
        each tile from the full photo would cost as much as running the model on it."""
        width, height = picture.size
        factor = min(1.0, INPUT_SIZE / max(1, round(min(width, height) * TILE_SHARE)))
        small = picture.resize(
            (max(1, round(width * factor)), max(1, round(height * factor))),
            Image.BILINEAR,
            reducing_gap=3.0,
        )
        scale = np.asarray([width / small.width, height / small.height])
        found = [f for w in tile_windows(*small.size) for f in self.detect_in(small, w)]
        return [
            Face(tuple(float(v) for v in (np.reshape(f.box, (2, 2)) * scale).ravel()),
                 f.keypoints * scale, f.score)
            for f in found
        ]  # fmt: skip

    def refine(self, picture: Image.Image, face: Face) -> Face:
        """The face found again in an upright crop framed like the training data.

        A small or tilted face is found with coarse keypoints (a few of the window's 128 pixels);
        seen again levelled and filling the input, as the detector sees trainA selfies, the eyes
        land several times closer to the truth (`benchmarks/results/faces.md`).
        """
        from cyclegan_tf.faces.framing import align_face, invert

        crop = align_face(np.asarray(picture), face.eyes, INPUT_SIZE)
        whole = View(np.zeros(2), np.full(2, float(INPUT_SIZE)))
        self._interpreter.set_tensor(self._input, uint8_to_model(crop.pixels[None]))
        self._interpreter.invoke()
        regressors = self._interpreter.get_tensor(self._regressors)[0]
        scores = self._interpreter.get_tensor(self._scores)[0, :, 0]
        found = decode(regressors, scores, self._anchors, whole)
        if not found:
            return face
        best = max(weighted_nms(found), key=lambda f: f.score)
        back = invert(crop.matrix)
        keypoints = best.keypoints @ back[:, :2].T + back[:, 2]
        return Face(face.box, keypoints, face.score)

    def detect(self, image: np.ndarray | Image.Image) -> list[Face]:
        """The faces of an RGB photo (uint8 array or PIL image), largest first; [] if none.

        The searches run in turn (whole photo, with a margin, tiles) until one finds a face
        scoring at least `min_score`.
        """
        picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
        picture = picture.convert("RGB")
        for search in (self._whole, self._with_margin, self._tiles):
            faces = [f for f in weighted_nms(search(picture)) if f.score >= self.min_score]
            if faces:
                faces = [self.refine(picture, face) for face in faces]
                return sorted(faces, key=lambda f: f.area, reverse=True)
        return []
