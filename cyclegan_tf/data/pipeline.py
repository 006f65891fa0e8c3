"""From uint8 images to training batches: the official preprocess modes, flips and [-1, 1] scaling.

An epoch is max(|A|, |B|) images, as in the official code: both domains are shuffled independently
and the smaller one repeats. Batches are `(real_a, real_b)`, what `CycleGAN.fit` expects.

Example:
    a, b = load_domains("synthetic", "train", image_size=config.load_size)
    train = unpaired_batches(a, b, config)
    model.fit(train, epochs=config.total_epochs)
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.data.domain import DomainImages


def to_unit_range(image):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def to_uint8(image):
    """float [-1, 1] -> uint8 [0, 255], rounding to the nearest level."""
    return tf.cast(tf.round(tf.clip_by_value((image + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)


def _resize(image, height, width):
    resized = tf.image.resize(image, (height, width), method="bicubic", antialias=True)
    return tf.clip_by_value(resized, 0.0, 255.0)


def _scale_width(image, target_width: int, min_height: int):
    """Official `__scale_width`: width becomes `target_width`, keeping the aspect ratio."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    height = tf.maximum(tf.cast(target_width * shape[0] / shape[1], tf.int32), min_height)
    return _resize(image, height, target_width)


def _at_least(image, size: int):
    """Upscale (keeping aspect) so both sides are >= size: small images can still be cropped."""
    shape = tf.shape(image)[:2]
    short = tf.minimum(shape[0], shape[1])
    scale = tf.maximum(1.0, size / tf.cast(short, tf.float32))
    new = tf.cast(tf.math.ceil(tf.cast(shape, tf.float32) * scale), tf.int32)
    return tf.cond(scale > 1.0, lambda: _resize(image, new[0], new[1]), lambda: image)


def _crop(image, size: int, random: bool):
    image = _at_least(image, size)
    if random:
        return tf.image.random_crop(image, (size, size, 3))
    shape = tf.shape(image)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def preprocess(image, config: CycleGANConfig, training: bool):
    """One uint8 image -> float32 in [-1, 1], resized and cropped as `config.preprocess` says.

    Training crops at random and flips (unless `no_flip`); evaluation crops the centre.
    """
    image = tf.cast(image, tf.float32)
    mode, load, crop = config.preprocess, config.load_size, config.crop_size
    if mode == "resize_and_crop":
        image = _crop(_resize(image, load, load), crop, training)
    elif mode == "crop":
        image = _crop(image, crop, training)
    elif mode == "scale_width":
        image = _scale_width(image, load, crop)
    elif mode == "scale_width_and_crop":
        image = _crop(_scale_width(image, load, crop), crop, training)
    else:  # "none": sizes become multiples of 4, as the official `__make_power_2`
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        target = tf.maximum(tf.cast(tf.round(shape / 4.0) * 4.0, tf.int32), 4)
        image = _resize(image, target[0], target[1])
    if training and not config.no_flip:
        image = tf.image.random_flip_left_right(image)
    return image / 127.5 - 1.0


def _check_enough(domain: DomainImages, batch_size: int) -> None:
    if domain.size < batch_size:
        raise ValueError(
            f"{domain.name} holds {domain.size} images, fewer than batch_size ({batch_size})"
        )


def epoch_steps(a: DomainImages, b: DomainImages, config: CycleGANConfig) -> int:
    """Steps in an epoch: max(|A|, |B|) // batch_size, as the official code counts them (WGAN:
    // (batch_size x n_critic), since each step takes a batch per critic update)."""
    return max(a.size, b.size) // config.step_batch_size


def unpaired_batches(
    a: DomainImages,
    b: DomainImages,
    config: CycleGANConfig,
    cache: bool = False,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Training batches `(real_a, real_b)`: max(|A|, |B|) // batch_size of them per epoch.

    `cache=True` keeps the decoded images in memory (before random crops and flips), which pays
    for small datasets that are slow to decode. With `input_context` (one worker of a
    multi-worker run, from `strategy.distribute_datasets_from_function`) the pipeline decodes
    only this worker's share of each domain, yields per-replica batches (`batch_size` is the
    global batch) and never ends: `fit` is given the steps per epoch. With `gan_mode="wgan"` a
    step's batch holds n_critic x batch_size images, one slice per critic update.
    """
    batch_size = config.step_batch_size
    if input_context is not None:
        replicas = input_context.num_replicas_in_sync
        if config.batch_size % replicas:
            raise ValueError(
                f"batch_size ({config.batch_size}) is the global batch and must be a multiple "
                f"of the {replicas} replicas of this multi-worker run"
            )
        batch_size = input_context.get_per_replica_batch_size(batch_size)
        count, index = input_context.num_input_pipelines, input_context.input_pipeline_id
        a, b = a.shard(count, index), b.shard(count, index)
    for domain in (a, b):
        _check_enough(domain, batch_size)
    streams = []
    for offset, domain in enumerate((a, b)):
        dataset = domain.dataset.cache() if cache else domain.dataset
        dataset = dataset.shuffle(
            min(domain.size, 10_000), seed=config.seed + offset, reshuffle_each_iteration=True
        ).repeat()
        dataset = dataset.map(
            lambda image: preprocess(image, config, training=True),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        streams.append(dataset)
    batches = tf.data.Dataset.zip(tuple(streams)).batch(batch_size, drop_remainder=True)
    if input_context is None:
        batches = batches.take(epoch_steps(a, b, config))
    return batches.prefetch(tf.data.AUTOTUNE)


def paired_batches(
    a: DomainImages, b: DomainImages, config: CycleGANConfig, batch_size: int | None = None
) -> tf.data.Dataset:
    """Evaluation batches `(real_a, real_b)`, not augmented: min(|A|, |B|) images, in order."""
    batch_size = batch_size or config.batch_size
    for domain in (a, b):
        _check_enough(domain, batch_size)
    streams = [
        d.dataset.map(
            lambda image: preprocess(image, config, training=False),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        for d in (a, b)
    ]
    return (
        tf.data.Dataset.zip(tuple(streams))
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def center_square(image: np.ndarray, size: int) -> np.ndarray:
    """The centre square of a uint8 image, resized (antialiased) to `size` x `size`: how
    evaluation and export look at images of any shape."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top : top + side, left : left + side]
    if side != size:
        square = np.asarray(keras.ops.image.resize(square, (size, size), antialias=True))
    return np.clip(np.round(square), 0, 255).astype(np.uint8)
