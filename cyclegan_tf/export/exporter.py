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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from cyclegan_tf import __version__, registry
from cyclegan_tf.checkpoints import (
    GeneratorInfo,
    load_generator,
    resolve_generator_path,
    save_generator,
)
from cyclegan_tf.data.images import DecodeReport, ImageDecodeError, list_images, load_rgb
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
from cyclegan_tf.export.tflite_metadata import describe_generator, with_metadata
from cyclegan_tf.imaging import mean_psnr
from cyclegan_tf.plots import save_image_grid
from cyclegan_tf.pretrained import run_size

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
    half_keras: dict | None = None

    def to_dict(self) -> dict:
        return {
            "out_dir": self.out_dir,
            "direction": self.direction,
            "size": self.size,
            "io": self.io,
            "variants": self.variants,
            "half_keras": self.half_keras,
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
        if self.half_keras:
            h = self.half_keras
            lines += [
                "",
                f"Keras generator with float16 weights: {Path(h['file']).name}, "
                f"{h['bytes'] / 1024:.0f} KB, {h['psnr_db']:.1f} dB PSNR against the float32 "
                f"weights, max abs diff {h['max_abs_diff']}.",
            ]
        return "\n".join(lines) + "\n"


def load_domain_images(
    folder: str | os.PathLike | None,
    size: int,
    count: int,
    domain: str = "A",
    seed: int = 0,
    report: DecodeReport | None = None,
) -> list[np.ndarray]:
    """Up to `count` images of the input domain, centre-cropped and resized to `size`.

    From `folder` (recursive), or when it is None from the embedded synthetic test set.
    """
    if folder is None:
        render = render_photo if domain == "A" else render_anime
        return [render(face_for(seed, 2, i), size) for i in range(count)]
    images = []
    report = report if report is not None else DecodeReport()
    for path in list_images(folder, report=report):  # unreadable files: reported, skipped
        if len(images) == count:
            break
        try:
            images.append(center_square(load_rgb(path), size))
        except ImageDecodeError as e:
            report.add(path, e)
    return images


@dataclass(frozen=True)
class ExportSource:
    """The generator being exported, what its sidecar says, and the size it is exported at."""

    generator: keras.Model
    info: GeneratorInfo
    size: int

    @property
    def domain(self) -> str:
        return "A" if self.info.direction == "AtoB" else "B"

    @property
    def stem(self) -> str:
        return f"generator_{'ab' if self.info.direction == 'AtoB' else 'ba'}"


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
    report: DecodeReport | None = None,
    half_keras: bool = False,
    float_nodes: Sequence[str] = (),
) -> ExportReport:
    """Export a run's (or a `.keras` file's) generator; see the module docstring.

    The pipeline, in order: load the generator -> load calibration and parity images -> per
    variant: convert (equalize, lower, quantize: `convert_generator`) -> write the file with its
    metadata and sidecar -> verify it against Keras -> write the report.
    int8 is calibrated on up to `calibration_count` images (at least 100 are required).
    Parity is checked on images from `parity` (a folder), else on the first calibration images.
    Unreadable images are skipped and added to `report`. `half_keras` also writes the generator
    as a `.keras` file with float16 weights (half the size, for shipping) and checks it the same
    way; `float_nodes` are single ops the int8 variant keeps in float.
    """
    check_export_options(quantizations, io)
    source = load_source(model, direction, size)
    calibration_images, parity_inputs = load_images(
        source, calibration, parity, quantizations, calibration_count, report
    )
    keras_out = from_model_output(source.generator(to_model_input(parity_inputs, "float")), "float")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport(str(out_dir), source.info.direction, source.size, io)
    grid_columns = {"Keras": keras_out}
    variants = [(q, source.size) for q in quantizations]
    variants += [("fp32_resizable", None)] if resizable else []
    for name, variant_size in variants:
        quantize = name.split("_")[0]
        logger.info("exporting %s (%s)", name, "resizable" if variant_size is None else size)
        data = convert_generator(
            source.generator,
            quantize,
            variant_size,
            io,
            calibration_images if quantize == "int8" else None,
            float_nodes=float_nodes if quantize == "int8" else (),
        )
        file = write_variant(out_dir, source, name, data, io, variant_size)
        report.variants[name], grid_columns[name] = verify_variant(
            file, parity_inputs, keras_out, io
        )
    if half_keras:
        report.half_keras = write_half_keras(out_dir, source, parity_inputs, keras_out)
    if saved_model:
        save_serving_model(
            source.generator, out_dir / f"{source.stem}_saved_model", source.size, io
        )
    write_parity_report(report, grid_columns, out_dir)
    return report


