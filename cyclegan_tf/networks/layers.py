"""Layers the CycleGAN networks need that Keras does not ship: reflection padding and instance norm.

Both are written with `keras.ops` only, so they run on any Keras backend, and both are registered
so that a saved `.keras` generator loads with `safe_mode=True` and no `custom_objects`.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cyclegan_tf")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring, as PyTorch's `nn.ReflectionPad2d`.

    Example:
        y = ReflectionPadding2D(3)(x)  # (1, 64, 64, 3) -> (1, 70, 70, 3)
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(padding) < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        self.padding = int(padding)

    # Set by the exporter: mirror with slices and one concatenation per axis instead of a pad op.
    # Same values; TFLite's MIRROR_PAD kernel is not delegated to XNNPACK and is slow (measured at
    # 64x64x256, 2 threads: 6.0 ms, against 0.16 ms as slices + CONCATENATION).
    sliced_lowering = False

    def call(self, inputs):
        p = self.padding
        height, width = inputs.shape[1], inputs.shape[2]
        if self.sliced_lowering and p and height is not None and width is not None:
            return _mirror_axis(_mirror_axis(inputs, p, 1, height), p, 2, width)
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = 2 * self.padding
        return (
            batch,
            None if height is None else height + grow,
            None if width is None else width + grow,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def _mirror_axis(x, p: int, axis: int, length: int):
    """Reflection padding of `p` along `axis` (1 or 2) from single-row slices."""
    if p >= length:
        raise ValueError(f"reflection padding {p} needs more than {p} pixels, got {length}")

    def row(i):
        return x[:, i : i + 1] if axis == 1 else x[:, :, i : i + 1]

    before = [row(i) for i in range(p, 0, -1)]
    after = [row(length - 1 - i) for i in range(1, p + 1)]
    return ops.concatenate([*before, x, *after], axis=axis)


@keras.saving.register_keras_serializable(package="cyclegan_tf")
class InstanceNormalization(keras.layers.Layer):
    """Normalizes each image's channels over height and width (Ulyanov et al., 2016).

    Same maths as `GroupNormalization(groups=-1)` and PyTorch's `InstanceNorm2d`, but written as a
    mean and a variance over the spatial axes, which lowers to a handful of TFLite ops instead of
    reshapes with dynamic shapes. Statistics are computed in float32 under mixed precision.
    The paper's networks use it without a learned scale and offset (`affine=False`).

    Example:
        y = InstanceNormalization()(x)  # every (image, channel) has mean 0 and variance 1
    """

    def __init__(self, epsilon: float = 1e-5, affine: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.affine = bool(affine)

    def build(self, input_shape):
        if self.affine:
            channels = input_shape[-1]
            self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
            self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    # Set by the exporter: means as global average pooling and squares as products, which
    # TFLite runs with fast (XNNPACK) float and int8 kernels; same maths, static shapes only.
    pooled_statistics = False
    # Set by the int8 exporter's channel equalization: one epsilon per channel (see
    # `cyclegan_tf.export.equalize`); None uses the scalar `epsilon`.
    channel_epsilon = None

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        height, width = x.shape[1], x.shape[2]
        if self.pooled_statistics and height is not None and width is not None:

            def spatial_mean(t):
                return ops.average_pool(t, (height, width), strides=1, padding="valid")

            mean = spatial_mean(x)
            centered = x - mean
            variance = spatial_mean(centered * centered)
        else:
            mean = ops.mean(x, axis=(1, 2), keepdims=True)
            centered = x - mean
            variance = ops.mean(ops.square(centered), axis=(1, 2), keepdims=True)
        epsilon = self.epsilon if self.channel_epsilon is None else self.channel_epsilon
        y = centered * ops.rsqrt(variance + epsilon)
        if self.affine:
            y = y * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32")
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}


def normalization(norm: str, name: str | None = None, dtype=None) -> keras.layers.Layer:
    """The normalization layer called `norm` ('instance', 'batch' or 'none')."""
    if norm == "instance":
        return InstanceNormalization(name=name, dtype=dtype)
    if norm == "batch":
        # PyTorch's BatchNorm2d defaults: momentum 0.1 (Keras 0.9), epsilon 1e-5, affine.
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name, dtype=dtype)
    if norm == "none":
        return keras.layers.Identity(name=name, dtype=dtype)
    raise ValueError(f"norm must be one of ['instance', 'batch', 'none'], got {norm!r}")


def kernel_initializer(init_type: str, gain: float, seed: int | None = None):
    """The weight initialization of the official code: N(0, gain), xavier or kaiming."""
    if init_type == "normal":
        return keras.initializers.RandomNormal(0.0, gain, seed=seed)
    if init_type == "xavier":
        # torch.nn.init.xavier_normal_(gain=g) == glorot normal scaled by g**2 in variance.
        return keras.initializers.VarianceScaling(
            gain**2, mode="fan_avg", distribution="untruncated_normal", seed=seed
        )
    if init_type == "kaiming":
        return keras.initializers.HeNormal(seed=seed)
    raise ValueError(f"init_type must be one of ['normal', 'xavier', 'kaiming'], got {init_type!r}")
