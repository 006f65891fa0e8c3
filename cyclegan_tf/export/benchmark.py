"""`cyclegan-tf benchmark`: LiteRT latency of `.tflite` files, side by side in one run.

Each (model, thread count) runs in a fresh process (so its peak memory is its own): warm-up, then N
timed invocations; we report median, p90 and min latency, peak resident memory, file size, MACs
counted from the graph and the achieved GMAC/s. Writes JSON, a Markdown table and a bar chart PNG.

Example:
    results = benchmark_models(["ours_int8.tflite", "../shared/peers/animegan.tflite"], (1, 2))
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
import time
from pathlib import Path
from queue import Empty

import numpy as np


def _random_input(model) -> np.ndarray:
    rng = np.random.default_rng(0)
    shape = model.input_shape
    if model.input_dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if model.input_dtype == np.int8:
        return rng.integers(-128, 128, shape, dtype=np.int8)
    return rng.uniform(-1, 1, shape).astype(model.input_dtype)


def _peak_rss_kb() -> int:
    """This process's resident high-water mark (VmHWM; ru_maxrss would include the parent's
    memory from before exec on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(path: str, threads: int, warmup: int, runs: int, queue) -> None:
    """Runs in a child process: times one model at one thread count."""
    try:
        from cyclegan_tf.export.litert import TFLiteModel, count_macs

        model = TFLiteModel(path, num_threads=threads)
        x = _random_input(model)
        for _ in range(warmup):
            model.run(x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model.run(x)
            times.append((time.perf_counter() - start) * 1000)
        peak_kb = _peak_rss_kb()
        queue.put(
            {
                "times_ms": times,
                "peak_rss_mb": peak_kb / 1024,
                "macs": count_macs(model),
                "input_shape": list(model.input_shape),
                "input_dtype": model.input_dtype.name,
            }
        )
    except Exception as e:  # reported by the parent, with the file's name
        queue.put({"error": f"{type(e).__name__}: {e}"})


def _wait_for(child, queue) -> dict:
    """The child's result, or an error if it died without one (a crash inside LiteRT, say)."""
    while True:
        try:
            return queue.get(timeout=1.0)
        except Empty:
            if not child.is_alive():
                return {"error": f"the benchmark process died (exit code {child.exitcode})"}


def benchmark_models(
    paths: list[str | os.PathLike],
    threads: tuple[int, ...] = (1, 2),
    warmup: int = 3,
    runs: int = 10,
    progress: bool = True,
) -> list[dict]:
    """Latency and memory of each `.tflite` at each thread count, measured in one run."""
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no .tflite file at {path}")
    if warmup < 0 or runs < 1:
        raise ValueError(f"warmup must be >= 0 and runs >= 1, got {warmup} and {runs}")
    context = multiprocessing.get_context("spawn")
    jobs = [(str(p), t) for p in paths for t in threads]
    bar = None
    if progress:
        import keras

        bar = keras.utils.Progbar(len(jobs), unit_name="run")
    results = []
    for path, n_threads in jobs:
        queue = context.Queue()
        child = context.Process(target=_measure, args=(path, n_threads, warmup, runs, queue))
        child.start()
        measured = _wait_for(child, queue)
        child.join()
        if "error" in measured:
            raise ValueError(f"cannot benchmark {path}: {measured['error']}")
        times = np.asarray(measured.pop("times_ms"))
        median = float(np.median(times))
        results.append(
            {
                "model": Path(path).name,
                "path": path,
                "threads": n_threads,
                "median_ms": median,
                "p90_ms": float(np.percentile(times, 90)),
                "min_ms": float(times.min()),
                "file_mb": Path(path).stat().st_size / 2**20,
                "gmacs": measured["macs"] / 1e9,
                "gmac_per_s": measured["macs"] / 1e9 / (median / 1e3),
                **measured,
            }
        )
        if bar:
            bar.add(1)
    return results


def machine_description() -> dict:
    from importlib.metadata import version

    from cyclegan_tf.machine import cpu_flags, cpu_model

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cpu_flags": cpu_flags(),
        "python": platform.python_version(),
        "ai_edge_litert": version("ai-edge-litert"),
    }


def to_markdown(results: list[dict], machine: dict, runs: int) -> str:
    lines = [
        "# LiteRT latency",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, CPU flags: "
        f"{' '.join(machine.get('cpu_flags') or []) or 'none notable'}, "
        f"Python {machine['python']}, "
        f"ai-edge-litert {machine['ai_edge_litert']}. Median, p90 and min of {runs} runs after "
        "warm-up; one process per row; peak memory is that process's resident peak.",
        "",
        "| model | input | threads | median ms | p90 ms | min ms | GMACs | GMAC/s | file MB | "
        "peak RSS MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        shape = "x".join(str(d) for d in r["input_shape"][1:3])
        lines.append(
            f"| {r['model']} | {shape} {r['input_dtype']} | {r['threads']} | "
            f"{r['median_ms']:.1f} | "
            f"{r['p90_ms']:.1f} | {r['min_ms']:.1f} | {r['gmacs']:.3f} | {r['gmac_per_s']:.1f} | "
            f"{r['file_mb']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def write_benchmark(results: list[dict], out: str | os.PathLike, runs: int) -> dict[str, Path]:
    """`out`.json, `out`.md and `out`.png (bar chart); returns the three paths."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = machine_description()
    paths = {ext: out.with_suffix(f".{ext}") for ext in ("json", "md", "png")}
    paths["json"].write_text(
        json.dumps({"machine": machine, "runs": runs, "results": results}, indent=2) + "\n"
    )
    paths["md"].write_text(to_markdown(results, machine, runs))
    from cyclegan_tf.plots import save_latency_chart  # matplotlib: not in the child processes

    save_latency_chart(results, paths["png"])
    return paths
