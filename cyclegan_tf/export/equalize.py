"""Channel equalization before int8: give every conv output that feeds an instance norm one range.

int8 activations have one scale per tensor. Before an instance norm the channels of a trained
generator differ in range by orders of magnitude (the norm removes each channel's scale and offset,
so training never had to keep them alike), so the per-tensor scale leaves small channels a few
levels, and the norm then magnifies that rounding into blotches. Instance norm is invariant to a
per-channel offset and, with its epsilon scaled by the square of the factor, to a per-channel scale:

    norm(s * x + b, eps * s**2) == norm(x, eps)      for s > 0

so rescaling each such conv's output channels to [-1, 1] on calibration images (and scaling the
norm's epsilon per channel) gives the same float function with int8-friendly ranges. This is the
conv/norm case of cross-layer equalization (Nagel et al., 2019, "Data-Free Quantization").

Example:
    equalized = equalize_for_int8(generator, images_float)  # same outputs, even channel ranges
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from cyclegan_tf.export.export_layers import with_export_layers
from cyclegan_tf.export.graph import consumers, single_input
from cyclegan_tf.networks.layers import InstanceNormalization

PRODUCERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Conv2DTranspose)


# Layers that move pixels but keep each channel's values: scales and offsets pass through them.
PASS_THROUGH = (keras.layers.Cropping2D,)


@dataclass(frozen=True)
class NormPair:
    """A conv layer whose output reaches only an instance norm (maybe through a crop).

    `feed` is the layer whose output the norm reads: the conv itself, or the crop after it.
    """

    conv: str
    norm: str
    feed: str


def norm_pairs(model: keras.Model) -> list[NormPair]:
    """Every (conv, instance norm) pair where the conv's output goes only to the norm."""
    pairs = []
    for layer in model.layers:
        if not isinstance(layer, InstanceNormalization):
            continue
        feed = single_input(layer)
        producer = feed
        while isinstance(producer, PASS_THROUGH) and len(consumers(model, producer)) == 1:
            producer = single_input(producer)
        if not isinstance(producer, PRODUCERS) or not producer.use_bias:
            continue
        if len(consumers(model, producer)) == 1 and len(consumers(model, feed)) == 1:
            pairs.append(NormPair(producer.name, layer.name, feed.name))
    return pairs


def channel_ranges(
    model: keras.Model, layer_names: Sequence[str], images: np.ndarray, batch_size: int = 4
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-channel (min, max) of each named layer's output over `images` (float, model input)."""
    probe = keras.Model(model.input, [model.get_layer(n).output for n in layer_names])
    lows: dict[str, np.ndarray] = {}
    highs: dict[str, np.ndarray] = {}
    for start in range(0, len(images), batch_size):
        outputs = probe(images[start : start + batch_size], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for name, out in zip(layer_names, outputs, strict=True):
            out = np.asarray(keras.ops.convert_to_numpy(out), np.float32)
            low, high = out.min(axis=(0, 1, 2)), out.max(axis=(0, 1, 2))
            lows[name] = np.minimum(lows[name], low) if name in lows else low
            highs[name] = np.maximum(highs[name], high) if name in highs else high
    return {name: (lows[name], highs[name]) for name in layer_names}


def equalize_for_int8(model: keras.Model, images: np.ndarray) -> keras.Model:
    """A copy of `model` whose conv outputs before each instance norm span [-1, 1] per channel.

    `images` are float model inputs in [-1, 1] (the calibration set, or part of it). The copy
    computes the same function in float (up to rounding); `model` itself is left untouched.
    """
    pairs = norm_pairs(model)
    lowered = any(getattr(layer, "pooled", False) for layer in model.layers)
    copy = with_export_layers(model, lowered)  # norms that take a per-channel epsilon
    if not pairs:
        return copy
    ranges = channel_ranges(copy, [p.feed for p in pairs], np.asarray(images, np.float32))
    for pair in pairs:
        low, high = ranges[pair.feed]
        centre = (low + high) / 2.0
        # A channel constant on every calibration image keeps its scale (nothing to spread).
        half_span = (high - low) / 2.0
        scale = np.where(half_span > 1e-12, 1.0 / np.maximum(half_span, 1e-12), 1.0)
        conv = copy.get_layer(pair.conv)
        kernel, bias = (np.asarray(w) for w in conv.get_weights())
        conv.set_weights([_scale_kernel(conv, kernel, scale), (bias - centre) * scale])
        norm = copy.get_layer(pair.norm)
        base = norm.epsilon if norm.channel_epsilon is None else norm.channel_epsilon
        norm.channel_epsilon = (np.asarray(base, np.float32) * scale**2).astype(np.float32)
    return copy


def _scale_kernel(conv: keras.layers.Layer, kernel: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The kernel with output channel c multiplied by scale[c]."""
    if isinstance(conv, keras.layers.DepthwiseConv2D):
        # (kh, kw, in, multiplier); output channel = in * multiplier + m.
        kh, kw, channels_in, multiplier = kernel.shape
        return kernel * scale.reshape(1, 1, channels_in, multiplier)
    if isinstance(conv, keras.layers.Conv2DTranspose):
        return kernel * scale.reshape(1, 1, -1, 1)  # (kh, kw, out, in)
    return kernel * scale.reshape(1, 1, 1, -1)  # (kh, kw, in, out)
