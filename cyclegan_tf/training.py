"""A whole training run in a run folder: what the CLI's `train` and the notebook call.

Run folder layout:
    config.json                   the config the run was made with
    checkpoint/                   full training state (BackupAndRestore), the epoch reached
    generator_ab.keras, .json     G (A->B) with its sidecar, rewritten every epoch
    generator_ba.keras, .json     F (B->A)
    losses.csv, losses.png        the loss log and its curves
    samples/epoch_NNN.png         input | translation | reconstruction grids of fixed test images
    logs/                         TensorBoard

Example:
    history = train_run(CycleGANConfig.preset("tiny"), "runs/tiny")
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cyclegan_tf.callbacks import LinearDecay, LossCurves, LossLog, SampleGrid, SaveGenerators
from cyclegan_tf.checkpoints import CheckedBackupAndRestore, check_compatible
from cyclegan_tf.config import ARCHITECTURE_FIELDS, CycleGANConfig
from cyclegan_tf.data import DECODE_REPORT, load_domains, paired_batches, unpaired_batches
from cyclegan_tf.machine import record_machine
from cyclegan_tf.model import CycleGAN
from cyclegan_tf.precision import resolve_precision

logger = logging.getLogger(__name__)
SAMPLE_IMAGES = 3


def build_model(
    config: CycleGANConfig,
    strategy: tf.distribute.Strategy | None = None,
    jit_compile: bool | str = "auto",
) -> CycleGAN:
    """A compiled CycleGAN (inside `strategy.scope()` when a strategy is given)."""
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = CycleGAN(config)
        model.compile(jit_compile=jit_compile)
    return model


def load_data(
    config: CycleGANConfig, strict: bool = False, cache: bool = False, test_images: int = 0
):
    """Training batches, validation batches, and fixed test images per domain.

    At least `SAMPLE_IMAGES` test pairs (the sample grid's), or `test_images` for the metrics.
    """
    common = dict(
        image_size=config.load_size,
        max_size=config.max_dataset_size,
        synthetic_size=config.synthetic_size,
        seed=config.seed,
        strict=strict,
    )
    train_a, train_b = load_domains(config.data, "train", **common)
    test_a, test_b = load_domains(config.data, "test", **common)
    train = unpaired_batches(train_a, train_b, config, cache=cache)
    eval_batch = 1 if config.preprocess in ("none", "scale_width") else config.batch_size
    validation = paired_batches(test_a, test_b, config, batch_size=eval_batch)
    count = max(SAMPLE_IMAGES, test_images)
    samples = paired_batches(test_a, test_b, config, batch_size=1).take(count)
    pairs = [(a[0].numpy(), b[0].numpy()) for a, b in samples]
    images_a, images_b = (np.stack(x) for x in zip(*pairs, strict=True))
    return train, validation, images_a, images_b


def prepare_run_dir(run_dir: str | os.PathLike, config: CycleGANConfig, resume: bool) -> Path:
    """Create the run folder, or check that an existing one is this run's (nothing is overwritten).

    A folder that already holds a run is only reused with `resume=True`, and then only by a
    config with the same architecture.
    """
    run_dir = Path(run_dir)
    saved = run_dir / "config.json"
    if saved.exists():
        if not resume:
            raise FileExistsError(
                f"run folder {run_dir} already holds a run; pass --resume {run_dir} to continue "
                "it, or choose another --out folder"
            )
        check_compatible(config, CycleGANConfig.load_json(saved), saved)
    elif resume:
        raise FileNotFoundError(f"cannot resume: {run_dir} has no config.json")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save_json(saved)
    return run_dir


def resume_config(run_dir: str | os.PathLike, **overrides) -> CycleGANConfig:
    """The saved config of a run with some fields changed; architecture changes are refused."""
    saved = CycleGANConfig.load_json(Path(run_dir) / "config.json")
    changed = sorted(
        k for k in overrides if k in ARCHITECTURE_FIELDS and overrides[k] != getattr(saved, k)
    )
    if changed:
        raise ValueError(
            f"cannot change {changed} when resuming {run_dir}: the checkpoint was made with "
            f"{ {k: getattr(saved, k) for k in changed} }"
        )
    return saved.replace(**overrides)


def run_callbacks(
    run_dir: Path,
    config: CycleGANConfig,
    images_a,
    images_b,
    sample_every: int = 1,
    tensorboard: bool = True,
    metrics: keras.callbacks.Callback | None = None,
) -> list[keras.callbacks.Callback]:
    """The callbacks of a run, in the order they must run at the end of an epoch.

    `metrics` (a `TranslationMetrics`) runs before the CSV log, so its values are written.
    """
    callbacks = [
        LinearDecay(),
        CheckedBackupAndRestore(run_dir / "checkpoint", config),
        *([metrics] if metrics is not None else []),
        LossLog(run_dir / "losses.csv"),
        LossCurves(run_dir / "losses.csv", run_dir / "losses.png"),
        SampleGrid(
            images_a[:SAMPLE_IMAGES], images_b[:SAMPLE_IMAGES], run_dir / "samples", sample_every
        ),
        SaveGenerators(run_dir),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False))
    return callbacks


def train_run(
    config: CycleGANConfig,
    run_dir: str | os.PathLike,
    *,
    resume: bool = False,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    strict: bool = False,
    cache: bool = False,
    sample_every: int = 1,
    validate: bool = True,
    verbose: str | int = "auto",
    strategy: tf.distribute.Strategy | None = None,
    extra_callbacks: list | None = None,
    eval_every: int = 1,
    eval_images: int = 64,
    inception_weights: str | None = None,
) -> keras.callbacks.History:
    """Train `config` into `run_dir` (see the module docstring), resuming where it stopped.

    Every `eval_every` epochs (0: never) the first `eval_images` test pairs are translated and
    PSNR/SSIM against the truth are logged when the data is paired (the embedded dataset), and
    KID when `inception_weights` is given ('imagenet' or a path).
    """
    DECODE_REPORT.clear()
    extractor = None
    if eval_every and inception_weights:
        from cyclegan_tf.evaluation.inception import InceptionFeatures

        extractor = InceptionFeatures.from_weights(inception_weights)
    train, validation, images_a, images_b = load_data(
        config, strict=strict, cache=cache, test_images=eval_images if eval_every else 0
    )
    run_dir = prepare_run_dir(run_dir, config, resume)  # after the data is found: no empty runs
    used = resolve_precision(config.precision)
    record_machine(
        run_dir, resume, f"{config.precision} -> {used}" if used != config.precision else used
    )
    if steps_per_epoch:
        train = train.take(steps_per_epoch)
    model = build_model(config, strategy)
    metrics = None
    paired = config.data == "synthetic"
    if eval_every and (paired or extractor is not None):
        from cyclegan_tf.evaluation.callback import TranslationMetrics

        metrics = TranslationMetrics(
            images_a[:eval_images], images_b[:eval_images], eval_every, paired, extractor
        )
    callbacks = run_callbacks(run_dir, config, images_a, images_b, sample_every, metrics=metrics)
    history = model.fit(
        train,
        epochs=epochs or config.total_epochs,
        validation_data=validation if validate else None,
        callbacks=callbacks + list(extra_callbacks or []),
        verbose=verbose,
    )
    if DECODE_REPORT:
        logger.warning("%d unreadable image(s) were skipped", len(DECODE_REPORT))
    return history
