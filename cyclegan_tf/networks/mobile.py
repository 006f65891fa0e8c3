"""A phone-size generator: the ResNet generator's shape, rebuilt from mobile blocks.

Stem conv (stride 2) -> depthwise-separable downsampling -> inverted-residual blocks (MobileNetV2)
at 1/4 resolution -> nearest-neighbour upsampling with depthwise-separable convs -> 3x3 conv ->
tanh. At 256x256 and ngf 16 it costs about 0.57 GMACs and 0.11 M parameters (ResNet-9: 56.9 GMACs
and 11.4 M), keeps instance norm (as the paper's networks, so it trains the same way), avoids
reflection padding and transposed convs (slow or unquantizable ops on phones); in int8 every conv
is integer and only the norm arithmetic stays float.
"""

from __future__ import annotations

import keras

from cyclegan_tf.networks.common import LayerFactory, concatenate_input


def build_mobile_generator(
    n_blocks: int = 6,
    channels: int = 3,
    ngf: int = 16,
    size: int | None = None,
    use_dropout: bool = False,
    make: LayerFactory = LayerFactory(),
    expansion: int = 2,
    name: str = "mobile_generator",
    n_downsampling: int = 2,
    input_skip: bool = False,
) -> keras.Model:
    """A MobileNetV2-style generator; `ngf` channels at 1/2 resolution, doubling per downsampling.

    `n_downsampling=3` ("mobile_deep") runs the blocks at 1/8 resolution with twice the channels:
    about the same MACs, four times the parameters, and twice the receptive field (a block's 3x3
    covers 24 px instead of 12), so the blocks can reshape a whole face rather than a patch.
    `input_skip` concatenates the input image to the head conv's input (see the ResNet builder).

    Example:
        g = build_mobile_generator()  # (1, 256, 256, 3) -> (1, 256, 256, 3), ~0.58 GMACs
    """
    inputs = make.image_input(channels, size, name="image")
    x = make.conv(ngf, 3, strides=2, padding="same", name="stem_conv")(inputs)
    x = _norm_relu(x, make, "stem")
    widths = [ngf * 2**i for i in range(1, n_downsampling)]
    for i, filters in enumerate(widths):
        x = _separable(x, filters, make, f"down{i}", strides=2)
    inner = ngf * 2**n_downsampling
    x = make.conv(inner, 1, name="widen_conv")(x)
    x = _norm_relu(x, make, "widen")
    for i in range(n_blocks):
        x = _inverted_residual(x, inner, expansion, use_dropout, make, f"block{i}")
    for i, filters in enumerate(reversed([ngf, *widths])):
        x = keras.layers.UpSampling2D(
            2, interpolation="nearest", name=f"up{i}_resize", dtype=make.dtype
        )(x)
        x = _separable(x, filters, make, f"up{i}")
    if input_skip:
        x = concatenate_input(x, inputs, make)
    x = make.conv(channels, 3, padding="same", name="head_conv", use_bias=True)(x)
    outputs = make.tanh_output()(x)
    return keras.Model(inputs, outputs, name=name)


def _norm_relu(x, make: LayerFactory, name: str):
    x = make.norm_layer(name=f"{name}_norm")(x)
    return make.relu(name=f"{name}_relu")(x)


def _depthwise(x, strides: int, make: LayerFactory, name: str):
    from cyclegan_tf.networks.layers import kernel_initializer

    return keras.layers.DepthwiseConv2D(
        3,
        strides=strides,
        padding="same",
        use_bias=make.use_bias,
        depthwise_initializer=kernel_initializer(make.init_type, make.init_gain),
        name=name,
        dtype=make.dtype,
    )(x)


def _separable(x, filters: int, make: LayerFactory, name: str, strides: int = 1):
    """Depthwise 3x3 then pointwise 1x1, with norm and ReLU after the pointwise conv."""
    x = _depthwise(x, strides, make, f"{name}_dw")
    x = make.conv(filters, 1, name=f"{name}_pw")(x)
    return _norm_relu(x, make, name)


def _inverted_residual(
    x, filters: int, expansion: int, use_dropout: bool, make: LayerFactory, name: str
):
    skip = x
    x = make.conv(filters * expansion, 1, name=f"{name}_expand")(x)
    x = _norm_relu(x, make, f"{name}_expand")
    x = _depthwise(x, 1, make, f"{name}_dw")
    x = _norm_relu(x, make, f"{name}_dw")
    if use_dropout:
        x = keras.layers.Dropout(0.5, name=f"{name}_dropout", dtype=make.dtype)(x)
    x = make.conv(filters, 1, name=f"{name}_project")(x)
    x = make.norm_layer(name=f"{name}_project_norm")(x)
    return keras.layers.Add(name=f"{name}_add", dtype=make.dtype)([skip, x])
