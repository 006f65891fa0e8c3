"""`generator_ema`: a bias-corrected moving average of the generators' weights that the run saves,
samples and scores, while training goes on with the live weights."""

import numpy as np
import pytest
import tensorflow as tf

from cyclegan_tf.checkpoints import IncompatibleCheckpointError, check_compatible, load_generator
from cyclegan_tf.training import build_model, resume_config, train_run
from cyclegan_tf.training_state import TrainingCheckpoint
from cyclegan_tf.weight_average import WeightAverage


def _step_data(config, steps, seed=0):
    rng = np.random.default_rng(seed)
    shape = (steps, config.batch_size, config.crop_size, config.crop_size, 3)
    return rng.uniform(-1, 1, shape).astype("float32"), rng.uniform(-1, 1, shape).astype("float32")


def test_the_average_is_the_bias_corrected_mean_and_the_live_weights_come_back(tiny_config):
    decay = 0.9
    model = build_model(tiny_config.replace(generator_ema=decay, pool_size=0))
    variables = model.generator_variables
    images_a, images_b = _step_data(model.config, 3)
    seen = []
    for a, b in zip(images_a, images_b, strict=True):
        model.train_step((tf.constant(a), tf.constant(b)))
        seen.append([v.numpy().copy() for v in variables])
    # weights of steps 1..3: (1 - d) d^2, (1 - d) d, (1 - d), divided by their sum 1 - d^3
    weights = np.array([decay**2, decay, 1.0]) * (1 - decay) / (1 - decay**3)
    live = [v.numpy().copy() for v in variables]
    with model.averaged_generators():
        for i, variable in enumerate(variables):
            expected = sum(w * step[i] for w, step in zip(weights, seen, strict=True))
            np.testing.assert_allclose(variable.numpy(), expected, atol=1e-6, err_msg=variable.path)
        assert any(not np.allclose(v.numpy(), x) for v, x in zip(variables, live, strict=True))
    for variable, value in zip(variables, live, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_off_by_default_with_no_extra_variable(tiny_config):
    from cyclegan_tf.config import CycleGANConfig

    assert CycleGANConfig().generator_ema == 0.0  # the paper has none
    plain = build_model(tiny_config)
    averaged = build_model(tiny_config.replace(generator_ema=0.99))
    assert plain.generator_average is None
    extra = len(averaged.weights) - len(plain.weights)
    assert extra == len(plain.generator_variables) + 1  # one sum per variable, and the step count
    before = [v.numpy().copy() for v in plain.generator_variables]
    with plain.averaged_generators():  # nothing to swap in
        for variable, value in zip(plain.generator_variables, before, strict=True):
            np.testing.assert_array_equal(variable.numpy(), value)


def test_a_run_saves_and_scores_the_average_and_checkpoints_it(tiny_config, tmp_path):
    from cyclegan_tf.evaluation.evaluate import evaluate_model
    from cyclegan_tf.plots import read_csv_log

    config = tiny_config.replace(generator_ema=0.5)
    run = tmp_path / "run"
    # 6 steps: more than one pass over the 8 images (4 batches); the batches repeat
    train_run(config, run, epochs=1, steps_per_epoch=6, eval_every=1, eval_images=4, verbose=0)
    # the checkpoint holds the live weights and the average: restore both into a new model
    model = build_model(config)
    TrainingCheckpoint(run / "checkpoint", config).restore(model)
    assert float(model.generator_average.steps.numpy()) == 6
    saved, _ = load_generator(run / "generator_ab.keras")
    live = [v.numpy() for v in model.generator_ab.trainable_variables]
    with model.averaged_generators():
        averaged = [v.numpy() for v in model.generator_ab.trainable_variables]
    saved_weights = [v.numpy() for v in saved.trainable_variables]
    for mine, file in zip(averaged, saved_weights, strict=True):
        np.testing.assert_allclose(file, mine, atol=1e-6)
    assert any(not np.allclose(x, y) for x, y in zip(live, saved_weights, strict=True))
    # the logged score is the saved file's, not the live weights'
    log = read_csv_log(run / "losses.csv")
    result = evaluate_model(run, "synthetic", tmp_path / "eval", max_images=4, features=None)
    assert result["directions"]["AtoB"]["psnr"] == pytest.approx(log["psnr_ab"][0], abs=1e-4)
    # switching the average on or off is an architecture change: refused on resume and load
    with pytest.raises(ValueError, match="generator_average"):
        resume_config(run, generator_ema=0.0)
    assert resume_config(run, generator_ema=0.9).generator_ema == 0.9  # a new decay is fine
    with pytest.raises(IncompatibleCheckpointError, match="generator_average"):
        check_compatible(tiny_config, config, run)


def test_the_average_under_a_mirrored_strategy(tiny_config):
    """One step on two replicas: the average of one step is that step's weights."""
    config = tiny_config.replace(batch_size=2, generator_ema=0.99, pool_size=0)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")][:2]
    strategy = tf.distribute.MirroredStrategy(devices)
    model = build_model(config, strategy)
    images_a, images_b = _step_data(config, 1)
    data = tf.data.Dataset.from_tensor_slices((images_a, images_b))
    model.fit(strategy.experimental_distribute_dataset(data), epochs=1, verbose=0)
    live = [v.numpy().copy() for v in model.generator_variables]
    with model.averaged_generators():
        for variable, value in zip(model.generator_variables, live, strict=True):
            np.testing.assert_allclose(variable.numpy(), value, atol=1e-6)


def test_bad_uses_are_refused(tiny_config):
    from cyclegan_tf.config import CycleGANConfig

    model = build_model(tiny_config)
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(model.generator_variables, 1.0)
    average = WeightAverage(model.generator_ab.trainable_variables, 0.9)
    with pytest.raises(ValueError, match="other shapes"):
        average.update(model.generator_ba.trainable_variables[:3])
    with pytest.raises(ValueError, match="generator_ema must be below 1"):
        CycleGANConfig.preset("tiny", generator_ema=1.0)
