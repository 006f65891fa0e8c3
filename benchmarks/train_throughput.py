"""Training throughput of the CycleGAN step: images/s after warm-up, per precision and XLA setting.

Every configuration is measured in the same run, side by side, so ratios are meaningful on a
shared, noisy machine. Writes JSON and a Markdown table (default: benchmarks/results/).

    python benchmarks/train_throughput.py --size 128 --batch-size 1 --steps 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402

from cyclegan_tf.config import CycleGANConfig  # noqa: E402
from cyclegan_tf.networks import layers  # noqa: E402
from cyclegan_tf.training import build_model  # noqa: E402


def rss_mib() -> float:
    """This process's resident memory now (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


RSS_AFTER_IMPORT_MIB = rss_mib()  # TensorFlow and Keras are imported above


class StepTimer(keras.callbacks.Callback):
    def __init__(self, progress: keras.utils.Progbar):
        super().__init__()
        self.times: list[float] = []
        self.progress = progress

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)
        self.progress.add(1)


def measure(config: CycleGANConfig, jit: bool, warmup: int, steps: int) -> dict:
    model = build_model(config, jit_compile=jit)
    rng = np.random.default_rng(0)
    shape = (config.batch_size, config.crop_size, config.crop_size, 3)
    batch = tuple(rng.uniform(-1, 1, shape).astype("float32") for _ in range(2))
    data = tf.data.Dataset.from_tensors(batch).repeat()
    progress = keras.utils.Progbar(warmup + steps, unit_name="step")
    timer = StepTimer(progress)
    model.fit(data, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[timer])
    timed = timer.times[warmup:]
    median = statistics.median(timed)
    return {
        "precision": config.precision,
        "jit_compile": jit,
        "median_s_per_step": median,
        "min_s_per_step": min(timed),
        "images_per_s": config.batch_size / median,
        "steps_timed": len(timed),
        "peak_mib_over_import": peak_rss_mib() - RSS_AFTER_IMPORT_MIB,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", default="resnet_9blocks")
    parser.add_argument("--discriminator", default="basic")
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--jit", default="off,on", help="XLA settings to try: off, on or both")
    parser.add_argument(
        "--instance-norm",
        default="plain",
        help="instance-norm backward to try: plain (autodiff, the default) or fused (closed "
        "form), comma-separated",
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all)")
    parser.add_argument(
        "--inter-op",
        type=int,
        default=0,
        help="ops run at once (TensorFlow's inter-op threads; 0: as --threads, or TF's default)",
    )
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "train_throughput")
    )
    args = parser.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    if args.inter_op or args.threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op or args.threads)

    results = []
    variants = [
        (precision, jit, norm)
        for precision in args.precisions.split(",")
        for jit in args.jit.split(",")
        for norm in args.instance_norm.split(",")
    ]
    for precision, jit, norm in variants:
        config = CycleGANConfig(
            generator=args.generator,
            discriminator=args.discriminator,
            ngf=args.ngf,
            ndf=args.ndf,
            crop_size=args.size,
            load_size=args.size,
            batch_size=args.batch_size,
            precision=precision,
        )
        print(f"{precision}, XLA {jit}, instance norm backward {norm}:")
        layers.FUSED_GRADIENT = norm == "fused"
        result = measure(config, jit == "on", args.warmup, args.steps)
        results.append({**result, "instance_norm": norm})
    layers.FUSED_GRADIENT = False
    keras.mixed_precision.set_global_policy("float32")
    report = {
        "benchmark": "train_throughput",
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": describe_machine(),
        "results": results,
    }
    write_report(report, args.out, to_markdown)
    return 0


def to_markdown(report: dict) -> str:
    c = report["config"]
    lines = [
        f"# Training throughput: {c['generator']} (ngf {c['ngf']}) + {c['discriminator']} "
        f"(ndf {c['ndf']}), {c['size']}x{c['size']}, batch {c['batch_size']}",
        "",
        markdown_machine(report["machine"]),
        f"Median of {c['steps']} steps after {c['warmup']} warm-up steps; one full CycleGAN step "
        "(both generators, both discriminators, image pools).",
        "",
        "The PyTorch reference, side by side: `benchmarks/train_vs_pytorch.py`.",
        "",
        "| precision | XLA | instance-norm backward | s/step (median) | s/step (min) | images/s |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['precision']} | {'on' if r['jit_compile'] else 'off'} | "
            f"{r.get('instance_norm', 'plain')} | "
            f"{r['median_s_per_step']:.3f} | {r['min_s_per_step']:.3f} | {r['images_per_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
