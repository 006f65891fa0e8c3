"""A generator trained under mixed precision is saved, loaded and exported computing in float32."""

import keras
import numpy as np
import pytest

from cyclegan_tf.checkpoints import load_generator, save_generator
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.dtype_policies import computes_in_float32, with_float32_compute
from cyclegan_tf.export.exporter import export_generator
from cyclegan_tf.export.litert import TFLiteModel
from cyclegan_tf.model import CycleGAN

SIZE = 32


@pytest.fixture(scope="module")
def bf16_config():
    return CycleGANConfig.preset(
        "tiny", generator="mobile_deep", ngf=8, ndf=8, crop_size=SIZE, load_size=36,
        precision="mixed_bfloat16",
    )  # fmt: skip


@pytest.fixture(scope="module")
def bf16_generator(bf16_config):
    keras.utils.set_random_seed(5)
    generator = CycleGAN(bf16_config).generator_ab
    assert {layer.compute_dtype for layer in generator.layers} >= {"bfloat16"}  # as trained
    return generator


def _images(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (2, SIZE, SIZE, 3)).astype("float32")


def test_float32_rebuild_keeps_the_weights_and_the_function(bf16_generator):
    rebuilt = with_float32_compute(bf16_generator)
    assert not computes_in_float32(bf16_generator) and computes_in_float32(rebuilt)
    for ours, original in zip(rebuilt.get_weights(), bf16_generator.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, original)  # bf16 training keeps float32 variables
    x = _images(0)
    exact, rounded = np.asarray(rebuilt(x)), np.asarray(bf16_generator(x), dtype="float32")
    assert np.asarray(rebuilt(x)).dtype == np.float32
    assert 0 < np.abs(exact - rounded).mean() < 0.05  # differs only by bf16 rounding
    assert with_float32_compute(rebuilt) is rebuilt  # already float32: no copy


def test_bf16_generator_is_saved_computing_in_float32(bf16_generator, bf16_config, tmp_path):
    path = save_generator(bf16_generator, tmp_path / "generator_ab.keras", bf16_config, "AtoB")
    raw = keras.saving.load_model(path, compile=False)
    assert computes_in_float32(raw)  # any Keras user gets the float32 network
    # A file saved with its mixed policy (before this fix, or by hand) loads as float32 too.
    old = tmp_path / "old" / "generator_ab.keras"
    save_generator(bf16_generator, old, bf16_config, "AtoB")
    bf16_generator.save(old)
    assert not computes_in_float32(keras.saving.load_model(old, compile=False))
    loaded, info = load_generator(old)
    assert computes_in_float32(loaded) and info.config.precision == "mixed_bfloat16"
    x = _images(1)
    np.testing.assert_allclose(loaded(x), raw(x), atol=1e-6)


def test_bf16_generator_exports_to_int8_without_flex_ops(bf16_generator, bf16_config, tmp_path):
    # Converted with its bf16 policy, the int8 graph kept bf16 ops: ERROR_NEEDS_FLEX_OPS.
    path = tmp_path / "generator_ab.keras"
    save_generator(bf16_generator, path, bf16_config, "AtoB")
    bf16_generator.save(path)  # the mixed policy stays in the file
    report = export_generator(
        path, tmp_path / "out", quantizations=("int8",), io="uint8", saved_model=False,
        calibration_count=100,
    )  # fmt: skip
    model = TFLiteModel(tmp_path / "out" / "generator_ab_int8.tflite")
    assert model.input_dtype == np.uint8 and model.input_shape == (1, SIZE, SIZE, 3)
    assert report.variants["int8"]["psnr_db"] > 25
