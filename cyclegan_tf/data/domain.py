"""One domain of one split, as every data source hands it to the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf


@dataclass
class DomainImages:
    """One domain of one split: a dataset of uint8 RGB images and how many there are.

    Sources that can, also give the undecoded `items` (file names, indices) and `decode`, which
    turns a dataset of items into one of images: `shard` then hands each worker of a multi-worker
    run only its own files to decode.
    """

    name: str
    dataset: tf.data.Dataset
    size: int
    items: tf.data.Dataset | None = None
    decode: Callable[[tf.data.Dataset], tf.data.Dataset] | None = None

    @classmethod
    def from_items(
        cls,
        name: str,
        items: tf.data.Dataset,
        size: int,
        decode: Callable[[tf.data.Dataset], tf.data.Dataset],
    ) -> DomainImages:
        return cls(name, decode(items), size, items, decode)

    def take(self, count: int) -> DomainImages:
        """The first `count` images."""
        if self.items is not None:
            return DomainImages.from_items(
                self.name, self.items.take(count), min(self.size, count), self.decode
            )
        return DomainImages(self.name, self.dataset.take(count), min(self.size, count))

    def shard(self, count: int, index: int) -> DomainImages:
        """Every `count`-th image from the `index`-th: one worker's share, decoded by it alone."""
        size = len(range(index, self.size, count))
        name = f"{self.name}[{index}/{count}]"
        if self.items is not None:
            return DomainImages.from_items(name, self.items.shard(count, index), size, self.decode)
        return DomainImages(name, self.dataset.shard(count, index), size)
