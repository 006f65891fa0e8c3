"""In-browser (LiteRT.js, wasm) latency of exported generators beside Python LiteRT, one run.

Exports the phone-size `mobile` generator and ResNet-9 at 256x256 (int8 and fp16, float I/O, via
`export_generator`, so each has its sidecar; untrained: latency does not depend on the weights),
serves the built demo (`mobile_demo/web`, `npm run build` first) with each model, and has Chromium
(phone emulation, wasm accelerator) translate a photo and time N more runs of it. The same models
run in Python LiteRT (`ai-edge-litert`, through `cyclegan-tf benchmark`'s measurement, one process
per thread count) on 1 and 2 threads on the same machine.

    python benchmarks/browser_latency.py --runs 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "mobile_demo" / "web"
sys.path.insert(0, str(Path(__file__).parent))


def export_models(work: Path, size: int) -> list[Path]:
    import keras

    from cyclegan_tf.checkpoints import save_generator
    from cyclegan_tf.config import CycleGANConfig
    from cyclegan_tf.export.exporter import export_generator
    from cyclegan_tf.networks import build_generator

    files = []
    for name, ngf in (("mobile", 16), ("resnet_9blocks", 64)):
        folder = work / name
        wanted = [folder / f"generator_ab_{q}.tflite" for q in ("int8", "fp16")]
        if not all(p.is_file() for p in wanted):
            keras.utils.set_random_seed(0)
            config = CycleGANConfig.preset("paper", generator=name, ngf=ngf, crop_size=size)
            path = folder / "generator_ab.keras"
            save_generator(build_generator(name, ngf=ngf), path, config, "AtoB")
            export_generator(  # 100 calibration images: enough, and latency is the same
                path, folder, quantizations=("int8", "fp16"), saved_model=False,
                calibration_count=100,
            )  # fmt: skip
        files += wanted
    return files


def python_latency(path: Path, warmup: int, runs: int) -> dict[int, float]:
    """Median ms on 1 and 2 threads, measured as `cyclegan-tf benchmark` does."""
    from cyclegan_tf.export.benchmark import benchmark_models

    rows = benchmark_models([path], (1, 2), warmup, runs, progress=False)
    return {row["threads"]: row["median_ms"] for row in rows}


def browser_latency(path: Path, photo: Path, runs: int, out: Path) -> dict:
    from web_demo import serving

    with serving(model=path) as url:
        subprocess.run(
            ["node", "tests/browser_test.mjs", "--url", url, "--photo", str(photo), "--out",
             str(out), "--benchmark", str(runs), "--timeout", "600000"],
            cwd=WEB, check=True,
        )  # fmt: skip
    result = json.loads((out / "results.json").read_text())
    if result.get("load_error"):
        raise RuntimeError(f"{path.name} did not load in the browser: {result['load_error']}")
    wasm = sorted({u.rsplit("/", 1)[-1] for u in result["requests"] if u.endswith(".wasm")})
    return {**result["benchmark"], "first_run_ms": result["run"]["ms"], "wasm": wasm}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "cyclegan_browser"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "browser_latency"))
    args = parser.parse_args(argv)
    if not (WEB / "dist" / "index.html").is_file():
        parser.error("build the demo first: cd mobile_demo/web && npm ci && npm run build")

    from machine import describe_machine, markdown_machine
    from PIL import Image

    from cyclegan_tf.data.synthetic import face_for, render_photo

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    photo = work / "photo.png"
    Image.fromarray(render_photo(face_for(0, 2, 0), args.size)).save(photo)
    rows = []
    for path in export_models(work, args.size):
        name = f"{path.parent.name}_{path.stem.rsplit('_', 1)[-1]}"
        print(f"timing {name}")
        browser = browser_latency(path, photo, args.runs, work / f"browser_{name}")
        python = python_latency(path, args.warmup, args.runs)
        rows.append({
            "model": name,
            "bytes": path.stat().st_size,
            "browser_median_ms": browser["median_ms"],
            "browser_min_ms": browser["min_ms"],
            "browser_first_run_ms": browser["first_run_ms"],
            "browser_wasm": browser["wasm"],
            "python_1_thread_ms": python[1],
            "python_2_threads_ms": python[2],
        })  # fmt: skip
    machine = describe_machine()
    chromium = subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout
    report = {"machine": machine, "chromium": chromium.strip(), "runs": args.runs, "rows": rows}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# In-browser latency (LiteRT.js wasm) beside Python LiteRT",
        "",
        f"{markdown_machine(machine)} {chromium.strip()} headless, phone emulation "
        f"(390x844), `?accelerator=wasm`: multi-threaded wasm, as the page is cross-origin "
        f"isolated (`scripts/serve.mjs`). Median of {args.runs} runs after the first; the same "
        "`.tflite` files and input size (256x256) in both.",
        "",
        "| model | file MB | browser median ms | browser first run ms | Python LiteRT 1 thread ms "
        "| Python LiteRT 2 threads ms | browser / Python 2 threads |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['bytes'] / 1e6:.2f} | {r['browser_median_ms']:.1f} | "
            f"{r['browser_first_run_ms']:.1f} | {r['python_1_thread_ms']:.1f} | "
            f"{r['python_2_threads_ms']:.1f} | "
            f"{r['browser_median_ms'] / r['python_2_threads_ms']:.2f}x |"
        )
    lines += ["", f"wasm runtime the page chose: {', '.join(rows[0]['browser_wasm'])}", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
