"""Translating image files of any size with a saved generator.

The generator is fully convolutional: an image is resized so its shorter side is the training size
(or `size`), reflect-padded to a multiple the network accepts, translated, cropped back and resized
to the input's own size.

Example:
    translate_paths("runs/tiny", ["selfie.jpg"], "out/")
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

from cyclegan_tf import registry
from cyclegan_tf.checkpoints import load_generator, resolve_generator_path
from cyclegan_tf.data.images import (
    IMAGE_EXTENSIONS,
    DecodeReport,
    ImageDecodeError,
    list_images,
    load_rgb,
    output_names,
)
from cyclegan_tf.errors import UserError
from cyclegan_tf.faces import FaceCrop, FaceDetector, align_face, centre_crop, paste_back
from cyclegan_tf.imaging import model_to_uint8, uint8_to_model
from cyclegan_tf.pretrained import run_size

logger = logging.getLogger(__name__)


def expand_inputs(inputs: list[str], report: DecodeReport | None = None) -> list[str]:
    """Files as given, folders expanded to their images; a missing path is an error."""
    paths: list[str] = []
    for item in inputs:
        if os.path.isdir(item):
            paths.extend(list_images(item, report=report))
        elif os.path.isfile(item):
            if Path(item).suffix.lower() not in IMAGE_EXTENSIONS:
                raise ValueError(f"input {item} is not an image ({', '.join(IMAGE_EXTENSIONS)})")
            paths.append(item)
        else:
            raise FileNotFoundError(f"input {item} does not exist")
    return paths


def translate_image(generator, image: np.ndarray, size: int, multiple: int) -> np.ndarray:
    """Translate one uint8 RGB image of any size; the result has the input's size."""
    height, width = image.shape[:2]
    scale = size / min(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BICUBIC))
    pad_h, pad_w = -new_h % multiple, -new_w % multiple
    x = uint8_to_model(resized)
    mode = "reflect" if min(new_h, new_w) > max(pad_h, pad_w) else "edge"
    x = np.pad(x, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)
    y = np.asarray(generator(x[None], training=False))[0, :new_h, :new_w]
    y = model_to_uint8(y)
    return np.asarray(Image.fromarray(y).resize((width, height), Image.BICUBIC))


class NoFaceError(UserError, ValueError):
    """`--face --strict` and a photo in which no face was found."""


def frame_face(image: np.ndarray, size: int, detector, strict: bool, source: str) -> FaceCrop:
    """The best face's aligned crop, or (with a warning, or NoFaceError when `strict`) the
    centre crop."""
    faces = detector.detect(image)
    if faces:
        return align_face(image, faces[0].eyes, size)
    if strict:
        raise NoFaceError(f"no face found in {source} (--strict)")
    logger.warning("no face found in %s: translated the centre crop", source)
    return centre_crop(image, size)


def translate_paths(
    model: str | os.PathLike,
    inputs: list[str],
    out_dir: str | os.PathLike,
    direction: str | None = None,
    size: int | None = None,
    side_by_side: bool = False,
    face: bool = False,
    paste: bool = False,
    strict: bool = False,
    report: DecodeReport | None = None,
) -> list[Path]:
    """Translate image files and folders into `out_dir` as PNGs; returns the files written.

    Every image gets its own file (`output_names`: a.jpg and a.png do not overwrite each other);
    an unreadable image is logged, added to `report` and skipped, and the rest go on.

    With `face`, each photo is first cropped on its face, aligned and framed like the training
    data (`cyclegan_tf.faces`), and the translation is that crop; with `paste` too, the translated
    face is blended back into the photo, which keeps its size.
    """
    if (paste or strict) and not face:
        raise ValueError("--paste-back and --strict go with --face")
    report = report if report is not None else DecodeReport()
    path = resolve_generator_path(model, direction)
    paths = expand_inputs(inputs, report)
    generator, info = load_generator(path)
    if direction is not None and Path(model).is_file() and direction != info.direction:
        raise ValueError(f"{path} translates {info.direction}, but --direction is {direction}")
    multiple = registry.generator_size_multiple(info.config.generator)
    size = size or run_size(model) or info.config.crop_size
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = FaceDetector() if face else None
    names = output_names(paths)  # a.jpg and a.png both get a result
    written = []
    for source in paths:
        try:
            image = load_rgb(source)
        except ImageDecodeError as e:  # reported by the caller; the other files still go
            report.add(source, e)
            continue
        if face:
            crop = frame_face(image, size, detector, strict, source)
            result = translate_image(generator, crop.pixels, size, multiple)
            image, result = (
                (image, paste_back(image, result, crop.matrix)) if paste else (crop.pixels, result)
            )
        else:
            result = translate_image(generator, image, size, multiple)
        target = out_dir / names[source]
        Image.fromarray(result).save(target)
        written.append(target)
        if side_by_side:
            Image.fromarray(np.concatenate([image, result], axis=1)).save(
                target.with_name(f"{target.stem}_compare.png")
            )
    return written
