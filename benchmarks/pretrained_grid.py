"""The README's picture of the shipped model: what `cyclegan-tf demo` shows, as docs/ PNG.

Publishable photos (NASA's public-domain astronaut portrait, a wide shot made from it, a drawn
face), with and without face framing, through the Keras generator and the int8 `.tflite`
(`cyclegan_tf.demo`).

    python benchmarks/pretrained_grid.py --out docs/pretrained_grid.png
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cyclegan_tf.demo import demo_rows, save_demo_grid  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="selfie2anime-mobile")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", default="docs/pretrained_grid.png")
    args = parser.parse_args(argv)
    rows, titles = demo_rows(args.model, args.size)
    save_demo_grid(rows, titles, args.out, args.model)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
