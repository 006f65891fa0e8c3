"""The shipped selfie2anime-mobile model: found by name, runs offline, carried by a wheel."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cyclegan_tf.cli import main
from cyclegan_tf.evaluation.paired import psnr_per_image
from cyclegan_tf.evaluation.translators import load_translators
from cyclegan_tf.pretrained import PRETRAINED, resolve_model, run_size

ROOT = Path(__file__).resolve().parents[1]
MODEL = PRETRAINED["selfie2anime-mobile"]


def _face_photo(size=(200, 160)) -> np.ndarray:
    """A real photo where scikit-image has one (public-domain astronaut), else a gradient."""
    try:
        from skimage.data import astronaut

        return np.asarray(Image.fromarray(astronaut()[20:260, 120:340]).resize(size))
    except ImportError:
        y, x = np.mgrid[: size[1], : size[0]]
        return np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)


def test_names_resolve_to_the_packaged_files():
    keras_file, tflite_file = resolve_model(MODEL.name), resolve_model(f"{MODEL.name}:int8")
    assert keras_file == MODEL.folder / "generator_ab.keras" and keras_file.is_file()
    assert tflite_file.suffix == ".tflite" and tflite_file.is_file()
    assert run_size(MODEL.name) == 256 and run_size("runs/whatever") is None
    assert resolve_model("runs/not-a-name") == Path("runs/not-a-name")
    with pytest.raises(ValueError, match="variants .'int8', 'keras'., not 'fp16'"):
        resolve_model(f"{MODEL.name}:fp16")


def test_the_files_are_small_documented_and_the_phone_model_takes_camera_bytes():
    files = [p for p in MODEL.folder.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 2 * 2**20
    card = (MODEL.folder / "MODEL_CARD.md").read_text()
    for needed in ("research", "cyclegan-tf train", "FID", "probe", "men", "glasses"):
        assert needed in card
    meta = json.loads(resolve_model(f"{MODEL.name}:int8").with_suffix(".json").read_text())
    assert meta["direction"] == "AtoB"
    assert meta["input"]["shape"] == [1, 256, 256, 3] and meta["input"]["dtype"] == "uint8"
    assert meta["output"]["dtype"] == "uint8"


def test_translate_by_name_turns_a_photo_into_a_different_picture_of_its_size(tmp_path, capsys):
    photo = _face_photo()
    Image.fromarray(photo).save(tmp_path / "photo.jpg")
    out = tmp_path / "anime"
    assert main(["translate", MODEL.name, str(tmp_path / "photo.jpg"), "--out", str(out)]) == 0
    assert "wrote 1 translation(s)" in capsys.readouterr().out
    result = np.asarray(Image.open(out / "photo.png"))
    assert result.shape == photo.shape
    assert np.abs(result.astype(int) - photo.astype(int)).mean() > 10  # it changed the picture
    assert result.std() > 20  # and did not collapse to a flat colour


def test_int8_phone_model_agrees_with_the_keras_model_on_a_photo():
    photo = np.asarray(Image.fromarray(_face_photo()).resize((256, 256)))[None]
    keras_out = load_translators(MODEL.name)["AtoB"](photo)
    int8_out = load_translators(f"{MODEL.name}:int8")["AtoB"](photo)
    assert psnr_per_image(int8_out, keras_out)[0] > 25


def test_info_lists_the_shipped_models_and_describes_one_by_name(capsys):
    assert main(["info"]) == 0
    listing = capsys.readouterr().out
    assert MODEL.name in listing and f"{MODEL.name}:int8" in listing and "research" in listing
    assert main(["info", MODEL.name]) == 0
    described = capsys.readouterr().out
    assert "generator = 'mobile_deep'" in described and "AtoB" in described


def test_a_wheel_carries_the_shipped_model(tmp_path):
    """A non-editable install must have the files: build the wheel and look inside."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("cyclegan_tf-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for file in ("generator_ab.keras", "generator_ab_int8.tflite", "MODEL_CARD.md"):
        assert f"cyclegan_tf/pretrained/{MODEL.name}/{file}" in names
    assert "cyclegan_tf/faces/blazeface_short_range.tflite" in names  # face framing, offline
    assert "cyclegan_tf/faces/framing.json" in names
    assert "cyclegan_tf/pretrained/samples/astronaut.jpg" in names  # cyclegan-tf demo


def test_demo_translates_the_shipped_samples_framed_on_the_face(tmp_path, capsys):
    """The first command a new user runs: real translations, no download, no photo needed."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert "demo_grid.png" in capsys.readouterr().out
    assert Image.open(tmp_path / "demo_grid.png").size[0] > 1000
    photo = np.asarray(Image.open(tmp_path / "astronaut_wide_photo.png"), np.int16)
    pasted = np.asarray(Image.open(tmp_path / "astronaut_wide_pasted.png"), np.int16)
    anime = np.asarray(Image.open(tmp_path / "astronaut_wide_anime.png"))
    assert anime.shape == (256, 256, 3) and anime.std() > 20  # a picture, not a flat colour
    changed = np.abs(pasted - photo).max(axis=2) > 8
    assert 0.005 < changed.mean() < 0.2  # her face was replaced, not the whole shot
    ys, xs = np.nonzero(changed)
    assert xs.mean() < 0.5 * photo.shape[1]  # where the wide shot put her (30% of the width)
    assert main(["demo", "--out", str(tmp_path), "--model", "runs/mine"]) == 2
    assert "the demo runs a shipped model" in capsys.readouterr().err
