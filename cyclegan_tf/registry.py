"""The names of every network the project can build, in one place.

Kept free of TensorFlow imports so configs and the CLI's `--help` can list the choices cheaply;
`cyclegan_tf.networks` maps each name to its builder.
"""

from __future__ import annotations

# name -> the image size must be a multiple of this (2 ** number of stride-2 downsamplings)
GENERATORS: dict[str, int] = {
    "resnet_9blocks": 4,
    "resnet_6blocks": 4,
    "unet_128": 128,
    "unet_256": 256,
    "mobile": 4,
    "mobile_deep": 8,
}
DISCRIMINATORS: tuple[str, ...] = ("basic", "n_layers", "pixel")
# Which generator of a run: photo -> anime is AtoB.
DIRECTIONS: tuple[str, ...] = ("AtoB", "BtoA")
# Where training runs (`cyclegan_tf.distribute.make_strategy`).
DISTRIBUTE_MODES: tuple[str, ...] = ("none", "mirrored", "multiworker")
# The .tflite variants `export` writes; each has its recipe in `export/tflite.QUANTIZATION_RECIPES`.
QUANTIZATIONS: tuple[str, ...] = ("fp32", "fp16", "dynamic", "int8")
# What an exported model takes and returns: floats in [-1, 1], or RGB bytes.
IO_TYPES: tuple[str, ...] = ("float", "uint8")


def generator_names() -> list[str]:
    return list(GENERATORS)


def discriminator_names() -> list[str]:
    return list(DISCRIMINATORS)


def generator_size_multiple(name: str) -> int:
    """Image sizes the generator accepts are multiples of this number."""
    if name not in GENERATORS:
        raise ValueError(f"generator must be one of {generator_names()}, got {name!r}")
    return GENERATORS[name]
