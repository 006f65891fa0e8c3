import json

import numpy as np
import pytest

from cyclegan_tf.config import PRESETS, CycleGANConfig
from cyclegan_tf.run_folder import RunFolder


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
    tiny = CycleGANConfig.preset("tiny")  # the demo's five measured departures from the paper
    assert (tiny.generator_ema, tiny.lambda_a, tiny.lambda_b) == (0.995, 2.0, 10.0)
    assert (tiny.lambda_tv, CycleGANConfig().lambda_tv) == (4.0, 0.0)
    assert (tiny.input_skip, CycleGANConfig().input_skip) == (True, False)
    assert tiny.lambda_identity == 0.25
    # The machine picks the precision, except where bf16 was measured not to pay.
    assert CycleGANConfig().precision == "auto"
    assert tiny.precision == CycleGANConfig.preset("selfie2anime-mobile").precision == "float32"


def test_n_layers_d_sets_the_n_layers_discriminators_patch_size():
    from cyclegan_tf.networks import discriminators_from_config

    config = CycleGANConfig.preset("tiny", discriminator="n_layers", n_layers_d=1)
    d_a, _ = discriminators_from_config(config)
    # Three 4x4 convs (strides 2, 1, 1, padding 1): 16x16 patches, 14x14 of them at 32 px.
    assert d_a(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 14, 14, 1)
    assert len([w for w in d_a.weights if "kernel" in w.path]) == 3


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
        ({"gan_mode": "wasserstein"}, "gan_mode must be one of"),
        ({"kernel_size": 4}, "kernel_size must be odd"),
        ({"n_layers_d": 1}, "discriminator 'basic' has a fixed depth.*--discriminator n_layers"),
        ({"fake_label_noise": 1.0}, "fake_label_noise must be below 1"),
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
    log = RunFolder(tmp_path).machine_log.read_text().splitlines()
    assert [line.split("\t")[1] for line in log] == ["start", "resume", "resume", "warning"]


def test_the_run_log_records_the_precision_and_a_warning_does_not_count_as_a_machine(
    tmp_path, monkeypatch
):
    from cyclegan_tf import machine

    monkeypatch.setattr(machine, "cpu_signature", lambda: "Xeon, 2 cores, flags: amx_bf16")
    machine.record_machine(tmp_path, resumed=False, precision="auto -> mixed_bfloat16")
    monkeypatch.setattr(machine, "cpu_signature", lambda: "EPYC, 2 cores, flags: avx2")
    assert machine.record_machine(tmp_path, resumed=True, precision="auto -> float32")
    # Back on the EPYC: the last machine is the EPYC, not the warning line before it.
    assert machine.record_machine(tmp_path, resumed=True, precision="auto -> float32") is None
    log = [line.split("\t") for line in RunFolder(tmp_path).machine_log.read_text().splitlines()]
    assert [(event, text) for _, event, text in log if event == "precision"] == [
        ("precision", "auto -> mixed_bfloat16"),
        ("precision", "auto -> float32"),
        ("precision", "auto -> float32"),
    ]


@pytest.mark.parametrize(
    ("native_bf16", "gpu", "expected"),
    [
        (True, None, "mixed_bfloat16"),
        (False, None, "float32"),
        (False, (8, 0), "mixed_float16"),
        (True, (6, 1), "float32"),  # a GPU without fast float16: full precision
    ],
)
def test_auto_precision_picks_what_the_machine_runs_fast(monkeypatch, native_bf16, gpu, expected):
    from cyclegan_tf import precision

    monkeypatch.setattr(precision, "has_native_bf16", lambda: native_bf16)
    monkeypatch.setattr(precision, "gpu_compute_capability", lambda: gpu)
    assert precision.resolve_precision("auto") == expected
    assert precision.resolve_precision("float32") == "float32"  # an explicit choice stays


def test_bf16_on_a_cpu_that_only_emulates_it_trains_with_a_warning(monkeypatch, caplog):
    from cyclegan_tf import precision

    monkeypatch.setattr(precision, "has_native_bf16", lambda: False)
    monkeypatch.setattr(precision, "gpu_compute_capability", lambda: None)
    precision.warn_if_emulated.cache_clear()
    assert precision.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert "without native bf16" in caplog.text and "17x slower" in caplog.text
    precision.warn_if_emulated.cache_clear()


def test_an_auto_model_builds_in_the_resolved_precision(monkeypatch):
    from cyclegan_tf import precision
    from cyclegan_tf.model import CycleGAN

    monkeypatch.setattr(precision, "has_native_bf16", lambda: True)
    monkeypatch.setattr(precision, "gpu_compute_capability", lambda: None)
    config = CycleGANConfig.preset("tiny", precision="auto", ngf=4, ndf=4, crop_size=32)
    model = CycleGAN(config)
    assert model.precision == "mixed_bfloat16"
    assert model.generator_ab.layers[1].dtype_policy.compute_dtype == "bfloat16"


def test_every_option_declares_its_own_rule_beside_it():
    """Numbers carry their minimum, strings their choices (or are free text), in the field."""
    from cyclegan_tf.config import config_fields

    free_text = {"data"}
    for f in config_fields():
        if f.type in ("int", "float"):
            assert "minimum" in f.metadata, f.name
        elif f.type == "str" and f.name not in free_text:
            assert "choices" in f.metadata, f.name
    with pytest.raises(ValueError, match="beta_2 must be below 1, got 1.0"):
        CycleGANConfig(beta_2=1.0)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        CycleGANConfig(seed=-1)
