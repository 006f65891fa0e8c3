"""Evaluation: FID/KID maths against a plain reference, the Inception path on random weights,
paired PSNR/SSIM, `evaluate` on Keras and `.tflite` models, and the metrics callback in `fit`."""

import json

import keras
import numpy as np
import pytest
import scipy.linalg

from cyclegan_tf.checkpoints import save_generator
from cyclegan_tf.cli import main
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.evaluation import inception
from cyclegan_tf.evaluation.distances import (
    frechet_distance,
    kernel_inception_distance,
    kid_subsets,
    polynomial_mmd,
)
from cyclegan_tf.evaluation.evaluate import evaluate_model
from cyclegan_tf.evaluation.inception import InceptionFeatures, InceptionWeightsError
from cyclegan_tf.evaluation.paired import psnr_per_image, ssim_per_image
from cyclegan_tf.networks import build_generator
from cyclegan_tf.plots import read_csv_log


def reference_fid(x, y):
    """The textbook formula with SciPy's matrix square root."""
    mu_x, mu_y = x.mean(0), y.mean(0)
    s_x, s_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = scipy.linalg.sqrtm(s_x @ s_y).real
    return np.sum((mu_x - mu_y) ** 2) + np.trace(s_x + s_y - 2 * root)


def reference_mmd(x, y):
    """Unbiased MMD² with explicit loops over pairs (i != j within a set)."""
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1) ** 3

    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_fid_matches_the_scipy_reference():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, (200, 12)), rng.normal(0.5, 1.5, (150, 12)) @ rng.normal(0, 1, (12, 12))
    assert frechet_distance(x, y) == pytest.approx(reference_fid(x, y), rel=1e-6)


def test_fid_is_zero_for_the_same_set_even_with_fewer_images_than_features():
    x = np.random.default_rng(1).normal(size=(20, 64))  # singular covariance
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, x + 1.0) == pytest.approx(64.0, rel=1e-6)  # mean shift only


def test_polynomial_mmd_matches_the_loop_reference():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(15, 6)), rng.normal(0.3, 1, (15, 6))
    assert polynomial_mmd(x, y) == pytest.approx(reference_mmd(x, y), rel=1e-9)


def test_kid_averages_the_reference_over_its_subsets():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5)), rng.normal(0.5, 1, (30, 5))
    kid = kernel_inception_distance(x, y, n_subsets=5, subset_size=10, seed=7)
    values = [reference_mmd(x[r], y[f]) for r, f in kid_subsets(40, 30, 5, 10, seed=7)]
    assert kid["mean"] == pytest.approx(np.mean(values), rel=1e-9)
    assert kid["std"] == pytest.approx(np.std(values), rel=1e-9)
    assert kid["subset_size"] == 10


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    same = kernel_inception_distance(a, b, n_subsets=20, subset_size=100)
    shifted = kernel_inception_distance(a, b + 0.5, n_subsets=20, subset_size=100)
    assert abs(same["mean"]) < 3 * same["std"] + 1e-3
    assert shifted["mean"] > 10 * abs(same["mean"])


def test_distances_refuse_features_of_different_sizes():
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="2-D"):
        kernel_inception_distance(np.zeros(4), np.zeros((4, 5)))


@pytest.fixture(scope="module")
def random_inception():
    keras.utils.set_random_seed(0)
    return InceptionFeatures.from_weights(None)


def test_inception_gives_2048_pool_features_for_any_image_size(random_inception):
    images = np.random.default_rng(0).integers(0, 256, (3, 40, 48, 3), dtype=np.uint8)
    features = random_inception(images)
    assert features.shape == (3, inception.FEATURES)
    np.testing.assert_allclose(random_inception(images[:1]), features[:1], rtol=1e-4, atol=1e-5)
    assert np.all(features >= 0)  # average of ReLU outputs


