"""int8 activation ranges that minimize the quantization error, not the ones that cover every value.

TFLite's calibrator sets each activation's int8 range to the min and max it saw. After instance
norms a few pixels reach 20-25 standard deviations, so the range is mostly empty and every other
value gets a coarse step. Here each range is shrunk to the one with the least expected squared
error on the calibration images (rounding error inside the range plus clipping error outside),
from a histogram per tensor; the usual MSE calibration of inference compilers, applied between
TFLite's calibration and its quantizer. Measured on the phone-size generator trained on real
photos, 256x256: 27.2 dB -> 31.7 dB PSNR against the float model (32.9 dB with channel
equalization; benchmarks/results/int8_parity.md).

Example:
    calibrated = calibrate(converter)                      # float model with min/max stats
    calibrated = tune_ranges(calibrated, inputs)           # MSE-optimal ranges
    tflite_bytes = quantize(calibrated, ("AVERAGE_POOL_2D",))
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter
from tensorflow.lite.python import convert
from tensorflow.lite.tools import flatbuffer_utils

HISTOGRAM_BINS = 2048
# Candidate ranges: the calibrated one times these factors (0.03 keeps 3% of it).
SHRINK_FACTORS = np.geomspace(1.0, 0.03, 80)
LEVELS = 255


def calibrate(converter) -> bytes:
    """The float model with calibrated min/max statistics on its activations, not quantized."""
    converter._experimental_calibrate_only = True
    return converter.convert()


def quantize(
    calibrated: bytes, float_ops: Sequence[str] = (), float_nodes: Sequence[str] = ()
) -> bytes:
    """The int8 model from a calibrated one; `float_ops` are op types kept in float,
    `float_nodes` single ops kept in float, named by their output tensor."""
    if float_nodes:
        graph = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated)).subgraphs[0]
        known = {t.name.decode() for t in graph.tensors if t.name}
        unknown = sorted(set(float_nodes) - known)
        if unknown:
            raise ValueError(
                f"float node(s) {unknown} are not ops of this model (names are output tensors "
                "of the float .tflite; benchmarks/int8_sensitivity.py lists them)"
            )
    return convert.mlir_quantize(
        calibrated,
        disable_per_channel=False,
        fully_quantize=False,
        denylisted_ops=list(float_ops),
        denylisted_nodes=list(float_nodes),
    )


def conv_nodes(calibrated: bytes) -> list[str]:
    """Output tensor names of the convolutions of a calibrated `.tflite`, in graph order: the
    names `quantize(float_nodes=...)` takes."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    graph = model.subgraphs[0]
    builtin = flatbuffer_utils.schema_fb.BuiltinOperator
    codes = {builtin.CONV_2D, builtin.DEPTHWISE_CONV_2D, builtin.TRANSPOSE_CONV}
    names = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) in codes:
            names.append(graph.tensors[op.outputs[0]].name.decode())
    return names


def tune_ranges(calibrated: bytes, inputs: Sequence[np.ndarray], progress: bool = True) -> bytes:
    """`calibrated` with each activation's range set to its least-squared-error range.

    `inputs` are model inputs (batch 1 each), typically part of the calibration set. The model's
    own input and output keep their ranges (they are fixed by the app contract).
    """
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    graph = model.subgraphs[0]
    fixed = set(graph.inputs) | set(graph.outputs)
    tensors = {
        index: tensor
        for index, tensor in enumerate(graph.tensors)
        if index not in fixed and _has_range(tensor)
    }
    ranges = {
        i: (float(t.quantization.min[0]), float(t.quantization.max[0])) for i, t in tensors.items()
    }
    histograms = _histograms(calibrated, inputs, ranges, progress)
    for index, tensor in tensors.items():
        if histograms[index].sum() == 0:
            continue
        low, high = best_range(histograms[index], *ranges[index])
        tensor.quantization.min = np.array([low], np.float32)
        tensor.quantization.max = np.array([high], np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def best_range(counts: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """The shrunk [low, high] with the least expected squared int8 error for this histogram.

    Inside the range the rounding error of a uniform step s is s^2 / 12 per value; outside it
    values are clipped to the nearer end. A range with low >= 0 (after a ReLU) keeps low.
    """
    if high <= low:
        return low, high
    bins = len(counts)
    centres = low + (np.arange(bins) + 0.5) * (high - low) / bins
    best = (np.inf, low, high)
    for factor in SHRINK_FACTORS:
        lo, hi = (low, high * factor) if low >= 0 else (low * factor, high * factor)
        step = (hi - lo) / LEVELS
        below, above = centres < lo, centres > hi
        inside = ~(below | above)
        error = (
            counts[inside].sum() * step**2 / 12
            + (counts[below] * (lo - centres[below]) ** 2).sum()
            + (counts[above] * (centres[above] - hi) ** 2).sum()
        )
        if error < best[0]:
            best = (error, lo, hi)
    return float(best[1]), float(best[2])


def _has_range(tensor) -> bool:
    q = tensor.quantization
    return q is not None and q.min is not None and q.max is not None and len(q.min) == 1


def _histograms(calibrated: bytes, inputs, ranges: dict, progress: bool) -> dict:
    interpreter = Interpreter(model_content=calibrated, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    histograms = {i: np.zeros(HISTOGRAM_BINS) for i in ranges}
    bar = keras.utils.Progbar(len(inputs), unit_name="image") if progress else None
    for x in inputs:
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        for index, (low, high) in ranges.items():
            if high <= low:
                continue
            values = interpreter.get_tensor(index).ravel()
            bins = ((values - low) * (HISTOGRAM_BINS / (high - low))).astype(np.int64)
            histograms[index] += np.bincount(
                np.clip(bins, 0, HISTOGRAM_BINS - 1), minlength=HISTOGRAM_BINS
            )
        if bar:
            bar.add(1)
    return histograms
