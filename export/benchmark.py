"""Benchmark .tflite files with LiteRT, side by side (ours and the peers in ../shared/peers).

Same as `cyclegan-tf benchmark`:
    python export/benchmark.py exports/tiny/*.tflite ../shared/peers/*.tflite --out bench
"""

import sys

from cyclegan_tf.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
