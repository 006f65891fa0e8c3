import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils

from cyclegan_tf.export import int8_ranges
from cyclegan_tf.export.litert import TFLiteModel
from cyclegan_tf.export.tflite import convert_generator, from_model_output, to_model_input
from cyclegan_tf.imaging import mean_psnr as psnr
from cyclegan_tf.networks.layers import InstanceNormalization

SIZE = 64


def histogram(values: np.ndarray, low: float, high: float) -> np.ndarray:
    counts, _ = np.histogram(values, bins=int8_ranges.HISTOGRAM_BINS, range=(low, high))
    return counts.astype(float)


def quantization_mse(values: np.ndarray, low: float, high: float) -> float:
    """Squared error of actually quantizing `values` to 256 levels on [low, high]."""
    step = (high - low) / 255
    levels = np.clip(np.round((values - low) / step), 0, 255)
    return float(np.mean((values - (levels * step + low)) ** 2))


@pytest.mark.parametrize("outliers, gain", [(2, 0.8), (40, 1.0), (2000, 1.0)])
def test_the_chosen_range_has_the_least_real_quantization_error(outliers, gain):
    # A histogram-based choice matches quantizing the actual values and trying every range;
    # rare outliers are clipped, common ones keep the full range.
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 200_000), np.full(outliers, 25.0), [-25.0]])
    low, high = int8_ranges.best_range(histogram(values, -25, 25), -25, 25)
    chosen = quantization_mse(values, low, high)
    candidates = [quantization_mse(values, -25 * f, 25 * f) for f in np.linspace(1, 0.05, 96)]
    assert chosen <= 1.02 * min(candidates)
    assert chosen <= gain * quantization_mse(values, -25, 25)
    if outliers == 2:
        assert -20 < low < -10 and 10 < high < 20
    if outliers == 2000:
        assert (low, high) == (-25, 25)


def test_a_uniform_range_is_kept_and_relu_ranges_keep_zero():
    values = np.random.default_rng(1).uniform(0, 1, 100_000)
    low, high = int8_ranges.best_range(histogram(values, 0, 1), 0, 1)
    assert low == 0 and high == pytest.approx(1.0)
    relu = np.abs(np.random.default_rng(2).normal(0, 1, 100_000))
    low, high = int8_ranges.best_range(histogram(relu, 0, relu.max()), 0, relu.max())
    assert low == 0 and high < relu.max()


def spotty_photos(count: int, seed: int) -> np.ndarray:
    """Flat noisy images with one white pixel: after an instance norm that pixel is ~60 sigma."""
    rng = np.random.default_rng(seed)
    images = np.clip(rng.normal(110, 12, (count, SIZE, SIZE, 3)), 0, 255)
    for image in images:
        y, x = rng.integers(0, SIZE, 2)
        image[y, x] = 255
    return images.astype(np.uint8)


@pytest.fixture(scope="module")
def normed_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = inputs
    for _ in range(2):
        x = keras.layers.Conv2D(8, 1)(x)
        x = keras.layers.ReLU()(InstanceNormalization()(x))
    outputs = keras.layers.Activation("tanh")(keras.layers.Conv2D(3, 1)(x))
    return keras.Model(inputs, outputs)


def test_tuning_shrinks_heavy_tailed_ranges_and_keeps_the_model_io(normed_model):
    from cyclegan_tf.export.tflite import _representative_dataset, frozen_serving_function

    images = list(spotty_photos(8, seed=0))
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [frozen_serving_function(normed_model, SIZE)]
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative_dataset(images, "float", progress=False)
    calibrated = int8_ranges.calibrate(converter)
    inputs = [to_model_input(image[None], "float") for image in images]
    tuned = int8_ranges.tune_ranges(calibrated, inputs, progress=False)

    def ranges(model_bytes):
        graph = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes)).subgraphs[0]
        found = {}
        for i, t in enumerate(graph.tensors):
            if t.quantization is not None and t.quantization.min is not None:
                found[i] = (float(t.quantization.min[0]), float(t.quantization.max[0]))
        return found, set(graph.inputs) | set(graph.outputs)

    before, io = ranges(calibrated)
    after, _ = ranges(tuned)
    assert before.keys() == after.keys()
    shrunk = 0
    for i, (low, high) in before.items():
        new_low, new_high = after[i]
        if i in io:
            assert (new_low, new_high) == (low, high)
        assert low - 1e-6 <= new_low <= new_high <= high + 1e-6
        shrunk += (new_high - new_low) < 0.97 * (high - low)
    assert shrunk >= 4  # the conv and norm outputs, whose ranges the white pixels had set


def test_least_error_ranges_make_int8_closer_to_float(normed_model, tmp_path):
    calibration = list(spotty_photos(100, seed=0))
    test = spotty_photos(4, seed=1)
    reference = from_model_output(normed_model(to_model_input(test, "float")), "float")

    def int8_psnr(mse_ranges: bool) -> float:
        path = tmp_path / f"mse_{mse_ranges}.tflite"
        path.write_bytes(
            convert_generator(
                normed_model,
                "int8",
                SIZE,
                calibration=calibration,
                progress=False,
                mse_ranges=mse_ranges,
            )
        )
        model = TFLiteModel(path)
        out = np.concatenate([model.run(to_model_input(t[None], "float")) for t in test])
        return psnr(from_model_output(out, "float"), reference)

    plain, tuned = int8_psnr(False), int8_psnr(True)
    assert tuned > plain + 0.5, (plain, tuned)
