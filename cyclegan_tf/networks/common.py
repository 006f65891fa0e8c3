"""What every network builder shares: how convolutions are initialized, normalized and typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from cyclegan_tf.networks.layers import kernel_initializer, normalization


@dataclass(frozen=True)
class LayerFactory:
    """Makes conv and norm layers with one initialization, norm type and dtype policy.

    Example:
        make = LayerFactory(norm="instance", dtype="mixed_bfloat16")
        x = make.conv(64, 3, name="c1")(x)
    """

    norm: str = "instance"
    init_type: str = "normal"
    init_gain: float = 0.02
    dtype: Any = None

    @property
    def use_bias(self) -> bool:
        # As the official code: batch norm has its own offset, so convs before it have no bias.
        return self.norm != "batch"

    def conv(
        self,
        filters: int,
        kernel: int,
        strides: int = 1,
        padding: str = "valid",
        name: str | None = None,
        use_bias: bool | None = None,
    ) -> keras.layers.Layer:
        return keras.layers.Conv2D(
            filters,
            kernel,
            strides=strides,
            padding=padding,
            use_bias=self.use_bias if use_bias is None else use_bias,
            kernel_initializer=kernel_initializer(self.init_type, self.init_gain),
            bias_initializer="zeros",
            name=name,
            dtype=self.dtype,
        )

    def deconv(
        self,
        filters: int,
        kernel: int,
        strides: int = 2,
        padding: str = "valid",
        name: str | None = None,
        use_bias: bool | None = None,
    ) -> keras.layers.Layer:
        return keras.layers.Conv2DTranspose(
            filters,
            kernel,
            strides=strides,
            padding=padding,
            use_bias=self.use_bias if use_bias is None else use_bias,
            kernel_initializer=kernel_initializer(self.init_type, self.init_gain),
            bias_initializer="zeros",
            name=name,
            dtype=self.dtype,
        )

    def norm_layer(self, name: str | None = None) -> keras.layers.Layer:
        return normalization(self.norm, name=name, dtype=self.dtype)

    def relu(self, name: str | None = None) -> keras.layers.Layer:
        return keras.layers.ReLU(name=name, dtype=self.dtype)

    def leaky_relu(self, name: str | None = None) -> keras.layers.Layer:
        return keras.layers.LeakyReLU(negative_slope=0.2, name=name, dtype=self.dtype)

    def tanh_output(self, name: str = "output") -> keras.layers.Layer:
        # The last activation stays float32 under mixed precision.
        return keras.layers.Activation("tanh", name=name, dtype="float32")

    def image_input(self, channels: int, size: int | None, name: str) -> keras.KerasTensor:
        return keras.Input(shape=(size, size, channels), name=name)


def concatenate_input(features: keras.KerasTensor, image: keras.KerasTensor, make: LayerFactory):
    """`features` with the input image as extra channels: a long skip past every norm layer.

    An instance norm right after the first conv makes a generator blind to each image's mean
    colour (a constant added to the input is removed with the mean), so it cannot tell a grey
    backdrop from a blue one. The raw image at the last conv gives that colour back; a k x k conv
    sums k*k taps per colour channel, so its colour weights also learn k*k times as fast as one
    1x1 weight would.
    """
    return keras.layers.Concatenate(name="input_skip", dtype=make.dtype)([features, image])
