"""Data: image folders, tensorflow-datasets and the embedded synthetic faces, as `tf.data`."""

from cyclegan_tf.data.images import DecodeReport, ImageDecodeError, list_images, load_rgb
from cyclegan_tf.data.pipeline import (
    center_square,
    epoch_steps,
    paired_batches,
    preprocess,
    to_uint8,
    to_unit_range,
    unpaired_batches,
)
from cyclegan_tf.data.sources import DomainImages, load_domains

__all__ = [
    "center_square",
    "DecodeReport",
    "DomainImages",
    "epoch_steps",
    "ImageDecodeError",
    "list_images",
    "load_domains",
    "load_rgb",
    "paired_batches",
    "preprocess",
    "to_uint8",
    "to_unit_range",
    "unpaired_batches",
]
