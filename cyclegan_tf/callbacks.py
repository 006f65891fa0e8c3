"""Keras callbacks of a CycleGAN run: learning-rate decay, sample grids, loss curves, generators,
and the stop on a NaN loss.

Example:
    model.fit(train, epochs=config.total_epochs,
              callbacks=[LinearDecay(), SampleGrid(images_a, images_b, "runs/demo/samples")])
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import keras
import numpy as np

from cyclegan_tf.checkpoints import save_generator
from cyclegan_tf.imaging import model_to_uint8, uint8_to_model
from cyclegan_tf.inference import translate_batch
from cyclegan_tf.plots import save_image_grid, save_loss_curves
from cyclegan_tf.run_folder import RunFolder


def lr_factor(epoch: int, n_epochs: int, n_epochs_decay: int) -> float:
    """The official `lambda_rule`: 1 for `n_epochs` epochs, then linearly towards 0.

    `epoch` counts from 0; the factor of the last decay epoch is 1 / (n_epochs_decay + 1).
    """
    return 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)


class NonFiniteLossError(ArithmeticError):
    """A loss became NaN or infinite; the run stopped before saving that state."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first step whose losses are NaN or infinite, naming the step.

    Keras' `TerminateOnNaN` only sets `stop_training`, and the epoch's end callbacks still run,
    so a checkpoint of the broken weights would be written. This raises instead: nothing after
    the bad step runs, and the last checkpoint saved before it is what `--resume` loads.
    Put it first in the callback list.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: float(v) for k, v in (logs or {}).items() if not np.isfinite(float(v))}
        if bad:
            names = ", ".join(f"{k}={v}" for k, v in sorted(bad.items()))
            step = int(np.asarray(self.model.optimizer.iterations))
            raise NonFiniteLossError(
                f"training stopped: {names} at epoch {self._epoch + 1}, training step {step} "
                "(counted from the start of the run); the state after it was not saved"
            )


class LinearDecay(keras.callbacks.Callback):
    """Sets both optimizers' learning rate from the real epoch, so it is right after a resume."""

    def on_epoch_begin(self, epoch, logs=None):
        config = self.model.config
        lr = config.initial_lr * lr_factor(epoch, config.n_epochs, config.n_epochs_decay)
        for optimizer in (self.model.gen_optimizer, self.model.disc_optimizer):
            optimizer.learning_rate.assign(lr)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.model.gen_optimizer.learning_rate.numpy())


def save_translation_grid(
    model,
    images_a: np.ndarray,
    images_b: np.ndarray,
    path: str | os.PathLike,
    title: str | None = None,
) -> None:
    """One row per test pair: A | G(A) | F(G(A)) | B | F(B) | G(F(B)) (pairs of equal count)."""
    fake_b = translate_batch(model.generator_ab, images_a)
    rec_a = translate_batch(model.generator_ba, uint8_to_model(fake_b))
    fake_a = translate_batch(model.generator_ba, images_b)
    rec_b = translate_batch(model.generator_ab, uint8_to_model(fake_a))
    rows = [
        list(r)
        for r in zip(
            model_to_uint8(images_a),
            fake_b,
            rec_a,
            model_to_uint8(images_b),
            fake_a,
            rec_b,
            strict=True,
        )
    ]
    save_image_grid(
        rows, ["photo A", "G(A)", "F(G(A))", "anime B", "F(B)", "G(F(B))"], path, title=title
    )


class SampleGrid(keras.callbacks.Callback):
    """Every `every` epochs, save a grid of fixed test images, translated and reconstructed."""

    def __init__(
        self, images_a: np.ndarray, images_b: np.ndarray, folder: str | os.PathLike, every: int = 1
    ):
        super().__init__()
        self.images_a, self.images_b = np.asarray(images_a), np.asarray(images_b)
        self.folder, self.every = Path(folder), every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"epoch_{epoch + 1:03d}.png"
        with self.model.averaged_generators():
            save_translation_grid(
                self.model, self.images_a, self.images_b, path, title=f"epoch {epoch + 1}"
            )
        (self.folder / "latest.png").write_bytes(path.read_bytes())


class LossLog(keras.callbacks.Callback):
    """`losses.csv`: one row per epoch, kept across resumes with its columns aligned.

    Keras' `CSVLogger(append=True)` writes a resumed run's rows under the old header even when
    the run now logs other keys (validation switched off, metrics switched on), which shifts or
    overflows the columns. Here the file is rewritten each epoch with the union of the columns
    ("NA" where an epoch has no value), through a temporary file and a rename, so a crash never
    leaves half a log.
    """

    def __init__(self, path: str | os.PathLike):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        header, rows = ["epoch"], []
        if self.path.exists():
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                header = list(reader.fieldnames or header)
                rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
        rows = [r for r in rows if r.get("epoch") != str(epoch)]  # an epoch redone after a crash
        row = {"epoch": str(epoch), **{k: repr(float(v)) for k, v in (logs or {}).items()}}
        header += [k for k in row if k not in header]
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", newline="") as f:
            writer = csv.DictWriter(f, header, restval="NA")
            writer.writeheader()
            writer.writerows(rows + [row])
        os.replace(temporary, self.path)


class LossCurves(keras.callbacks.Callback):
    """Redraws the loss curves PNG from the CSV log at the end of every epoch.

    Must come after the `LossLog` in the callback list, so the epoch's row is written.
    """

    def __init__(self, csv_path: str | os.PathLike, png_path: str | os.PathLike):
        super().__init__()
        self.csv_path, self.png_path = Path(csv_path), Path(png_path)

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_path.exists():
            save_loss_curves(self.csv_path, self.png_path)


class SaveGenerators(keras.callbacks.Callback):
    """Saves G and F as `.keras` files with their config sidecars at the end of every epoch
    (their weight average, with `generator_ema`)."""

    def __init__(self, folder: str | os.PathLike):
        super().__init__()
        self.run = RunFolder(folder)

    def on_epoch_end(self, epoch, logs=None):
        config = self.model.config
        with self.model.averaged_generators():
            save_generator(
                self.model.generator_ab, self.run.generator("AtoB"), config, "AtoB", epoch + 1
            )
            save_generator(
                self.model.generator_ba, self.run.generator("BtoA"), config, "BtoA", epoch + 1
            )
