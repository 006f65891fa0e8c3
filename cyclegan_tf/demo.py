"""The first thing to run: the shipped model on photos that ship with it, framed on the face.

`cyclegan-tf demo` needs no download and no photo of your own. It translates NASA's public-domain
astronaut portrait (package data), a wide shot made from it (small, turned, off-centre) and a drawn
face, with and without face framing, and writes each result and one grid picture.

Example:
    written = run_demo("demo/")   # demo/demo_grid.png, demo/astronaut_wide_pasted.png, ...
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from cyclegan_tf.data.images import load_rgb

SAMPLES = Path(__file__).parent / "pretrained" / "samples"
COLUMNS = ["photo", "centre crop", "-> int8", "--face crop", "-> Keras", "-> int8 (phone)",
           "--paste-back"]  # fmt: skip


def sample_photos() -> list[tuple[str, np.ndarray]]:
    """(name, uint8 photo) pairs anyone may publish."""
    from cyclegan_tf.data.synthetic import face_for, render_photo
    from cyclegan_tf.faces.wide_shots import wide_shot

    portrait = load_rgb(SAMPLES / "astronaut.jpg")
    wide, _ = wide_shot(portrait, (960, 720), 0.75, (0.3, 0.45), 15.0)
    return [
        ("astronaut_portrait", portrait),
        ("astronaut_wide", wide),
        ("drawn_face", render_photo(face_for(0, 2, 5), 256)),
    ]


def demo_rows(model: str, size: int) -> tuple[list[list[np.ndarray]], list[str]]:
    """One row per sample: photo, centre crop and its int8 translation, the face crop and its
    Keras and int8 translations, the int8 face pasted back (columns as `COLUMNS`)."""
    from cyclegan_tf.evaluation.translators import load_translators
    from cyclegan_tf.faces import FaceDetector, align_face, centre_crop, paste_back
    from cyclegan_tf.pretrained import PRETRAINED

    if model not in PRETRAINED:
        raise ValueError(
            f"--model {model!r}: the demo runs a shipped model, one of {list(PRETRAINED)}"
        )
    keras_model = load_translators(model, "AtoB")["AtoB"]
    int8_model = load_translators(f"{model}:int8", "AtoB")["AtoB"]
    detector = FaceDetector()
    rows, titles = [], []
    for name, photo in sample_photos():
        centre = centre_crop(photo, size)
        faces = detector.detect(photo)
        face = align_face(photo, faces[0].eyes, size) if faces else centre
        int8_centre, int8_face = int8_model(np.stack([centre.pixels, face.pixels]))
        keras_face = keras_model(face.pixels[None])[0]
        pasted = paste_back(photo, int8_face, face.matrix)
        rows.append([photo, centre.pixels, int8_centre, face.pixels, keras_face, int8_face, pasted])
        titles.append(name.replace("_", ", ") + ("" if faces else " (no face found)"))
    return rows, titles


def save_demo_grid(rows, titles, path: str | os.PathLike, model: str) -> None:
    from cyclegan_tf.plots import save_image_grid

    save_image_grid(
        rows, COLUMNS, path, row_titles=titles,
        title=f"{model}: photo -> anime, with and without face framing",
    )  # fmt: skip
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)  # smaller


def run_demo(
    out_dir: str | os.PathLike, model: str = "selfie2anime-mobile", size: int = 256
) -> list[Path]:
    """Translate the samples into `out_dir`; returns the files written (the grid first)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, titles = demo_rows(model, size)
    written = [out / "demo_grid.png"]
    save_demo_grid(rows, titles, written[0], model)
    for (name, _), row in zip(sample_photos(), rows, strict=True):
        for suffix, image in (("photo", row[0]), ("anime", row[5]), ("pasted", row[6])):
            written.append(out / f"{name}_{suffix}.png")
            Image.fromarray(image).save(written[-1])
    return written
