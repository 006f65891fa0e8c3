"""The mobile web demo in real Chromium (phone emulation): the page's translation of an uploaded
photo equals what ai-edge-litert computes in Python for the same input and `.tflite` file.

Needs Node.js, the demo's npm packages and Debian's chromium, which `.ci/run` installs; without
them the tests are skipped, unless CYCLEGAN_REQUIRE_BROWSER=1 (set by `.ci/run`) makes that a
failure.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cyclegan_tf.cli import main
from cyclegan_tf.data.synthetic import face_for, render_photo
from cyclegan_tf.evaluation.paired import psnr_per_image
from cyclegan_tf.export.litert import TFLiteModel
from cyclegan_tf.export.tflite import from_model_output

WEB = Path(__file__).parents[1] / "mobile_demo" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "the demo's npm packages are not installed (cd mobile_demo/web && npm ci)"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    reason = _missing()
    if reason:
        if os.environ.get("CYCLEGAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return build_site(tmp_path_factory.mktemp("site"))


def build_site(out: Path) -> Path:
    """The static site as `npm run build` makes it, in `out`."""
    vite = WEB / "node_modules" / ".bin" / "vite"
    subprocess.run(
        [str(vite), "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=WEB,
        check=True,
    )
    assert (out / "index.html").is_file() and (out / "litert-wasm").is_dir()
    return out


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A tiny model trained through the CLI, exported as int8 (uint8 I/O) and fp16 (float I/O)."""
    root = tmp_path_factory.mktemp("demo")
    run = root / "run"
    tiny = "--preset tiny --ngf 4 --ndf 4 --crop-size 32 --load-size 36 --synthetic-size 8"
    steps = "--batch-size 2 --epochs 1 --steps-per-epoch 2 --no-validation --eval-every 0"
    assert main(f"train {tiny} {steps} --quiet".split() + ["--out", str(run)]) == 0
    for folder, options in (("u8", "--quantize int8 --io uint8"), ("f16", "--quantize fp16")):
        export = ["export", str(run), "--out", str(root / folder), "--no-saved-model"]
        assert main(export + options.split()) == 0
    return {
        "int8": root / "u8" / "generator_ab_int8.tflite",
        "fp16": root / "f16" / "generator_ab_fp16.tflite",
    }


def run_browser(
    site: Path, model: Path | None, photo: Path, out: Path, bad_files: list[Path]
) -> dict:
    """Serve the site (with `model`, or the model the build put there) and drive the page."""
    bad = [option for file in bad_files for option in ("--bad-file", str(file))]
    return drive_page(site, model, out, ["--photo", str(photo), *bad])


def write_bad_photos(folder: Path) -> list[Path]:
    """What people pick that the page cannot use: text, an iPhone HEIC, 50 MB, 64 megapixels."""
    from bad_inputs import png_bomb

    notes, heic, huge, wide = (
        folder / n for n in ("notes.jpg", "iphone.heic", "huge.jpg", "wide.png")
    )
    notes.write_text("this is not a picture")
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    with open(huge, "wb") as f:  # 50 MB (sparse: cheap to write)
        f.truncate(50 * 2**20)
    png_bomb(wide, side=8000)
    return [notes, heic, huge, wide]


