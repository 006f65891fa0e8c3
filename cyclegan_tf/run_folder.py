"""The files of a run folder, named in one place (README.md, "What a run folder holds").

Example:
    run = RunFolder("runs/tiny")
    run.generator("AtoB")   # runs/tiny/generator_ab.keras
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GENERATOR_FILES = {"AtoB": "generator_ab.keras", "BtoA": "generator_ba.keras"}


@dataclass(frozen=True)
class RunFolder:
    """Where each file of a training run lives."""

    path: Path

    def __init__(self, path: str | os.PathLike):
        object.__setattr__(self, "path", Path(path))

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint"

    @property
    def losses_csv(self) -> Path:
        return self.path / "losses.csv"

    @property
    def losses_png(self) -> Path:
        return self.path / "losses.png"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def machine_log(self) -> Path:
        return self.path / "machine.log"

    def generator(self, direction: str) -> Path:
        """The `.keras` file of the AtoB or BtoA generator."""
        return self.path / GENERATOR_FILES[direction]
