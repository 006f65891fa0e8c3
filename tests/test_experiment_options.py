"""The experiment options of issue 16: larger residual kernels, the original WGAN critic, the
embedding discriminator, noisy discriminator targets, and (issue 11) a total-variation term on
G(A) and the input image at the generator's last conv. Each changes what it should, and nothing
else."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cyclegan_tf import losses
from cyclegan_tf.checkpoints import IncompatibleCheckpointError, check_compatible
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.data.pipeline import epoch_steps, unpaired_batches
from cyclegan_tf.data.sources import load_domains
from cyclegan_tf.networks import build_generator
from cyclegan_tf.training import build_model


def _data(config, images_per_domain, seed=0):
    rng = np.random.default_rng(seed)
    shape = (images_per_domain, config.crop_size, config.crop_size, 3)
    coarse = rng.uniform(-1, 1, (shape[0], 4, 4, 3)).astype("float32")
    a = tf.image.resize(coarse, shape[1:3], method="bilinear").numpy()
    return a, np.tanh(2 * a[:, ::-1])


def _batches(config, steps, seed=0):
    a, b = _data(config, steps * config.step_batch_size, seed)
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(
        config.step_batch_size, drop_remainder=True
    )


# -- kernel size -------------------------------------------------------------------------------
def test_kernel_size_sets_the_residual_block_convs_and_keeps_the_image_size():
    three = build_generator("resnet_6blocks", ngf=4)
    five = build_generator("resnet_6blocks", ngf=4, kernel_size=5)
    assert five.get_layer("block0_conv1").kernel.shape == (5, 5, 16, 16)
    assert five.get_layer("stem_conv").kernel.shape == three.get_layer("stem_conv").kernel.shape
    # 6 blocks x 2 convs x (25 - 9) x 16 x 16 more weights, nothing else
    assert five.count_params() - three.count_params() == 6 * 2 * 16 * 16 * 16
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    assert five(x).shape == (1, 32, 32, 3)


def test_kernel_size_is_refused_where_it_means_nothing_and_checked_on_load():
    with pytest.raises(ValueError, match="generator 'mobile' has none"):
        CycleGANConfig.preset("tiny", generator="mobile", kernel_size=5)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        CycleGANConfig.preset("tiny", kernel_size=4)
    with pytest.raises(ValueError, match="generator 'unet_128' has none"):
        build_generator("unet_128", ngf=4, kernel_size=7)
    with pytest.raises(IncompatibleCheckpointError, match="kernel_size: checkpoint has 7"):
        check_compatible(
            CycleGANConfig.preset("tiny"), CycleGANConfig.preset("tiny", kernel_size=7), "x"
        )


def test_a_larger_kernel_exports_to_the_same_translation(tmp_path):
    from cyclegan_tf.checkpoints import save_generator
    from cyclegan_tf.export.exporter import export_generator

    config = CycleGANConfig.preset("tiny", ngf=4, crop_size=32, load_size=36, kernel_size=7)
    generator = build_generator("resnet_6blocks", ngf=4, kernel_size=7, model_name="generator_ab")
    path = save_generator(generator, tmp_path / "g" / "generator_ab.keras", config, "AtoB")
    report = export_generator(path, tmp_path / "out", quantizations=("fp32",), saved_model=False)
    assert report.variants["fp32"]["max_abs_diff"] <= 1
    assert "MIRROR_PAD" not in report.variants["fp32"]["ops"]  # lowered to slices


# -- WGAN ----------------------------------------------------------------------------------------
def test_wgan_clips_every_critic_weight_and_updates_the_critic_n_critic_times(tiny_config):
    config = tiny_config.replace(gan_mode="wgan", n_critic=3, wgan_clip=0.01, pool_size=0)
    model = build_model(config)
    assert isinstance(model.gen_optimizer, keras.optimizers.RMSprop)
    assert isinstance(model.disc_optimizer, keras.optimizers.RMSprop)
    assert float(model.disc_optimizer.learning_rate.numpy()) == pytest.approx(5e-5)
    assert max(float(np.abs(v.numpy()).max()) for v in model.critic_variables) > 0.01
    history = model.fit(_batches(config, 2), epochs=1, verbose=0)
    for variable in model.critic_variables:
        assert np.abs(variable.numpy()).max() <= 0.01 + 1e-7, variable.path
    # 2 steps: 2 generator updates, 3 critic updates each, on 3 slices of a 6-image batch
    assert int(model.gen_optimizer.iterations.numpy()) == 2
    assert int(model.disc_optimizer.iterations.numpy()) == 6
    assert np.isfinite(history.history["D_A"]).all()


def test_wgan_steps_take_n_critic_batches_of_data(tiny_config):
    config = tiny_config.replace(gan_mode="wgan", n_critic=5, synthetic_size=40, batch_size=2)
    a, b = load_domains("synthetic", "train", image_size=36, synthetic_size=40)
    assert epoch_steps(a, b, config) == 40 // (2 * 5)
    real_a, real_b = next(iter(unpaired_batches(a, b, config)))
    assert real_a.shape[0] == real_b.shape[0] == 10
    assert config.initial_lr == 5e-5 and tiny_config.initial_lr == tiny_config.lr


def test_the_resume_check_sees_the_optimizer_change(tiny_config):
    with pytest.raises(IncompatibleCheckpointError, match="optimizer"):
        check_compatible(tiny_config, tiny_config.replace(gan_mode="wgan"), "x")


# -- embedding discriminator ---------------------------------------------------------------------
def _plain_step(model, real_a, real_b):
    """The paper's step written out by hand (pool 0): the reference a refactored train_step must
    still equal."""
    c = model.config
    with tf.GradientTape() as tape:
        fake_b, fake_a = model.generator_ab(real_a), model.generator_ba(real_b)
        g = losses.generator_gan_loss(c.gan_mode, model.discriminator_b(fake_b))
        f = losses.generator_gan_loss(c.gan_mode, model.discriminator_a(fake_a))
        cyc = losses.cycle_consistency_loss(
            real_a, model.generator_ba(fake_b)
        ) * c.lambda_a + losses.cycle_consistency_loss(real_b, model.generator_ab(fake_a)) * (
            c.lambda_b
        )
        idt = c.lambda_identity * (
            c.lambda_b * losses.identity_loss(real_b, model.generator_ab(real_b))
            + c.lambda_a * losses.identity_loss(real_a, model.generator_ba(real_a))
        )
        total = tf.reduce_mean(g + f + cyc + idt)
    grads = tape.gradient(total, model.generator_variables)
    model.gen_optimizer.apply_gradients(zip(grads, model.generator_variables, strict=True))
    with tf.GradientTape() as tape:
        d = losses.discriminator_gan_loss(
            c.gan_mode, model.discriminator_a(real_a), model.discriminator_a(fake_a)
        ) + losses.discriminator_gan_loss(
            c.gan_mode, model.discriminator_b(real_b), model.discriminator_b(fake_b)
        )
        total = tf.reduce_mean(d)
    grads = tape.gradient(total, model.discriminator_variables)
    model.disc_optimizer.apply_gradients(zip(grads, model.discriminator_variables, strict=True))


def test_without_the_embedding_term_nothing_is_built_and_a_step_is_the_papers(tiny_config):
    config = tiny_config.replace(pool_size=0)
    keras.utils.set_random_seed(5)
    ours = build_model(config)
    keras.utils.set_random_seed(5)
    reference = build_model(config)
    assert not hasattr(ours, "discriminator_embedding") and not hasattr(ours, "coded_ab")
    names = {v.path.split("/")[0] for v in ours.weights}
    assert not any("embedding" in n for n in names)
    assert len(ours.weights) == len(reference.weights)
    real_a, real_b = next(iter(_batches(config, 1)))
    ours.train_step((real_a, real_b))
    _plain_step(reference, real_a, real_b)
    for mine, theirs in zip(ours.weights, reference.weights, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_the_embedding_discriminator_trains_and_stays_out_of_the_generators(tiny_config, tmp_path):
    from cyclegan_tf.checkpoints import load_generator, save_generator

    config = tiny_config.replace(lambda_embedding=0.5)
    model = build_model(config)
    plain = build_model(tiny_config)
    extra = model.discriminator_embedding
    assert extra.input.shape[-1] == 16  # the ResNet encoder's 4 x ngf channels
    assert model.generator_ab.count_params() == plain.generator_ab.count_params()
    before = [v.numpy().copy() for v in extra.trainable_variables]
    history = model.fit(_batches(config, 2), epochs=2, verbose=0)
    assert {"D_E", "E"} <= set(history.history)
    assert np.isfinite(history.history["E"]).all()
    assert any(
        not np.array_equal(old, v.numpy())
        for old, v in zip(before, extra.trainable_variables, strict=True)
    )
    # the saved generator is the plain generator: same inputs, outputs and parameter count
    path = save_generator(model.generator_ab, tmp_path / "g.keras", config, "AtoB")
    loaded, _ = load_generator(path)
    assert len(loaded.outputs) == 1 and loaded.count_params() == plain.generator_ab.count_params()
    with pytest.raises(IncompatibleCheckpointError, match="embedding_discriminator"):
        check_compatible(tiny_config, config, "x")


def test_the_embedding_discriminator_is_checkpointed_and_restored(tiny_config, tmp_path):
    from cyclegan_tf.training_state import TrainingCheckpoint

    config = tiny_config.replace(lambda_embedding=0.5)
    model = build_model(config)
    model.fit(_batches(config, 1), epochs=1, verbose=0)
    checkpoint = TrainingCheckpoint(tmp_path, config)
    checkpoint.set_model(model)
    checkpoint.save(1, 0)
    restored = build_model(config)
    TrainingCheckpoint(tmp_path, config).restore(restored)
    for mine, saved in zip(
        restored.discriminator_embedding.weights, model.discriminator_embedding.weights, strict=True
    ):
        np.testing.assert_array_equal(mine.numpy(), saved.numpy())


def test_the_embedding_discriminator_needs_an_encoder():
    with pytest.raises(ValueError, match="generator 'unet_128' has none"):
        build_model(
            CycleGANConfig.preset(
                "tiny",
                generator="unet_128",
                input_skip=False,
                crop_size=128,
                load_size=143,
                ngf=4,
                ndf=4,
                lambda_embedding=0.5,
            )
        )


# -- noisy targets -------------------------------------------------------------------------------
def test_noisy_targets_lie_in_their_range_and_differ_per_draw():
    logits = tf.zeros((2, 8, 8, 1))
    first = losses.noisy_targets(logits, 0.0, 0.2).numpy()
    second = losses.noisy_targets(logits, 0.0, 0.2).numpy()
    assert first.shape == (2, 8, 8, 1) and first.min() >= 0 and first.max() <= 0.2
    assert first.std() > 0.02 and not np.array_equal(first, second)
    high = losses.noisy_targets(logits, 0.9, 1.0).numpy()
    assert high.min() >= 0.9 and high.max() <= 1.0
    # lsgan: the fake term is the squared distance to the drawn target, not to 0
    loss = losses.discriminator_gan_loss("lsgan", logits + 1.0, logits, 1.0, first)
    np.testing.assert_allclose(loss.numpy(), 0.5 * np.square(first).reshape(2, -1).mean(1), 1e-5)


def test_label_noise_changes_the_discriminator_loss_from_step_to_step(tiny_config):
    noisy = tiny_config.replace(fake_label_noise=0.2, real_label_noise=0.2, pool_size=0)
    model = build_model(noisy)
    real_a, real_b = next(iter(_batches(noisy, 1)))
    fake_a = model.generator_ba(real_b)
    first = model._discriminator_loss(model.discriminator_a, real_a, fake_a, True).numpy()
    second = model._discriminator_loss(model.discriminator_a, real_a, fake_a, True).numpy()
    clean = model._discriminator_loss(model.discriminator_a, real_a, fake_a, False).numpy()
    assert not np.allclose(first, second) and not np.allclose(first, clean)
    with pytest.raises(ValueError, match="fake_label_noise soften.*'hinge'"):
        tiny_config.replace(gan_mode="hinge", fake_label_noise=0.2)


def test_info_counts_the_larger_kernels_and_the_embedding_discriminator(tiny_config):
    from cyclegan_tf.info import parameter_counts

    plain = parameter_counts(tiny_config)
    larger = parameter_counts(tiny_config.replace(kernel_size=5, lambda_embedding=0.5))
    model = build_model(tiny_config.replace(kernel_size=5, lambda_embedding=0.5))
    assert larger["generator (each)"] == model.generator_ab.count_params()
    assert larger["generator (each)"] - plain["generator (each)"] == 6 * 2 * 16 * 16 * 16
    assert larger["embedding discriminator"] == model.discriminator_embedding.count_params()
    assert "embedding discriminator" not in plain


# -- total variation on G(A) ---------------------------------------------------------------------
def test_the_tv_term_adds_its_weight_times_g_of_a_total_variation_and_nothing_else(tiny_config):
    keras.utils.set_random_seed(3)
    plain = build_model(tiny_config)
    smooth = build_model(tiny_config.replace(lambda_tv=2.5))
    smooth.set_weights(plain.get_weights())
    real_a, real_b = next(iter(_batches(tiny_config, 1)))
    total_plain, terms_plain, _, _ = plain._generator_losses(real_a, real_b, training=False)
    total, terms, _, fake_b = smooth._generator_losses(real_a, real_b, training=False)
    assert "tv" not in terms_plain
    np.testing.assert_allclose(terms["tv"], losses.total_variation_loss(fake_b), rtol=1e-6)
    np.testing.assert_allclose(total - total_plain, 2.5 * terms["tv"], rtol=1e-4, atol=1e-6)
    assert "tv" in smooth.train_step((real_a, real_b))


def test_training_under_the_tv_term_makes_g_of_a_smoother(tiny_config):
    def tv_after_training(config):
        keras.utils.set_random_seed(4)
        model = build_model(config)
        for real_a, real_b in _batches(config, 6):
            model.train_step((real_a, real_b))
        real_a, _ = next(iter(_batches(config, 1, seed=1)))
        return float(np.mean(losses.total_variation_loss(model.generator_ab(real_a))))

    config = tiny_config.replace(lr=2e-3)
    assert tv_after_training(config.replace(lambda_tv=20.0)) < 0.7 * tv_after_training(config)


# -- input skip ----------------------------------------------------------------------------------
def _coloured_copies(size=16):
    """One texture in five colours, and the five flat (other) colours each should become."""
    rng = np.random.default_rng(3)
    texture = 0.1 * rng.uniform(-1, 1, (1, size, size, 3)).astype("float32")
    colours = rng.uniform(-0.7, 0.7, (5, 1, 1, 3)).astype("float32")
    targets = np.tanh(2 * colours[:, :, :, ::-1] + 0.3) * np.ones((5, size, size, 3), "float32")
    return texture + colours, targets


def test_the_papers_generator_cannot_see_a_colour_shift_and_input_skip_can():
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 32, 32, 3)).astype("float32")
    shift = np.array([0.3, -0.2, 0.1], "float32")
    keras.utils.set_random_seed(0)
    paper = build_generator("resnet_6blocks", ngf=4)
    keras.utils.set_random_seed(0)
    skip = build_generator("resnet_6blocks", ngf=4, input_skip=True)
    np.testing.assert_allclose(paper(x + shift), paper(x), atol=1e-4)
    assert float(np.abs(skip(x + shift) - skip(x)).max()) > 1e-3
    # The head's 7x7 conv takes 3 more input channels, nothing else changes.
    assert skip.count_params() - paper.count_params() == 7 * 7 * 3 * 3
    assert skip.get_layer("head_conv").kernel.shape == (7, 7, 4 + 3, 3)
    mobile = build_generator("mobile", ngf=4, input_skip=True)
    assert mobile.get_layer("head_conv").kernel.shape == (3, 3, 4 + 3, 3)


def test_input_skip_lets_a_generator_learn_which_colour_becomes_which():
    sources, targets = _coloured_copies()
    losses_after = {}
    for skip in (False, True):
        keras.utils.set_random_seed(0)
        g = build_generator("resnet_6blocks", ngf=4, input_skip=skip)
        g.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse")
        g.fit(sources, targets, batch_size=5, epochs=30, verbose=0)
        losses_after[skip] = float(g.evaluate(sources, targets, verbose=0))
        outputs = g.predict(sources, verbose=0)
        if not skip:  # blind to the colour: one output for every input
            np.testing.assert_allclose(outputs, outputs[:1].repeat(5, axis=0), atol=1e-4)
    floor = float(targets.var(axis=0).mean())  # the best one output for all can do
    assert losses_after[False] >= 0.99 * floor
    assert losses_after[True] < 0.2 * floor


def test_input_skip_is_refused_where_the_first_conv_keeps_colour_and_checked_on_load():
    with pytest.raises(ValueError, match="has no norm there.*--no-input-skip"):
        CycleGANConfig.preset("tiny", generator="unet_128", input_skip=True)
    with pytest.raises(ValueError, match="generator 'unet_256' keeps the colour"):
        build_generator("unet_256", ngf=4, input_skip=True)
    with pytest.raises(IncompatibleCheckpointError, match="input_skip: checkpoint has True"):
        check_compatible(
            CycleGANConfig.preset("tiny", input_skip=False), CycleGANConfig.preset("tiny"), "x"
        )


def test_a_mobile_generator_with_input_skip_exports_to_int8(tmp_path):
    from cyclegan_tf.checkpoints import save_generator
    from cyclegan_tf.export.exporter import export_generator

    config = CycleGANConfig.preset(
        "tiny", generator="mobile", ngf=4, crop_size=32, load_size=36, input_skip=True
    )
    generator = build_generator("mobile", ngf=4, input_skip=True, model_name="generator_ab")
    path = save_generator(generator, tmp_path / "g" / "generator_ab.keras", config, "AtoB")
    report = export_generator(
        path, tmp_path / "out", quantizations=("fp32", "int8"), saved_model=False
    )
    assert report.variants["fp32"]["max_abs_diff"] <= 1
    assert "CONCATENATION" in report.variants["int8"]["ops"]
    assert report.variants["int8"]["psnr_db"] > 25
