"""Converting a generator to `.tflite`: fp32, fp16, dynamic-range and full-integer int8.

The exported graph has a fixed input shape `1 x S x S x 3` (what Android's ML Model Binding and most
apps need) unless `resizable=True`. With `io="uint8"` the model takes RGB bytes and returns RGB
bytes: the scaling to and from [-1, 1] happens inside the graph, so an app feeds camera pixels.

Example:
    tflite_bytes = convert_generator(generator, "int8", size=256, calibration=images_uint8)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from cyclegan_tf import registry
from cyclegan_tf.dtype_policies import with_float32_compute
from cyclegan_tf.export import int8_ranges
from cyclegan_tf.export.equalize import equalize_for_int8
from cyclegan_tf.export.export_layers import with_export_layers
from cyclegan_tf.export.lowering import fast_copy
from cyclegan_tf.imaging import model_to_uint8, uint8_to_model

logger = logging.getLogger(__name__)

QUANTIZATIONS = registry.QUANTIZATIONS
IO_TYPES = registry.IO_TYPES
MIN_CALIBRATION_IMAGES = 100
EQUALIZATION_IMAGES = 32
RANGE_TUNING_IMAGES = 24

# Instance norm in int8 loses the picture: the squares that make the variance round to zero and
# its rsqrt has no useful int8 range. These ops stay float in the int8 export (convolutions,
# depthwise included, stay int8). Measured on the trained phone-size generator at 256x256, with
# channel equalization and least-error ranges (benchmarks/results/int8_parity.md): all-int8
# 27.1 dB PSNR against Keras; this list 32.9 dB; keeping the depthwise convs float too 33.1 dB.
NORM_FLOAT_OPS = ("AVERAGE_POOL_2D", "SUB", "MUL", "ADD", "RSQRT")


def serving_function(generator: keras.Model, size: int | None, io: str = "float"):
    """A `tf.function` with the app-facing signature around `generator`."""
    if io not in IO_TYPES:
        raise ValueError(f"io must be one of {list(IO_TYPES)}, got {io!r}")
    dtype = tf.uint8 if io == "uint8" else tf.float32
    spec = tf.TensorSpec([1, size, size, 3], dtype, name="image")

    @tf.function(input_signature=[spec])
    def translate(image):
        x = tf.cast(image, tf.float32) / 127.5 - 1.0 if io == "uint8" else image
        y = tf.cast(generator(x, training=False), tf.float32)
        if io == "uint8":
            y = tf.cast(tf.round(tf.clip_by_value((y + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)
        return {"translated": y}

    return translate


def to_model_input(images_uint8: np.ndarray, io: str) -> np.ndarray:
    """uint8 images -> what an exported model with this `io` takes."""
    if io == "uint8":
        return np.asarray(images_uint8, np.uint8)
    return uint8_to_model(images_uint8)


def from_model_output(outputs: np.ndarray, io: str) -> np.ndarray:
    """What an exported model returns -> uint8 images."""
    if io == "uint8":
        return np.asarray(outputs, np.uint8)
    return model_to_uint8(outputs)


def frozen_serving_function(
    generator: keras.Model, size: int | None, io: str = "float", lowering: bool = True
):
    """The serving function with its weights as constants, lowered for TFLite when size is fixed.

    Converting with the weights as variables leaves VAR_HANDLE/READ_VARIABLE ops and runtime
    transposes of every kernel in the `.tflite` (and breaks int8 calibration), so freeze first.
    See `cyclegan_tf.export.lowering` for the rewrites; `lowering=False` keeps the graph as
    traced (to measure what the rewrites gain).
    """
    if lowering and size is not None:
        generator = fast_copy(with_export_layers(generator, lowered=True))
    concrete = serving_function(generator, size, io).get_concrete_function()
    return convert_variables_to_constants_v2(concrete)


def save_serving_model(
    generator: keras.Model, path: str | os.PathLike, size: int | None, io: str = "float"
) -> None:
    """A TF SavedModel (for TF Serving or further conversion) with the app-facing signature."""
    module = tf.Module()
    module.generator = generator
    module.translate = serving_function(generator, size, io)
    tf.saved_model.save(module, os.fspath(path), signatures={"serving_default": module.translate})


def convert_generator(
    generator: keras.Model,
    quantize: str,
    size: int | None = 256,
    io: str = "float",
    calibration: Sequence[np.ndarray] | None = None,
    progress: bool = True,
    float_ops: Sequence[str] = NORM_FLOAT_OPS,
    equalize: bool = True,
    mse_ranges: bool = True,
    lowering: bool = True,
    float_nodes: Sequence[str] = (),
) -> bytes:
    """The `.tflite` flatbuffer of `generator` with the given quantization.

    `calibration` (uint8 RGB images of the input domain, at least 100 for int8) calibrates the
    activation ranges of the int8 model; it is shown with a progress bar. `float_ops` are op types
    the int8 model keeps in float (default: the instance-norm arithmetic; () for all-int8).
    `equalize` rescales the conv channels before each instance norm for int8 (same float
    function, even int8 ranges; see `cyclegan_tf.export.equalize`); `mse_ranges` replaces the
    calibrated min/max activation ranges by least-error ones (`cyclegan_tf.export.int8_ranges`).
    `lowering=False` skips the fast-op rewrites of `cyclegan_tf.export.lowering` (comparisons).
    `float_nodes` are single ops the int8 model keeps in float, named by their output tensor
    (`benchmarks/int8_sensitivity.py` ranks them).
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {list(QUANTIZATIONS)}, got {quantize!r}")
    if size is None and quantize != "fp32":
        raise ValueError("a resizable model (size None) is only exported as fp32")
    generator = with_float32_compute(generator)  # trained under mixed precision: float32 graph
    if quantize == "int8":
        calibrated = calibrate_int8(
            generator, size, io, calibration, progress, equalize, mse_ranges, lowering
        )
        return int8_ranges.quantize(calibrated, float_ops, float_nodes)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [frozen_serving_function(generator, size, io, lowering)]
    )
    return QUANTIZATION_RECIPES[quantize](converter)


