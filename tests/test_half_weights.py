import json
import zipfile

import keras
import numpy as np
import pytest

from cyclegan_tf.checkpoints import load_generator, save_generator
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.half_weights import is_half, to_float16, to_float32
from cyclegan_tf.networks import build_generator


@pytest.fixture(scope="module")
def mobile_generator():
    keras.utils.set_random_seed(3)
    return build_generator("mobile_deep", ngf=8, model_name="generator_ab")


def test_half_file_is_smaller_deflated_and_loads_back_as_the_same_float32_network(
    mobile_generator, tmp_path
):
    config = CycleGANConfig.preset("tiny", generator="mobile_deep", ngf=8, crop_size=32)
    full = save_generator(mobile_generator, tmp_path / "full" / "g.keras", config, "AtoB", 3)
    half = save_generator(
        mobile_generator, tmp_path / "half" / "g.keras", config, "AtoB", 3, half=True
    )
    assert half.stat().st_size < 0.6 * full.stat().st_size
    with zipfile.ZipFile(half) as archive:
        assert {m.compress_type for m in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    # A plain Keras load sees float16 variables; ours computes in float32 again.
    raw = keras.saving.load_model(half, compile=False)
    assert is_half(raw) and {v.dtype for v in raw.weights} == {"float16"}
    loaded, info = load_generator(half)
    assert not is_half(loaded) and {v.dtype for v in loaded.weights} == {"float32"}
    assert info.epoch == 3 and json.loads(half.with_suffix(".json").read_text())["epoch"] == 3
    for ours, original in zip(loaded.get_weights(), mobile_generator.get_weights(), strict=True):
        np.testing.assert_allclose(ours, original, rtol=1e-3, atol=1e-4)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    out, reference = np.asarray(loaded(x)), np.asarray(mobile_generator(x))
    assert out.dtype == np.float32
    assert np.abs(out - reference).max() < 2 / 255  # under one 8-bit level


def test_float16_round_trip_keeps_the_architecture(mobile_generator):
    half = to_float16(mobile_generator)
    assert is_half(half) and half.count_params() == mobile_generator.count_params()
    back = to_float32(half)
    assert [w.shape for w in back.weights] == [w.shape for w in mobile_generator.weights]
    assert [layer.name for layer in back.layers] == [
        layer.name for layer in mobile_generator.layers
    ]


def test_weights_beyond_float16_are_refused():
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))
    kernel, bias = model.get_weights()
    model.set_weights([kernel, bias + 1e6])
    with pytest.raises(ValueError, match="does not fit float16"):
        to_float16(model)
