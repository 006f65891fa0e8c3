"""Our training step against the official CycleGAN in PyTorch, side by side in one run.

Same machine, same configuration (ResNet generator, 70x70 PatchGAN, LSGAN, cycle 10, identity 0.5,
pool 50, Adam), same thread count, random tensors, each measurement in its own process, one after
the other. The reference is `torch_cyclegan_reference.py` (the team's `../shared/peers/`), run
with PyTorch's CPU build from the `.[peer]` extra (`pip install -e ".[peer]"`); ours is
`train_throughput.py` with XLA off. Writes one JSON and one Markdown table with both s/step, the
ratio (ours / PyTorch: below 1 is faster) and peak memory over the framework import.

    python benchmarks/train_vs_pytorch.py --reference ../shared/peers/torch_cyclegan_reference.py

bf16 rows are measured only on a CPU with native bf16 (avx512_bf16 or amx_bf16): elsewhere both
frameworks emulate it, 17x slower. The shipped phone model's recipe (mobile_deep generator, ndf 32,
128 px, batch 4) is measured on our side only: the reference has no phone generator.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# (size, generator, blocks, ngf): the issue's configurations.
CONFIGURATIONS = [(96, "resnet_6blocks", 6, 32), (128, "resnet_9blocks", 9, 64),
                  (256, "resnet_9blocks", 9, 64)]  # fmt: skip
# The `selfie2anime-mobile` preset (the shipped model), float32 as the preset pins it.
PHONE_RECIPE = {"size": 128, "generator": "mobile_deep", "ngf": 16, "ndf": 32, "batch": 4}


def steps_for(size: int, batch: int, ngf: int, budget: int) -> int:
    """Timed steps for about the same seconds per row: fewer for the big configurations."""
    work = (size / 96) ** 2 * batch * (ngf / 32) ** 2
    return max(2, min(budget, round(budget * 4 / work)))


def run_json(command: list[str]) -> dict:
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ours(size, generator, ngf, ndf, batch, precision, steps, warmup, threads) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ours"
        subprocess.run(
            [sys.executable, str(HERE / "train_throughput.py"), "--size", str(size),
             "--generator", generator, "--ngf", str(ngf), "--ndf", str(ndf),
             "--batch-size", str(batch), "--precisions", precision, "--jit", "off",
             "--warmup", str(warmup), "--steps", str(steps), "--threads", str(threads),
             "--out", str(out)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        (result,) = json.loads(out.with_suffix(".json").read_text())["results"]
    return {"s_per_step": result["median_s_per_step"], "peak_mib": result["peak_mib_over_import"]}


def reference(path, size, blocks, ngf, batch, bf16, steps, warmup, threads) -> dict:
    command = [sys.executable, str(HERE / "peer_step.py"), str(path), "--size", str(size),
               "--ngf", str(ngf), "--blocks", str(blocks), "--batch", str(batch), "--steps",
               str(steps), "--warmup", str(warmup), "--threads", str(threads)]  # fmt: skip
    result = run_json(command + (["--bf16"] if bf16 else []))
    return {"s_per_step": result["s_per_step"], "peak_mib": result["peak_mib_over_import"],
            "torch": result["torch"]}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True, help="torch_cyclegan_reference.py")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8, help="timed steps of the smallest row")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--sizes", default="96,128,256")
    parser.add_argument(
        "--skip", default="", help="SIZExBATCH rows not to measure, e.g. 256x4 (listed as such)"
    )
    parser.add_argument("--out", default=str(HERE / "results" / "train_vs_pytorch"))
    args = parser.parse_args(argv)
    import keras
    from machine import describe_machine
    from report import write_report

    from cyclegan_tf.machine import has_native_bf16

    precisions = ["float32"] + (["mixed_bfloat16"] if has_native_bf16() else [])
    sizes = {int(s) for s in args.sizes.split(",")}
    skipped = [s for s in args.skip.split(",") if s]
    rows = [
        (size, generator, blocks, ngf, int(batch), precision)
        for size, generator, blocks, ngf in CONFIGURATIONS if size in sizes
        for batch in args.batches.split(",") if f"{size}x{batch}" not in skipped
        for precision in precisions
    ]  # fmt: skip
    progress = keras.utils.Progbar(len(rows) + 1, unit_name="row")
    results = []
    for size, generator, blocks, ngf, batch, precision in rows:
        steps = steps_for(size, batch, ngf, args.steps)
        mine = ours(size, generator, ngf, 64, batch, precision, steps, args.warmup, args.threads)
        bf16 = precision == "mixed_bfloat16"
        theirs = reference(
            args.reference, size, blocks, ngf, batch, bf16, steps, args.warmup, args.threads
        )
        results.append({
            "size": size, "generator": generator, "ngf": ngf, "ndf": 64, "batch": batch,
            "precision": precision, "steps": steps, "ours": mine, "pytorch": theirs,
            "ratio": mine["s_per_step"] / theirs["s_per_step"],
            "memory_ratio": mine["peak_mib"] / max(theirs["peak_mib"], 1e-9),
        })  # fmt: skip
        progress.add(1)
    p = PHONE_RECIPE
    phone = ours(p["size"], p["generator"], p["ngf"], p["ndf"], p["batch"], "float32",
                 args.steps, args.warmup, args.threads)  # fmt: skip
    results.append({**{k: p[k] for k in ("size", "generator", "ngf", "ndf", "batch")},
                    "precision": "float32", "steps": args.steps, "ours": phone})  # fmt: skip
    progress.add(1)
    report = {
        "benchmark": "train_vs_pytorch",
        "command": "python benchmarks/train_vs_pytorch.py " + " ".join(argv or sys.argv[1:]),
        "threads": args.threads,
        "skipped": skipped,
        "warmup": args.warmup,
        "machine": describe_machine(),
        "results": results,
    }
    write_report(report, args.out, to_markdown)
    return 0


def to_markdown(report: dict) -> str:
    from machine import markdown_machine

    torch_version = next((r["pytorch"]["torch"] for r in report["results"] if "pytorch" in r), "?")
    lines = [
        "# Training step: cyclegan-tf vs the official CycleGAN in PyTorch, side by side",
        "",
        f"`{report['command']}`",
        "",
        markdown_machine(report["machine"]) + f" PyTorch {torch_version} (CPU build).",
        f"Both on {report['threads']} threads, each row's two measurements in their own processes, "
        f"one after the other; median s/step after {report['warmup']} warm-up steps (ours) and "
        "mean s/step (the reference's own timer). Ratio = ours / PyTorch: below 1 is faster. "
        "Memory: peak RSS minus RSS after importing the framework.",
        "",
        "| size | generator | ngf | batch | precision | steps | PyTorch s/step | ours s/step | "
        "ratio | PyTorch MiB | ours MiB | memory ratio |",
        "| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["results"]:
        if "pytorch" in r:
            lines.append(
                f"| {r['size']} | {r['generator']} | {r['ngf']} | {r['batch']} | "
                f"{r['precision']} | {r['steps']} | {r['pytorch']['s_per_step']:.3f} | "
                f"{r['ours']['s_per_step']:.3f} | **{r['ratio']:.2f}** | "
                f"{r['pytorch']['peak_mib']:.0f} | {r['ours']['peak_mib']:.0f} | "
                f"{r['memory_ratio']:.2f} |"
            )
        else:
            lines.append(
                f"| {r['size']} | {r['generator']} (ndf {r['ndf']}, the shipped phone recipe; no "
                f"reference) | {r['ngf']} | {r['batch']} | {r['precision']} | {r['steps']} | - | "
                f"{r['ours']['s_per_step']:.3f} | - | - | {r['ours']['peak_mib']:.0f} | - |"
            )
    if report.get("skipped"):
        lines += ["", "Not measured in this run (size x batch): " + ", ".join(report["skipped"])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
