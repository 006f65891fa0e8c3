import numpy as np
import pytest

from cyclegan_tf import losses


def _np(x):
    return np.asarray(x)


def test_cycle_loss_is_zero_for_identity_generators():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(losses.cycle_consistency_loss(x, x), np.zeros(3))


def test_cycle_loss_is_per_example_l1():
    a = np.zeros((2, 4, 4, 3), "float32")
    b = np.concatenate([np.full((1, 4, 4, 3), 0.5), np.full((1, 4, 4, 3), -2.0)]).astype("float32")
    np.testing.assert_allclose(losses.cycle_consistency_loss(a, b), [0.5, 2.0])


def test_total_variation_is_zero_when_flat_and_counts_an_edge_once():
    flat = np.full((1, 8, 8, 3), 0.3, "float32")
    edge = np.zeros((1, 8, 8, 3), "float32")
    edge[:, :, 4:, :] = 1.0  # one vertical edge of height 1: 8 of the 8 x 7 horizontal pairs
    np.testing.assert_allclose(losses.total_variation_loss(flat), [0.0])
    np.testing.assert_allclose(losses.total_variation_loss(edge), [8 / 56], rtol=1e-6)


def test_total_variation_costs_speckle_more_than_the_same_colours_in_blocks():
    rng = np.random.default_rng(0)
    speckle = rng.choice([-1.0, 1.0], (2, 16, 16, 3)).astype("float32")
    blocks = np.sort(speckle, axis=2)  # the same values, each row split into two flat runs
    tv_speckle, tv_blocks = (
        losses.total_variation_loss(speckle),
        losses.total_variation_loss(blocks),
    )
    assert tv_speckle.shape == (2,)
    assert np.all(_np(tv_speckle) > 3 * _np(tv_blocks))


def test_lsgan_losses_are_squared_distances_to_the_labels():
    real = np.full((1, 2, 2, 1), 0.5, "float32")
    fake = np.full((1, 2, 2, 1), 0.25, "float32")
    np.testing.assert_allclose(losses.generator_gan_loss("lsgan", fake), [0.75**2])
    expected_d = 0.5 * (0.5**2 + 0.25**2)  # halved, as the official code
    np.testing.assert_allclose(losses.discriminator_gan_loss("lsgan", real, fake), [expected_d])


def test_vanilla_loss_is_binary_cross_entropy_on_logits():
    logits = np.array([-30.0, -1.0, 0.0, 2.0, 30.0], "float32").reshape(5, 1, 1, 1)
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -np.log(np.clip(p, 1e-300, None)).reshape(5)
    np.testing.assert_allclose(
        losses.generator_gan_loss("vanilla", logits), expected, rtol=1e-5, atol=1e-12
    )


def test_hinge_and_wgan_losses():
    real = np.array([[[[2.0]]], [[[0.5]]]], "float32")
    fake = np.array([[[[-2.0]]], [[[0.5]]]], "float32")
    np.testing.assert_allclose(
        losses.discriminator_gan_loss("hinge", real, fake), [0.0, 0.5 * (0.5 + 1.5)]
    )
    np.testing.assert_allclose(
        losses.discriminator_gan_loss("wgan-gp", real, fake), [0.5 * (-2 - 2), 0.0]
    )
    np.testing.assert_allclose(losses.generator_gan_loss("hinge", fake), [2.0, -0.5])


def test_gradient_penalty_is_zero_for_unit_norm_gradients():
    g = np.zeros((2, 2, 2, 1), "float32")
    g[0, 0, 0, 0] = 1.0
    g[1] = 0.5  # norm sqrt(4 * 0.25) = 1
    np.testing.assert_allclose(losses.gradient_penalty_from_gradients(g), [0, 0], atol=1e-6)
    np.testing.assert_allclose(losses.gradient_penalty_from_gradients(3 * g), [4, 4], rtol=1e-5)


def test_unknown_gan_mode_is_refused():
    with pytest.raises(ValueError, match="gan_mode must be one of"):
        losses.generator_gan_loss("wasserstein", np.zeros((1, 1, 1, 1), "float32"))


def test_every_gan_mode_of_the_config_has_its_losses_and_nothing_else():
    """A mode added to GAN_MODES without its losses must fail here, not train as another mode."""
    from cyclegan_tf.config import GAN_MODES
    from cyclegan_tf.losses import GAN_LOSSES

    assert sorted(GAN_LOSSES) == sorted(GAN_MODES)
