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
from cyclegan_tf.networks.common import LayerFactory
from cyclegan_tf.networks.layers import InstanceNormalization, ReflectionPadding2D
from cyclegan_tf.networks.mobile import build_mobile_generator
from cyclegan_tf.networks.patchgan import build_nlayer_discriminator, build_pixel_discriminator
from cyclegan_tf.networks.resnet import build_resnet_generator
from cyclegan_tf.networks.unet import build_unet_generator

__all__ = [
    "InstanceNormalization",
    "LayerFactory",
    "ReflectionPadding2D",
    "build_discriminator",
    "build_generator",
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
) -> keras.Model:
    """The generator called `name` (see `registry.GENERATORS`): images to images in [-1, 1]."""
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
    return GENERATOR_BUILDERS[name](**kwargs)


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
