"""fp32 `.tflite` (LiteRT, XNNPACK) against the same generator in TensorFlow, interleaved.

Alternates one TensorFlow call (`tf.function`, batch 1, default threads), one LiteRT call of the
exported model and one of the same model converted as traced (no fast-op rewrites: MIRROR_PAD,
TRANSPOSE_CONV, MEAN) on the same input, round after round, so all see the same machine load;
reports medians and ratios. Untrained generators (latency does not depend on the weights).

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
        models = {}
        for label, lowering in (("tflite", True), ("tflite_as_traced", False)):
            path = Path(tempfile.gettempdir()) / f"{name}_{args.size}_{label}.tflite"
            path.write_bytes(convert_generator(generator, "fp32", args.size, lowering=lowering))
            models[label] = TFLiteModel(path, num_threads=args.threads)
        run_tf = tf.function(lambda t, g=generator: g(t, training=False))
        tensor = tf.constant(x)
        for _ in range(2):  # warm-up: tracing, weight packing
            run_tf(tensor).numpy()
            for lite in models.values():
                lite.run(x)
        times = {"tensorflow": [], **{label: [] for label in models}}
        outputs = {}
        for _ in range(args.rounds):
            start = time.perf_counter()
            reference = run_tf(tensor).numpy()
            times["tensorflow"].append((time.perf_counter() - start) * 1000)
            for label, lite in models.items():
                start = time.perf_counter()
                outputs[label] = lite.run(x)
                times[label].append((time.perf_counter() - start) * 1000)
        row = {
            "generator": name,
            "max_abs_diff": float(np.abs(outputs["tflite"] - reference).max()),
            **{f"{k}_median_ms": statistics.median(v) for k, v in times.items()},
            **{f"{k}_min_ms": min(v) for k, v in times.items()},
        }
        row["tflite_over_tf"] = row["tflite_median_ms"] / row["tensorflow_median_ms"]
        row["as_traced_over_tf"] = row["tflite_as_traced_median_ms"] / row["tensorflow_median_ms"]
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
        f"of one TensorFlow call (tf.function, default threads), then one LiteRT call "
        f"({args.threads} threads, XNNPACK) of the exported model and one of the same model "
        "converted as traced (no fast-op rewrites), on the same input, after 2 warm-up rounds.",
        "",
        "| generator | TF median ms | TFLite median ms | TFLite / TF | as traced median ms "
        "| as traced / TF | TF min ms | TFLite min ms | max abs diff |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['generator']} | {r['tensorflow_median_ms']:.1f} | {r['tflite_median_ms']:.1f} "
            f"| {r['tflite_over_tf']:.2f}x | {r['tflite_as_traced_median_ms']:.1f} | "
            f"{r['as_traced_over_tf']:.2f}x | {r['tensorflow_min_ms']:.1f} | "
            f"{r['tflite_min_ms']:.1f} | {r['max_abs_diff']:.1e} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
