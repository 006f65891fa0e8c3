"""How good the CPU-sized preset gets on the embedded dataset, against two baselines.

Trains `--preset tiny` on the embedded dataset for `--n-epochs` + `--n-epochs-decay` epochs (keeps
a copy of the generators after epoch 1), then measures paired PSNR/SSIM of G(A) against the true B
(and F(B) against the true A) on the 64 test pairs with `cyclegan-tf evaluate`, for: the identity
map (output = input), the model after one epoch, and the final model. Re-running continues or
reuses the run folder (resume), so it can be stopped and started.

    python benchmarks/convergence.py --n-epochs 25 --n-epochs-decay 25 --run runs/converge
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))


def train(run: Path, snapshot: Path, n_epochs: int, n_epochs_decay: int) -> None:
    from cyclegan_tf.config import CycleGANConfig
    from cyclegan_tf.training import train_run

    config = CycleGANConfig.preset("tiny", n_epochs=n_epochs, n_epochs_decay=n_epochs_decay)
    resume = (run / "config.json").exists()
    if not (snapshot / "generator_ab.keras").exists():
        train_run(config, run, resume=resume, epochs=1, verbose=2)
        snapshot.mkdir(parents=True, exist_ok=True)
        for name in (
            "config.json",
            "generator_ab.keras",
            "generator_ab.json",
            "generator_ba.keras",
            "generator_ba.json",
        ):
            shutil.copy(run / name, snapshot / name)  # fmt: skip
        resume = True
    train_run(config, run, resume=resume, verbose=2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default=str(ROOT / "runs" / "converge"))
    parser.add_argument("--n-epochs", type=int, default=25)
    parser.add_argument("--n-epochs-decay", type=int, default=25)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "convergence"))
    args = parser.parse_args(argv)

    from machine import describe_machine, markdown_machine

    from cyclegan_tf.evaluation.evaluate import evaluate_model
    from cyclegan_tf.plots import read_csv_log

    run = Path(args.run)
    snapshot = run.with_name(run.name + "_epoch1")
    start = time.perf_counter()
    train(run, snapshot, args.n_epochs, args.n_epochs_decay)
    train_seconds = time.perf_counter() - start
    results = {}
    for label, folder in (("after 1 epoch", snapshot), ("final", run)):
        results[label] = evaluate_model(folder, "synthetic", run / f"eval_{folder.name}",
                                        features=None, progress=False)  # fmt: skip
    final = results["final"]["directions"]
    epochs = len(read_csv_log(run / "losses.csv")["epoch"])
    rows = [("identity map (output = input)", {
        d: {"psnr": m["identity_psnr"], "ssim": m["identity_ssim"]} for d, m in final.items()
    })]  # fmt: skip
    rows += [(f"tiny preset, {label}", r["directions"]) for label, r in results.items()]
    machine = describe_machine()
    report = {"machine": machine, "run": str(run), "epochs": epochs, "rows": [
        {"model": name, **{d: {k: m[k] for k in ("psnr", "ssim")} for d, m in dirs.items()}}
        for name, dirs in rows
    ]}  # fmt: skip
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Convergence of the `tiny` preset on the embedded dataset",
        "",
        f"{markdown_machine(machine)} `tiny` preset (ResNet-6, ngf 16, 64 px, batch 4), "
        f"{epochs} epochs ({args.n_epochs} + {args.n_epochs_decay} decay) of 200 unpaired "
        "images per domain. Paired metrics on the 64 test pairs (the same face drawn in both "
        "styles), measured by `cyclegan-tf evaluate` (centre crop, as in validation).",
        "",
        "| model | PSNR G(A) vs B (dB) | SSIM G(A) vs B | PSNR F(B) vs A (dB) | SSIM F(B) vs A |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, dirs in rows:
        ab, ba = dirs["AtoB"], dirs["BtoA"]
        lines.append(f"| {name} | {ab['psnr']:.2f} | {ab['ssim']:.4f} | {ba['psnr']:.2f} | "
                     f"{ba['ssim']:.4f} |")  # fmt: skip
    if train_seconds > 60:
        lines += ["", f"Training wall time of this invocation: {train_seconds / 60:.1f} min."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
