"""Which single ops of an int8 generator cost the most picture, and what keeping them float buys.

The int8 export keeps the instance-norm arithmetic in float; every convolution is int8. Some
convolutions lose more than others (a deep generator's 1/8-resolution blocks, the output conv).
This script calibrates the generator once, then quantizes it again with each convolution in turn
kept in float and measures the PSNR against the Keras generator on held-out photos: the gain per
op. It then keeps the top 1, 2, 4, ... ops in float and reports PSNR, size and 1-thread latency
(round-robin, so every file sees the same machine load). The chosen names go to
`cyclegan-tf export --float-node NAME` (repeatable).

    python benchmarks/int8_sensitivity.py runs/s2a-D \\
        --calibration ~/data/selfie2anime/trainA --parity ~/data/selfie2anime/testA
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

TOP_COUNTS = (1, 2, 4, 8, 12, 16)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a run folder, a .keras generator or a shipped model's name")
    parser.add_argument("--calibration", required=True, help="domain-A images (at least 100)")
    parser.add_argument("--parity", required=True, help="held-out domain-A images")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--images", type=int, default=12, help="parity images")
    parser.add_argument("--runs", type=int, default=20, help="timed rounds")
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "int8_sensitivity")
    )
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    from machine import describe_machine, markdown_machine
    from round_robin import round_robin_median_ms

    from cyclegan_tf.checkpoints import load_generator, resolve_generator_path
    from cyclegan_tf.export import int8_ranges
    from cyclegan_tf.export.exporter import load_domain_images
    from cyclegan_tf.export.int8_ranges import conv_nodes
    from cyclegan_tf.export.litert import TFLiteModel
    from cyclegan_tf.export.tflite import (
        NORM_FLOAT_OPS,
        calibrate_int8,
        from_model_output,
        to_model_input,
    )
    from cyclegan_tf.imaging import mean_psnr as psnr

    generator, _ = load_generator(resolve_generator_path(args.run, None))
    calibration = load_domain_images(args.calibration, args.size, 200)
    photos = np.stack(load_domain_images(args.parity, args.size, args.images))
    reference = from_model_output(generator(to_model_input(photos, "float")), "float")
    calibrated = calibrate_int8(generator, args.size, "uint8", calibration)
    work = Path(tempfile.mkdtemp(prefix="int8_sensitivity_"))

    def build(nodes: list[str], name: str) -> tuple[Path, float]:
        path = work / f"{name}.tflite"
        path.write_bytes(int8_ranges.quantize(calibrated, NORM_FLOAT_OPS, nodes))
        model = TFLiteModel(path, num_threads=2)
        outputs = np.concatenate([model.run(p[None]) for p in photos])
        return path, psnr(outputs, reference)

    _, base_psnr = build([], "base")
    nodes = conv_nodes(calibrated)
    print(f"{len(nodes)} convolutions; all int8: {base_psnr:.2f} dB")
    gains = []
    bar = keras.utils.Progbar(len(nodes), unit_name="op")
    for i, node in enumerate(nodes):
        _, value = build([node], f"single{i}")
        gains.append({"node": node, "psnr_db": value, "gain_db": value - base_psnr})
        bar.add(1)
    ranked = sorted(gains, key=lambda g: -g["gain_db"])

    variants = {"all convolutions int8 (export default)": ([], *build([], "top0"))}
    for count in TOP_COUNTS:
        chosen = [g["node"] for g in ranked[:count]]
        variants[f"top {count} kept float"] = (chosen, *build(chosen, f"top{count}"))
    models = {label: TFLiteModel(path, num_threads=1) for label, (_, path, _) in variants.items()}
    medians = round_robin_median_ms(models, photos[:1], args.runs)
    rows = [
        {
            "variant": label,
            "float_nodes": nodes_kept,
            "psnr_db": value,
            "kb": path.stat().st_size / 1024,
            "median_ms_1_thread": medians[label],
        }
        for label, (nodes_kept, path, value) in variants.items()
    ]

    machine = describe_machine()
    out = Path(args.out)
    report = {
        "machine": machine,
        "run": str(args.run),
        "size": args.size,
        "ops": ranked,
        "rows": rows,
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# int8 sensitivity: which convolutions to keep in float",
        "",
        f"{markdown_machine(machine)} Generator `{args.run}` at {args.size}x{args.size}, io uint8; "
        f"int8 calibrated on {len(calibration)} images of `{args.calibration}` (equalization, "
        f"least-error ranges, instance norms float: the export's defaults); PSNR against the "
        f"Keras generator on {len(photos)} images of `{args.parity}`; latency: median of "
        f"{args.runs} round-robin runs, LiteRT, 1 thread.",
        "",
        f"Command: `python benchmarks/int8_sensitivity.py {' '.join(sys.argv[1:])}`",
        "",
        "| variant | PSNR (dB) | median ms (1 thread) | KB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['psnr_db']:.2f} | {r['median_ms_1_thread']:.1f} | "
            f"{r['kb']:.0f} |"
        )
    lines += ["", "Gain of keeping one convolution float (top 16):", ""]
    lines += ["| op (output tensor) | PSNR (dB) | gain (dB) |", "| --- | ---: | ---: |"]
    lines += [f"| `{g['node']}` | {g['psnr_db']:.2f} | {g['gain_db']:+.2f} |" for g in ranked[:16]]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
