"""One domain of one split, as every data source hands it to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf


@dataclass
class DomainImages:
    """One domain of one split: a dataset of uint8 RGB images and how many there are."""

    name: str
    dataset: tf.data.Dataset
    size: int
