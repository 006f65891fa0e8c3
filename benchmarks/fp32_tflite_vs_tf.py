"""fp32 `.tflite` (LiteRT, XNNPACK) against the same generator in TensorFlow, interleaved.

Alternates one TensorFlow call (`tf.function`, batch 1, default threads) and one LiteRT call on
the same input, round after round, so both see the same machine load; reports medians and the
ratio. Untrained generators (latency does not depend on the weights).

    python benchmarks/fp32_tflite_vs_tf.py --size 256 --rounds 12
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
sys.path.insert(0, str(Path(__file__).parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2, help="LiteRT threads (TF: all cores)")
    parser.add_argument("--generators", nargs="+", default=["resnet_9blocks", "mobile"])
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "fp32_tflite_vs_tf")
    )
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf
    from machine import describe_machine, markdown_machine

    from cyclegan_tf.export.litert import TFLiteModel
    from cyclegan_tf.export.tflite import convert_generator
    from cyclegan_tf.networks import build_generator

    x = np.random.default_rng(0).uniform(-1, 1, (1, args.size, args.size, 3)).astype("float32")
    rows = []
    for name in args.generators:
        keras.utils.set_random_seed(0)
        generator = build_generator(name, ngf=16 if name == "mobile" else 64)
        path = Path(tempfile.gettempdir()) / f"{name}_{args.size}_fp32.tflite"
        path.write_bytes(convert_generator(generator, "fp32", args.size))
        lite = TFLiteModel(path, num_threads=args.threads)
        run_tf = tf.function(lambda t, g=generator: g(t, training=False))
        tensor = tf.constant(x)
        for _ in range(2):  # warm-up: tracing, weight packing
            run_tf(tensor).numpy()
            lite.run(x)
        times = {"tensorflow": [], "tflite": []}
        for _ in range(args.rounds):
            start = time.perf_counter()
            reference = run_tf(tensor).numpy()
            times["tensorflow"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            output = lite.run(x)
            times["tflite"].append((time.perf_counter() - start) * 1000)
        row = {
            "generator": name,
            "max_abs_diff": float(np.abs(output - reference).max()),
            **{f"{k}_median_ms": statistics.median(v) for k, v in times.items()},
            **{f"{k}_min_ms": min(v) for k, v in times.items()},
        }
        row["tflite_over_tf"] = row["tflite_median_ms"] / row["tensorflow_median_ms"]
        rows.append(row)
        print(row, flush=True)
    machine = describe_machine()
    out = Path(args.out)
    report = {"machine": machine, "size": args.size, "threads": args.threads, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# fp32 TFLite against TensorFlow, interleaved",
        "",
        f"{markdown_machine(machine)} Input 1x{args.size}x{args.size}x3; {args.rounds} rounds "
        f"of one TensorFlow call (tf.function, default threads) then one LiteRT call "
        f"({args.threads} threads, XNNPACK) on the same input, after 2 warm-up rounds.",
        "",
        "| generator | TF median ms | TFLite median ms | TFLite / TF | TF min ms | TFLite min ms "
        "| max abs diff |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['generator']} | {r['tensorflow_median_ms']:.1f} | {r['tflite_median_ms']:.1f} "
            f"| {r['tflite_over_tf']:.2f}x | {r['tensorflow_min_ms']:.1f} | "
            f"{r['tflite_min_ms']:.1f} | {r['max_abs_diff']:.1e} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
