"""The face2comic report's variants on selfie2anime, at equal steps: does each one help?

A student project (photo -> anime faces) tried, on a plain CycleGAN: larger residual kernels, an
embedding discriminator on the generators' encoder outputs (XGAN, weight 0.5), noisy targets for
fakes (D(G(x)) - U(0, 0.2))^2, and the original WGAN critic. This script trains each variant on
the real selfie2anime set with the same number of generator updates, one after the other
(resumable: run it again and each run continues from its last checkpoint), then measures all of
them side by side with `benchmarks/selfie2anime.py` (FID/KID of G(testA) against testB on
EfficientNet-Lite0 features, the looks-like-anime probe), and draws one grid, a row per
variant, on the publishable sample photos framed on the face (grids of the dataset's selfies stay
on this machine: `--samples`).

The generator is a small ResNet-6 (ngf 16) at 128 px, since larger kernels are defined for the
ResNet generators' residual blocks; ndf 32, batch 4, the paper's losses otherwise; 2,400 generator
steps each (12 epochs of 200 steps, 6 of them decaying), which is about 30 minutes for the baseline
on 2 cores with bf16 and more for the others (a WGAN step makes 5 critic updates).

    python benchmarks/face2comic_variants.py --data ~/data/selfie2anime --runs runs/face2comic
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

BASE = {
    "generator": "resnet_6blocks",
    "ngf": 16,
    "ndf": 32,
    "load_size": 143,
    "crop_size": 128,
    "batch_size": 4,
    # bf16 where the CPU has it natively: 1.67x the steps per hour of float32 for this network on
    # an AMX Xeon (1.355 -> 0.814 s/step, benchmarks/train_throughput.py side by side)
    "precision": "auto",
}
LARGE_KERNEL = 5
# label -> overrides on BASE. The "+" variants build on the larger kernels, the report's best.
VARIANTS: dict[str, dict] = {
    "baseline CycleGAN": {},
    f"larger kernels ({LARGE_KERNEL}x{LARGE_KERNEL})": {"kernel_size": LARGE_KERNEL},
    "larger kernels + embedding discriminator": {
        "kernel_size": LARGE_KERNEL,
        "lambda_embedding": 0.5,
    },
    "larger kernels + noisy fake targets": {"kernel_size": LARGE_KERNEL, "fake_label_noise": 0.2},
    "WGAN critic": {"gan_mode": "wgan"},
}


def slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def train_variant(data: str, run: Path, overrides: dict, args) -> dict:
    """Train (or continue) one variant to its step budget; what it reached and took."""
    from cyclegan_tf.config import CycleGANConfig
    from cyclegan_tf.run_folder import RunFolder
    from cyclegan_tf.training import train_run

    config = CycleGANConfig(
        **BASE,
        data=data,
        n_epochs=args.n_epochs,
        n_epochs_decay=args.n_epochs_decay,
        seed=args.seed,
        **overrides,
    )
    start = time.perf_counter()
    done = _epochs_done(run)
    if done < config.total_epochs:
        train_run(
            config,
            run,
            resume=RunFolder(run).config.is_file(),
            steps_per_epoch=args.steps_per_epoch,
            cache=True,
            validate=False,
            eval_every=0,
            checkpoint_every=100,
            verbose=2,
        )
    return {
        "epochs": _epochs_done(run),
        "generator_steps": _epochs_done(run) * args.steps_per_epoch,
        "critic_updates_per_step": config.critic_updates,
        "seconds_this_call": round(time.perf_counter() - start, 1),
    }


def _epochs_done(run: Path) -> int:
    log = run / "losses.csv"
    return max(0, len(log.read_text().splitlines()) - 1) if log.is_file() else 0


def publishable_grid(runs: dict[str, Path], path: Path, size: int) -> None:
    """One row per variant: G on the sample photos framed on the face (no dataset images)."""
    import numpy as np

    from cyclegan_tf.demo import sample_photos
    from cyclegan_tf.evaluation.translators import load_translators
    from cyclegan_tf.faces import FaceDetector, align_face, centre_crop
    from cyclegan_tf.plots import save_image_grid

    detector = FaceDetector()
    crops, names = [], []
    for name, photo in sample_photos():
        faces = detector.detect(photo)
        crop = align_face(photo, faces[0].eyes, size) if faces else centre_crop(photo, size)
        crops.append(crop.pixels)
        names.append(name.replace("_", " "))
    rows = [crops]
    for run in runs.values():
        rows.append(list(load_translators(run, "AtoB")["AtoB"](np.stack(crops))))
    save_image_grid(
        rows,
        names,
        path,
        row_titles=["photo (--face)", *(textwrap.fill(label, 22) for label in runs)],
        title="face2comic variants on selfie2anime, equal generator steps",
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="selfie2anime in the trainA/trainB layout")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "face2comic"))
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    parser.add_argument("--n-epochs", type=int, default=6)
    parser.add_argument("--n-epochs-decay", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", action="append", help="train only these variants (labels)")
    parser.add_argument("--train-only", action="store_true", help="skip the measurements")
    parser.add_argument("--samples", default=str(ROOT / "runs" / "face2comic_samples.png"))
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "face2comic_variants")
    )
    args = parser.parse_args(argv)

    from machine import describe_machine, markdown_machine

    runs = {label: Path(args.runs) / slug(label) for label in VARIANTS}
    training = {}
    for label, overrides in VARIANTS.items():
        if args.only and label not in args.only:
            continue
        training[label] = train_variant(args.data, runs[label], overrides, args)
        print(f"{label}: {training[label]}", flush=True)
    if args.train_only:
        return 0
    # a variant still training has saved generators from its last epoch: measure only finished ones
    total = args.n_epochs + args.n_epochs_decay
    finished = {k: v for k, v in runs.items() if _epochs_done(v) >= total}
    if not finished:
        raise SystemExit(f"no variant has finished its {total} epochs in {args.runs} yet")
    out = Path(args.out)
    import selfie2anime

    models = [f"{label}={run / 'generator_ab.keras'}" for label, run in finished.items()]
    selfie2anime.main(
        ["--data", args.data, "--samples", args.samples, "--out", str(out)]
        + ["--title", "the face2comic variants at equal generator steps"]
        + [x for m in models for x in ("--model", m)]
    )
    publishable_grid(finished, out.with_suffix(".png"), 256)
    report = json.loads(out.with_suffix(".json").read_text())
    report["variants"] = {
        label: {
            "overrides": VARIANTS[label],
            "epochs": _epochs_done(run),
            "generator_steps": _epochs_done(run) * args.steps_per_epoch,
            "machine_log": (run / "machine.log").read_text()
            if (run / "machine.log").is_file()
            else "",
        }
        for label, run in finished.items()
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    steps = [
        "",
        "## Steps reached (generator updates; WGAN makes 5 critic updates per step)",
        "",
        f"{markdown_machine(describe_machine())}",
        "",
        "| variant | overrides | epochs | generator steps |",
        "| --- | --- | ---: | ---: |",
    ]
    steps += [
        f"| {label} | `{v['overrides']}` | {v['epochs']} | {v['generator_steps']} |"
        for label, v in report["variants"].items()
    ]
    with out.with_suffix(".md").open("a") as f:
        f.write("\n".join(steps) + "\n")
    print(f"wrote {out.with_suffix('.md')}, .json and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
