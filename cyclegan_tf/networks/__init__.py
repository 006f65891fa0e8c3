"""Generators and discriminators, built by name from the registry in `cyclegan_tf.registry`.

Example:
    g = build_generator("resnet_9blocks", ngf=64)
    d = build_discriminator("basic", ndf=64)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import keras

from cyclegan_tf import registry
from cyclegan_tf.config import INPUT_SKIP_GENERATORS, KERNEL_SIZE_GENERATORS
from cyclegan_tf.networks.common import LayerFactory
from cyclegan_tf.networks.layers import InstanceNormalization, ReflectionPadding2D
from cyclegan_tf.networks.mobile import build_mobile_generator
from cyclegan_tf.networks.patchgan import (
    build_embedding_discriminator,
    build_nlayer_discriminator,
    build_pixel_discriminator,
)
from cyclegan_tf.networks.resnet import build_resnet_generator
from cyclegan_tf.networks.unet import build_unet_generator

__all__ = [
    "InstanceNormalization",
    "LayerFactory",
    "ReflectionPadding2D",
    "build_discriminator",
    "build_embedding_discriminator",
    "build_generator",
    "with_encoder_output",
    "generators_from_config",
    "discriminators_from_config",
]


def build_generator(
    name: str,
    channels: int = 3,
    ngf: int = 64,
    size: int | None = None,
    norm: str = "instance",
    use_dropout: bool = False,
    init_type: str = "normal",
    init_gain: float = 0.02,
    dtype: Any = None,
    model_name: str | None = None,
    kernel_size: int = 3,
    input_skip: bool = False,
) -> keras.Model:
    """The generator called `name` (see `registry.GENERATORS`): images to images in [-1, 1].

    `kernel_size` sets the residual-block convs of the ResNet generators (others: only 3);
    `input_skip` gives the ResNet and mobile generators the input image again at their last conv."""
    registry.generator_size_multiple(name)  # validates the name
    make = LayerFactory(norm=norm, init_type=init_type, init_gain=init_gain, dtype=dtype)
    kwargs = dict(
        channels=channels,
        ngf=ngf,
        size=size,
        use_dropout=use_dropout,
        make=make,
        name=model_name or name,
    )
    if name in KERNEL_SIZE_GENERATORS:
        kwargs["kernel_size"] = kernel_size
    elif kernel_size != 3:
        raise ValueError(
            f"kernel_size sets the residual-block convs of the generators "
            f"{list(KERNEL_SIZE_GENERATORS)}; generator '{name}' has none"
        )
    if name in INPUT_SKIP_GENERATORS:
        kwargs["input_skip"] = input_skip
    elif input_skip:
        raise ValueError(
            f"input_skip is an option of the generators {list(INPUT_SKIP_GENERATORS)}; "
            f"generator '{name}' keeps the colour of its first conv already"
        )
    return GENERATOR_BUILDERS[name](**kwargs)


# Where each generator's encoder ends: the layer whose output the embedding discriminator judges
# (`--lambda-embedding`). ResNet: the first residual block's input (after both downsamplings);
# mobile: the widened features the inverted-residual blocks start from. The U-Nets have no
# single encoder output (their skips bypass the bottleneck), so they are not listed.
ENCODER_OUTPUTS: dict[str, str] = {
    "resnet_9blocks": "down1_relu",
    "resnet_6blocks": "down1_relu",
    "mobile": "widen_relu",
    "mobile_deep": "widen_relu",
}


def with_encoder_output(generator: keras.Model, generator_name: str) -> keras.Model:
    """A model with the generator's layers (shared, not copied) that returns
    `(translation, encoder output)`; the generator itself is unchanged."""
    if generator_name not in ENCODER_OUTPUTS:
        raise ValueError(
            f"the embedding discriminator needs an encoder output; generator "
            f"'{generator_name}' has none (use one of {list(ENCODER_OUTPUTS)})"
        )
    code = generator.get_layer(ENCODER_OUTPUTS[generator_name]).output
    return keras.Model(
        generator.inputs, [generator.outputs[0], code], name=f"{generator.name}_with_code"
    )


# One builder per name of `registry.GENERATORS` (a test checks the two have the same keys).
GENERATOR_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "resnet_9blocks": functools.partial(build_resnet_generator, 9),
    "resnet_6blocks": functools.partial(build_resnet_generator, 6),
    "unet_128": functools.partial(build_unet_generator, 7),
    "unet_256": functools.partial(build_unet_generator, 8),
    "mobile": functools.partial(build_mobile_generator, 6),
    "mobile_deep": functools.partial(build_mobile_generator, 6, n_downsampling=3),
}


def build_discriminator(
    name: str,
    channels: int = 3,
    ndf: int = 64,
    n_layers: int = 3,
    size: int | None = None,
    norm: str = "instance",
    init_type: str = "normal",
    init_gain: float = 0.02,
    dtype: Any = None,
    model_name: str | None = None,
) -> keras.Model:
    """The discriminator called `name` (see `registry.DISCRIMINATORS`), returning patch logits."""
    if name not in registry.DISCRIMINATORS:
        raise ValueError(
            f"discriminator must be one of {registry.discriminator_names()}, got {name!r}"
        )
    make = LayerFactory(norm=norm, init_type=init_type, init_gain=init_gain, dtype=dtype)
    kwargs = dict(channels=channels, ndf=ndf, size=size, make=make, name=model_name or name)
    if name == "pixel":
        return build_pixel_discriminator(**kwargs)
    return build_nlayer_discriminator(3 if name == "basic" else n_layers, **kwargs)


def generators_from_config(config, dtype: Any = None) -> tuple[keras.Model, keras.Model]:
    """G (A->B) and F (B->A) as the config describes them."""
    return tuple(
        build_generator(
            config.generator,
            config.channels,
            config.ngf,
            None,
            config.norm,
            config.use_dropout,
            config.init_type,
            config.init_gain,
            dtype,
            model_name=name,
            kernel_size=config.kernel_size,
            input_skip=config.input_skip,
        )
        for name in ("generator_ab", "generator_ba")
    )


def discriminators_from_config(config, dtype: Any = None) -> tuple[keras.Model, keras.Model]:
    """D_A (judges domain A) and D_B (judges domain B) as the config describes them."""
    return tuple(
        build_discriminator(
            config.discriminator,
            config.channels,
            config.ndf,
            config.n_layers_d,
            None,
            config.norm,
            config.init_type,
            config.init_gain,
            dtype,
            model_name=name,
        )
        for name in ("discriminator_a", "discriminator_b")
    )
