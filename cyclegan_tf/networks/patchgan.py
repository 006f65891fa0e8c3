"""PatchGAN discriminators of the official code: `basic` (70x70), `n_layers` and `pixel` (1x1).

Their output is a grid of real/fake logits, one per overlapping patch; it stays float32 under
mixed precision so the losses are computed at full precision.
"""

from __future__ import annotations

import keras

from cyclegan_tf.networks.common import LayerFactory


def build_nlayer_discriminator(
    n_layers: int = 3,
    channels: int = 3,
    ndf: int = 64,
    size: int | None = None,
    make: LayerFactory = LayerFactory(),
    name: str = "patchgan_discriminator",
) -> keras.Model:
    """A PatchGAN with `n_layers` stride-2 convs; 3 layers give 70x70 patches (2,764,737 params).

    Example:
        d = build_nlayer_discriminator(3)  # (1, 256, 256, 3) -> (1, 30, 30, 1) logits
    """
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers}")
    inputs = make.image_input(channels, size, name="image")
    x = _conv4(inputs, ndf, 2, make, "conv0", use_bias=True)
    x = make.leaky_relu(name="conv0_lrelu")(x)
    for n in range(1, n_layers + 1):
        strides = 2 if n < n_layers else 1
        x = _conv4(x, ndf * min(2**n, 8), strides, make, f"conv{n}")
        x = make.norm_layer(name=f"conv{n}_norm")(x)
        x = make.leaky_relu(name=f"conv{n}_lrelu")(x)
    x = _conv4(x, 1, 1, make, "logits_conv", use_bias=True)
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def build_pixel_discriminator(
    channels: int = 3,
    ndf: int = 64,
    size: int | None = None,
    make: LayerFactory = LayerFactory(),
    name: str = "pixel_discriminator",
) -> keras.Model:
    """A 1x1 PatchGAN: classifies each pixel's colour as real or fake.

    Example:
        d = build_pixel_discriminator()  # (1, 64, 64, 3) -> (1, 64, 64, 1) logits
    """
    inputs = make.image_input(channels, size, name="image")
    x = make.conv(ndf, 1, name="conv0", use_bias=True)(inputs)
    x = make.leaky_relu(name="conv0_lrelu")(x)
    x = make.conv(ndf * 2, 1, name="conv1")(x)
    x = make.norm_layer(name="conv1_norm")(x)
    x = make.leaky_relu(name="conv1_lrelu")(x)
    x = make.conv(1, 1, name="logits_conv")(x)
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def build_embedding_discriminator(
    channels: int,
    ndf: int = 64,
    make: LayerFactory = LayerFactory(),
    name: str = "discriminator_embedding",
) -> keras.Model:
    """Judges encoder outputs (`channels` feature maps at 1/4 or 1/8 resolution), not images:
    A-encoded or B-encoded? Three convs, one stride 2: a patch of 10x10 feature pixels per logit.

    Example:
        d = build_embedding_discriminator(256, ndf=64)  # (1, 64, 64, 256) -> (1, 30, 30, 1)
    """
    inputs = make.image_input(channels, None, name="code")
    x = _conv4(inputs, ndf, 2, make, "conv0", use_bias=True)
    x = make.leaky_relu(name="conv0_lrelu")(x)
    x = _conv4(x, ndf * 2, 1, make, "conv1")
    x = make.norm_layer(name="conv1_norm")(x)
    x = make.leaky_relu(name="conv1_lrelu")(x)
    x = _conv4(x, 1, 1, make, "logits_conv", use_bias=True)
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def _conv4(
    x, filters: int, strides: int, make: LayerFactory, name: str, use_bias: bool | None = None
):
    """A 4x4 conv with PyTorch's padding=1 on every side."""
    x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad", dtype=make.dtype)(x)
    return make.conv(filters, 4, strides=strides, name=name, use_bias=use_bias)(x)
