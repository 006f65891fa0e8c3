"""Where images come from: folders, tensorflow-datasets, or the embedded synthetic faces.

Each source gives, per domain, a `tf.data.Dataset` of uint8 RGB images (H, W, 3) of any size and how
many images it holds; `pipeline.py` turns them into training batches.

Spec strings (the `data` config option):
    ROOT                     a folder in the CycleGAN layout: ROOT/trainA, trainB, testA, testB
    A_DIR,B_DIR              two folders, one per domain (used for every split)
    tfds:cycle_gan/NAME      a tensorflow-datasets config, e.g. tfds:cycle_gan/horse2zebra
    synthetic                the embedded procedural selfie2anime (no files, no download)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from cyclegan_tf.data import synthetic
from cyclegan_tf.data.domain import DomainImages
from cyclegan_tf.data.images import DecodeReport, ImageDecodeError, list_images, load_rgb

SPLITS = ("train", "test")
SYNTHETIC_TEST_SIZE = 64
_SYNTHETIC_STREAMS = {("train", "A"): 0, ("train", "B"): 1, ("test", "A"): 2, ("test", "B"): 2}


def load_domains(
    spec: str,
    split: str,
    *,
    image_size: int = 256,
    max_size: int = 0,
    synthetic_size: int = 400,
    seed: int = 0,
    strict: bool = False,
    report: DecodeReport | None = None,
) -> tuple[DomainImages, DomainImages]:
    """Domains A and B of `split` ('train' or 'test') from a data spec string (module docstring)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    if spec == "synthetic":
        count = synthetic_size if split == "train" else SYNTHETIC_TEST_SIZE
        domains = tuple(synthetic_domain(split, d, count, image_size, seed) for d in "AB")
    elif spec.startswith("tfds:"):
        from cyclegan_tf.data.tfds_source import load_tfds_domains  # tfds loads slowly

        domains = load_tfds_domains(spec[len("tfds:") :], split)
    else:
        domains = tuple(
            folder_domain(folder, f"{split}{d}", strict, report)
            for folder, d in zip(folder_pair(spec, split), "AB", strict=True)
        )
    if max_size:
        domains = tuple(d.take(max_size) for d in domains)
    return domains


def folder_pair(spec: str, split: str) -> tuple[str, str]:
    """The two folders a spec names for a split: ROOT/{split}A and ROOT/{split}B, or 'A,B'."""
    if "," in spec:
        parts = [p.strip() for p in spec.split(",")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"data must name two folders as 'A_DIR,B_DIR', got {spec!r}")
        return parts[0], parts[1]
    root = Path(spec)
    if not root.is_dir():
        raise ValueError(
            f"data {spec!r} is not a folder, 'A_DIR,B_DIR', 'tfds:cycle_gan/NAME' or 'synthetic'"
        )
    return str(root / f"{split}A"), str(root / f"{split}B")


def folder_domain(
    folder: str | os.PathLike, name: str, strict: bool = False, report: DecodeReport | None = None
) -> DomainImages:
    """All images under `folder`, decoded in parallel; unreadable ones are added to `report`
    and skipped."""
    report = report if report is not None else DecodeReport()
    paths = list_images(folder, strict=strict, report=report)

    def decode(path: bytes) -> tuple[np.ndarray, bool]:
        path = os.fsdecode(path)  # file names need not be UTF-8
        try:
            return load_rgb(path), True
        except ImageDecodeError as e:
            if strict:
                raise
            report.add(path, e)
            return np.zeros((1, 1, 3), np.uint8), False

    def decode_tf(path):
        image, ok = tf.numpy_function(decode, [path], (tf.uint8, tf.bool), stateful=False)
        image.set_shape((None, None, 3))
        ok.set_shape(())
        return image, ok

    def decode_all(items: tf.data.Dataset) -> tf.data.Dataset:
        return (
            items.map(decode_tf, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .filter(lambda image, ok: ok)
            .map(lambda image, ok: image)
        )

    items = tf.data.Dataset.from_tensor_slices([os.fsencode(p) for p in paths])
    return DomainImages.from_items(name, items, len(paths), decode_all)


def synthetic_domain(split: str, domain: str, count: int, size: int, seed: int) -> DomainImages:
    """`count` synthetic faces drawn in domain A's (photo) or B's (anime) style.

    The training streams of A and B use different faces (unpaired); the test split draws the same
    faces in both styles, so `testA[i]` and `testB[i]` are a true pair.
    """
    stream = _SYNTHETIC_STREAMS[(split, domain)]
    render = synthetic.render_photo if domain == "A" else synthetic.render_anime

    def draw(index: np.int64) -> np.ndarray:
        return render(synthetic.face_for(seed, stream, int(index)), size)

    def draw_tf(index):
        image = tf.numpy_function(draw, [index], tf.uint8, stateful=False)
        image.set_shape((size, size, 3))
        return image

    def draw_all(indices: tf.data.Dataset) -> tf.data.Dataset:
        return indices.map(draw_tf, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return DomainImages.from_items(
        f"{split}{domain}", tf.data.Dataset.range(count), count, draw_all
    )
