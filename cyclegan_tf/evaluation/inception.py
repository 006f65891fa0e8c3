"""InceptionV3 pool features for FID/KID: 2048-d, images resized to 299x299.

Weights, in order: a local `.h5` file (`--inception-weights PATH`), the copy Keras keeps in
`~/.keras/models/` after a first online use, or a download through Keras when the user is online.
With none of these, `InceptionWeightsError` says how to get them. `weights=None` builds random
weights (tests: the network path runs, but the numbers mean nothing).

Note: the standard FID code (TTUR, pytorch-fid) uses the 2015 Inception graph; Keras's ImageNet
InceptionV3 is a different training run, so our FID/KID are comparable with each other, not to the
last digit with papers.

Example:
    extractor = InceptionFeatures.from_weights(None)  # or a path, or "imagenet"
    features = extractor(images_uint8)                 # (N, 2048)
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

from cyclegan_tf.evaluation.feature_network import FeatureWeightsError, ImageFeatures

INPUT_SIZE = 299
FEATURES = 2048
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + WEIGHTS_FILE
)


class InceptionWeightsError(FeatureWeightsError):
    """The Inception weights are neither local nor downloadable."""


def keras_cache_path() -> Path:
    """Where Keras keeps downloaded application weights."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models" / WEIGHTS_FILE


def resolve_weights(weights: str | os.PathLike | None) -> str | None:
    """A local weights path for `weights` ('imagenet', a path, or None for random weights)."""
    if weights is None:
        return None
    if str(weights) != "imagenet":
        path = Path(weights)
        if not path.is_file():
            raise InceptionWeightsError(f"--inception-weights {path}: no such file")
        return str(path)
    cached = keras_cache_path()
    if cached.is_file():
        return str(cached)
    try:
        return keras.utils.get_file(WEIGHTS_FILE, WEIGHTS_URL, cache_subdir="models")
    except Exception as e:  # offline: urllib, socket and Keras raise different types
        raise InceptionWeightsError(
            f"InceptionV3 weights are needed for FID/KID and could not be downloaded ({e}). "
            f"Run once with internet access (Keras caches them in {cached.parent}), or download "
            f"{WEIGHTS_URL} and pass --inception-weights PATH; --no-inception skips FID/KID."
        ) from None


class InceptionFeatures(ImageFeatures):
    """Turns uint8 RGB images of any size into InceptionV3 average-pool features."""

    name = "InceptionV3"
    dimensions = FEATURES
    input_size = INPUT_SIZE

    def prepare(self, batch):
        return batch / 127.5 - 1.0

    @classmethod
    def from_weights(cls, weights: str | os.PathLike | None = "imagenet", **kwargs):
        path = resolve_weights(weights)
        network = keras.applications.InceptionV3(
            include_top=False,
            weights=None,
            input_shape=(INPUT_SIZE, INPUT_SIZE, 3),
            pooling="avg",
        )
        if path is not None:
            try:
                network.load_weights(path)
            except (ValueError, OSError) as e:
                raise InceptionWeightsError(
                    f"--inception-weights {path} are not InceptionV3 no-top weights: {e}"
                ) from None
        return cls(network, **kwargs)
