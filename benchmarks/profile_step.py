"""Where a CycleGAN training step spends its time: the top TensorFlow ops by self time.

Profiles `--steps` steps (after warm-up) with the TensorFlow profiler and reads the trace back with
its own converter (`framework_op_stats`, what TensorBoard's profile plugin shows); with
`--fused-norm` also with the closed-form instance-norm backward, side by side in one run.
Writes JSON and a Markdown table of the top ops (default benchmarks/results/profile_step).

    python benchmarks/profile_step.py --generator resnet_6blocks --ngf 32 --size 96 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402
from tensorflow.python.profiler.internal import _pywrap_profiler_plugin  # noqa: E402

from cyclegan_tf.config import CycleGANConfig  # noqa: E402
from cyclegan_tf.networks import layers  # noqa: E402
from cyclegan_tf.training import build_model  # noqa: E402

TOP = 15


def batches(config: CycleGANConfig, count: int) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    shape = (config.batch_size, config.crop_size, config.crop_size, 3)
    a = rng.uniform(-1, 1, (count, *shape)).astype("float32")
    b = rng.uniform(-1, 1, (count, *shape)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((a, b))


def op_stats(logdir: str) -> list[dict]:
    """Per op type: self time (us) on the host, summed over the profiled steps."""
    paths = sorted(str(p) for p in Path(logdir).rglob("*.xplane.pb"))
    raw, ok = _pywrap_profiler_plugin.xspace_to_tools_data(paths, "framework_op_stats", {})
    if not ok:
        raise RuntimeError("the profiler could not convert the trace")
    table = json.loads(raw)
    table = table[0] if isinstance(table, list) else table
    columns = [c["id"] for c in table["cols"]]
    rows = [dict(zip(columns, [c.get("v") if c else None for c in r["c"]], strict=False))
            for r in table["rows"]]  # fmt: skip
    by_type: dict[str, float] = {}
    for row in rows:
        if row.get("host_or_device") not in (None, "Host"):
            continue
        name = row.get("type") or row.get("operation")
        if name == "IDLE":
            continue  # threads waiting, not work
        by_type[name] = by_type.get(name, 0.0) + float(row.get("total_self_time") or 0.0)
    return sorted(
        ({"op": k, "self_us": v} for k, v in by_type.items()), key=lambda r: -r["self_us"]
    )


def profile(config: CycleGANConfig, fused: bool, warmup: int, steps: int) -> dict:
    layers.FUSED_GRADIENT = fused
    model = build_model(config, jit_compile=False)
    data = batches(config, warmup + steps)
    model.fit(data.take(warmup), epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        model.fit(data.skip(warmup), epochs=1, verbose=0)
        seconds = (time.perf_counter() - start) / steps
        tf.profiler.experimental.stop()
        ops = op_stats(logdir)
    total = sum(r["self_us"] for r in ops)
    for r in ops:
        r["share"] = r["self_us"] / total if total else 0.0
        r["ms_per_step"] = r["self_us"] / 1000 / steps
    layers.FUSED_GRADIENT = False
    return {"instance_norm": "fused" if fused else "plain", "s_per_step": seconds, "ops": ops}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", default="resnet_6blocks")
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--label", default="", help="what this code is (before/after a change)")
    parser.add_argument(
        "--precision",
        default="float32",
        help="float32 (as the PyTorch reference) or mixed_bfloat16",
    )
    parser.add_argument(
        "--fused-norm", action="store_true", help="also profile the fused instance-norm backward"
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "profile_step"))
    args = parser.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    config = CycleGANConfig(
        generator=args.generator,
        ngf=args.ngf,
        ndf=args.ndf,
        crop_size=args.size,
        load_size=args.size,
        batch_size=args.batch_size,
        precision=args.precision,
    )
    # Profiled twice and the second reported: the first run in a process pays one-off costs
    # (oneDNN primitive creation). With --fused-norm both instance-norm backwards, alternating.
    variants = (False, True, False, True) if args.fused_norm else (False, False)
    runs = [profile(config, fused, args.warmup, args.steps) for fused in variants]
    runs = runs[len(runs) // 2 :]
    report = {
        "benchmark": "profile_step",
        "command": "python benchmarks/profile_step.py " + " ".join(argv or sys.argv[1:]),
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": describe_machine(),
        "runs": runs,
    }
    write_report(report, args.out, to_markdown)
    return 0


def to_markdown(report: dict) -> str:
    c = report["config"]
    lines = [
        f"# Where the training step spends its time{': ' + c['label'] if c['label'] else ''}, "
        f"{c['generator']} ngf {c['ngf']}, PatchGAN "
        f"ndf {c['ndf']}, {c['size']} px, batch {c['batch_size']}, {c['threads']} threads",
        "",
        markdown_machine(report["machine"]),
        "",
        f"Command: `{report['command']}`. TensorFlow profiler over {c['steps']} steps after "
        f"{c['warmup']} warm-up steps, {c.get('precision', 'float32')}, XLA off; self time per "
        "op type on the host (`framework_op_stats`, idle time left out), per step, summed over "
        "threads. One process; each variant is profiled twice (alternating), the second reported.",
        "",
    ]
    for run in report["runs"]:
        lines += [
            f"## Instance-norm backward: {run['instance_norm']} (busy time "
            f"{sum(r['ms_per_step'] for r in run['ops']):.0f} ms/step summed over threads)",
            "",
            "| op | ms/step | share |",
            "| --- | ---: | ---: |",
        ]
        for r in run["ops"][:TOP]:
            lines.append(f"| {r['op']} | {r['ms_per_step']:.1f} | {r['share']:.1%} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