def test_inception_loads_weights_from_a_local_file(random_inception, tmp_path):
    path = tmp_path / "inception.weights.h5"
    random_inception.network.save_weights(path)
    keras.utils.set_random_seed(99)  # a different random start, overwritten by the file
    loaded = InceptionFeatures.from_weights(path)
    images = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded(images), random_inception(images), rtol=1e-4, atol=1e-5)


def test_missing_inception_weights_say_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(InceptionWeightsError, match="no such file"):
        inception.resolve_weights(tmp_path / "missing.h5")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # nothing cached

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(inception.keras.utils, "get_file", offline)
    with pytest.raises(InceptionWeightsError, match="--inception-weights PATH"):
        inception.resolve_weights("imagenet")


def test_psnr_and_ssim_per_image():
    a = np.full((2, 16, 16, 3), 100, np.uint8)
    b = a.copy()
    b[1] += 1  # every pixel one level off
    psnr = psnr_per_image(a, b)
    assert np.isinf(psnr[0]) and psnr[1] == pytest.approx(20 * np.log10(255), rel=1e-9)
    noise = np.random.default_rng(0).integers(0, 256, a.shape, dtype=np.uint8)
    ssim = ssim_per_image(a, np.stack([a[0], noise[1]]))
    assert ssim[0] == pytest.approx(1.0) and ssim[1] < 0.1
    with pytest.raises(ValueError, match="differ in shape"):
        psnr_per_image(a, b[:, :8])


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run folder with both (untrained) generators, as training leaves it."""
    config = CycleGANConfig.preset("tiny", ngf=4, crop_size=32, load_size=36)
    folder = tmp_path_factory.mktemp("run")
    config.save_json(folder / "config.json")
    keras.utils.set_random_seed(2)
    for name, direction in (("generator_ab", "AtoB"), ("generator_ba", "BtoA")):
        generator = build_generator("resnet_6blocks", ngf=4, model_name=name)
        save_generator(generator, folder / f"{name}.keras", config, direction, epoch=1)
    return folder


def test_evaluate_a_run_folder_writes_all_metrics_and_pictures(run_folder, tmp_path):
    result = evaluate_model(
        run_folder,
        "synthetic",
        tmp_path,
        max_images=8,
        inception_weights=None,
        kid_subsets=5,
        features="inception",
        probe_images=16,
    )
    assert result["size"] == 32 and result["images"] == {"A": 8, "B": 8} and result["paired"]
    for direction in ("AtoB", "BtoA"):
        m = result["directions"][direction]
        assert 0 < m["psnr"] < 60 and -1 <= m["ssim"] <= 1
        assert m["identity_psnr"] < 30  # photo and anime styles really differ
        assert m["cycle_l1"] > 0 and m["fid"] >= 0 and "mean" in m["kid"]
        assert m["kid_x100"] == pytest.approx(100 * m["kid"]["mean"])
        assert (tmp_path / f"best_worst_{direction}.png").is_file()
    saved = json.loads((tmp_path / "evaluation.json").read_text())
    assert saved["directions"]["AtoB"]["psnr"] == pytest.approx(
        result["directions"]["AtoB"]["psnr"]
    )
    assert "| AtoB |" in (tmp_path / "evaluation.md").read_text()


def test_identity_generators_score_the_identity_baseline(run_folder, tmp_path):
    """A generator that returns its input must score exactly the identity map's PSNR."""
    config = CycleGANConfig.load_json(run_folder / "config.json")
    inputs = keras.Input((None, None, 3))
    identity = keras.Model(inputs, keras.layers.Identity()(inputs))
    folder = tmp_path / "identity"
    folder.mkdir()
    config.save_json(folder / "config.json")
    save_generator(identity, folder / "generator_ab.keras", config, "AtoB")
    save_generator(identity, folder / "generator_ba.keras", config, "BtoA")
    result = evaluate_model(folder, "synthetic", tmp_path / "eval", max_images=4, features=None)
    m = result["directions"]["AtoB"]
    assert m["psnr"] == pytest.approx(m["identity_psnr"]) and m["cycle_l1"] == 0


