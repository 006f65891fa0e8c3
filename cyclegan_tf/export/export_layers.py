"""The export's own versions of the training layers, swapped in by cloning: same maths, ops that
TFLite runs fast, and the int8 equalization's per-channel epsilon as a saved argument.

The training layers (`networks/layers.py`) know nothing of export. `with_export_layers` clones a
generator with every instance norm and reflection pad replaced:
- `ExportInstanceNormalization`: statistics as global average pooling and products (TFLite's
  MEAN and SQUARED_DIFFERENCE kernels are slow: mobile generator int8, 1 thread, 109 ms against
  16 ms), and `channel_epsilon`, one epsilon per channel, set by `export/equalize.py`;
- `SlicedReflectionPadding2D`: slices and one concatenation per axis instead of MIRROR_PAD, which
  XNNPACK does not delegate (64x64x256, 2 threads: 6.0 ms against 0.16 ms).
Both need the static height and width of a fixed-size export; `lowered=False` keeps the
training ops (a resizable export, or comparisons).

Example:
    export_model = with_export_layers(generator)  # same outputs, fast TFLite ops
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from cyclegan_tf.networks.layers import InstanceNormalization, ReflectionPadding2D


@keras.saving.register_keras_serializable(package="cyclegan_tf_export")
class ExportInstanceNormalization(InstanceNormalization):
    """Instance norm with pooled statistics (`pooled`) and an optional epsilon per channel."""

    def __init__(self, channel_epsilon=None, pooled: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.channel_epsilon = (
            None if channel_epsilon is None else np.asarray(channel_epsilon, np.float32)
        )
        self.pooled = bool(pooled)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        height, width = x.shape[1], x.shape[2]
        if self.pooled and height is not None and width is not None:

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

    def get_config(self):
        epsilon = None if self.channel_epsilon is None else self.channel_epsilon.tolist()
        return {**super().get_config(), "channel_epsilon": epsilon, "pooled": self.pooled}


@keras.saving.register_keras_serializable(package="cyclegan_tf_export")
class SlicedReflectionPadding2D(ReflectionPadding2D):
    """Reflection padding from single-row slices and concatenations (static shapes)."""

    def call(self, inputs):
        p = self.padding
        height, width = inputs.shape[1], inputs.shape[2]
        if p and height is not None and width is not None:
            return _mirror_axis(_mirror_axis(inputs, p, 1, height), p, 2, width)
        return super().call(inputs)


def _mirror_axis(x, p: int, axis: int, length: int):
    """Reflection padding of `p` along `axis` (1 or 2) from single-row slices."""
    if p >= length:
        raise ValueError(f"reflection padding {p} needs more than {p} pixels, got {length}")

    def row(i):
        return x[:, i : i + 1] if axis == 1 else x[:, :, i : i + 1]

    before = [row(i) for i in range(p, 0, -1)]
    after = [row(length - 1 - i) for i in range(1, p + 1)]
    return ops.concatenate([*before, x, *after], axis=axis)


def with_export_layers(model: keras.Model, lowered: bool = True) -> keras.Model:
    """A copy of `model` with export norms (keeping any channel epsilon) and, when `lowered`,
    sliced reflection pads and pooled statistics; the same weights."""

    def clone(layer):
        if isinstance(layer, InstanceNormalization):
            return ExportInstanceNormalization(
                epsilon=layer.epsilon,
                affine=layer.affine,
                channel_epsilon=getattr(layer, "channel_epsilon", None),
                pooled=lowered,
                name=layer.name,
                dtype=layer.dtype_policy,
            )
        if isinstance(layer, ReflectionPadding2D):
            kind = SlicedReflectionPadding2D if lowered else ReflectionPadding2D
            return kind(layer.padding, name=layer.name, dtype=layer.dtype_policy)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in copy.layers:
        if layer.weights:  # input layers of a clone may be renamed; they hold no weights
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return copy
