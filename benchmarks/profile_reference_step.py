"""Where the official PyTorch CycleGAN's training step spends its time, op by op, beside ours.

Runs the reference (`../shared/peers/torch_cyclegan_reference.py`, left as it is) twice in this
process under `torch.profiler`: with `--steps` timed steps and with none. The difference of the two
profiles, divided by `--steps`, is the per-step self time of each op, without model building and
warm-up. With `--ours` (the JSON of `profile_step.py` for the same configuration) it also writes
the two frameworks side by side by kind of work: convolutions (forward and backward), reflection
pads, everything else. Writes JSON and Markdown (default benchmarks/results/profile_reference_step).

    python benchmarks/profile_reference_step.py ../shared/peers/torch_cyclegan_reference.py \\
        --size 96 --batch 4 --ours benchmarks/results/profile_step_96_b4.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402

TOP = 15
KINDS = ("convolutions", "reflection pads", "everything else")


def kind_of(op: str) -> str:
    """Which kind of work an op is, for either framework's op names."""
    name = op.lower()
    if "conv" in name:  # aten::mkldnn_convolution, _MklNativeConv2DBackpropInput, ...
        return "convolutions"
    if "reflection_pad" in name or "mirrorpad" in name:
        return "reflection pads"
    return "everything else"


def profiled_run(reference: str, options: list[str], steps: int) -> tuple[dict, float | None]:
    """Self CPU time (us) per op of one whole run of the reference with `steps` timed steps,
    and the s/step its own timer measured under the profiler (None without steps)."""
    sys.argv = [reference, *options, "--steps", str(steps)]
    printed = io.StringIO()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        with contextlib.redirect_stdout(printed):
            with contextlib.suppress(ZeroDivisionError):  # its timer divides by --steps
                runpy.run_path(reference, run_name="__main__")
    lines = printed.getvalue().strip().splitlines()
    seconds = json.loads(lines[-1])["s_per_step"] if steps and lines else None
    return {e.key: float(e.self_cpu_time_total) for e in prof.key_averages()}, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference", help="torch_cyclegan_reference.py")
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ours", help="profile_step.py's JSON for the same configuration")
    out_default = Path(__file__).parent / "results" / "profile_reference_step"
    parser.add_argument("--out", default=str(out_default))
    args = parser.parse_args(argv)
    options = [
        *("--size", str(args.size), "--ngf", str(args.ngf), "--blocks", str(args.blocks)),
        *("--batch", str(args.batch), "--warmup", str(args.warmup)),
        *("--threads", str(args.threads)),
    ]
    profiled_run(args.reference, options, 1)  # one-off costs (oneDNN primitives) paid here
    without, _ = profiled_run(args.reference, options, 0)
    with_steps, seconds = profiled_run(args.reference, options, args.steps)
    per_step = {
        op: (us - without.get(op, 0.0)) / args.steps / 1000 for op, us in with_steps.items()
    }
    ops = sorted(
        ({"op": k, "ms_per_step": v} for k, v in per_step.items() if v > 0),
        key=lambda r: -r["ms_per_step"],
    )
    report = {
        "benchmark": "profile_reference_step",
        "command": "python benchmarks/profile_reference_step.py " + " ".join(argv or sys.argv[1:]),
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "torch": torch.__version__,
        "machine": describe_machine(),
        "ops": ops,
        "by_kind": {"PyTorch": by_kind(ops)},
        "s_per_step": {"PyTorch": seconds},
    }
    if args.ours:
        ours = json.loads(Path(args.ours).read_text())
        report["ours_command"] = ours["command"]
        report["by_kind"]["ours"] = by_kind(ours["runs"][-1]["ops"])
        report["s_per_step"]["ours"] = ours["runs"][-1]["s_per_step"]
    write_report(report, args.out, to_markdown)
    return 0


def by_kind(ops: list[dict]) -> dict[str, float]:
    """ms per step for each kind of work."""
    totals = dict.fromkeys(KINDS, 0.0)
    for r in ops:
        totals[kind_of(r["op"])] += r["ms_per_step"]
    return totals


def to_markdown(report: dict) -> str:
    c = report["config"]
    lines = [
        f"# The PyTorch reference's training step, op by op: ResNet-{c['blocks']} ngf {c['ngf']}, "
        f"{c['size']} px, batch {c['batch']}, {c['threads']} threads, float32",
        "",
        markdown_machine(report["machine"]) + f" PyTorch {report['torch']}.",
        "",
        f"Command: `{report['command']}`. `torch.profiler` self CPU time per op, per step: a run "
        f"with {c['steps']} timed steps minus a run with none (both after {c['warmup']} warm-up "
        "steps), divided by the steps.",
        "",
    ]
    kinds, seconds = report["by_kind"], report["s_per_step"]
    if "ours" in kinds:
        theirs, ours = kinds["PyTorch"], kinds["ours"]
        lines += [
            "## Side by side, by kind of work",
            "",
            f"Ours: `{report['ours_command']}` (TensorFlow profiler, `framework_op_stats`). "
            "Busy time is op self time summed over ops; TensorFlow runs up to two ops at once "
            "(inter-op threads), so its sum can exceed the step, and the two frameworks' sums "
            "do not compare directly. The fair comparison is the step's wall time shared out "
            "by each kind's share of the busy time (s/step measured under the profiler: "
            f"PyTorch {seconds['PyTorch']:.3f}, ours {seconds['ours']:.3f}).",
            "",
            "| work | PyTorch busy ms | share | ours busy ms | share | PyTorch wall ms "
            "| ours wall ms | ours / PyTorch |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        total_t, total_o = sum(theirs.values()), sum(ours.values())
        for kind in (*KINDS, "total"):
            t = total_t if kind == "total" else theirs[kind]
            o = total_o if kind == "total" else ours[kind]
            wall_t = t / total_t * seconds["PyTorch"] * 1000
            wall_o = o / total_o * seconds["ours"] * 1000
            ratio = f"**{wall_o / wall_t:.2f}**" if wall_t else "-"
            lines.append(
                f"| {kind} | {t:.1f} | {t / total_t:.0%} | {o:.1f} | {o / total_o:.0%} | "
                f"{wall_t:.0f} | {wall_o:.0f} | {ratio} |"
            )
        lines.append("")
    lines += [
        f"## The reference's top {TOP} ops",
        "",
        "| op | ms/step |",
        "| --- | ---: |",
    ]
    lines += [f"| {r['op']} | {r['ms_per_step']:.1f} |" for r in report["ops"][:TOP]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