def test_evaluate_a_tflite_export_close_to_its_keras_model(run_folder, tmp_path):
    from cyclegan_tf.export.exporter import export_generator

    export_generator(
        run_folder / "generator_ab.keras", tmp_path, quantizations=("fp32",), saved_model=False
    )
    keras_result = evaluate_model(
        run_folder / "generator_ab.keras",
        "synthetic",
        tmp_path / "k",
        max_images=6,
        features=None,
    )
    tflite_result = evaluate_model(
        tmp_path / "generator_ab_fp32.tflite",
        "synthetic",
        tmp_path / "t",
        max_images=6,
        features=None,
    )
    assert list(tflite_result["directions"]) == ["AtoB"]
    assert tflite_result["directions"]["AtoB"]["psnr"] == pytest.approx(
        keras_result["directions"]["AtoB"]["psnr"], abs=0.05
    )
    with pytest.raises(ValueError, match="takes 32x32"):
        evaluate_model(
            tmp_path / "generator_ab_fp32.tflite",
            "synthetic",
            tmp_path / "x",
            size=48,
            features=None,
        )


def test_evaluate_command_and_its_offline_error(run_folder, tmp_path, capsys, monkeypatch):
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                str(run_folder),
                "--out",
                str(out),
                "--no-inception",
                "--max-images",
                "4",
                "--direction",
                "BtoA",
            ]
        )
        == 0
    )
    assert "| BtoA |" in capsys.readouterr().out
    assert list(json.loads((out / "evaluation.json").read_text())["directions"]) == ["BtoA"]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    monkeypatch.setattr(
        inception.keras.utils, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError("offline"))
    )
    assert main(["evaluate", str(run_folder), "--out", str(out), "--features", "inception"]) == 2
    assert "--inception-weights PATH" in capsys.readouterr().err


def test_evaluate_gives_fid_kid_and_probe_offline_by_default(run_folder, tmp_path, capsys):
    """A fresh machine has no Inception weights: the default features must still give numbers."""
    out = tmp_path / "eval"
    args = ["evaluate", str(run_folder), "--out", str(out), "--max-images", "8"]
    assert main(args + ["--direction", "AtoB", "--probe-images", "16", "--kid-subsets", "5"]) == 0
    assert "EfficientNet-Lite0 features" in capsys.readouterr().out
    result = json.loads((out / "evaluation.json").read_text())
    assert result["features"] == "EfficientNet-Lite0" and result["probe_images"] == 16
    m = result["directions"]["AtoB"]
    assert m["fid"] > 0 and m["identity_fid"] > 0
    # the probe, trained on synthetic photos vs anime, tells real anime from real photos
    assert m["target_probe_rate"] > 0.9 and m["identity_probe_rate"] < 0.1
    assert 0 <= m["probe_rate"] <= 1


def test_fit_logs_metrics_every_n_epochs_the_same_way_evaluate_measures(tiny_config, tmp_path):
    from cyclegan_tf.training import train_run

    run = tmp_path / "run"
    train_run(tiny_config, run, epochs=2, steps_per_epoch=2, eval_every=2, eval_images=4, verbose=0)
    log = read_csv_log(run / "losses.csv")
    assert np.isnan(log["psnr_ab"][0]) and np.isfinite(log["psnr_ab"][1])
    assert {"ssim_ab", "psnr_ba", "ssim_ba"} <= set(log)
    assert (run / "losses.png").is_file()
    result = evaluate_model(run, "synthetic", tmp_path / "eval", max_images=4, features=None)
    assert result["directions"]["AtoB"]["psnr"] == pytest.approx(log["psnr_ab"][1], abs=1e-4)
    assert result["directions"]["BtoA"]["ssim"] == pytest.approx(log["ssim_ba"][1], abs=1e-4)
