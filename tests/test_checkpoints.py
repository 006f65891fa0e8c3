import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cyclegan_tf.checkpoints import IncompatibleCheckpointError, load_generator, save_generator
from cyclegan_tf.training import build_model
from cyclegan_tf.training_state import (
    NonFiniteStateError,
    TrainingCheckpoint,
    checkpoint_epoch,
    latest_state,
)


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
            callbacks=[TrainingCheckpoint(tmp_path, tiny_config), first],
        )
    assert checkpoint_epoch(tmp_path) == 2

    second = Probe()
    resumed = build_model(tiny_config)
    resumed.fit(
        data,
        epochs=4,
        verbose=0,
        callbacks=[TrainingCheckpoint(tmp_path, tiny_config), second],
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
        callbacks=[TrainingCheckpoint(tmp_path, tiny_config)],
    )
    other_config = tiny_config.replace(ngf=8)
    other = build_model(other_config)
    before = [v.numpy().copy() for v in other.weights]
    with pytest.raises(IncompatibleCheckpointError, match="ngf: checkpoint has 4, model has 8"):
        other.fit(
            _data(other_config),
            epochs=2,
            verbose=0,
            callbacks=[TrainingCheckpoint(tmp_path, other_config)],
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


def test_a_resume_loads_the_newest_complete_state_not_a_partial_or_dangling_one(
    tiny_config, tmp_path
):
    model = build_model(tiny_config)
    model.fit(_data(tiny_config), epochs=2, verbose=0,
              callbacks=[TrainingCheckpoint(tmp_path, tiny_config)])  # fmt: skip
    assert sorted(p.name for p in tmp_path.glob("state-*")) == [
        "state-e0001-s000000",
        "state-e0002-s000000",
    ]
    # What a crash can leave: a partial folder of a newer state, and a pointer to a state
    # whose folder is gone. Neither is loaded; the newest complete state is.
    (tmp_path / ".state-e0003-s000000.partial-1").mkdir()
    (tmp_path / ".state-e0003-s000000.partial-1" / "model.weights.h5").write_bytes(b"half")
    (tmp_path / "latest").write_text("state-e0009-s000000\n")
    state = latest_state(tmp_path)
    assert (state.folder.name, state.epoch, state.step) == ("state-e0002-s000000", 2, 0)

    model.fit(_data(tiny_config), epochs=3, verbose=0,
              callbacks=[TrainingCheckpoint(tmp_path, tiny_config)])  # fmt: skip
    assert (tmp_path / "latest").read_text().strip() == "state-e0003-s000000"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".", "state"))) == [
        "state-e0002-s000000",  # the one before is kept until the next is complete
        "state-e0003-s000000",
    ]


def test_a_run_folder_in_keras_backup_and_restore_layout_still_resumes(tiny_config, tmp_path):
    model = build_model(tiny_config)
    backup = keras.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(_data(tiny_config), epochs=1, verbose=0, callbacks=[backup])
    tiny_config.save_json(tmp_path / "config.json")
    saved = [v.numpy().copy() for v in model.weights]
    assert checkpoint_epoch(tmp_path) == 1

    probe = Probe()
    resumed = build_model(tiny_config)
    resumed.fit(_data(tiny_config), epochs=2, verbose=0,
                callbacks=[TrainingCheckpoint(tmp_path, tiny_config), probe])  # fmt: skip
    assert probe.epochs == [1]
    for old, new in zip(saved, probe.at_start[2], strict=False):
        np.testing.assert_array_equal(old, new)
    assert not (tmp_path / "latest.weights.h5").exists()  # replaced by the new layout
    assert checkpoint_epoch(tmp_path) == 2


def test_a_state_with_nan_weights_is_never_saved(tiny_config, tmp_path):
    model = build_model(tiny_config)
    checkpoint = TrainingCheckpoint(tmp_path, tiny_config)
    checkpoint.set_model(model)
    checkpoint.save(1, 0)
    kernel = model.generator_ab.weights[0]
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    with pytest.raises(NonFiniteStateError, match="NaN or infinite.*not saved"):
        checkpoint.save(2, 0)
    assert checkpoint_epoch(tmp_path) == 1


def _sidecar_for(path, config):
    from cyclegan_tf.checkpoints import GeneratorInfo

    path.with_suffix(".json").write_text(json.dumps(GeneratorInfo(config, "AtoB", 1).to_dict()))


def test_untrusted_model_files_are_refused_with_a_sentence_naming_them(
    tiny_config, tmp_path, capsys
):
    from cyclegan_tf.cli import EXIT_USAGE, main

    image = tmp_path / "photo.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    inputs = keras.Input((32, 32, 3))
    code = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 0)(inputs))
    code.save(tmp_path / "code.keras")
    _sidecar_for(tmp_path / "code.keras", tiny_config)
    good = save_generator(build_model(tiny_config).generator_ab, tmp_path / "g.keras",
                          tiny_config, "AtoB")  # fmt: skip
    (tmp_path / "half.keras").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _sidecar_for(tmp_path / "half.keras", tiny_config)
    (tmp_path / "bad.tflite").write_bytes(b"TFL3" + bytes(200))

    capsys.readouterr()
    for model, words in (
        ("code.keras", "Lambda layer"),
        ("half.keras", "not a readable Keras model"),
    ):
        status = main(["translate", str(tmp_path / model), str(image), "--out", str(tmp_path)])
        err = capsys.readouterr().err
        assert status == EXIT_USAGE and words in err and str(tmp_path / model) in err, err
        assert "Traceback" not in err
    for command in (["benchmark", "--runs", "1", "--out", str(tmp_path / "b")],
                    ["evaluate", "--no-features", "--out", str(tmp_path / "e")]):  # fmt: skip
        status = main([command[0], str(tmp_path / "bad.tflite"), *command[1:]])
        err = capsys.readouterr().err
        assert status == EXIT_USAGE and "not a valid .tflite model" in err, err
