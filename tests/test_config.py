import json

import pytest

from cyclegan_tf.config import PRESETS, CycleGANConfig


def test_defaults_are_the_papers():
    c = CycleGANConfig()
    assert (c.generator, c.discriminator, c.gan_mode) == ("resnet_9blocks", "basic", "lsgan")
    assert (c.lambda_a, c.lambda_b, c.lambda_identity) == (10.0, 10.0, 0.5)
    assert (c.lr, c.beta_1, c.pool_size, c.batch_size) == (2e-4, 0.5, 50, 1)
    assert (c.n_epochs, c.n_epochs_decay, c.load_size, c.crop_size) == (100, 100, 286, 256)


def test_presets_build_and_differ_where_they_say():
    assert CycleGANConfig.preset("paper") == CycleGANConfig()
    s2a = CycleGANConfig.preset("selfie2anime")
    assert s2a.batch_size == 4 and s2a.total_epochs == 80 and s2a.generator == "resnet_9blocks"
    assert set(PRESETS) >= {"paper", "selfie2anime", "tiny"}


def test_json_round_trip(tmp_path):
    config = CycleGANConfig.preset("tiny", gan_mode="hinge", seed=7)
    config.save_json(tmp_path / "c.json")
    assert CycleGANConfig.load_json(tmp_path / "c.json") == config


def test_unknown_json_key_is_an_error(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"generatr": "resnet_9blocks"}))
    with pytest.raises(ValueError, match="generatr"):
        CycleGANConfig.load_json(tmp_path / "c.json")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"generator": "resnet_99"}, "generator must be one of"),
        ({"ngf": -1}, "ngf must be a positive integer"),
        ({"crop_size": 300, "load_size": 286}, "crop_size .300. must not be larger"),
        ({"gan_mode": "wgan"}, "gan_mode must be one of"),
        ({"preprocess": "none", "batch_size": 4}, "batch_size must be 1"),
        ({"preprocess": "none", "pool_size": 50}, "pool_size to 0"),
        ({"crop_size": 250, "load_size": 250}, "multiple of 4"),
        ({"lambda_a": -1.0}, "lambda_a must be >= 0"),
    ],
)
def test_bad_values_name_the_option(changes, message):
    with pytest.raises(ValueError, match=message):
        CycleGANConfig(**changes)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        CycleGANConfig().ngf = 3


def test_a_resume_on_another_kind_of_cpu_is_written_in_the_run_log(tmp_path, monkeypatch):
    from cyclegan_tf import machine

    monkeypatch.setattr(machine, "cpu_signature", lambda: "Xeon, 2 cores, flags: amx_bf16")
    assert machine.record_machine(tmp_path, resumed=False) is None
    assert machine.record_machine(tmp_path, resumed=True) is None  # same CPU: no warning
    monkeypatch.setattr(machine, "cpu_signature", lambda: "EPYC, 2 cores, flags: avx2")
    warning = machine.record_machine(tmp_path, resumed=True)
    assert "resumed on another kind of CPU" in warning and "amx_bf16" in warning
    log = (tmp_path / machine.MACHINE_LOG).read_text().splitlines()
    assert [line.split("\t")[1] for line in log] == ["start", "resume", "resume", "warning"]
