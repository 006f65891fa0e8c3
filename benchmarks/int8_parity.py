"""What each int8 export step buys: PSNR against the Keras generator and 1-thread latency.

Exports one trained generator as int8 with every combination of the export's int8 steps (channel
equalization before instance norms, least-error activation ranges instead of min/max, which ops
stay float) and checks each on the same held-out photos; the `.tflite` files are then timed
round-robin on one thread, so all see the same machine load.

    python benchmarks/int8_parity.py runs/mobile_f2a \\
        --calibration ../shared/data/faces2anime-dev/trainA \\
        --parity ../shared/data/faces2anime-dev/testA
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

NORM_OPS = ("AVERAGE_POOL_2D", "SUB", "MUL", "ADD", "RSQRT")
# (label, equalize, least-error ranges, ops kept float)
VARIANTS = (
    ("min/max ranges", False, False, NORM_OPS),
    ("equalization", True, False, NORM_OPS),
    ("least-error ranges", False, True, NORM_OPS),
    ("equalization + least-error ranges (default)", True, True, NORM_OPS),
    ("default, depthwise convs float", True, True, (*NORM_OPS, "DEPTHWISE_CONV_2D")),
    ("default, every op int8", True, True, ()),
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a run folder or a .keras generator")
    parser.add_argument("--calibration", required=True, help="domain-A images (at least 100)")
    parser.add_argument("--parity", required=True, help="held-out domain-A images")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--images", type=int, default=6, help="parity images")
    parser.add_argument("--runs", type=int, default=20, help="timed rounds")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "int8_parity"))
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    from machine import describe_machine, markdown_machine
    from round_robin import round_robin_median_ms

    from cyclegan_tf.checkpoints import load_generator, resolve_generator_path
    from cyclegan_tf.export.exporter import load_domain_images
    from cyclegan_tf.export.litert import TFLiteModel, float_ops
    from cyclegan_tf.export.tflite import convert_generator, from_model_output, to_model_input
    from cyclegan_tf.imaging import mean_psnr as psnr

    generator, _ = load_generator(resolve_generator_path(args.run, None))
    calibration = load_domain_images(args.calibration, args.size, 200)
    photos = np.stack(load_domain_images(args.parity, args.size, args.images))
    reference = from_model_output(generator(to_model_input(photos, "float")), "float")
    work = Path(tempfile.mkdtemp(prefix="int8_parity_"))
    rows, models = [], {}
    bar = keras.utils.Progbar(len(VARIANTS), unit_name="export")
    for i, (label, equalize, mse_ranges, kept_float) in enumerate(VARIANTS):
        path = work / f"variant{i}.tflite"
        path.write_bytes(
            convert_generator(
                generator,
                "int8",
                args.size,
                calibration=calibration,
                progress=False,
                float_ops=kept_float,
                equalize=equalize,
                mse_ranges=mse_ranges,
            )
        )
        model = TFLiteModel(path, num_threads=1)
        outputs = np.concatenate([model.run(to_model_input(p[None], "float")) for p in photos])
        outputs = from_model_output(outputs, "float")
        models[label] = model
        rows.append(
            {
                "variant": label,
                "equalize": equalize,
                "mse_ranges": mse_ranges,
                "float_ops": float_ops(model),
                "psnr_db": psnr(outputs, reference),
                "max_abs_diff": int(np.abs(outputs.astype(int) - reference.astype(int)).max()),
                "bytes": path.stat().st_size,
            }
        )
        bar.add(1)
    medians = round_robin_median_ms(models, to_model_input(photos[:1], "float"), args.runs)
    for row in rows:
        row["median_ms_1_thread"] = medians[row["variant"]]

    machine = describe_machine()
    out = Path(args.out)
    report = {"machine": machine, "run": str(args.run), "size": args.size, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# int8 export steps: parity and latency",
        "",
        f"{markdown_machine(machine)} Generator `{args.run}` at {args.size}x{args.size}; int8 "
        f"calibrated on {len(calibration)} images of `{args.calibration}`, PSNR and max abs "
        f"difference (8-bit levels) against the Keras generator on {len(photos)} images of "
        f"`{args.parity}`; latency: median of {args.runs} round-robin runs, LiteRT, 1 thread.",
        "",
        "| variant | PSNR (dB) | max abs diff | median ms (1 thread) | KB | ops in float |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        kept = ", ".join(f"{k} x{n}" for k, n in r["float_ops"].items()) or "none"
        lines.append(
            f"| {r['variant']} | {r['psnr_db']:.2f} | {r['max_abs_diff']} | "
            f"{r['median_ms_1_thread']:.1f} | {r['bytes'] / 1024:.0f} | {kept} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