def drive_page(site: Path, model: Path | None, out: Path, options: list[str]) -> dict:
    """Serve the site and run tests/browser_test.mjs with `options`; its results.json."""
    chosen = ["--model", str(model)] if model is not None else []
    server = subprocess.Popen(
        ["node", "scripts/serve.mjs", "--root", str(site), *chosen, "--port", "0"],
        cwd=WEB,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        assert "serving" in line, line
        url = line.split(" at ")[-1].strip()
        subprocess.run(
            [
                "node",
                "tests/browser_test.mjs",
                "--url",
                url,
                "--out",
                str(out),
                "--chromium",
                CHROMIUM,
                *options,
            ],
            cwd=WEB,
            check=True,
            timeout=300,
            stdout=sys.stdout,
            stderr=sys.stderr,
        )
    finally:
        server.terminate()
        server.wait(10)
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize(("variant", "photo_size"), [("int8", (70, 90)), ("fp16", (32, 32))])
def test_the_page_translates_a_photo_exactly_like_python_litert(
    site, exports, tmp_path, variant, photo_size
):
    model = exports[variant]
    sidecar = json.loads(model.with_suffix(".json").read_text())
    width, height = photo_size
    photo = tmp_path / "selfie.png"
    pixels = render_photo(face_for(3, 2, 0), max(width, height))[:height, :width]
    Image.fromarray(pixels).save(photo)
    result = run_browser(site, model, photo, tmp_path / "browser", write_bad_photos(tmp_path))

    assert result["load_error"] is None, result["console"]
    assert result["offsite"] == [], "the page made requests off localhost"
    assert any(url.endswith(".wasm") for url in result["requests"])
    io = "uint8" if sidecar["input"]["dtype"] == "uint8" else "float"
    assert (
        f"{sidecar['quantization']}, 32×32 px, {sidecar['input']['dtype']} input"
        in (result["model_info"])
    )
    page_input = np.asarray(result["run"]["input"], sidecar["input"]["dtype"]).reshape(1, 32, 32, 3)
    if photo_size == (32, 32):  # no resizing: the page must feed the file's pixels
        expected = pixels[None] if io == "uint8" else pixels[None] / 127.5 - 1
        np.testing.assert_allclose(page_input, expected, atol=1e-6)
    python = from_model_output(TFLiteModel(model).run(page_input), io)
    page = from_model_output(
        np.asarray(result["run"]["output"], np.float32).reshape(1, 32, 32, 3), io
    )
    assert np.abs(python.astype(int) - page.astype(int)).max() <= 1
    assert result["run"]["ms"] > 0 and " ms on wasm" in result["timing_text"]
    assert result["save_href"].startswith("blob:")
    assert (tmp_path / "browser" / "phone.png").stat().st_size > 10_000

    assert result["offline_cached"] and result["offline_error"] is None  # offline after one visit
    assert result["offline_run"] == result["run"]["output"]
    errors = result["bad_file_errors"]
    assert "could not be read as an image" in errors["notes.jpg"]
    assert "is a HEIC photo" in errors["iphone.heic"] and "JPEG" in errors["iphone.heic"]
    assert "is 50 MB; photos up to 40 MB" in errors["huge.jpg"]
    assert "has 64 megapixels" in errors["wide.png"]
    assert "model/model.tflite failed to load" in result["broken_model_error"]
    assert "does not support WebAssembly SIMD" in result["no_simd_error"]


def test_the_site_serves_the_shipped_selfie2anime_model_by_default(site, tmp_path):
    """No --model: the build's default is the packaged phone model, and it runs in the page."""
    from cyclegan_tf.pretrained import resolve_model

    shipped = resolve_model("selfie2anime-mobile:int8")
    site = build_site(tmp_path / "site")  # fresh: other tests serve their own models from `site`
    assert (site / "model" / "model.tflite").read_bytes() == shipped.read_bytes()
    assert (site / "model" / "model.json").read_bytes() == shipped.with_suffix(".json").read_bytes()
    photo = tmp_path / "portrait.png"
    Image.fromarray(render_photo(face_for(3, 2, 1), 300)).save(photo)
    bad_file = tmp_path / "notes.jpg"
    bad_file.write_text("this is not a picture")

    result = run_browser(site, None, photo, tmp_path / "browser", [bad_file])

    assert result["load_error"] is None, result["console"]
    assert "int8, 256×256 px, uint8 input" in result["model_info"]
    page_input = np.asarray(result["run"]["input"], np.uint8).reshape(1, 256, 256, 3)
    python = from_model_output(TFLiteModel(shipped).run(page_input), "uint8")
    page = from_model_output(
        np.asarray(result["run"]["output"], np.float32).reshape(1, 256, 256, 3), "uint8"
    )
    # Known gap, measured 2026-11-27: on this trained int8 model LiteRT.js's wasm kernels and
    # Python's XNNPACK agree to 30.5 dB (77% of values within 1 level; the tiny model above: all
    # within 1). Rounding in the int8 steps differs and the trained model amplifies it. The bound
    # catches a wrong or broken model, not that gap.
    diff = np.abs(python.astype(int) - page.astype(int))
    print(f"page vs Python LiteRT: {psnr_per_image(page, python)[0]:.1f} dB")
    assert psnr_per_image(page, python)[0] > 27 and np.mean(diff <= 1) > 0.6


def test_the_page_frames_a_small_tilted_face_and_falls_back_without_one(site, tmp_path):
    """A page-sized photo with the astronaut's face small, tilted and off-centre: the page finds
    her eyes where the known transform put them and crops with the training framing."""
    skimage_data = pytest.importorskip("skimage.data")
    from cyclegan_tf.faces import TRAINA_FRAMING, FaceDetector
    from cyclegan_tf.faces.wide_shots import apply, wide_shot

    astronaut = skimage_data.astronaut()
    (face,) = FaceDetector().detect(astronaut)
    shot, matrix = wide_shot(astronaut, (1280, 960), 0.8, (0.3, 0.45), 15.0)
    truth = apply(matrix, face.eyes)
    photo, no_face = tmp_path / "wide.png", tmp_path / "coffee.png"
    Image.fromarray(shot).save(photo)
    Image.fromarray(skimage_data.coffee()).save(no_face)
    site = build_site(tmp_path / "site")  # the shipped model: a 256 px crop

    options = ["--face-photo", str(photo), "--no-face-photo", str(no_face)]
    result = drive_page(site, None, tmp_path / "browser", options)

    assert result["load_error"] is None, result["console"]
    assert result["offsite"] == []
    framing = result["face"]["framing"]
    assert framing["found"] and result["face"]["message"] == "Framed on the face."
    eye_distance = np.hypot(*(truth[1] - truth[0]))
    assert np.abs(np.asarray(framing["eyes"]) - truth).max() < 0.1 * eye_distance
    # One detector, one framing: the page finds the eyes where Python does (measured: 0.7% of
    # the eye distance apart; canvas and Pillow resample the photo differently).
    (python_face, *_) = FaceDetector().detect(shot)
    assert np.abs(np.asarray(framing["eyes"]) - python_face.eyes).max() < 0.03 * eye_distance
    a, b, c, d, e, f = framing["matrix"]
    in_crop = apply(np.asarray([[a, b, c], [d, e, f]]), truth)
    assert abs(in_crop[:, 1].mean() / 256 - TRAINA_FRAMING.eye_y) < 0.02
    assert abs(in_crop[:, 0].mean() / 256 - TRAINA_FRAMING.eye_x) < 0.02
    assert len(result["face"]["input"]) == 256 * 256 * 3
    assert result["pasted_canvas"] == {"width": 1024, "height": 768}  # the photo, shown at 1024
    no = result["no_face"]
    assert not no["framing"]["found"]
    assert no["message"] == "No face found: the centre of the photo was used."


def test_serve_refuses_a_model_without_its_sidecar(site, tmp_path):
    lonely = tmp_path / "lonely.tflite"
    lonely.write_bytes(b"tflite")
    done = subprocess.run(
        ["node", "scripts/serve.mjs", "--root", str(site), "--model", str(lonely)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "sidecar" in done.stderr
