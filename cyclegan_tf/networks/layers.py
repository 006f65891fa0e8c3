"""Layers the CycleGAN networks need that Keras does not ship: reflection padding and instance norm.

Both are written with `keras.ops` only, so they run on any Keras backend, and both are registered
so that a saved `.keras` generator loads with `safe_mode=True` and no `custom_objects`. They know
nothing of export: `cyclegan_tf.export.export_layers` swaps in its own versions by cloning.
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

    def call(self, inputs):
        p = self.padding
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


@keras.saving.register_keras_serializable(package="cyclegan_tf")
class PaddedGradientCropping2D(keras.layers.Cropping2D):
    """`Cropping2D` (channels last) whose backward is a zero pad of the gradient.

    The same maths; TensorFlow's autodiff of a crop is `StridedSliceGrad`, which took 6% of a
    ResNet-6 step at 96 px (`benchmarks/results/profile_step_96_b4.md`) for what is a pad.
    """

    def call(self, inputs):
        if self.data_format != "channels_last":
            return super().call(inputs)
        (top, bottom), (left, right) = self.cropping
        paddings = [[0, 0], [top, bottom], [left, right], [0, 0]]

        @ops.custom_gradient
        def crop(x):
            height, width = ops.shape(x)[1], ops.shape(x)[2]

            def grad(*args, upstream=None):
                return ops.pad(args[0] if upstream is None else upstream, paddings)

            return x[:, top : height - bottom, left : width - right, :], grad

        return crop(inputs)


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

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        normalize = fused_instance_norm if FUSED_GRADIENT else plain_instance_norm
        y = normalize(x, self.epsilon)
        if self.affine:
            y = y * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32")
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}


# True switches every instance norm to the closed-form backward below. Measured side by side on a
# 2-core Xeon (AVX-512, AMX) it gained nothing: 0.52 vs 0.51 s/step (ResNet-6 ngf 32, 96 px) and
# 0.86-0.90 vs 0.77-0.89 (phone recipe, 128 px, batch 4); the convolutions take ~75% of the busy
# time (benchmarks/results/train_speed_tried.md). Kept off, and kept for machines where the
# elementwise ops weigh more; tests check the two agree.
FUSED_GRADIENT = False


def plain_instance_norm(x, epsilon: float):
    """(x - mean) / sqrt(variance + epsilon) over height and width; autodiff for the backward."""
    mean = ops.mean(x, axis=(1, 2), keepdims=True)
    centered = x - mean
    variance = ops.mean(ops.square(centered), axis=(1, 2), keepdims=True)
    return centered * ops.rsqrt(variance + epsilon)


def fused_instance_norm(x, epsilon: float):
    """The same forward with the closed-form backward of a normalization:

        dx = r * (g - mean(g) - y * mean(g * y)),   r = 1 / sqrt(variance + epsilon)

    (means over height and width), two reductions and a few elementwise ops instead of autodiff
    through mean, square, subtraction and rsqrt. Written with `keras.ops.custom_gradient`, so it
    stays backend-portable.
    """

    @ops.custom_gradient
    def normalize(x):
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        centered = x - mean
        variance = ops.mean(ops.square(centered), axis=(1, 2), keepdims=True)
        r = ops.rsqrt(variance + epsilon)
        y = centered * r

        def grad(*args, upstream=None):
            g = args[0] if upstream is None else upstream
            g_mean = ops.mean(g, axis=(1, 2), keepdims=True)
            gy_mean = ops.mean(g * y, axis=(1, 2), keepdims=True)
            return r * (g - g_mean - y * gy_mean)

        return y, grad

    return normalize(x)


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
