"""Export a trained generator to .tflite (fp32, fp16, dynamic, int8) with a parity report.

Same as `cyclegan-tf export`:
    python export/export_tflite.py runs/tiny --out exports/tiny --quantize all
"""

import sys

from cyclegan_tf.cli import main

if __name__ == "__main__":
    sys.exit(main(["export", *sys.argv[1:]]))
