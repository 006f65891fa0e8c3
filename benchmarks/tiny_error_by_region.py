"""Where a `tiny` run's G(A) misses the true anime picture: squared error by region of the face.

The embedded test pairs draw one face as a photo and as anime, so every pixel's region is known
(background, hair, face, eyes and mouth, body and neck). For each run folder given, this scores the
saved G(A) on the test pairs and reports, per region, its share of the pixels, its share of the
squared error and its PSNR: what limits the paired PSNR, and so which change could lift it.

    python benchmarks/tiny_error_by_region.py RUN [RUN ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

REGIONS = ("background", "hair", "face", "eyes and mouth", "body and neck")


def region_labels(face, load_size: int, crop_size: int) -> np.ndarray:
    """One region index per pixel of the centre crop the evaluation sees (anime geometry)."""
    from cyclegan_tf.data import synthetic

    canvas = synthetic._Canvas(face, load_size, eye_scale=1.5)
    start = (load_size - crop_size) // 2
    window = (slice(start, start + crop_size), slice(start, start + crop_size))
    hair = ((canvas.hair_back & ~canvas.face_mask) | canvas.bangs)[window]
    face_mask = canvas.face_mask[window] & ~hair
    features = (canvas.eyes[0] | canvas.eyes[1] | canvas.mouth)[window] & face_mask
    body = (canvas.body | canvas.neck)[window] & ~hair & ~face_mask
    labels = np.zeros((crop_size, crop_size), np.int32)  # background
    labels[hair] = 1
    labels[face_mask & ~features] = 2
    labels[features] = 3
    labels[body] = 4
    return labels


def score_run(run: Path) -> dict:
    from cyclegan_tf.checkpoints import load_generator
    from cyclegan_tf.config import CycleGANConfig
    from cyclegan_tf.data import synthetic
    from cyclegan_tf.data.pipeline import paired_batches
    from cyclegan_tf.data.sources import load_domains

    config = CycleGANConfig.load_json(run / "config.json")
    if config.data != "synthetic":
        raise SystemExit(f"{run}: trained on {config.data!r}; only the embedded data has regions")
    generator, _ = load_generator(run / "generator_ab.keras")
    test_a, test_b = load_domains(
        "synthetic",
        "test",
        image_size=config.load_size,
        synthetic_size=config.synthetic_size,
        seed=config.seed,
    )
    photos, animes = [], []
    for a, b in paired_batches(test_a, test_b, config, batch_size=8):
        photos.append(a.numpy())
        animes.append(b.numpy())
    photos, animes = np.concatenate(photos), np.concatenate(animes)
    squared = (((np.asarray(generator.predict(photos, verbose=0)) - animes) / 2) ** 2).sum(-1)
    error, pixels = np.zeros(len(REGIONS)), np.zeros(len(REGIONS))
    for index in range(len(photos)):
        labels = region_labels(
            synthetic.face_for(config.seed, 2, index), config.load_size, config.crop_size
        )
        error += np.bincount(labels.ravel(), squared[index].ravel(), len(REGIONS))
        pixels += np.bincount(labels.ravel(), minlength=len(REGIONS))
    channels = photos.shape[-1]
    return {
        "run": str(run),
        "pairs": len(photos),
        "psnr_all_pixels": float(10 * np.log10(pixels.sum() * channels / error.sum())),
        "regions": {
            name: {
                "pixel_share": float(pixels[i] / pixels.sum()),
                "error_share": float(error[i] / error.sum()),
                "psnr": float(10 * np.log10(pixels[i] * channels / error[i])),
            }
            for i, name in enumerate(REGIONS)
        },
    }


def to_markdown(report: dict) -> str:
    from machine import markdown_machine

    lines = [
        "# Where G(A) misses the true anime picture, by region (embedded test pairs)",
        "",
        "`python benchmarks/tiny_error_by_region.py " + " ".join(report["args"]) + "`",
        "",
        markdown_machine(report["machine"]),
        "PSNR here is over all pixels of all pairs together (the run's log averages per image).",
        "Each cell: share of the squared error / PSNR of the region (dB).",
        "",
        "| run | PSNR | " + " | ".join(REGIONS) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in REGIONS) + " |",
    ]
    for run in report["runs"]:
        cells = [
            f"{run['regions'][r]['error_share']:.2f} / {run['regions'][r]['psnr']:.1f}"
            for r in REGIONS
        ]
        lines.append(
            f"| {Path(run['run']).name} | {run['psnr_all_pixels']:.2f} | "
            + " | ".join(cells)
            + " |"
        )
    shares = report["runs"][0]["regions"]
    lines += [
        "",
        "Share of the pixels: "
        + ", ".join(f"{r} {shares[r]['pixel_share']:.2f}" for r in REGIONS)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders of the embedded data")
    parser.add_argument("--out", default="benchmarks/results/tiny_error_by_region")
    args = parser.parse_args(argv)
    from machine import describe_machine
    from report import write_report

    report = {
        "args": [str(r) for r in args.runs],
        "machine": describe_machine(),
        "runs": [score_run(run) for run in args.runs],
    }
    write_report(report, args.out, to_markdown)


if __name__ == "__main__":
    main()
