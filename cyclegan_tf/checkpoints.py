"""Saving and restoring: the full training state for resuming, and single generators for export.

A checkpoint folder holds the Keras `BackupAndRestore` files (four networks, both optimizers, both
image pools; the epoch in `training_metadata.json`) and our `config.json`. Before anything is loaded
the saved config is compared with the model's: a checkpoint of another architecture is refused
with the differing options named, and nothing in the model is touched.

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

from cyclegan_tf import networks  # noqa: F401 - registers the custom layers for loading
from cyclegan_tf.config import CycleGANConfig

DIRECTIONS = ("AtoB", "BtoA")


class IncompatibleCheckpointError(ValueError):
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


class CheckedBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that writes the config beside the state and checks it before loading.

    Kept after training ends (`delete_checkpoint=False`) so a finished run can be continued with
    more epochs and `cyclegan-tf info` can say which epoch a run reached.
    """

    def __init__(self, backup_dir: str | os.PathLike, config: CycleGANConfig, **kwargs):
        kwargs.setdefault("delete_checkpoint", False)
        super().__init__(os.fspath(backup_dir), **kwargs)
        self.config = config

    @property
    def config_path(self) -> Path:
        return Path(self.backup_dir) / "config.json"

    def _load_model(self):
        if Path(self._weights_path).exists():
            if not self.config_path.exists():
                raise IncompatibleCheckpointError(
                    f"checkpoint {self.backup_dir} has no config.json, so its architecture "
                    "cannot be checked; refusing to load it"
                )
            check_compatible(
                self.config, CycleGANConfig.load_json(self.config_path), self.backup_dir
            )
        super()._load_model()

    def _save_model(self):
        super()._save_model()
        self.config.save_json(self.config_path)


def checkpoint_epoch(checkpoint_dir: str | os.PathLike) -> int | None:
    """The number of epochs completed by the checkpoint in `checkpoint_dir`, or None."""
    path = Path(checkpoint_dir) / "training_metadata.json"
    if not path.exists():
        return None
    return int(json.loads(path.read_text())["epoch"])


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


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """`generator_ab.keras` -> `generator_ab.json`."""
    return Path(model_path).with_suffix(".json")


def save_generator(
    generator: keras.Model,
    path: str | os.PathLike,
    config: CycleGANConfig,
    direction: str,
    epoch: int | None = None,
) -> Path:
    """Save one generator as a `.keras` file plus a JSON sidecar with its config and direction."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"generator path must end in .keras, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    generator.save(path)
    info = GeneratorInfo(config, direction, epoch)
    sidecar_path(path).write_text(json.dumps(info.to_dict(), indent=2) + "\n")
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
    generator = keras.saving.load_model(path, compile=False, safe_mode=True)
    return generator, info
