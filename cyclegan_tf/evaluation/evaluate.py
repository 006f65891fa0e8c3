"""The `cyclegan-tf evaluate` job: translate a test split, measure it, write JSON and pictures.

Measured per direction (A->B is photo->anime):
- paired data (the embedded dataset, or `paired=True`): PSNR and SSIM of the translation against
  the true target image, and the same for the identity map (output = input) as a floor;
- both generators (a run folder): cycle reconstruction L1 and PSNR;
- FID and KID (mean, std, x100) of translations against the real target images, and of the
  untranslated inputs as a baseline, on the features of an ImageNet network (`features`:
  EfficientNet-Lite0 by default, offline; or InceptionV3);
- the probe rate: the share of translations that a linear probe, trained on the same features of
  the training split (A vs B), calls the target domain; and the same for the untranslated inputs.

Example:
    result = evaluate_model("runs/tiny", "synthetic", "runs/tiny/eval")
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.data.images import DecodeReport
from cyclegan_tf.data.pipeline import center_square, preprocess, to_uint8
from cyclegan_tf.data.sources import load_domains
from cyclegan_tf.evaluation.distances import frechet_distance, kernel_inception_distance
from cyclegan_tf.evaluation.features import DEFAULT_FEATURES, feature_extractor
from cyclegan_tf.evaluation.paired import (
    finite_mean,
    mean_abs_error,
    psnr_per_image,
    ssim_per_image,
)
from cyclegan_tf.evaluation.translators import load_translators
from cyclegan_tf.plots import save_image_grid
from cyclegan_tf.pretrained import run_size

logger = logging.getLogger(__name__)
SOURCE_TARGET = {"AtoB": ("A", "B"), "BtoA": ("B", "A")}


def split_images(
    spec: str,
    size: int,
    max_images: int = 0,
    split: str = "test",
    config: CycleGANConfig | None = None,
    report: DecodeReport | None = None,
) -> dict[str, np.ndarray]:
    """Both domains of a split as uint8 stacks (N, size, size, 3).

    With the model's training `config`, images go through its evaluation preprocessing (resize
    to load_size, centre crop), scaled to `size`: what the training-time metrics see. Without
    it, the centre square is resized to `size`.
    """
    if config is not None:
        load = max(size, int(round(size * config.load_size / config.crop_size)))
        config = config.replace(
            crop_size=size, load_size=load, data=spec, preprocess="resize_and_crop"
        )
    image_size = config.load_size if config is not None else size
    domains = load_domains(spec, split, image_size=image_size, max_size=max_images, report=report)
    images = {}
    for letter, domain in zip("AB", domains, strict=True):
        if config is not None:
            stack = [
                to_uint8(preprocess(image, config, training=False)).numpy()
                for image in domain.dataset
            ]
        else:
            stack = [center_square(np.asarray(image), size) for image in domain.dataset]
        if not stack:
            raise ValueError(f"data {spec!r} has no readable {split}{letter} images")
        images[letter] = np.stack(stack)
    return images


def run_translator(translator, images: np.ndarray, label: str, progress: bool) -> np.ndarray:
    """Translate in chunks of 8 with a progress bar."""
    progbar = keras.utils.Progbar(len(images), unit_name="image") if progress else None
    if progbar:
        logger.info("translating %s", label)
    outputs = []
    for start in range(0, len(images), 8):
        outputs.append(translator(images[start : start + 8]))
        if progbar:
            progbar.add(len(outputs[-1]))
    return np.concatenate(outputs)


def paired_metrics(outputs: np.ndarray, sources: np.ndarray, targets: np.ndarray) -> dict:
    """PSNR/SSIM of translations and of the identity map against the true targets."""
    psnr, ssim = psnr_per_image(outputs, targets), ssim_per_image(outputs, targets)
    return {
        "psnr": finite_mean(psnr),
        "ssim": float(np.mean(ssim)),
        "identity_psnr": finite_mean(psnr_per_image(sources, targets)),
        "identity_ssim": float(np.mean(ssim_per_image(sources, targets))),
        "per_image_psnr": [float(v) for v in psnr],
    }


def distribution_metrics(
    extractor, outputs, sources, targets, kid_subsets: int, probe=None, target: str = "B"
) -> dict:
    """FID and KID (and the probe's target rate) of translations and of the untranslated inputs."""
    real = extractor(targets)
    result = {}
    for name, images in (("", outputs), ("identity_", sources)):
        fake = extractor(images)
        kid = kernel_inception_distance(real, fake, n_subsets=kid_subsets)
        result[f"{name}fid"] = frechet_distance(real, fake)
        result[f"{name}kid"] = kid
        result[f"{name}kid_x100"] = 100 * kid["mean"]
        if probe is not None:
            result[f"{name}probe_rate"] = probe.target_rate(fake, target)
    if probe is not None:
        result["target_probe_rate"] = probe.target_rate(real, target)
    return result


def train_probe(extractor, data: str, size: int, images: int, config=None, report=None):
    """A linear probe (A vs B) on the features of up to `images` training images per domain."""
    from cyclegan_tf.evaluation.probe import DomainProbe

    train = split_images(data, size, images, split="train", config=config, report=report)
    return DomainProbe.fit(extractor(train["A"]), extractor(train["B"]))


def save_best_worst(rows_by_score, titles, path: Path, title: str, count: int = 4) -> None:
    """Best `count` and worst `count` examples, ranked by score (higher is better)."""
    ranked = sorted(rows_by_score, key=lambda item: item[0], reverse=True)
    chosen = ranked[:count] + ranked[-count:] if len(ranked) > 2 * count else ranked
    labels = [f"best {i + 1}: {s:.1f} dB" for i, (s, _) in enumerate(chosen[:count])]
    labels += [f"worst {i + 1}: {s:.1f} dB" for i, (s, _) in enumerate(reversed(chosen[count:]))]
    save_image_grid(
        [r for _, r in chosen], titles, path, row_titles=labels[: len(chosen)], title=title
    )


def evaluate_model(
    model: str | os.PathLike,
    data: str,
    out_dir: str | os.PathLike,
    *,
    direction: str | None = None,
    size: int | None = None,
    max_images: int = 0,
    paired: bool | None = None,
    features: str | None = DEFAULT_FEATURES,
    inception_weights: str | None = "imagenet",
    kid_subsets: int = 100,
    probe_images: int = 500,
    progress: bool = True,
    report: DecodeReport | None = None,
) -> dict:
    """Evaluate a run folder, `.keras` or `.tflite` model on `data`'s test split (module doc)."""
    translators = load_translators(model, direction)
    first = next(iter(translators.values()))
    size = evaluation_size(model, translators, size)
    paired = (data == "synthetic") if paired is None else paired
    extractor = None
    if features:
        extractor = feature_extractor(features, inception_weights, progress=progress)
    images = split_images(data, size, max_images, config=first.config, report=report)
    probe = None
    if extractor is not None and probe_images:
        probe = train_probe(extractor, data, size, probe_images, first.config, report)
    if paired and len(images["A"]) != len(images["B"]):
        raise ValueError(
            f"paired metrics need as many test images in A as in B, got "
            f"{len(images['A'])} and {len(images['B'])}; pass --no-paired"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        d: run_translator(t, images[SOURCE_TARGET[d][0]], d, progress)
        for d, t in translators.items()
    }
    result = {
        "model": str(model),
        "data": data,
        "size": size,
        "images": {k: len(v) for k, v in images.items()},
        "paired": paired,
        "features": extractor.name if extractor is not None else None,
        "inception_weights": (inception_weights or "random") if features == "inception" else None,
        "probe_images": probe_images if probe is not None else 0,
        "directions": {},
    }
    run = DirectionRun(translators, images, outputs, paired, extractor, probe, kid_subsets, out_dir)
    for d in translators:
        result["directions"][d] = evaluate_direction(run, d, progress)
    (out_dir / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / "evaluation.md").write_text(to_markdown(result))
    return result


@dataclass(frozen=True)
class DirectionRun:
    """What every direction's evaluation shares: the models, images, translations and metrics."""

    translators: dict
    images: dict
    outputs: dict
    paired: bool
    extractor: object | None
    probe: object | None
    kid_subsets: int
    out_dir: Path


def evaluation_size(model, translators: dict, size: int | None) -> int:
    """--size, else the model's own input size, run size or training crop size."""
    first = next(iter(translators.values()))
    size = (
        size or first.size or run_size(model) or (first.config.crop_size if first.config else None)
    )
    if size is None:
        raise ValueError(f"cannot tell the image size for {model}; pass --size")
    for t in translators.values():
        if t.size is not None and t.size != size:
            raise ValueError(f"{t.name} takes {t.size}x{t.size} images, not --size {size}")
    return size


def evaluate_direction(run: DirectionRun, d: str, progress: bool) -> dict:
    """The metrics of one direction (and its best/worst or example picture)."""
    t = run.translators[d]
    images, paired, extractor, out_dir = run.images, run.paired, run.extractor, run.out_dir
    kid_subsets, probe = run.kid_subsets, run.probe
    source_key, target_key = SOURCE_TARGET[d]
    sources, targets, fakes = images[source_key], images[target_key], run.outputs[d]
    metrics: dict = {"model": t.name}
    columns, rows = (
        [f"input {source_key}", f"{d} output"],
        [[s, f] for s, f in zip(sources, fakes, strict=True)],
    )
    scores = None
    if paired:
        metrics.update(paired_metrics(fakes, sources, targets))
        scores = metrics["per_image_psnr"]
        columns.append(f"true {target_key}")
        rows = [r + [g] for r, g in zip(rows, targets, strict=True)]
    other = "BtoA" if d == "AtoB" else "AtoB"
    if other in run.translators:
        reconstructed = run_translator(run.translators[other], fakes, f"{d} cycle", progress)
        cycle_psnr = psnr_per_image(reconstructed, sources)
        metrics["cycle_l1"] = float(np.mean(mean_abs_error(reconstructed, sources)))
        metrics["cycle_psnr"] = finite_mean(cycle_psnr)
        columns.append("reconstruction")
        rows = [r + [c] for r, c in zip(rows, reconstructed, strict=True)]
        scores = scores if scores is not None else list(cycle_psnr)
    if extractor is not None:
        metrics.update(
            distribution_metrics(extractor, fakes, sources, targets, kid_subsets, probe, target_key)
        )
    if scores is not None:
        save_best_worst(
            list(zip(scores, rows, strict=True)),
            columns,
            out_dir / f"best_worst_{d}.png",
            f"{t.name}: best and worst by {'PSNR vs truth' if paired else 'cycle PSNR'}",
        )
    else:
        save_image_grid(rows[:8], columns, out_dir / f"examples_{d}.png", title=t.name)
    return metrics


METRIC_COLUMNS = (
    ("psnr", "PSNR dB"),
    ("ssim", "SSIM"),
    ("identity_psnr", "identity PSNR"),
    ("identity_ssim", "identity SSIM"),
    ("cycle_l1", "cycle L1"),
    ("fid", "FID"),
    ("kid_x100", "KID x100"),
    ("identity_kid_x100", "identity KID x100"),
    ("probe_rate", "probe: target"),
    ("identity_probe_rate", "identity probe: target"),
)


def to_markdown(result: dict) -> str:
    """One row per direction, columns for the metrics that were measured."""
    directions = result["directions"]
    present = [
        (k, title) for k, title in METRIC_COLUMNS if any(k in m for m in directions.values())
    ]
    lines = [
        f"Evaluation of `{result['model']}` on `{result['data']}` (test split, "
        f"{result['size']} px, {result['images']['A']} A / {result['images']['B']} B images)"
        + (f"; FID, KID and probe on {result['features']} features" if result["features"] else ""),
        "",
        "| direction | model | " + " | ".join(t for _, t in present) + " |",
        "|---|---|" + "---:|" * len(present),
    ]
    for d, m in directions.items():
        cells = []
        for key, _ in present:
            value = m.get(key)
            cells.append(
                ""
                if value is None
                else f"{value:.4f}"
                if "ssim" in key
                else f"{value:.0%}"
                if "probe" in key
                else f"{value:.2f}"
            )
        lines.append(f"| {d} | {m['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
