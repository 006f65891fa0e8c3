"""Multi-worker scaling: images/s of one process against two worker processes at the same global
batch, each process pinned to its own core, all in one run (MultiWorkerMirroredStrategy over
localhost gRPC, the library's input pipeline and `fit`).

On a 2-core machine this measures the overhead of multi-worker training, not a speed-up: the two
workers split the same two cores a single process could use. Three rows:
  1 process, 1 core, global batch B    the baseline a worker is compared with
  1 process, 1 core, batch B/2         a worker's own compute, without its peer
  2 workers, 1 core each, global B     the multi-worker run
Communication per step = t(2 workers) - t(1 process, B/2); the table projects it to N machines.

    python benchmarks/multiworker_scaling.py --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402

from cyclegan_tf.distribute import local_tf_configs  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", default="mobile")
    parser.add_argument("--ngf", type=int, default=16)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4, help="the global batch")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "multiworker_scaling")
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # JSON: one measuring process
    return parser.parse_args(argv)


# -- one measuring process ----------------------------------------------------------------------
def measure(spec: dict) -> dict:
    """Pin to `spec['core']`, train `warmup + steps` steps, return the step times."""
    os.sched_setaffinity(0, {spec["core"]})
    import keras
    import tensorflow as tf

    from cyclegan_tf.config import CycleGANConfig
    from cyclegan_tf.distribute import is_multi_worker, make_strategy
    from cyclegan_tf.training import build_model, load_data

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    mode = "multiworker" if os.environ.get("TF_CONFIG") else "none"
    strategy = make_strategy(mode, peer_timeout=120)
    config = CycleGANConfig.preset(
        "selfie2anime-mobile",
        data="synthetic",
        synthetic_size=64,
        generator=spec["generator"],
        ngf=spec["ngf"],
        ndf=spec["ndf"],
        load_size=spec["size"],
        crop_size=spec["size"],
        batch_size=spec["batch"],
        precision="float32",  # the committed figures: one precision on every machine
        distribute=mode,
    )
    data = load_data(config, cache=True, strategy=strategy)
    model = build_model(config, strategy)
    times: list[float] = []

    class StepTimes(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.start)

    steps = spec["warmup"] + spec["steps"]
    if is_multi_worker(strategy):
        x = dict(x=data.train, steps_per_epoch=steps)
    else:
        x = dict(x=data.train.repeat().take(steps))
    model.fit(**x, epochs=1, verbose=0, callbacks=[StepTimes()])
    measured = times[spec["warmup"] :]
    params = sum(int(v.numpy().size) for v in model.trainable_variables)
    return {"s_per_step": statistics.median(measured), "steps": measured, "params": params}


def _launch(spec: dict, tf_config: str | None) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = tf_config
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=1800)
    if process.returncode:
        raise RuntimeError(f"a measuring process failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def run_row(base: dict, batch: int, workers: int) -> dict:
    specs = [{**base, "batch": batch, "core": core} for core in range(workers)]
    if workers == 1:
        results = [_result(_launch(specs[0], None))]
    else:
        processes = [
            _launch(spec, tf_config)
            for spec, tf_config in zip(specs, local_tf_configs(workers), strict=True)
        ]
        results = [_result(p) for p in processes]
    s_per_step = max(r["s_per_step"] for r in results)  # the step ends when every worker's does
    return {
        "workers": workers,
        "global_batch": batch,
        "s_per_step": s_per_step,
        "images_per_s": batch / s_per_step,
        "params": results[0]["params"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(measure(json.loads(args.worker))))
        return 0
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs 2 cores (one per worker)")
    base = {k: getattr(args, k) for k in ("generator", "ngf", "ndf", "size", "steps", "warmup")}
    b = args.batch_size
    rows = []
    for batch, workers in ((b, 1), (b // 2, 1), (b, 2)):
        print(f"measuring {workers} process(es), global batch {batch} ...", flush=True)
        rows.append(run_row(base, batch, workers))
    one, half, two = rows
    comm = two["s_per_step"] - half["s_per_step"]
    report = {
        "benchmark": "multiworker_scaling",
        "config": {k: v for k, v in vars(args).items() if k not in ("out", "worker")},
        "machine": describe_machine(),
        "results": rows,
        "scaling_efficiency": two["images_per_s"] / (2 * one["images_per_s"]),
        "communication_s_per_step": comm,
        "gradient_mb": one["params"] * 4 / 2**20,
    }
    write_report(report, args.out, to_markdown)
    return 0


def to_markdown(report: dict) -> str:
    c, rows = report["config"], report["results"]
    one, half, two = rows
    comm = report["communication_s_per_step"]
    lines = [
        f"# Multi-worker scaling: {c['generator']} (ngf {c['ngf']}) + PatchGAN (ndf {c['ndf']}), "
        f"{c['size']} px, global batch {c['batch_size']}",
        "",
        markdown_machine(report["machine"]),
        "Each process pinned to its own core with one TensorFlow thread; median s/step of "
        f"{c['steps']} steps after {c['warmup']} warm-up steps; two workers talk over localhost "
        "gRPC (MultiWorkerMirroredStrategy, the library's input pipeline and `fit`). **On 2 "
        "cores this measures overhead, not speed-up**: the two workers share the cores one "
        "process could use.",
        "",
        "Command: `python benchmarks/multiworker_scaling.py "
        f"--generator {c['generator']} --ngf {c['ngf']} --ndf {c['ndf']} --size {c['size']} "
        f"--batch-size {c['batch_size']} --steps {c['steps']} --warmup {c['warmup']}`",
        "",
        "| processes | cores | global batch | per worker | s/step | images/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['workers']} | {r['global_batch']} | "
            f"{r['global_batch'] // r['workers']} | {r['s_per_step']:.3f} | "
            f"{r['images_per_s']:.2f} |"
        )
    eff = report["scaling_efficiency"]
    lines += [
        "",
        f"- Scaling efficiency, 2 workers vs 1 process at the same global batch: "
        f"**{eff:.0%}** (images/s ratio {two['images_per_s'] / one['images_per_s']:.2f}, "
        "ideal 2).",
        f"- Communication and synchronisation per step: t(2 workers) - t(1 process, batch "
        f"{half['global_batch']}) = **{comm * 1000:.0f} ms** "
        f"({comm / two['s_per_step']:.0%} of the step); the gradients all-reduced each step: "
        f"{report['gradient_mb']:.2f} MB ({one['params']:,} float32 parameters).",
        "",
        "Projection to N machines (one worker each, global batch N x b): each step costs a "
        "worker's compute t(b) plus a ring all-reduce of the gradient, "
        "t(N) = t(b) + 2 (N-1)/N x G / bandwidth + 2 (N-1) x latency, so "
        "images/s(N) = N b / t(N) and efficiency(N) = t(b) / t(N). Here t(b) = "
        f"{half['s_per_step']:.3f} s and the measured localhost overhead {comm:.3f} s stands "
        "for the last two terms at N = 2; across machines, use the network's bandwidth and "
        "latency instead (e.g. 10 Gbit/s: "
        f"{2 * report['gradient_mb'] * 8 / 1024 / 10 * 1000:.1f} ms for the gradient at large N).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
