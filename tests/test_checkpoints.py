import keras
import numpy as np
import pytest
import tensorflow as tf

from cyclegan_tf.checkpoints import (
    CheckedBackupAndRestore,
    IncompatibleCheckpointError,
    checkpoint_epoch,
    load_generator,
    save_generator,
)
from cyclegan_tf.training import build_model


class Interrupt(Exception):
    pass


class Probe(keras.callbacks.Callback):
    """Records the state at the start of training and after each epoch; can interrupt."""

    def __init__(self, stop_at_epoch=None):
        super().__init__()
        self.stop_at_epoch, self.at_start, self.after_epoch, self.epochs = (
            stop_at_epoch,
            None,
            {},
            [],
        )

    def _state(self):
        m = self.model
        return (
            int(m.gen_optimizer.iterations.numpy()),
            int(m.disc_optimizer.iterations.numpy()),
            [v.numpy().copy() for v in m.weights + m.gen_optimizer.variables],
        )

    def on_train_begin(self, logs=None):
        self.at_start = self._state()

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_at_epoch:
            raise Interrupt
        self.epochs.append(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self.after_epoch[epoch] = self._state()


def _data(config):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (4, config.crop_size, config.crop_size, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((a, a[::-1])).batch(config.batch_size)


def test_interrupted_fit_resumes_at_the_saved_epoch_with_optimizer_state(tiny_config, tmp_path):
    data = _data(tiny_config)
    first = Probe(stop_at_epoch=2)
    model = build_model(tiny_config)
    with pytest.raises(Interrupt):
        model.fit(
            data,
            epochs=4,
            verbose=0,
            callbacks=[CheckedBackupAndRestore(tmp_path, tiny_config), first],
        )
    assert checkpoint_epoch(tmp_path) == 2

    second = Probe()
    resumed = build_model(tiny_config)
    resumed.fit(
        data,
        epochs=4,
        verbose=0,
        callbacks=[CheckedBackupAndRestore(tmp_path, tiny_config), second],
    )
    assert second.epochs == [2, 3]  # epochs 0 and 1 are not repeated
    saved_g, saved_d, saved_values = first.after_epoch[1]
    g_iters, d_iters, values = second.at_start
    assert (g_iters, d_iters) == (saved_g, saved_d) == (4, 4)
    for saved, restored in zip(saved_values, values, strict=True):  # networks, pools, Adam moments
        np.testing.assert_array_equal(saved, restored)
    assert int(resumed.pool_a.count.numpy()) == 4
    assert checkpoint_epoch(tmp_path) == 4


def test_checkpoint_of_another_architecture_is_refused_before_loading(tiny_config, tmp_path):
    model = build_model(tiny_config)
    model.fit(
        _data(tiny_config),
        epochs=1,
        verbose=0,
        callbacks=[CheckedBackupAndRestore(tmp_path, tiny_config)],
    )
    other_config = tiny_config.replace(ngf=8)
    other = build_model(other_config)
    before = [v.numpy().copy() for v in other.weights]
    with pytest.raises(IncompatibleCheckpointError, match="ngf: checkpoint has 4, model has 8"):
        other.fit(
            _data(other_config),
            epochs=2,
            verbose=0,
            callbacks=[CheckedBackupAndRestore(tmp_path, other_config)],
        )
    for old, v in zip(before, other.weights, strict=True):
        np.testing.assert_array_equal(old, v.numpy())
    assert checkpoint_epoch(tmp_path) == 1  # the checkpoint was not overwritten either


def test_saved_generator_round_trips_with_its_config(tiny_config, tmp_path):
    model = build_model(tiny_config)
    path = save_generator(model.generator_ba, tmp_path / "g.keras", tiny_config, "BtoA", epoch=3)
    loaded, info = load_generator(path)
    assert (info.config, info.direction, info.epoch) == (tiny_config, "BtoA", 3)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x), model.generator_ba(x), atol=1e-6)


def test_loading_a_missing_generator_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.keras"):
        load_generator(tmp_path / "nothing.keras")
