import numpy as np
import pytest
import tensorflow as tf

from cyclegan_tf.networks import (
    InstanceNormalization,
    ReflectionPadding2D,
    build_discriminator,
    build_generator,
)
from cyclegan_tf.networks.common import LayerFactory
from cyclegan_tf.networks.resnet import _upsample


@pytest.mark.parametrize(
    "name, count",
    [("resnet_9blocks", 11_378_179), ("resnet_6blocks", 7_837_699)],
)
def test_resnet_generators_have_the_official_parameter_counts(name, count):
    assert build_generator(name, ngf=64).count_params() == count


def test_basic_patchgan_has_the_official_parameter_count():
    assert build_discriminator("basic", ndf=64).count_params() == 2_764_737


@pytest.mark.parametrize(
    "name, size", [("resnet_6blocks", 32), ("unet_128", 128), ("mobile", 32), ("mobile_deep", 32)]
)
def test_generators_keep_the_image_shape_and_stay_in_tanh_range(name, size):
    g = build_generator(name, ngf=4)
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    y = np.asarray(g(x))
    assert y.shape == x.shape
    assert np.all(np.abs(y) <= 1.0)


@pytest.mark.parametrize(
    "name, n_layers, grid", [("basic", 3, 6), ("n_layers", 2, 14), ("pixel", 3, 64)]
)
def test_discriminators_return_a_grid_of_patch_logits(name, n_layers, grid):
    d = build_discriminator(name, ndf=4, n_layers=n_layers)
    assert d(np.zeros((1, 64, 64, 3), "float32")).shape == (1, grid, grid, 1)


def test_unknown_network_names_list_the_choices():
    with pytest.raises(ValueError, match="resnet_9blocks"):
        build_generator("resnet_7blocks")
    with pytest.raises(ValueError, match="pixel"):
        build_discriminator("patch")


def test_instance_norm_matches_group_normalization_with_one_channel_per_group():
    import keras

    x = np.random.default_rng(1).normal(3, 2, (2, 8, 8, 5)).astype("float32")
    layer = InstanceNormalization()
    ours = layer(x)
    reference = keras.layers.GroupNormalization(groups=-1, center=False, scale=False, epsilon=1e-5)(
        x
    )
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    assert layer.count_params() == 0  # no learned scale or offset, as the paper's networks


def test_instance_norm_gives_zero_mean_unit_variance_per_image_and_channel():
    x = np.random.default_rng(2).normal(5, 3, (3, 16, 16, 4)).astype("float32")
    y = np.asarray(InstanceNormalization()(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1, atol=1e-3)


def test_reflection_padding_mirrors_like_numpy():
    x = np.arange(2 * 5 * 6 * 3, dtype="float32").reshape(2, 5, 6, 3)
    y = ReflectionPadding2D(2)(x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), "reflect"))


def test_upsampling_has_pytorchs_pixel_alignment():
    """ConvTranspose2d(k=3, s=2, padding=1, output_padding=1), computed by hand."""
    import keras

    x = np.random.default_rng(3).normal(size=(1, 3, 4, 1)).astype("float32")
    kernel = np.arange(9, dtype="float32").reshape(3, 3)
    inputs = keras.Input((3, 4, 1))
    model = keras.Model(inputs, _upsample(inputs, 1, LayerFactory(), "up"))
    model.get_layer("up_deconv").set_weights([kernel[:, :, None, None], np.zeros(1, "float32")])
    full = np.zeros((2 * 3 + 1, 2 * 4 + 1), "float32")  # the uncropped transposed convolution
    for i in range(3):
        for j in range(4):
            full[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] += x[0, i, j, 0] * kernel
    expected = full[1:, 1:]  # padding=1 drops the first row/column; output_padding keeps the last
    np.testing.assert_allclose(np.asarray(model(x))[0, :, :, 0], expected, atol=1e-5)


def test_mixed_precision_networks_compute_in_bfloat16_and_return_float32():
    g = build_generator("resnet_6blocks", ngf=4, dtype="mixed_bfloat16")
    d = build_discriminator("basic", ndf=4, dtype="mixed_bfloat16")
    x = np.zeros((1, 32, 32, 3), "float32")
    assert g.get_layer("stem_conv").compute_dtype == "bfloat16"
    assert g(x).dtype == tf.float32 and d(x).dtype == tf.float32


def test_weights_start_from_n_0_002():
    g = build_generator("resnet_9blocks", ngf=64)
    kernel = g.get_layer("block0_conv1").kernel.numpy()
    assert abs(kernel.mean()) < 1e-3
    assert kernel.std() == pytest.approx(0.02, rel=0.05)
    assert np.all(g.get_layer("block0_conv1").bias.numpy() == 0)


