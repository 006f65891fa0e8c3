"""Shared test set-up: two logical CPU devices (for the distribution test) and tiny configs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Must happen before TensorFlow initializes its devices.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

from cyclegan_tf.config import CycleGANConfig  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def tiny_config() -> CycleGANConfig:
    """A CycleGAN small enough to train a few steps in seconds on a CPU."""
    return CycleGANConfig.preset(
        "tiny",
        ngf=4,
        ndf=4,
        generator="resnet_6blocks",
        crop_size=32,
        load_size=36,
        batch_size=2,
        synthetic_size=8,
        n_epochs=2,
        n_epochs_decay=2,
        pool_size=4,
        generator_ema=0.0,  # the preset's weight average has its own tests
        lambda_tv=0.0,  # and so has its total-variation term
        lambda_identity=0.5,  # the paper's identity weight: the rest is the paper's objective
    )
