import keras
import numpy as np
import pytest
import tensorflow as tf

from cyclegan_tf.callbacks import LinearDecay, lr_factor
from cyclegan_tf.model import CycleGAN
from cyclegan_tf.training import build_model


def _batches(config, n_batches, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n_batches * config.batch_size, config.crop_size, config.crop_size, 3)
    coarse = rng.uniform(-1, 1, (shape[0], 4, 4, 3)).astype("float32")  # smooth images
    a = tf.image.resize(coarse, shape[1:3], method="bilinear").numpy()
    b = np.tanh(2 * a[:, ::-1])  # a fixed, learnable relation
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(config.batch_size, drop_remainder=True)


def _weights(model):
    return [v.numpy().copy() for v in model.weights]


def test_training_lowers_the_cycle_loss(tiny_config):
    model = build_model(tiny_config.replace(ngf=8, lr=2e-3))
    history = model.fit(_batches(tiny_config, 2), epochs=30, verbose=0)
    cycle = history.history["cycle"]
    assert np.mean(cycle[-3:]) < 0.7 * cycle[0]
    for name in ("G", "F", "D_A", "D_B", "cycle", "identity"):
        assert np.isfinite(history.history[name]).all()


def test_evaluate_reports_the_same_losses_without_changing_weights(tiny_config):
    model = build_model(tiny_config)
    before = _weights(model)
    logs = model.evaluate(_batches(tiny_config, 1), verbose=0, return_dict=True)
    assert set(logs) == {"G", "F", "D_A", "D_B", "cycle", "identity"}
    for old, new in zip(before, _weights(model), strict=True):
        np.testing.assert_array_equal(old, new)


def test_call_translates_a_to_b(tiny_config):
    model = build_model(tiny_config)
    x = np.zeros((1, 32, 32, 3), "float32")
    np.testing.assert_array_equal(model(x), model.generator_ab(x))


def test_without_adversarial_terms_the_discriminators_do_not_learn(tiny_config):
    model = build_model(tiny_config.replace(lambda_gan=0.0))
    d_before = [v.numpy().copy() for v in model.discriminator_variables]
    g_before = [v.numpy().copy() for v in model.generator_variables]
    model.fit(_batches(tiny_config, 1), epochs=1, verbose=0)
    for old, v in zip(d_before, model.discriminator_variables, strict=True):
        np.testing.assert_array_equal(old, v.numpy())
    assert any(
        not np.array_equal(old, v.numpy())
        for old, v in zip(g_before, model.generator_variables, strict=True)
    )


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_finite_losses(tiny_config, precision):
    model = build_model(tiny_config.replace(precision=precision, gan_mode="wgan-gp"))
    history = model.fit(_batches(tiny_config, 1), epochs=1, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert model.generator_ab.get_layer("stem_conv").compute_dtype == precision.split("_")[1]
    if precision == "mixed_float16":
        assert isinstance(model.gen_optimizer, keras.optimizers.LossScaleOptimizer)


def test_learning_rate_is_constant_then_decays_linearly_as_official():
    factors = [lr_factor(e, n_epochs=3, n_epochs_decay=3) for e in range(6)]
    assert factors == pytest.approx([1, 1, 1, 0.75, 0.5, 0.25])


def test_linear_decay_callback_sets_both_optimizers_from_the_epoch(tiny_config):
    model = build_model(tiny_config)  # n_epochs 2 + n_epochs_decay 2
    callback = LinearDecay()
    callback.set_model(model)
    callback.on_epoch_begin(3)
    expected = tiny_config.lr * (1 - 2 / 3)
    assert float(model.gen_optimizer.learning_rate.numpy()) == pytest.approx(expected)
    assert float(model.disc_optimizer.learning_rate.numpy()) == pytest.approx(expected)


def test_model_config_round_trips(tiny_config):
    model = CycleGAN(tiny_config)
    assert CycleGAN.from_config(model.get_config()).config == tiny_config


def test_mirrored_strategy_matches_a_single_device_run(tiny_config):
    """Two replicas with one image each must take the same step as one device with two.

    Plain SGD, so a wrong reduction (a mean where a sum belongs, say) would show as a factor of 2.
    One step only: summation order differs in the last bits between the two runs, and we measured
    this network turning a 3e-8 weight difference into 6e-3 within three steps.
    """
    config = tiny_config.replace(batch_size=2, pool_size=50)
    data = _batches(config, 1)

    def train(strategy):
        model = build_model(config, strategy)
        with (strategy or tf.distribute.get_strategy()).scope():
            model.compile(
                gen_optimizer=keras.optimizers.SGD(0.01), disc_optimizer=keras.optimizers.SGD(0.01)
            )
        initial = [v.numpy().copy() for v in model.trainable_variables]
        model.fit(
            strategy.experimental_distribute_dataset(data) if strategy else data,
            epochs=1,
            verbose=0,
        )
        return model, initial

    single, initial = train(None)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")][:2]
    assert len(devices) == 2
    mirrored, _ = train(tf.distribute.MirroredStrategy(devices))
    largest_update = max(
        float(np.abs(v.numpy() - w).max())
        for v, w in zip(single.trainable_variables, initial, strict=True)
    )
    assert largest_update > 1e-3
    # A reduction mistake moves weights by a sizeable part of the update (a factor of 2 is half
    # of it); summation order moves them by ~1e-6 here (oneDNN kernels differ between CPUs).
    worst = 0.0
    for a, b in zip(single.trainable_variables, mirrored.trainable_variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.path)
        worst = max(worst, float(np.abs(a.numpy() - b.numpy()).max()))
    assert worst < 0.01 * largest_update
    assert int(mirrored.disc_optimizer.iterations.numpy()) == 1


def test_the_mobile_generator_trains_like_the_resnet_ones(tiny_config):
    model = build_model(tiny_config.replace(generator="mobile", ngf=8, lr=2e-3))
    history = model.fit(_batches(tiny_config, 2), epochs=30, verbose=0)
    cycle = history.history["cycle"]
    assert np.mean(cycle[-3:]) < 0.7 * cycle[0]  # as test_training_lowers_the_cycle_loss
