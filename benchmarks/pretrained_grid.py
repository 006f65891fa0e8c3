"""The README's picture of the shipped model: publishable photos in, anime out.

Inputs anyone may publish: the public-domain NASA astronaut portrait that scikit-image ships, as
the portrait and as a wide shot (small, turned 15 degrees, off-centre, made by
`cyclegan_tf.faces.wide_shots`), and a drawn face (the embedded dataset's procedural photo style).
Each row: the photo; what the model gets without face framing (the centre crop) and its int8
translation; the face crop `translate --face` makes (BlazeFace, eyes levelled, trainA framing)
and its Keras and int8 translations; the int8 face pasted back into the photo (`--paste-back`).

    python benchmarks/pretrained_grid.py --out docs/pretrained_grid.png
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from cyclegan_tf.data.synthetic import face_for, render_photo  # noqa: E402
from cyclegan_tf.evaluation.translators import load_translators  # noqa: E402
from cyclegan_tf.faces import FaceDetector, align_face, centre_crop, paste_back  # noqa: E402
from cyclegan_tf.faces.wide_shots import wide_shot  # noqa: E402
from cyclegan_tf.plots import save_image_grid  # noqa: E402


def publishable_inputs() -> list[tuple[str, np.ndarray]]:
    """(title, uint8 photo) pairs that may appear in public docs."""
    from skimage.data import astronaut

    portrait = astronaut()  # 512x512, NASA, public domain
    wide, _ = wide_shot(portrait, (960, 720), 0.75, (0.3, 0.45), 15.0)
    drawn = render_photo(face_for(0, 2, 5), 256)
    return [
        ("astronaut, portrait", portrait),
        ("astronaut, wide shot", wide),
        ("drawn face", drawn),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="selfie2anime-mobile")
    parser.add_argument("--tflite", default="selfie2anime-mobile:int8")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", default="docs/pretrained_grid.png")
    args = parser.parse_args(argv)
    keras_model = load_translators(args.model, "AtoB")["AtoB"]
    int8_model = load_translators(args.tflite, "AtoB")["AtoB"]
    detector = FaceDetector()
    rows, titles = [], []
    for title, photo in publishable_inputs():
        centre = centre_crop(photo, args.size)
        faces = detector.detect(photo)
        face = align_face(photo, faces[0].eyes, args.size) if faces else centre
        crops = np.stack([centre.pixels, face.pixels])
        int8_centre, int8_face = int8_model(crops)
        keras_face = keras_model(face.pixels[None])[0]
        pasted = paste_back(photo, int8_face, face.matrix)
        rows.append([photo, centre.pixels, int8_centre, face.pixels, keras_face, int8_face, pasted])
        titles.append(title + ("" if faces else " (no face found)"))
    save_image_grid(
        rows,
        ["photo", "centre crop", "-> int8", "--face crop", "-> Keras", "-> int8 (phone)",
         "--paste-back"],
        args.out,
        row_titles=titles,
        title=f"{args.model}: photo -> anime, with and without face framing",
    )  # fmt: skip
    Image.open(args.out).convert("RGB").quantize(256).save(args.out, optimize=True)  # smaller
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