def test_saved_generator_loads_in_safe_mode_with_the_same_outputs(tmp_path):
    import keras

    g = build_generator("resnet_6blocks", ngf=4)
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    x = np.random.default_rng(4).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(g(x), loaded(x), atol=1e-6)


@pytest.mark.parametrize(
    "init_type, gain, expected_std",
    [
        ("normal", 0.02, 0.02),
        ("xavier", 0.02, 0.02 * (2 / (9 * 256 * 2)) ** 0.5),
        ("kaiming", 0.02, (2 / (9 * 256)) ** 0.5),
    ],
)
def test_init_types_follow_the_official_formulas(init_type, gain, expected_std):
    g = build_generator("resnet_9blocks", ngf=64, init_type=init_type, init_gain=gain)
    kernel = g.get_layer("block0_conv1").kernel.numpy()  # 3x3, 256 -> 256
    assert kernel.std() == pytest.approx(expected_std, rel=0.05)


def test_every_registered_generator_has_one_builder_and_the_config_offers_exactly_those():
    from cyclegan_tf import registry
    from cyclegan_tf.config import config_fields
    from cyclegan_tf.networks import GENERATOR_BUILDERS

    assert list(GENERATOR_BUILDERS) == registry.generator_names()
    field = next(f for f in config_fields() if f.name == "generator")
    assert field.metadata["choices"] == "generators"  # the CLI lists registry.generator_names()


@pytest.mark.parametrize("shape", [(2, 8, 8, 4), (1, 5, 7, 3)])
def test_fused_instance_norm_has_the_plain_outputs_and_gradients(shape):
    import tensorflow as tf

    from cyclegan_tf.networks.layers import fused_instance_norm, plain_instance_norm

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(3, 2, shape).astype("float32"))
    upstream = tf.constant(rng.normal(size=shape).astype("float32"))
    results = []
    for normalize in (plain_instance_norm, fused_instance_norm):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = normalize(x, 1e-5)
            loss = tf.reduce_sum(y * upstream)
        results.append((y.numpy(), tape.gradient(loss, x).numpy()))
    (y_plain, g_plain), (y_fused, g_fused) = results
    np.testing.assert_allclose(y_fused, y_plain, atol=1e-6)
    np.testing.assert_allclose(g_fused, g_plain, atol=1e-5, rtol=1e-4)
    assert np.abs(g_plain).max() > 0.1  # a gradient worth comparing


@pytest.mark.parametrize("cropping", [((1, 0), (1, 0)), ((2, 1), (0, 3))])
def test_crop_with_a_padded_gradient_has_the_plain_outputs_and_gradients(cropping):
    import keras

    from cyclegan_tf.networks.layers import PaddedGradientCropping2D

    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(2, 9, 8, 3)).astype("float32"))
    results = []
    for layer in (keras.layers.Cropping2D(cropping), PaddedGradientCropping2D(cropping)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            upstream = tf.constant(rng.normal(size=y.shape).astype("float32"))
            loss = tf.reduce_sum(y * upstream)
        results.append((y.numpy(), upstream.numpy(), tape.gradient(loss, x).numpy()))
    (y_plain, up_plain, g_plain), (y_ours, up_ours, g_ours) = results
    np.testing.assert_array_equal(y_ours, y_plain)
    # Each tape saw its own random upstream: compare each gradient with the padded upstream.
    for up, g in ((up_plain, g_plain), (up_ours, g_ours)):
        (top, bottom), (left, right) = cropping
        expected = np.pad(up, ((0, 0), (top, bottom), (left, right), (0, 0)))
        np.testing.assert_array_equal(g, expected)
    assert np.abs(g_ours).max() > 0.1


def test_the_deep_mobile_generator_reaches_twice_as_far_for_about_the_same_macs():
    """Blocks at 1/8 resolution: a pixel of G(x) depends on twice as wide a square of x.

    Without normalization: instance norm's statistics make every pixel depend on all of them.
    """

    def reach(generator, size=256) -> int:
        x = tf.Variable(
            np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)), dtype="float32"
        )
        with tf.GradientTape() as tape:
            centre = tf.reduce_sum(generator(x)[0, size // 2, size // 2])
        touched = np.abs(tape.gradient(centre, x).numpy()).sum(axis=(0, 3)) > 0
        columns = np.flatnonzero(touched.any(axis=0))
        return int(columns[-1] - columns[0] + 1)

    tf.keras.utils.set_random_seed(1)
    shallow = build_generator("mobile", ngf=8, norm="none", init_type="kaiming")
    deep = build_generator("mobile_deep", ngf=8, norm="none", init_type="kaiming")
    assert reach(deep) >= 1.7 * reach(shallow)
    assert deep.get_layer("block0_expand").filters == 2 * shallow.get_layer("block0_expand").filters
