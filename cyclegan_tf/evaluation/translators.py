"""One interface over what can be evaluated: a Keras generator or an exported `.tflite` file.

A translator maps uint8 RGB images (N, S, S, 3) to uint8 RGB images, so quantized models with
uint8 I/O and float models are measured the same way.

Example:
    translators = load_translators("runs/tiny")          # {'AtoB': ..., 'BtoA': ...}
    translators = load_translators("export/generator_ab_int8.tflite")
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import numpy as np

from cyclegan_tf.checkpoints import DIRECTIONS, load_generator
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.imaging import uint8_to_model
from cyclegan_tf.inference import translate_batch
from cyclegan_tf.pretrained import resolve_model
from cyclegan_tf.run_folder import RunFolder


class KerasTranslator:
    """A saved Keras generator; runs at any size its architecture allows."""

    def __init__(
        self,
        generator: keras.Model,
        direction: str,
        name: str,
        config: CycleGANConfig | None = None,
        batch_size: int = 8,
    ):
        self.generator, self.direction, self.name = generator, direction, name
        self.batch_size = batch_size
        self.size: int | None = None  # fully convolutional: any size its strides allow
        self.config = config

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return translate_batch(self.generator, uint8_to_model(images), self.batch_size)


class TFLiteTranslator:
    """An exported `.tflite` generator run with LiteRT, one image at a time (batch 1)."""

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None):
        from cyclegan_tf.export.litert import TFLiteModel
        from cyclegan_tf.export.tflite import from_model_output, to_model_input

        self.path = Path(path)
        self.model = TFLiteModel(self.path, num_threads=num_threads)
        sidecar = self.path.with_suffix(".json")
        meta = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        self.direction = meta.get("direction", "AtoB")
        self.name = self.path.name
        self.io = "uint8" if self.model.input_dtype == np.uint8 else "float"
        fixed = self.model.input_shape[1]
        resizable = -1 in tuple(self.model.input["shape_signature"])
        self.size = None if resizable else fixed
        # `training_config`: the key of sidecars exported before it was renamed `config`
        trained = meta.get("config", meta.get("training_config"))
        self.config = CycleGANConfig.from_dict(trained) if trained else None
        self._to_input, self._from_output = to_model_input, from_model_output

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if self.size is not None and images.shape[1:3] != (self.size, self.size):
            raise ValueError(
                f"{self.name} takes {self.size}x{self.size} images, got "
                f"{images.shape[1]}x{images.shape[2]}; evaluate with --size {self.size}"
            )
        outputs = [
            self._from_output(self.model.run(self._to_input(image[None], self.io)), self.io)[0]
            for image in images
        ]
        return np.stack(outputs)


Translator = KerasTranslator | TFLiteTranslator


def load_translators(model: str | os.PathLike, direction: str | None = None) -> dict:
    """{direction: translator} for a run folder (both generators), a `.keras` or `.tflite` file,
    or a shipped model's name (`selfie2anime-mobile`, `selfie2anime-mobile:int8`)."""
    model = resolve_model(model)
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    if model.is_dir():
        files = {d: RunFolder(model).generator(d) for d in DIRECTIONS}
        wanted = [direction] if direction else list(files)
        translators = {}
        for d in wanted:
            if not files[d].is_file():
                raise FileNotFoundError(f"run folder {model} has no {files[d].name}")
            generator, info = load_generator(files[d])
            translators[d] = KerasTranslator(
                generator, d, f"{model.name}/{files[d].name}", info.config
            )
        return translators
    if model.suffix == ".tflite":
        translator = TFLiteTranslator(model)
    elif model.suffix == ".keras":
        generator, info = load_generator(model)
        translator = KerasTranslator(generator, info.direction, model.name, info.config)
    else:
        raise FileNotFoundError(
            f"model {model} is not a run folder, a generator .keras file or a .tflite file"
        )
    if direction and translator.direction != direction:
        raise ValueError(f"{model} translates {translator.direction}, not {direction}")
    return {translator.direction: translator}
