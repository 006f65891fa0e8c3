"""Running and inspecting `.tflite` files with LiteRT (`ai-edge-litert`).

Example:
    model = TFLiteModel("generator_int8.tflite", num_threads=2)
    anime = model.run(photo_batch)
    print(count_macs(model), float_ops(model))
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

# Ops whose arithmetic we count as multiply-accumulates; everything else is cheap beside them.
_MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED")


class TFLiteModel:
    """A `.tflite` file loaded in the LiteRT interpreter, ready to run one input at a time."""

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no .tflite file at {self.path}")
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
            self.input = self.interpreter.get_input_details()[0]
            if -1 in tuple(self.input["shape_signature"]):  # resizable: give it a real size
                self.interpreter.resize_tensor_input(self.input["index"], [1, 64, 64, 3])
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ValueError(f"{self.path} is not a valid .tflite model: {e}") from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.input["shape"])

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self.input["dtype"])

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """Run one input tensor (already in the model's dtype and range); returns the output."""
        inputs = np.asarray(inputs)
        if tuple(inputs.shape) != self.input_shape:
            if -1 in tuple(self.input["shape_signature"]):
                self.interpreter.resize_tensor_input(self.input["index"], inputs.shape)
                self.interpreter.allocate_tensors()
                self.input = self.interpreter.get_input_details()[0]
                self.output = self.interpreter.get_output_details()[0]
            else:
                raise ValueError(
                    f"{self.path.name} takes inputs of shape {self.input_shape}, got {inputs.shape}"
                )
        self.interpreter.set_tensor(self.input["index"], inputs.astype(self.input_dtype))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])

    def ops(self) -> list[dict]:
        """The graph's ops (the delegate nodes XNNPACK adds on top are left out)."""
        return [op for op in self.interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]

    def tensor(self, index: int) -> dict:
        return self._tensors[index]

    @property
    def _tensors(self) -> dict[int, dict]:
        if not hasattr(self, "_tensor_cache"):
            self._tensor_cache = {t["index"]: t for t in self.interpreter.get_tensor_details()}
        return self._tensor_cache


def count_macs(model: TFLiteModel) -> int:
    """Multiply-accumulates of one inference, counted from the graph's conv and dense ops."""
    total = 0
    for op in model.ops():
        name = op["op_name"]
        if name not in _MAC_OPS:
            continue
        out_shape = model.tensor(op["outputs"][0])["shape"]
        weights = model.tensor(op["inputs"][1])["shape"]
        if name == "CONV_2D":  # weights: [out, kh, kw, in]
            total += int(np.prod(out_shape)) * int(np.prod(weights[1:]))
        elif name == "DEPTHWISE_CONV_2D":  # weights: [1, kh, kw, channels]
            total += int(np.prod(out_shape)) * int(weights[1] * weights[2])
        elif name == "TRANSPOSE_CONV":  # inputs: (output_shape, weights [out, kh, kw, in], x)
            weights = model.tensor(op["inputs"][1])["shape"]
            x_shape = model.tensor(op["inputs"][2])["shape"]
            total += int(np.prod(x_shape)) * int(np.prod(weights[:3]))
        else:  # FULLY_CONNECTED: weights [out, in]
            rows = int(np.prod(out_shape)) // int(weights[0])
            total += rows * int(np.prod(weights))
    return total


def op_counts(model: TFLiteModel) -> dict[str, int]:
    """How many ops of each kind the graph has."""
    return dict(Counter(op["op_name"] for op in model.ops()))


def float_ops(model: TFLiteModel) -> dict[str, int]:
    """Compute ops that run in float32 (in an int8 model: those without an integer kernel)."""
    skip = {"QUANTIZE", "DEQUANTIZE", "CAST"}
    counter: Counter = Counter()
    for op in model.ops():
        if op["op_name"] in skip or len(op["outputs"]) == 0:
            continue
        if model.tensor(op["outputs"][0])["dtype"] == np.float32:
            counter[op["op_name"]] += 1
    return dict(counter)