def check_export_options(quantizations: tuple[str, ...], io: str) -> None:
    for q in quantizations:
        if q not in QUANTIZATIONS:
            raise ValueError(f"quantize must be one of {list(QUANTIZATIONS) + ['all']}, got {q!r}")
    if io not in IO_TYPES:
        raise ValueError(f"io must be one of {list(IO_TYPES)}, got {io!r}")


def load_source(model: str | os.PathLike, direction: str | None, size: int | None) -> ExportSource:
    """The generator of a run folder, `.keras` file or shipped model, and its export size."""
    generator, info = load_generator(resolve_generator_path(model, direction))
    size = size or run_size(model) or info.config.crop_size
    multiple = registry.generator_size_multiple(info.config.generator)
    if size % multiple:
        raise ValueError(
            f"size must be a multiple of {multiple} for generator {info.config.generator!r}, "
            f"got {size}"
        )
    return ExportSource(generator, info, size)


def load_images(
    source: ExportSource,
    calibration: str | os.PathLike | None,
    parity: str | os.PathLike | None,
    quantizations: tuple[str, ...],
    calibration_count: int,
    report: DecodeReport | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Calibration images (int8) and the parity inputs, of the generator's input domain."""
    info = source.info
    if calibration is None and info.config.data != "synthetic" and "int8" in quantizations:
        raise ValueError(
            f"int8 export needs --calibration DIR with at least {MIN_CALIBRATION_IMAGES} images "
            f"of domain {source.domain} (the model was trained on {info.config.data})"
        )
    count = max(MIN_CALIBRATION_IMAGES, calibration_count) if "int8" in quantizations else 0
    size, domain, seed = source.size, source.domain, info.config.seed
    images = load_domain_images(calibration, size, max(count, PARITY_IMAGES), domain, seed, report)
    if parity is None:
        return images, np.stack(images[:PARITY_IMAGES])
    return images, np.stack(load_domain_images(parity, size, PARITY_IMAGES, domain, 0, report))


def write_variant(
    out_dir: Path, source: ExportSource, name: str, data: bytes, io: str, size: int | None
) -> Path:
    """The `.tflite` (with standard metadata) and its JSON sidecar."""
    data = with_metadata(data, describe_generator(source.info.direction, io, __version__))
    file = out_dir / f"{source.stem}_{name}.tflite"
    file.write_bytes(data)
    write_sidecar(file, TFLiteModel(file), source.info, name.split("_")[0], io, size)
    return file


def verify_variant(
    file: Path, inputs: np.ndarray, keras_out: np.ndarray, io: str
) -> tuple[dict, np.ndarray]:
    """How close the file's translations of `inputs` are to Keras's, what it costs; and them."""
    tflite = TFLiteModel(file)
    outputs = np.stack(
        [from_model_output(tflite.run(to_model_input(image[None], io)), io)[0] for image in inputs]
    )
    summary = {
        "file": str(file),
        "bytes": file.stat().st_size,
        "psnr_db": mean_psnr(outputs, keras_out),
        "max_abs_diff": int(np.abs(outputs.astype(int) - keras_out.astype(int)).max()),
        "macs": count_macs(tflite),
        "float_ops": float_ops(tflite),
        "ops": op_counts(tflite),
    }
    return summary, outputs


def write_half_keras(
    out_dir: Path, source: ExportSource, inputs: np.ndarray, keras_out: np.ndarray
) -> dict:
    """`<stem>.keras` with float16 weights and its sidecar, and how close it stays to float32."""
    info = source.info
    path = save_generator(
        source.generator,
        out_dir / f"{source.stem}.keras",
        info.config,
        info.direction,
        info.epoch,
        half=True,
    )
    generator, _ = load_generator(path)
    outputs = from_model_output(generator(to_model_input(inputs, "float")), "float")
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        "psnr_db": mean_psnr(outputs, keras_out),
        "max_abs_diff": int(np.abs(outputs.astype(int) - keras_out.astype(int)).max()),
    }


def write_parity_report(report: ExportReport, grid_columns: dict, out_dir: Path) -> None:
    """parity.png (Keras beside each variant), parity.json and parity.md."""
    count = len(next(iter(grid_columns.values())))
    rows = [[grid_columns[c][i] for c in grid_columns] for i in range(count)]
    save_image_grid(
        rows,
        list(grid_columns),
        out_dir / "parity.png",
        title=f"{report.direction} generator: Keras against its TFLite exports",
    )
    (out_dir / "parity.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    (out_dir / "parity.md").write_text(report.to_markdown())


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
        "config": info.config.to_dict(),  # the key the .keras sidecar uses too
    }
    sidecar = file.with_suffix(".json")
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    return sidecar
