"""Export-time rewrites of a generator into ops TFLite runs fast; the maths stays the same.

- Instance norms take pooled statistics and reflection pads become slices and a concatenation
  (`export_layers.with_export_layers`): MEAN and MIRROR_PAD have slow TFLite kernels.
- The ResNet generator's pixel-aligned transposed convs become four small convolutions, one per
  output pixel phase, interleaved by concatenations and reshapes (`SubPixelConvTranspose`):
  TFLite's TRANSPOSE_CONV ran 1.75x slower than TensorFlow's here, ordinary convs do not.
- Output convs with 3 filters run on 2x2 space-to-depth blocks with 12 filters
  (`SpaceToDepthConv2D`): XNNPACK fills 3 of 16 float lanes otherwise.

All of them need the static height and width of a fixed-size export.

Example:
    lowered = fast_copy(with_export_layers(generator))
"""

from __future__ import annotations

import keras
from keras import ops

from cyclegan_tf.export.graph import consumers, single_input


class SubPixelConvTranspose(keras.layers.Layer):
    """PyTorch's ConvTranspose2d(k=3, s=2, padding=1, output_padding=1), as four convolutions.

    Output pixel (2m + a, 2n + b) only sees kernel taps of one parity: (even, even) one tap,
    (even, odd) and (odd, even) two, (odd, odd) four: 9 taps in all, the MACs of the transposed
    conv. Each phase is an ordinary convolution of the input ('same' padding adds the zero row
    and column past the end); concatenations and reshapes interleave the four results.
    The kernel has Conv2DTranspose's layout (3, 3, filters, in), so its weights copy over.
    """

    def __init__(self, filters: int, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(shape=(3, 3, self.filters, channels), name="kernel")
        self.bias = (
            self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
            if self.use_bias
            else None
        )

    def call(self, inputs):
        # Static in a fixed-size export; symbolic when a model is built without a size.
        shape = ops.shape(inputs)
        height = inputs.shape[1] or shape[1]
        width = inputs.shape[2] or shape[2]
        w = ops.transpose(ops.cast(self.kernel, inputs.dtype), (0, 1, 3, 2))  # (3, 3, in, out)

        def phase(rows, cols):
            # Taps in input order (pixel m, then m + 1) for each axis.
            kernel = ops.stack([ops.stack([w[r, c] for c in cols]) for r in rows])
            y = ops.conv(inputs, kernel, strides=1, padding="same")
            return y if self.bias is None else y + ops.cast(self.bias, y.dtype)

        even, odd = (1,), (2, 0)
        top = _interleave(phase(even, even), phase(even, odd), height, width)
        bottom = _interleave(phase(odd, even), phase(odd, odd), height, width)
        rows = ops.concatenate([top, bottom], axis=2)  # row m: output rows 2m and 2m + 1
        return ops.reshape(rows, (-1, 2 * height, 2 * width, self.filters))

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (
            batch,
            None if height is None else 2 * height,
            None if width is None else 2 * width,
            self.filters,
        )


def _interleave(left, right, height: int, width: int):
    """Columns 2n from `left` and 2n + 1 from `right`: a concatenation and a reshape."""
    filters = left.shape[-1]
    return ops.reshape(ops.concatenate([left, right], axis=-1), (-1, height, 2 * width, filters))


def sub_pixel_pairs(model: keras.Model) -> dict[str, str]:
    """{transposed conv: crop} for each pixel-aligned upsampling of the ResNet generator."""
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Cropping2D):
            continue
        if tuple(map(tuple, layer.cropping)) != ((1, 0), (1, 0)):
            continue
        deconv = single_input(layer)
        if (
            isinstance(deconv, keras.layers.Conv2DTranspose)
            and tuple(deconv.kernel_size) == (3, 3)
            and tuple(deconv.strides) == (2, 2)
            and deconv.padding == "valid"
            and tuple(deconv.dilation_rate) == (1, 1)
            and deconv.activation is keras.activations.linear
            and len(consumers(model, deconv)) == 1
        ):
            pairs[deconv.name] = layer.name
    return pairs


# Convs with at most this many output channels fill few SIMD lanes: they run as space-to-depth.
NARROW_FILTERS = 4


def narrow_convs(model: keras.Model) -> list[str]:
    """Stride-1 convs with few output channels and an odd kernel (the generators' output convs)."""
    return [
        layer.name
        for layer in model.layers
        if type(layer) is keras.layers.Conv2D
        and layer.filters <= NARROW_FILTERS
        and layer.kernel_size[0] == layer.kernel_size[1] > 1
        and layer.kernel_size[0] % 2 == 1
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and layer.data_format == "channels_last"
    ]


