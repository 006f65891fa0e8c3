"""The paper's ResNet generator, layer for layer as the official PyTorch `ResnetGenerator`.

c7s1-ngf, d(2ngf), d(4ngf), N residual blocks, u(2ngf), u(ngf), c7s1-3, tanh: 11,378,179 parameters
for 9 blocks at ngf 64, the official count.
"""

from __future__ import annotations

import keras

from cyclegan_tf.networks.common import LayerFactory, concatenate_input
from cyclegan_tf.networks.layers import PaddedGradientCropping2D, ReflectionPadding2D


def build_resnet_generator(
    n_blocks: int,
    channels: int = 3,
    ngf: int = 64,
    size: int | None = None,
    use_dropout: bool = False,
    make: LayerFactory = LayerFactory(),
    name: str = "resnet_generator",
    kernel_size: int = 3,
    input_skip: bool = False,
) -> keras.Model:
    """A ResNet generator with `n_blocks` residual blocks between two downsamplings and upsamplings.

    `kernel_size` is that of the residual blocks' convs (3 in the paper; larger ones see more of
    the image per block, the face2comic report's best change), reflection-padded to keep the size.
    `input_skip` concatenates the input image to the last conv's input: the stem's instance norm
    removes each image's mean colour, and this is the only way it can come back.

    Example:
        g = build_resnet_generator(9, ngf=64)  # 11,378,179 parameters
    """
    if n_blocks < 0:
        raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
    inputs = make.image_input(channels, size, name="image")
    x = ReflectionPadding2D(3, name="stem_pad", dtype=make.dtype)(inputs)
    x = make.conv(ngf, 7, name="stem_conv")(x)
    x = make.norm_layer(name="stem_norm")(x)
    x = make.relu(name="stem_relu")(x)
    for i in range(2):  # downsampling; PyTorch pads 1 on each side
        filters = ngf * 2 ** (i + 1)
        x = keras.layers.ZeroPadding2D(1, name=f"down{i}_pad", dtype=make.dtype)(x)
        x = make.conv(filters, 3, strides=2, name=f"down{i}_conv")(x)
        x = make.norm_layer(name=f"down{i}_norm")(x)
        x = make.relu(name=f"down{i}_relu")(x)
    for i in range(n_blocks):
        x = _residual_block(x, ngf * 4, use_dropout, make, f"block{i}", kernel_size)
    for i in range(2):  # upsampling
        filters = ngf * 2 ** (1 - i)
        x = _upsample(x, filters, make, name=f"up{i}")
        x = make.norm_layer(name=f"up{i}_norm")(x)
        x = make.relu(name=f"up{i}_relu")(x)
    if input_skip:
        x = concatenate_input(x, inputs, make)
    x = ReflectionPadding2D(3, name="head_pad", dtype=make.dtype)(x)
    x = make.conv(channels, 7, name="head_conv", use_bias=True)(x)
    outputs = make.tanh_output()(x)
    return keras.Model(inputs, outputs, name=name)


def _residual_block(
    x, filters: int, use_dropout: bool, make: LayerFactory, name: str, kernel_size: int = 3
):
    skip = x
    pad = kernel_size // 2
    x = ReflectionPadding2D(pad, name=f"{name}_pad1", dtype=make.dtype)(x)
    x = make.conv(filters, kernel_size, name=f"{name}_conv1")(x)
    x = make.norm_layer(name=f"{name}_norm1")(x)
    x = make.relu(name=f"{name}_relu")(x)
    if use_dropout:
        x = keras.layers.Dropout(0.5, name=f"{name}_dropout", dtype=make.dtype)(x)
    x = ReflectionPadding2D(pad, name=f"{name}_pad2", dtype=make.dtype)(x)
    x = make.conv(filters, kernel_size, name=f"{name}_conv2")(x)
    x = make.norm_layer(name=f"{name}_norm2")(x)
    return keras.layers.Add(name=f"{name}_add", dtype=make.dtype)([skip, x])


def _upsample(x, filters: int, make: LayerFactory, name: str):
    """ConvTranspose2d(k=3, s=2, padding=1, output_padding=1) with PyTorch's pixel alignment.

    The full transposed convolution gives 2n+1 pixels; PyTorch drops the first one (padding=1)
    and keeps the last (output_padding=1). Keras' padding='same' would keep the first and drop
    the last, which shifts the image by one pixel against the official weights.
    """
    x = make.deconv(filters, 3, strides=2, padding="valid", name=f"{name}_deconv")(x)
    crop = PaddedGradientCropping2D(((1, 0), (1, 0)), name=f"{name}_align", dtype=make.dtype)
    return crop(x)
