"""Input pipeline throughput: 256 px training images/s from JPEG folders, against the training step.

Writes a folder of JPEGs (synthetic photos at 286 px by default, or use --data for a real
selfie2anime-layout folder), runs the training pipeline (decode, resize 286, random crop 256, flip,
scale) for both domains and reports images/s. With --train-json (the output of
train_throughput.py) it also reports how many times faster the pipeline feeds than training eats.

    python benchmarks/input_pipeline.py --images 300 \
        --train-json benchmarks/results/train_throughput_256.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
from machine import describe_machine, markdown_machine  # noqa: E402
from PIL import Image  # noqa: E402
from report import write_report  # noqa: E402

from cyclegan_tf.config import CycleGANConfig  # noqa: E402
from cyclegan_tf.data import load_domains, unpaired_batches  # noqa: E402
from cyclegan_tf.data.synthetic import face_for, render_anime, render_photo  # noqa: E402


def write_jpegs(root: Path, count: int, size: int) -> None:
    progress = keras.utils.Progbar(2 * count, unit_name="image")
    for domain, render in (("trainA", render_photo), ("trainB", render_anime)):
        (root / domain).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(render(face_for(0, 0, i), size)).save(
                root / domain / f"{i:05d}.jpg", quality=92
            )
            progress.add(1)


def measure(data: str, config: CycleGANConfig, repeats: int) -> dict:
    a, b = load_domains(data, "train")
    rates = []
    for _ in range(repeats):
        dataset = unpaired_batches(a, b, config)
        start = time.perf_counter()
        n = sum(1 for _ in dataset) * config.batch_size
        rates.append(n / (time.perf_counter() - start))
    return {
        "images_per_s_per_domain": statistics.median(rates),
        "images_per_epoch": n,
        "repeats": repeats,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", help="a folder in the trainA/trainB layout (default: synthetic JPEGs)"
    )
    parser.add_argument("--images", type=int, default=300, help="JPEGs per domain to write")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-json", help="train_throughput.py output at the same size")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "input_pipeline"))
    args = parser.parse_args(argv)
    config = CycleGANConfig(batch_size=args.batch_size)  # load 286, crop 256: the paper's
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if not data:
            print(f"writing {args.images} JPEGs per domain at {config.load_size} px")
            write_jpegs(Path(tmp), args.images, config.load_size)
            data = tmp
        result = measure(data, config, args.repeats)
    report = {
        "benchmark": "input_pipeline",
        "data": args.data or "synthetic JPEGs",
        "crop_size": config.crop_size,
        "batch_size": args.batch_size,
        "machine": describe_machine(),
        "result": result,
    }
    if args.train_json:
        train = json.loads(Path(args.train_json).read_text())
        best = max(r["images_per_s"] for r in train["results"])
        report["training_images_per_s"] = best
        report["headroom"] = result["images_per_s_per_domain"] / best
    write_report(report, args.out, to_markdown)
    return 0


def to_markdown(report: dict) -> str:
    r = report["result"]
    lines = [
        f"# Input pipeline: {report['data']}, resize 286 + random crop {report['crop_size']}, "
        f"flip, batch {report['batch_size']}",
        "",
        markdown_machine(report["machine"]),
        "",
        "| images/s per domain (A and B both decoded) | fastest training step, images/s "
        "| headroom |",
        "| ---: | ---: | ---: |",
        f"| {r['images_per_s_per_domain']:.1f} "
        f"| {report.get('training_images_per_s', float('nan')):.2f} "
        f"| {report.get('headroom', float('nan')):.1f}x |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