def fast_copy(model: keras.Model) -> keras.Model:
    """`model`, or a copy with `SubPixelConvTranspose` upsampling and `SpaceToDepthConv2D`
    output convs, holding the same weights (rearranged where the layout differs)."""
    pairs = sub_pixel_pairs(model)
    crops = set(pairs.values())
    narrow = set(narrow_convs(model))
    if not pairs and not narrow:
        return model

    def clone(layer):
        if layer.name in pairs:
            return SubPixelConvTranspose(
                layer.filters, layer.use_bias, name=layer.name, dtype=layer.dtype_policy
            )
        if layer.name in crops:
            return keras.layers.Identity(name=layer.name, dtype=layer.dtype_policy)
        if layer.name in narrow:
            return SpaceToDepthConv2D.like(layer)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in copy.layers:
        source = model.get_layer(layer.name).get_weights()
        if isinstance(layer, SpaceToDepthConv2D):
            source = layer.weights_from_conv(*source)
        layer.set_weights(source)
    return copy


class SpaceToDepthConv2D(keras.layers.Layer):
    """A stride-1 conv with few output channels, computed on 2x2 space-to-depth blocks.

    A conv with 3 output channels fills 3 of XNNPACK's 16 float lanes. On space-to-depth input
    ((H/2, W/2, 4C)) the same conv is a conv with ceil((k+1)/2)^2 taps and 4 x filters outputs
    (one per output pixel of each 2x2 block), then depth-to-space: ~1.3x the MACs at 4x the lane
    use. Measured for the ResNet generator's 7x7 64->3 output conv at 256x256, 2 threads:
    31.8 ms -> 11.6 ms. Needs even output sizes (other sizes use the plain conv).
    """

    def __init__(self, filters, kernel_size, padding, use_bias, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.padding = padding
        self.use_bias = bool(use_bias)
        self.activation = keras.activations.get(activation)
        self.taps = (self.kernel_size + 2) // 2

    @classmethod
    def like(cls, conv: keras.layers.Conv2D) -> SpaceToDepthConv2D:
        return cls(
            conv.filters,
            conv.kernel_size[0],
            conv.padding,
            conv.use_bias,
            conv.activation,
            name=conv.name,
            dtype=conv.dtype_policy,
        )

    def build(self, input_shape):
        channels = input_shape[-1]
        taps, filters = self.taps, self.filters
        # The original kernel and bias, and the space-to-depth ones computed from them.
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, filters), name="kernel"
        )
        self.bias = (
            self.add_weight(shape=(filters,), initializer="zeros", name="bias")
            if self.use_bias
            else None
        )
        self.blocked_kernel = self.add_weight(
            shape=(taps, taps, 4 * channels, 4 * filters), name="blocked_kernel"
        )

    def weights_from_conv(self, kernel, bias=None) -> list:
        """[kernel, (bias,) blocked kernel] from a Conv2D's weights."""
        import numpy as np

        k, _, channels, filters = kernel.shape
        blocked = np.zeros((self.taps, self.taps, 2, 2, channels, 2, 2, filters), kernel.dtype)
        for ry in range(self.taps):
            for rx in range(self.taps):
                for sy in range(2):
                    for sx in range(2):
                        for a in range(2):
                            for b in range(2):
                                ky, kx = 2 * ry + sy - a, 2 * rx + sx - b
                                if 0 <= ky < k and 0 <= kx < k:
                                    blocked[ry, rx, sy, sx, :, a, b, :] = kernel[ky, kx]
        blocked = blocked.reshape(self.taps, self.taps, 4 * channels, 4 * filters)
        return [kernel, blocked] if bias is None else [kernel, bias, blocked]

    def call(self, inputs):
        import tensorflow as tf

        k = self.kernel_size
        if self.padding == "same":
            half = (k - 1) // 2
            inputs = ops.pad(inputs, [[0, 0], [half, half], [half, half], [0, 0]])
        height, width = inputs.shape[1], inputs.shape[2]
        if height is None or width is None or (height - k + 1) % 2 or (width - k + 1) % 2:
            y = ops.conv(inputs, ops.cast(self.kernel, inputs.dtype), padding="valid")
        else:
            y = tf.nn.space_to_depth(inputs, 2)
            y = ops.conv(y, ops.cast(self.blocked_kernel, y.dtype), padding="valid")
            y = tf.nn.depth_to_space(y, 2)
        if self.bias is not None:
            y = y + ops.cast(self.bias, y.dtype)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        shrink = 0 if self.padding == "same" else self.kernel_size - 1
        return (
            batch,
            None if height is None else height - shrink,
            None if width is None else width - shrink,
            self.filters,
        )
