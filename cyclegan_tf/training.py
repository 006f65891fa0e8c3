"""A whole training run in a run folder: what the CLI's `train` and the notebook call.

Run folder layout:
    config.json                   the config the run was made with
    checkpoint/                   full training state, saved atomically every epoch (and every
                                  N steps with checkpoint_every): cyclegan_tf.training_state
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
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from cyclegan_tf.callbacks import (
    LinearDecay,
    LossCurves,
    LossLog,
    SampleGrid,
    SaveGenerators,
    StopOnNonFinite,
)
from cyclegan_tf.checkpoints import check_compatible
from cyclegan_tf.config import ARCHITECTURE_FIELDS, CycleGANConfig
from cyclegan_tf.data import (
    DecodeReport,
    epoch_steps,
    load_domains,
    paired_batches,
    unpaired_batches,
)
from cyclegan_tf.distribute import (
    WORKER_LOST_ERRORS,
    WorkerLostError,
    describe_strategy,
    is_chief,
    is_multi_worker,
    make_strategy,
    worker_name,
)
from cyclegan_tf.machine import record_machine
from cyclegan_tf.model import CycleGAN
from cyclegan_tf.precision import resolve_precision
from cyclegan_tf.run_folder import RunFolder
from cyclegan_tf.training_state import TrainingCheckpoint

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


class RunData(NamedTuple):
    """What a run trains and looks at."""

    train: tf.data.Dataset | tf.distribute.DistributedDataset  # an epoch, or endless (workers)
    validation: tf.data.Dataset
    images_a: np.ndarray  # fixed test images for the sample grid and metrics
    images_b: np.ndarray
    steps_per_epoch: int


def load_data(
    config: CycleGANConfig,
    strict: bool = False,
    cache: bool = False,
    test_images: int = 0,
    report: DecodeReport | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> RunData:
    """Training batches, validation batches, and fixed test images per domain.

    At least `SAMPLE_IMAGES` test pairs (the sample grid's), or `test_images` for the metrics.
    Under a multi-worker `strategy`, each worker's pipeline reads only its share of the images
    and the training batches never end (`fit` is given `steps_per_epoch`).
    """
    common = dict(
        image_size=config.load_size,
        max_size=config.max_dataset_size,
        synthetic_size=config.synthetic_size,
        seed=config.seed,
        strict=strict,
        report=report,
    )
    train_a, train_b = load_domains(config.data, "train", **common)
    test_a, test_b = load_domains(config.data, "test", **common)
    steps = epoch_steps(train_a, train_b, config)
    if is_multi_worker(strategy):
        train = strategy.distribute_datasets_from_function(
            lambda context: unpaired_batches(train_a, train_b, config, cache, context)
        )
    else:
        train = unpaired_batches(train_a, train_b, config, cache=cache)
    eval_batch = 1 if config.preprocess in ("none", "scale_width") else config.batch_size
    validation = paired_batches(test_a, test_b, config, batch_size=eval_batch)
    count = max(SAMPLE_IMAGES, test_images)
    samples = paired_batches(test_a, test_b, config, batch_size=1).take(count)
    pairs = [(a[0].numpy(), b[0].numpy()) for a, b in samples]
    images_a, images_b = (np.stack(x) for x in zip(*pairs, strict=True))
    return RunData(train, validation, images_a, images_b, steps)


def check_run_dir(run_dir: str | os.PathLike, config: CycleGANConfig, resume: bool) -> Path:
    """Refuse a folder that already holds a run (unless `resume`), or another architecture's.

    Reads only: every worker of a multi-worker run checks before any of them writes.
    """
    run_dir = Path(run_dir)
    saved = RunFolder(run_dir).config
    if saved.exists():
        if not resume:
            raise FileExistsError(
                f"run folder {run_dir} already holds a run; pass --resume {run_dir} to continue "
                "it, or choose another --out folder"
            )
        check_compatible(config, CycleGANConfig.load_json(saved), saved)
    elif resume:
        raise FileNotFoundError(f"cannot resume: {run_dir} has no config.json")
    return run_dir


def prepare_run_dir(run_dir: str | os.PathLike, config: CycleGANConfig, resume: bool) -> Path:
    """Create the run folder, or check that an existing one is this run's (nothing is overwritten).

    A folder that already holds a run is only reused with `resume=True`, and then only by a
    config with the same architecture.
    """
    run_dir = check_run_dir(run_dir, config, resume)
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save_json(RunFolder(run_dir).config)
    return run_dir


def resume_config(run_dir: str | os.PathLike, **overrides) -> CycleGANConfig:
    """The saved config of a run with some fields changed; architecture changes are refused."""
    saved = CycleGANConfig.load_json(RunFolder(run_dir).config)
    changed = sorted(
        k for k in overrides if k in ARCHITECTURE_FIELDS and overrides[k] != getattr(saved, k)
    )
    if changed:
        raise ValueError(
            f"cannot change {changed} when resuming {run_dir}: the checkpoint was made with "
            f"{ {k: getattr(saved, k) for k in changed} }"
        )
    config = saved.replace(**overrides)
    before, after = saved.architecture(), config.architecture()
    derived = sorted(k for k in before if before[k] != after[k])
    if derived:  # e.g. gan_mode to or from 'wgan' changes the optimizers' variables
        raise ValueError(
            f"cannot change {derived} when resuming {run_dir} (through {sorted(overrides)}): "
            f"the checkpoint was made with { {k: before[k] for k in derived} }"
        )
    return config


def run_callbacks(
    run_dir: Path,
    config: CycleGANConfig,
    images_a,
    images_b,
    sample_every: int = 1,
    tensorboard: bool = True,
    metrics: keras.callbacks.Callback | None = None,
    checkpoint_every: int = 0,
) -> list[keras.callbacks.Callback]:
    """The callbacks of a run, in the order they must run at the end of an epoch.

    The NaN stop comes first (a bad step is never checkpointed); `metrics` (a
    `TranslationMetrics`) runs before the CSV log, so its values are written.
    """
    run = RunFolder(run_dir)
    callbacks = [
        StopOnNonFinite(),
        LinearDecay(),
        TrainingCheckpoint(run.checkpoint, config, every_steps=checkpoint_every),
        *([metrics] if metrics is not None else []),
        LossLog(run.losses_csv),
        LossCurves(run.losses_csv, run.losses_png),
        SampleGrid(images_a[:SAMPLE_IMAGES], images_b[:SAMPLE_IMAGES], run.samples, sample_every),
        SaveGenerators(run_dir),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run.logs), write_graph=False))
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
    checkpoint_every: int = 0,
    report: DecodeReport | None = None,
) -> keras.callbacks.History:
    """Train `config` into `run_dir` (see the module docstring), resuming where it stopped.

    `checkpoint_every` N > 0 also saves the full state every N steps. A run resumed from a
    mid-epoch state trains only the steps that epoch still had to do (on a fresh shuffle: the
    data order of the interrupted epoch is not saved), then the remaining epochs.

    Every `eval_every` epochs (0: never) the first `eval_images` test pairs are translated and
    PSNR/SSIM against the truth are logged when the data is paired (the embedded dataset), and
    KID when `inception_weights` is given ('imagenet' or a path). Unreadable images are skipped
    and added to `report` (pass one to list them afterwards).
    """
    report = report if report is not None else DecodeReport()
    check_run_dir(run_dir, config, resume)  # before anything is written, on every worker
    if strategy is None:  # made before TensorFlow runs an op: multi-worker needs that
        strategy = make_strategy(config.distribute, config.peer_timeout)
    chief = is_chief(strategy)
    if is_multi_worker(strategy) and validate:
        logger.info("multi-worker run: the test split is not evaluated each epoch")
        validate = False  # uneven shards would leave one worker waiting for the others
    extractor = None
    if chief and eval_every and inception_weights:
        from cyclegan_tf.evaluation.inception import InceptionFeatures

        extractor = InceptionFeatures.from_weights(inception_weights)
    data = load_data(
        config,
        strict=strict,
        cache=cache,
        test_images=eval_images if eval_every else 0,
        report=report,
        strategy=strategy,
    )
    # Only the chief writes the run folder; the other workers write the same files (a save
    # reads every replica's variables, so all must take part) into a folder of their own.
    if chief:
        write_dir = prepare_run_dir(run_dir, config, resume)  # after the data is found
        used = resolve_precision(config.precision)
        precision = f"{config.precision} -> {used}" if used != config.precision else used
        record_machine(write_dir, resume, f"{precision}, {describe_strategy(strategy)}")
    else:
        write_dir = Path(tempfile.mkdtemp(prefix=f"cyclegan-tf-{worker_name(strategy)}-"))
    try:
        return _fit_run(
            config,
            Path(run_dir),
            write_dir,
            data,
            strategy,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            sample_every=sample_every,
            validate=validate,
            verbose=verbose,
            extra_callbacks=extra_callbacks,
            eval_every=eval_every,
            eval_images=eval_images,
            extractor=extractor,
            checkpoint_every=checkpoint_every,
            report=report,
        )
    except WORKER_LOST_ERRORS as e:
        if not is_multi_worker(strategy):
            raise
        raise WorkerLostError(
            f"{worker_name(strategy)} lost contact with another worker ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else 'no detail'}); restart every worker with "
            f"the same command and --resume {run_dir}"
        ) from e
    finally:
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)


def _fit_run(
    config: CycleGANConfig,
    run_dir: Path,
    write_dir: Path,
    data: RunData,
    strategy: tf.distribute.Strategy | None,
    *,
    epochs: int | None,
    steps_per_epoch: int | None,
    sample_every: int,
    validate: bool,
    verbose: str | int,
    extra_callbacks: list | None,
    eval_every: int,
    eval_images: int,
    extractor,
    checkpoint_every: int,
    report: DecodeReport,
) -> keras.callbacks.History:
    """The fit calls of `train_run`: restore, finish a resumed epoch, train the rest."""
    chief = write_dir == run_dir
    # One pass over the larger domain by default; more is allowed (the batches repeat), so that
    # runs whose steps take more batches (WGAN's critics) can match another run's step count.
    steps = steps_per_epoch or data.steps_per_epoch
    model = build_model(config, strategy)
    if chief:
        metrics = None
        paired = config.data == "synthetic"
        if eval_every and (paired or extractor is not None):
            from cyclegan_tf.evaluation.callback import TranslationMetrics

            metrics = TranslationMetrics(
                data.images_a[:eval_images],
                data.images_b[:eval_images],
                eval_every,
                paired,
                extractor,
            )
        callbacks = run_callbacks(
            run_dir,
            config,
            data.images_a,
            data.images_b,
            sample_every,
            metrics=metrics,
            checkpoint_every=checkpoint_every,
        )
    else:  # what touches the model's variables, as the chief does; no pictures, no logs
        callbacks = [
            StopOnNonFinite(),
            LinearDecay(),
            TrainingCheckpoint(
                RunFolder(write_dir).checkpoint,
                config,
                every_steps=checkpoint_every,
                restore_from=RunFolder(run_dir).checkpoint,
            ),
        ]
        verbose = 0
    fit = dict(
        validation_data=data.validation if validate else None,
        callbacks=callbacks + list(extra_callbacks or []),
        verbose=verbose,
    )
    distributed = is_multi_worker(strategy)

    def epoch_of(count: int) -> dict:  # `count` steps per epoch
        if distributed:  # endless batches: fit counts the steps
            return dict(x=data.train, steps_per_epoch=count)
        if count > data.steps_per_epoch:  # the pipeline ends after one pass: go round again
            return dict(x=data.train.repeat().take(count))
        return dict(x=data.train.take(count))

    total_epochs = epochs or config.total_epochs
    checkpoint = next(c for c in callbacks if isinstance(c, TrainingCheckpoint))
    state = checkpoint.restore(model)
    start, first_history, history = (state.epoch if state else 0), None, None
    if state and state.step and steps > 0 and start < total_epochs:
        rest = max(steps - state.step, 0)
        logger.info("finishing epoch %d: %d of its %d steps left", start + 1, rest, steps)
        if rest:
            first_history = model.fit(
                **epoch_of(rest), initial_epoch=start, epochs=start + 1, **fit
            )
        start += 1
    if start < total_epochs:
        history = model.fit(**epoch_of(steps), initial_epoch=start, epochs=total_epochs, **fit)
    history = _merged(first_history, history)
    if report:
        logger.warning("%d unreadable image(s) were skipped", len(report))
    return history


def _merged(first, second) -> keras.callbacks.History:
    """One History of two fit calls (the end of a resumed epoch, then the rest)."""
    if first is None or second is None:
        return second or first or keras.callbacks.History()
    for key, values in first.history.items():
        second.history[key] = values + second.history.get(key, [])
    second.epoch = first.epoch + second.epoch
    return second
