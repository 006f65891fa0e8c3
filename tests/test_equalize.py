import keras
import numpy as np
import pytest

from cyclegan_tf.export.equalize import PRODUCERS, channel_ranges, equalize_for_int8, norm_pairs
from cyclegan_tf.export.litert import TFLiteModel
from cyclegan_tf.export.tflite import convert_generator, from_model_output, to_model_input
from cyclegan_tf.imaging import mean_psnr as psnr
from cyclegan_tf.networks import build_generator


def uneven_generator(name: str, seed: int = 0) -> keras.Model:
    """A generator whose conv channels before each norm differ wildly in scale and offset.

    Trained generators look like this (the norm removes both, so nothing keeps them alike);
    random initialization does not, so the test makes it.
    """
    keras.utils.set_random_seed(seed)
    generator = build_generator(name, ngf=8)
    rng = np.random.default_rng(seed)
    for pair in norm_pairs(generator):
        conv = generator.get_layer(pair.conv)
        kernel, bias = conv.get_weights()
        channels = bias.shape[0]
        factor = 10.0 ** rng.uniform(-2, 1, channels)
        # Output channels: axis 2 of depthwise (kh, kw, in, 1) and transposed (kh, kw, out, in)
        # kernels, axis 3 of a Conv2D kernel (kh, kw, in, out).
        if isinstance(conv, (keras.layers.DepthwiseConv2D, keras.layers.Conv2DTranspose)):
            shape = (1, 1, channels, 1)
        else:
            shape = (1, 1, 1, channels)
        conv.set_weights([kernel * factor.reshape(shape), bias + rng.normal(0, 3, channels)])
    return generator


def images(count: int, size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", ["mobile", "resnet_6blocks"])
def test_norm_pairs_find_every_conv_that_feeds_an_instance_norm(name):
    generator = build_generator(name, ngf=8)
    pairs = norm_pairs(generator)
    norms = [layer for layer in generator.layers if layer.__class__.__name__.startswith("Instance")]
    # Every norm of these generators follows a conv directly.
    assert len(pairs) == len(norms) > 0
    for pair in pairs:
        conv, norm = generator.get_layer(pair.conv), generator.get_layer(pair.norm)
        assert type(conv) in PRODUCERS  # a conv, depthwise or transposed (the ResNet's upsampling)
        assert norm in norms and norm.input is generator.get_layer(pair.feed).output


@pytest.mark.parametrize("name", ["mobile", "resnet_6blocks"])
def test_equalized_copy_computes_the_same_function_with_even_channel_ranges(name):
    generator = uneven_generator(name)
    before = [np.copy(w) for w in generator.get_weights()]
    x = to_model_input(images(8, 32, seed=1), "float")
    equalized = equalize_for_int8(generator, x)

    np.testing.assert_allclose(equalized(x), generator(x), atol=2e-3)
    for old, new in zip(before, generator.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # the original is untouched

    names = [pair.feed for pair in norm_pairs(generator)]
    spans_before = channel_ranges(generator, names, x)
    spans_after = channel_ranges(equalized, names, x)
    for conv in names:
        low, high = spans_after[conv]
        np.testing.assert_allclose(low, -1.0, atol=1e-3)
        np.testing.assert_allclose(high, 1.0, atol=1e-3)
        old_low, old_high = spans_before[conv]
        assert (old_high - old_low).max() / (old_high - old_low).min() > 10  # was uneven


def test_equalization_makes_int8_faithful_on_uneven_channels(tmp_path):
    generator = uneven_generator("mobile", seed=3)
    calibration = list(images(100, 32, seed=4))
    test = images(4, 32, seed=5)
    reference = from_model_output(generator(to_model_input(test, "float")), "float")

    def int8_psnr(equalize: bool) -> float:
        path = tmp_path / f"eq_{equalize}.tflite"
        path.write_bytes(
            convert_generator(
                generator, "int8", 32, calibration=calibration, progress=False, equalize=equalize
            )
        )
        model = TFLiteModel(path)
        out = np.concatenate([model.run(to_model_input(t[None], "float")) for t in test])
        return psnr(from_model_output(out, "float"), reference)

    plain, equalized = int8_psnr(False), int8_psnr(True)
    assert equalized > plain + 3.0, (plain, equalized)
