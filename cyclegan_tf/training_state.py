"""The full training state, saved atomically every epoch and every N steps, and restored on resume.

Keras 3's `BackupAndRestore` writes its weights file in place (a kill -9 during the write leaves
a broken file), writes the epoch in a second file after it (a kill between the two pairs new
weights with an old epoch), and restores only the epoch, not the step. Here each save is one
folder, written under a temporary name and renamed into place; a pointer file names the latest
complete one:

    checkpoint/
        config.json                  the run's config, checked before anything is loaded
        latest                       "state-e0003-s000200": the newest complete state
        state-e0003-s000200/         3 epochs done and 200 steps of the 4th
            model.weights.h5         four networks, both optimizers (Adam moments, step
                                     counters), both image pools
            training_metadata.json   {"epoch": 3, "step": 200}
        state-e0003-s000000/         the state before it, kept until the next one is complete

A save that fails (no space left, read-only folder) removes its partial folder and leaves the
previous state and the pointer untouched; a state with a non-finite weight is never written.
Run folders from before this module (Keras' `latest.weights.h5` + `training_metadata.json`)
still resume.

Example:
    checkpoint = TrainingCheckpoint("runs/x/checkpoint", config, every_steps=200)
    model.fit(data, epochs=10, callbacks=[checkpoint])
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from cyclegan_tf.atomic import remove_quietly, sync_path, write_text_atomically
from cyclegan_tf.checkpoints import IncompatibleCheckpointError, check_compatible
from cyclegan_tf.config import CycleGANConfig

logger = logging.getLogger(__name__)

POINTER = "latest"
WEIGHTS = "model.weights.h5"
METADATA = "training_metadata.json"
LEGACY_WEIGHTS = "latest.weights.h5"  # Keras BackupAndRestore's layout
STATE_NAME = re.compile(r"^state-e(\d+)-s(\d+)$")
# Fault injection for the kill -9 tests: when saving the state named by CYCLEGAN_TF_SAVE_PAUSE_AT
# (e.g. "state-e0001-s000002"), create the file named by CYCLEGAN_TF_SAVE_PAUSE_FLAG and sleep 60 s
# with the state written but not yet renamed into place, so a test can kill the process there.
SAVE_PAUSE_AT_ENV = "CYCLEGAN_TF_SAVE_PAUSE_AT"
SAVE_PAUSE_FLAG_ENV = "CYCLEGAN_TF_SAVE_PAUSE_FLAG"


class CheckpointWriteError(OSError):
    """The training state could not be written; the previous checkpoint is intact."""


class NonFiniteStateError(ArithmeticError):
    """The model's weights hold NaN or infinity; such a state is never saved."""


@dataclass(frozen=True)
class SavedState:
    """A complete saved state: `epoch` epochs done, plus `step` steps of the next one."""

    folder: Path
    epoch: int
    step: int
    legacy: bool = False  # Keras BackupAndRestore's files, directly in the checkpoint folder

    @property
    def weights(self) -> Path:
        return self.folder / (LEGACY_WEIGHTS if self.legacy else WEIGHTS)


def latest_state(checkpoint_dir: str | os.PathLike) -> SavedState | None:
    """The newest complete state in `checkpoint_dir` (what a resume loads), or None."""
    checkpoint_dir = Path(checkpoint_dir)
    pointer = checkpoint_dir / POINTER
    if pointer.is_file():
        state = _read_state(checkpoint_dir / pointer.read_text().strip())
        if state is not None:
            return state
        logger.warning("%s names a missing or incomplete state; using the newest complete", pointer)
    states = [_read_state(p) for p in checkpoint_dir.glob("state-e*-s*") if p.is_dir()]
    states = [s for s in states if s is not None]
    if states:
        return max(states, key=lambda s: (s.epoch, s.step))
    legacy = checkpoint_dir / METADATA
    if legacy.is_file() and (checkpoint_dir / LEGACY_WEIGHTS).is_file():
        values = json.loads(legacy.read_text())
        return SavedState(checkpoint_dir, int(values["epoch"]), 0, legacy=True)
    return None


def checkpoint_epoch(checkpoint_dir: str | os.PathLike) -> int | None:
    """The number of epochs completed by the checkpoint in `checkpoint_dir`, or None."""
    state = latest_state(checkpoint_dir)
    return None if state is None else state.epoch


