"""The `cycle_gan/*` datasets of tensorflow-datasets (horse2zebra, monet2photo, ...).

tfds downloads and prepares a dataset the first time it is asked for (the user asked, by naming it);
after that it reads from its local cache (`~/tensorflow_datasets` or `TFDS_DATA_DIR`).
"""

from __future__ import annotations

import os

import tensorflow as tf

from cyclegan_tf.data.domain import DomainImages

TFDS_CYCLE_GAN_CONFIGS = (
    "apple2orange",
    "summer2winter_yosemite",
    "horse2zebra",
    "monet2photo",
    "cezanne2photo",
    "ukiyoe2photo",
    "vangogh2photo",
    "maps",
    "cityscapes",
    "facades",
    "iphone2dslr_flower",
)


def load_tfds_domains(name: str, split: str) -> tuple[DomainImages, DomainImages]:
    """Domains A and B of `split` for the tfds dataset `name` (e.g. 'cycle_gan/horse2zebra')."""
    import tensorflow_datasets as tfds

    if not name.startswith("cycle_gan/") or name.split("/", 1)[1] not in TFDS_CYCLE_GAN_CONFIGS:
        raise ValueError(
            f"tfds dataset must be one of "
            f"{['cycle_gan/' + c for c in TFDS_CYCLE_GAN_CONFIGS]}, got {name!r}"
        )
    domains = []
    for domain in "AB":
        split_name = f"{split}{domain}"
        dataset = tfds.load(
            name,
            split=split_name,
            shuffle_files=False,
            download=True,
            data_dir=os.environ.get("TFDS_DATA_DIR"),
        )
        size = int(dataset.cardinality().numpy())
        if size < 0:  # unknown cardinality: count once
            size = int(dataset.reduce(0, lambda n, _: n + 1).numpy())
        dataset = dataset.map(lambda ex: tf.ensure_shape(ex["image"], (None, None, 3)))
        domains.append(DomainImages(split_name, dataset, size))
    return domains[0], domains[1]
