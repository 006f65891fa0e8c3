"""The README's picture of the shipped model: publishable photos in, anime out (Keras and int8).

Inputs anyone may publish: the public-domain NASA astronaut portrait that scikit-image ships,
framed tight on the face, as the portrait, and as a wide shot; and a drawn face (the embedded
dataset's procedural photo style). Each is centre-cropped to a square and resized to 256 px, as
the phone app does, then translated by the Keras generator and by the int8 `.tflite`.

    python benchmarks/pretrained_grid.py --out docs/pretrained_grid.png
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from cyclegan_tf.data.pipeline import center_square  # noqa: E402
from cyclegan_tf.data.synthetic import face_for, render_photo  # noqa: E402
from cyclegan_tf.evaluation.translators import load_translators  # noqa: E402
from cyclegan_tf.plots import save_image_grid  # noqa: E402


def publishable_inputs(size: int) -> list[tuple[str, np.ndarray]]:
    """(title, uint8 square image) pairs that may appear in public docs."""
    from skimage.data import astronaut

    portrait = astronaut()  # 512x512, NASA, public domain
    tight = portrait[30:250, 130:350]
    wide = np.pad(portrait, ((128, 128), (128, 128), (0, 0)), mode="edge")
    drawn = render_photo(face_for(0, 2, 5), 256)
    images = [
        ("astronaut, face crop", tight),
        ("astronaut, portrait", portrait),
        ("astronaut, wide shot", wide),
        ("drawn face", drawn),
    ]
    return [(title, center_square(image, size)) for title, image in images]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="selfie2anime-mobile")
    parser.add_argument("--tflite", default="selfie2anime-mobile:int8")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", default="docs/pretrained_grid.png")
    args = parser.parse_args(argv)
    inputs = publishable_inputs(args.size)
    stack = np.stack([image for _, image in inputs])
    keras_out = load_translators(args.model, "AtoB")["AtoB"](stack)
    int8_out = load_translators(args.tflite, "AtoB")["AtoB"](stack)
    rows = [[a, b, c] for a, b, c in zip(stack, keras_out, int8_out, strict=True)]
    save_image_grid(
        rows,
        ["photo (256 px)", "Keras generator", "int8 .tflite (phone)"],
        args.out,
        row_titles=[title for title, _ in inputs],
        title=f"{args.model}: photo -> anime",
    )
    Image.open(args.out).convert("RGB").quantize(256).save(args.out, optimize=True)  # smaller
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
