"""LiteRT latency of our generators at 256x256 beside the public mobile anime/cartoon models.

Exports ResNet-9 (the paper's generator) and the phone-size `mobile` generator as fp32, fp16 and
int8 (int8 calibrated on --calibration images, default: the embedded synthetic photos), times them
and every peer `.tflite` (--peers, default ../shared/peers) in one run with `cyclegan-tf benchmark`,
and times the ResNet-9 generator in TensorFlow on the same input for the fp32 comparison. Latency
does not depend on the weights' values, so untrained generators are used.

    python benchmarks/tflite_latency.py --calibration ../shared/data/faces2anime-dev/trainA
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def tensorflow_latency(generator, size: int, warmup: int, runs: int) -> dict:
    import numpy as np
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)), tf.float32)
    run = tf.function(lambda t: generator(t, training=False))
    for _ in range(warmup):
        run(x).numpy()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(x).numpy()
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--calibration", help="domain-A images for int8 (default: synthetic)")
    parser.add_argument(
        "--peers", default=str(Path(__file__).resolve().parents[2] / "shared" / "peers")
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--work", default="/tmp/cyclegan_tflite_latency")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "tflite_latency"))
    args = parser.parse_args(argv)

    import keras

    from cyclegan_tf.export.benchmark import benchmark_models, write_benchmark
    from cyclegan_tf.export.exporter import load_domain_images
    from cyclegan_tf.export.tflite import convert_generator
    from cyclegan_tf.networks import build_generator

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    calibration = load_domain_images(args.calibration, args.size, 120)
    files, tf_times = [], {}
    for name, ngf in (("resnet_9blocks", 64), ("mobile", 16)):
        keras.utils.set_random_seed(0)
        generator = build_generator(name, ngf=ngf)
        tf_times[name] = tensorflow_latency(generator, args.size, args.warmup, args.runs)
        for quantize in ("fp32", "fp16", "int8"):
            path = work / f"{name}_{quantize}.tflite"
            print(f"exporting {path.name}")
            path.write_bytes(
                convert_generator(generator, quantize, args.size, calibration=calibration)
            )
            files.append(path)
    peers = sorted(Path(args.peers).glob("*.tflite")) if Path(args.peers).is_dir() else []
    results = benchmark_models(files + peers, tuple(args.threads), args.warmup, args.runs)
    paths = write_benchmark(results, args.out, args.runs)
    report = json.loads(paths["json"].read_text())
    report["tensorflow_fp32"] = tf_times
    paths["json"].write_text(json.dumps(report, indent=2) + "\n")
    with paths["md"].open("a") as md:
        md.write("\nThe same fp32 generators in TensorFlow (tf.function, batch 1, all cores):\n\n")
        md.write("| generator | TF median ms | TF min ms |\n| --- | ---: | ---: |\n")
        for name, t in tf_times.items():
            md.write(f"| {name} | {t['median_ms']:.1f} | {t['min_ms']:.1f} |\n")
    print(paths["md"].read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
