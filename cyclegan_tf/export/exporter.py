"""`cyclegan-tf export`: a generator to `.tflite` variants, a SavedModel, and a parity report.

Every `.tflite` gets a sidecar JSON (input/output shape, dtype, value range, direction, the training
config). The parity report compares each variant with the Keras generator on real domain images:
PSNR and max abs difference (in 8-bit levels), file size, ops left in float, and a PNG grid
(Keras | fp32 | fp16 | dynamic | int8) for a person to look at.

Example:
    report = export_generator("runs/tiny", "exports/tiny", quantizations=("fp32", "int8"))
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cyclegan_tf import registry
from cyclegan_tf.checkpoints import load_generator
from cyclegan_tf.data.images import DECODE_REPORT, ImageDecodeError, list_images, load_rgb
from cyclegan_tf.data.pipeline import center_square
from cyclegan_tf.data.synthetic import face_for, render_anime, render_photo
from cyclegan_tf.export.litert import TFLiteModel, count_macs, float_ops, op_counts
from cyclegan_tf.export.tflite import (
    IO_TYPES,
    MIN_CALIBRATION_IMAGES,
    QUANTIZATIONS,
    convert_generator,
    from_model_output,
    save_serving_model,
    to_model_input,
)
from cyclegan_tf.plots import save_image_grid
from cyclegan_tf.pretrained import run_size
from cyclegan_tf.translate import resolve_generator_path

logger = logging.getLogger(__name__)
PARITY_IMAGES = 6


@dataclass
class ExportReport:
    """What an export wrote and how close each variant stays to the Keras generator."""

    out_dir: str
    direction: str
    size: int
    io: str
    variants: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "out_dir": self.out_dir,
            "direction": self.direction,
            "size": self.size,
            "io": self.io,
            "variants": self.variants,
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Export parity: {self.direction} generator, {self.size}x{self.size}, io {self.io}",
            "",
            "PSNR and max abs difference against the Keras generator, in 8-bit levels, on "
            f"{PARITY_IMAGES} domain images.",
            "",
            "| variant | file | size (KB) | PSNR (dB) | max abs diff | MACs | ops in float |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, v in self.variants.items():
            ops = ", ".join(f"{k} x{n}" for k, n in v["float_ops"].items()) or "none"
            lines.append(
                f"| {name} | {Path(v['file']).name} | {v['bytes'] / 1024:.0f} | "
                f"{v['psnr_db']:.1f} | {v['max_abs_diff']} | {v['macs'] / 1e9:.3f} G | "
                f"{ops if name == 'int8' else '-'} |"
            )
        return "\n".join(lines) + "\n"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 image stacks, in dB (inf when identical)."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def load_domain_images(
    folder: str | os.PathLike | None, size: int, count: int, domain: str = "A", seed: int = 0
) -> list[np.ndarray]:
    """Up to `count` images of the input domain, centre-cropped and resized to `size`.

    From `folder` (recursive), or when it is None from the embedded synthetic test set.
    """
    if folder is None:
        render = render_photo if domain == "A" else render_anime
        return [render(face_for(seed, 2, i), size) for i in range(count)]
    images = []
    for path in list_images(folder):  # unreadable files are reported and skipped
        if len(images) == count:
            break
        try:
            images.append(center_square(load_rgb(path), size))
        except ImageDecodeError as e:
            DECODE_REPORT.add(path, e)
    return images


def export_generator(
    model: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    direction: str | None = None,
    quantizations: tuple[str, ...] = QUANTIZATIONS,
    size: int | None = None,
    io: str = "float",
    calibration: str | os.PathLike | None = None,
    resizable: bool = False,
    saved_model: bool = True,
    parity: str | os.PathLike | None = None,
    calibration_count: int = 200,
) -> ExportReport:
    """Export a run's (or a `.keras` file's) generator; see the module docstring.

    int8 is calibrated on up to `calibration_count` images (at least 100 are required).
    Parity is checked on images from `parity` (a folder), else on the first calibration images.
    """
    for q in quantizations:
        if q not in QUANTIZATIONS:
            raise ValueError(f"quantize must be one of {list(QUANTIZATIONS) + ['all']}, got {q!r}")
    if io not in IO_TYPES:
        raise ValueError(f"io must be one of {list(IO_TYPES)}, got {io!r}")
    path = resolve_generator_path(model, direction)
    generator, info = load_generator(path)
    size = size or run_size(model) or info.config.crop_size
    multiple = registry.generator_size_multiple(info.config.generator)
    if size % multiple:
        raise ValueError(
            f"size must be a multiple of {multiple} for generator {info.config.generator!r}, "
            f"got {size}"
        )
    domain = "A" if info.direction == "AtoB" else "B"
    if calibration is None and info.config.data != "synthetic" and "int8" in quantizations:
        raise ValueError(
            f"int8 export needs --calibration DIR with at least {MIN_CALIBRATION_IMAGES} images "
            f"of domain {domain} (the model was trained on {info.config.data})"
        )
    calibration_images = load_domain_images(
        calibration,
        size,
        max(MIN_CALIBRATION_IMAGES, calibration_count)
        if "int8" in quantizations
        else PARITY_IMAGES,
        domain,
        info.config.seed,
    )
    if parity is None:
        parity_inputs = np.stack(calibration_images[:PARITY_IMAGES])
    else:
        parity_inputs = np.stack(load_domain_images(parity, size, PARITY_IMAGES, domain))
    keras_out = from_model_output(generator(to_model_input(parity_inputs, "float")), "float")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"generator_{'ab' if info.direction == 'AtoB' else 'ba'}"
    report = ExportReport(str(out_dir), info.direction, size, io)
    grid_columns = {"Keras": keras_out}
    variants = [(q, size) for q in quantizations] + (
        [("fp32_resizable", None)] if resizable else []
    )
    for name, variant_size in variants:
        quantize = name.split("_")[0]
        logger.info("exporting %s (%s)", name, "resizable" if variant_size is None else size)
        data = convert_generator(
            generator,
            quantize,
            variant_size,
            io,
            calibration_images if quantize == "int8" else None,
        )
        file = out_dir / f"{stem}_{name}.tflite"
        file.write_bytes(data)
        tflite = TFLiteModel(file)
        outputs = np.stack(
            [
                from_model_output(tflite.run(to_model_input(image[None], io)), io)[0]
                for image in parity_inputs
            ]
        )
        grid_columns[name] = outputs
        report.variants[name] = {
            "file": str(file),
            "bytes": len(data),
            "psnr_db": psnr(outputs, keras_out),
            "max_abs_diff": int(np.abs(outputs.astype(int) - keras_out.astype(int)).max()),
            "macs": count_macs(tflite),
            "float_ops": float_ops(tflite),
            "ops": op_counts(tflite),
        }
        write_sidecar(file, tflite, info, quantize, io, variant_size)
    if saved_model:
        save_serving_model(generator, out_dir / f"{stem}_saved_model", size, io)
    rows = [[grid_columns[c][i] for c in grid_columns] for i in range(len(parity_inputs))]
    save_image_grid(
        rows,
        list(grid_columns),
        out_dir / "parity.png",
        title=f"{info.direction} generator: Keras against its TFLite exports",
    )
    (out_dir / "parity.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    (out_dir / "parity.md").write_text(report.to_markdown())
    return report


def write_sidecar(
    file: Path, tflite: TFLiteModel, info, quantize: str, io: str, size: int | None
) -> Path:
    """`<model>.json`: what an app needs to feed the model, and how the model was made."""
    value_range = [0, 255] if io == "uint8" else [-1.0, 1.0]
    meta = {
        "format": "cyclegan-tf tflite",
        "direction": info.direction,
        "quantization": quantize,
        "input": {
            "name": tflite.input["name"],
            "shape": [1, size or -1, size or -1, 3],
            "dtype": np.dtype(tflite.input["dtype"]).name,
            "range": value_range,
            "layout": "NHWC RGB",
        },
        "output": {
            "name": tflite.output["name"],
            "shape": [1, size or -1, size or -1, 3],
            "dtype": np.dtype(tflite.output["dtype"]).name,
            "range": value_range,
            "layout": "NHWC RGB",
        },
        "quantization_params": {
            "input": [float(v) for v in tflite.input["quantization"]],
            "output": [float(v) for v in tflite.output["quantization"]],
        },
        "epoch": info.epoch,
        "training_config": info.config.to_dict(),
    }
    sidecar = file.with_suffix(".json")
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    return sidecar