def calibrate_int8(
    generator: keras.Model,
    size: int,
    io: str,
    calibration: Sequence[np.ndarray] | None,
    progress: bool = True,
    equalize: bool = True,
    mse_ranges: bool = True,
    lowering: bool = True,
) -> bytes:
    """The float `.tflite` with its int8 activation ranges, ready for `int8_ranges.quantize`
    (separate so that one calibration serves several choices of float ops)."""
    images = _check_calibration(calibration, size)
    if equalize:
        sample = to_model_input(np.stack(images[:EQUALIZATION_IMAGES]), "float")
        generator = equalize_for_int8(generator, sample)
    # With io="uint8" the graph itself takes and returns bytes (CAST and scaling inside), so the
    # bytes are exactly RGB. Letting the converter quantize float I/O to uint8 instead gives
    # tensors with calibrated scales (e.g. zero point 124, not 127.5): raw camera bytes would be
    # read slightly wrong, and it rules out keeping the norm ops in float.
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [frozen_serving_function(generator, size, io, lowering)]
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative_dataset(images, io, progress)
    # Integer kernels wherever TFLite has them; the rest stays float (reported).
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
        tf.lite.OpsSet.TFLITE_BUILTINS,
    ]
    calibrated = int8_ranges.calibrate(converter)
    if mse_ranges:
        sample = [to_model_input(image[None], io) for image in images[:RANGE_TUNING_IMAGES]]
        calibrated = int8_ranges.tune_ranges(calibrated, sample, progress)
    return calibrated


def _fp32(converter) -> bytes:
    return converter.convert()


def _fp16(converter) -> bytes:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def _dynamic(converter) -> bytes:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


# One converter recipe per name of `registry.QUANTIZATIONS` but int8, which is calibrated
# (`calibrate_int8`) and then quantized by `int8_ranges.quantize`.
QUANTIZATION_RECIPES: dict[str, Callable[..., bytes]] = {
    "fp32": _fp32,
    "fp16": _fp16,
    "dynamic": _dynamic,
}
if set(QUANTIZATION_RECIPES) | {"int8"} != set(QUANTIZATIONS):
    raise ImportError("tflite.QUANTIZATION_RECIPES does not cover registry.QUANTIZATIONS")


def _check_calibration(calibration, size: int) -> list[np.ndarray]:
    if calibration is None or len(calibration) < MIN_CALIBRATION_IMAGES:
        count = 0 if calibration is None else len(calibration)
        raise ValueError(
            f"int8 export needs at least {MIN_CALIBRATION_IMAGES} calibration images of the input "
            f"domain (--calibration DIR), got {count}"
        )
    images = []
    for image in calibration:
        image = np.asarray(image, np.uint8)
        if image.shape != (size, size, 3):
            image = np.asarray(tf.image.resize(image, (size, size), antialias=True))
            image = np.clip(np.round(image), 0, 255).astype(np.uint8)
        images.append(image)
    return images


def _representative_dataset(images: list[np.ndarray], io: str, progress: bool):
    def generate():
        bar = keras.utils.Progbar(len(images), unit_name="image") if progress else None
        for image in images:
            yield [to_model_input(image[None], io)]
            if bar:
                bar.add(1)

    return generate
