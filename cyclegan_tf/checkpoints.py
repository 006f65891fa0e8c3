"""Saving and loading single generators, and the architecture check every load goes through.

Before a checkpoint is loaded (`cyclegan_tf.training_state`) its saved config is compared with the
model's: one of another architecture is refused with the differing options named, and nothing in
the model is touched. Generators are written atomically (a temporary file, then a rename).

Example:
    save_generator(model.generator_ab, "runs/demo/generator_ab.keras", model.config, "AtoB")
    generator, info = load_generator("runs/demo/generator_ab.keras")
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from cyclegan_tf import (
    networks,  # noqa: F401 - registers the custom layers for loading
    registry,
)
from cyclegan_tf.atomic import replaced_atomically, write_text_atomically
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.dtype_policies import with_float32_compute
from cyclegan_tf.errors import UserError
from cyclegan_tf.half_weights import save_half
from cyclegan_tf.pretrained import resolve_model
from cyclegan_tf.run_folder import RunFolder

DIRECTIONS = registry.DIRECTIONS


class IncompatibleCheckpointError(UserError, ValueError):
    """A checkpoint made with another architecture than the model it would be loaded into."""


def check_compatible(
    model_config: CycleGANConfig, saved_config: CycleGANConfig, source: str | os.PathLike
) -> None:
    """Raise IncompatibleCheckpointError naming every architecture option that differs."""
    ours, theirs = model_config.architecture(), saved_config.architecture()
    differences = [
        f"{k}: checkpoint has {theirs[k]!r}, model has {ours[k]!r}"
        for k in ours
        if ours[k] != theirs[k]
    ]
    if differences:
        raise IncompatibleCheckpointError(
            f"checkpoint {os.fspath(source)} was made with another architecture; nothing was "
            f"loaded. Differences: " + "; ".join(differences)
        )


@dataclass(frozen=True)
class GeneratorInfo:
    """What the sidecar JSON of a saved generator says about it."""

    config: CycleGANConfig
    direction: str
    epoch: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "direction": self.direction,
            "epoch": self.epoch,
            "input_range": [-1.0, 1.0],
            "output_range": [-1.0, 1.0],
        }


def resolve_generator_path(model: str | os.PathLike, direction: str | None) -> Path:
    """A generator `.keras` file from a run folder (by direction), a shipped model's name, or the
    file itself."""
    model = resolve_model(model)
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    if model.is_dir():
        path = RunFolder(model).generator(direction or "AtoB")
        name = path.name
        if not path.is_file():
            raise FileNotFoundError(f"run folder {model} has no {name} (has it finished an epoch?)")
        return path
    if model.suffix != ".keras" or not model.is_file():
        raise FileNotFoundError(
            f"model {model} is neither a run folder, a .keras file nor a shipped model's name"
        )
    return model


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """`generator_ab.keras` -> `generator_ab.json`."""
    return Path(model_path).with_suffix(".json")


def save_generator(
    generator: keras.Model,
    path: str | os.PathLike,
    config: CycleGANConfig,
    direction: str,
    epoch: int | None = None,
    half: bool = False,
) -> Path:
    """Save one generator as a `.keras` file plus a JSON sidecar with its config and direction.

    `half=True` stores the weights in float16 (half the file, for shipping; loading computes in
    float32 again: `cyclegan_tf.half_weights`)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"generator path must end in .keras, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(path) as temporary:
        generator = with_float32_compute(generator)  # trained under mixed precision: float32
        if half:
            save_half(generator, temporary)
        else:
            generator.save(temporary)
    info = GeneratorInfo(config, direction, epoch)
    write_text_atomically(sidecar_path(path), json.dumps(info.to_dict(), indent=2) + "\n")
    return path


def load_generator(path: str | os.PathLike) -> tuple[keras.Model, GeneratorInfo]:
    """A generator saved by `save_generator`, loaded with `safe_mode=True`, and its sidecar info."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved generator at {path}")
    meta_path = sidecar_path(path)
    if not meta_path.is_file():
        raise FileNotFoundError(
            f"{path} has no sidecar {meta_path.name}; it was not saved by cyclegan-tf"
        )
    meta = json.loads(meta_path.read_text())
    info = GeneratorInfo(
        CycleGANConfig.from_dict(meta["config"]), meta["direction"], meta.get("epoch")
    )
    return load_keras_safely(path), info


def load_keras_safely(path: Path) -> keras.Model:
    """`keras.saving.load_model` with `safe_mode=True`; every failure is one sentence naming
    the file: a model file is untrusted input (a Lambda layer would run arbitrary code).
    A model stored with float16 weights or a mixed-precision policy comes back computing in
    float32 (`cyclegan_tf.dtype_policies`)."""
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        return with_float32_compute(model)
    except Exception as e:
        if "safe_mode" in str(e) or "Lambda" in str(e):
            raise ValueError(
                f"refusing to load {path}: it holds Python code (a Lambda layer), which "
                "cyclegan-tf never saves and which would run on loading; use only model files "
                "you trust"
            ) from None
        raise ValueError(
            f"{path} is not a readable Keras model (truncated or corrupt?): {type(e).__name__}: {e}"
        ) from None