def _read_state(folder: Path) -> SavedState | None:
    match = STATE_NAME.match(folder.name)
    if not match or not (folder / WEIGHTS).is_file() or not (folder / METADATA).is_file():
        return None
    try:
        values = json.loads((folder / METADATA).read_text())
        return SavedState(folder, int(values["epoch"]), int(values["step"]))
    except (ValueError, KeyError, OSError):
        return None


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state at every epoch's end and every `every_steps` steps.

    On `on_train_begin` the latest complete state is checked against `config` (another
    architecture is refused before anything is loaded) and restored; fit then starts at its
    epoch. A mid-epoch state's steps are known as `resumed.step`: `train_run` trains only the
    rest of that epoch.
    """

    def __init__(
        self,
        checkpoint_dir: str | os.PathLike,
        config: CycleGANConfig,
        every_steps: int = 0,
        keep: int = 2,
        restore_from: str | os.PathLike | None = None,
    ):
        """`restore_from`: where to resume from, if not `checkpoint_dir` (a non-chief worker of
        a multi-worker run resumes from the chief's folder and saves into its own)."""
        super().__init__()
        self.checkpoint_dir = Path(checkpoint_dir)
        self.restore_dir = Path(restore_from) if restore_from else self.checkpoint_dir
        self.config = config
        self.every_steps = every_steps
        self.keep = max(1, keep)
        self.resumed: SavedState | None = None
        self._restored = False
        self._epoch = 0
        self._step_offset = 0

    @property
    def config_path(self) -> Path:
        return self.checkpoint_dir / "config.json"

    # -- restoring ----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        state = self.restore()
        if state is not None:
            self.model._initial_epoch = state.epoch  # fit starts at the saved epoch

    def restore(self, model: keras.Model | None = None) -> SavedState | None:
        """Load the latest complete state into `model` (once); return it, or None if none."""
        if model is not None:
            self.set_model(model)
        if self._restored:
            return None
        self._restored = True
        state = latest_state(self.restore_dir)
        if state is None:
            return None
        config_path = self.restore_dir / "config.json"
        if not config_path.exists():
            raise IncompatibleCheckpointError(
                f"checkpoint {self.restore_dir} has no config.json, so its architecture "
                "cannot be checked; refusing to load it"
            )
        saved = CycleGANConfig.load_json(config_path)
        check_compatible(self.config, saved, self.restore_dir)
        self.model.load_weights(state.weights)
        self.resumed = state
        logger.info("resumed from %s (epoch %d, step %d)", state.folder, state.epoch, state.step)
        return state

    # -- saving -------------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        resumed = self.resumed
        self._step_offset = resumed.step if resumed and epoch == resumed.epoch else 0

    def on_train_batch_end(self, batch, logs=None):
        step = self._step_offset + batch + 1
        last = batch + 1 == (self.params or {}).get("steps")  # the epoch-end save follows
        if self.every_steps and step % self.every_steps == 0 and not last:
            self.save(self._epoch, step)

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, 0)

    def save(self, epoch: int, step: int) -> Path:
        """Write the state atomically; return its folder."""
        check_finite(self.model, epoch, step)
        name = f"state-e{epoch:04d}-s{step:06d}"
        final = self.checkpoint_dir / name
        partial = self.checkpoint_dir / f".{name}.partial-{os.getpid()}"
        try:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            check_free_space(self.checkpoint_dir, state_bytes(self.model))
            remove_quietly(partial)
            partial.mkdir()
            self.model.save_weights(partial / WEIGHTS)
            (partial / METADATA).write_text(json.dumps({"epoch": epoch, "step": step}) + "\n")
            for path in (partial / WEIGHTS, partial / METADATA, partial):
                sync_path(path)
            _pause_for_fault_injection(name)
            remove_quietly(final)  # a complete state of this name that no pointer names yet
            os.rename(partial, final)
            write_text_atomically(self.checkpoint_dir / POINTER, name + "\n")
            self.config.save_json(self.config_path)
        except OSError as e:
            remove_quietly(partial)
            previous = latest_state(self.checkpoint_dir)
            kept = (
                f"the previous checkpoint ({previous.folder.name}, epoch {previous.epoch} step "
                f"{previous.step}) is intact"
                if previous
                else "no earlier checkpoint exists"
            )
            raise CheckpointWriteError(
                e.errno,
                f"could not write the checkpoint to {self.checkpoint_dir}: "
                f"{e.strerror or e}; {kept}",
                str(e.filename or self.checkpoint_dir),
            ) from e
        self._remove_old_states(final)
        return final

    def _remove_old_states(self, newest: Path) -> None:
        states = sorted(
            (s for s in (_read_state(p) for p in self.checkpoint_dir.glob("state-e*-s*")) if s),
            key=lambda s: (s.epoch, s.step),
        )
        for state in states[: -self.keep]:
            if state.folder != newest:
                remove_quietly(state.folder)
        for stale in self.checkpoint_dir.glob(".state-e*.partial-*"):
            remove_quietly(stale)
        for legacy in (LEGACY_WEIGHTS, METADATA, LEGACY_WEIGHTS + ".bkp", METADATA + ".bkp"):
            remove_quietly(self.checkpoint_dir / legacy)


def state_bytes(model: keras.Model) -> int:
    """About what a saved state takes on disk: every variable, optimizers' included."""
    variables = list(model.weights)
    for optimizer in {id(o): o for o in _optimizers(model)}.values():
        variables += list(optimizer.variables)
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)


def _optimizers(model: keras.Model) -> list:
    names = ("optimizer", "gen_optimizer", "disc_optimizer")
    return [o for o in (getattr(model, n, None) for n in names) if o is not None]


def check_free_space(folder: Path, needed: int) -> None:
    """Raise ENOSPC before writing a state that cannot fit.

    h5py does not recover from a write that fails half-way (the failed file's cleanup can crash
    the process at exit), so a full disk is caught here, with a margin, before the file is opened.
    """
    margin = needed // 10 + (1 << 20)
    free = shutil.disk_usage(folder).free
    if free < needed + margin:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device: a checkpoint needs about {(needed + margin) / 2**20:.1f} "
            f"MB, {free / 2**20:.1f} MB are free",
            str(folder),
        )


def check_finite(model: keras.Model, epoch: int, step: int) -> None:
    """Raise NonFiniteStateError naming the first weight that holds NaN or infinity."""
    for variable in model.weights:
        values = np.asarray(variable)
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise NonFiniteStateError(
                f"weights became NaN or infinite ({variable.path}) after {epoch} epoch(s) and "
                f"{step} step(s); this state was not saved"
            )


def _pause_for_fault_injection(name: str) -> None:
    if os.environ.get(SAVE_PAUSE_AT_ENV) != name:
        return
    import time

    Path(os.environ[SAVE_PAUSE_FLAG_ENV]).write_text(f"writing {name}\n")
    time.sleep(60)
