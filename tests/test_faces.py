"""Face framing: detection, alignment, paste-back, the folder tool and `translate --face`.

No dataset faces here: the public-domain NASA astronaut portrait that scikit-image ships, moved,
scaled and turned by `wide_shot` so that where her eyes went is known, and photos with no face.
"""

import json

import numpy as np
import pytest
from PIL import Image

from cyclegan_tf.faces import TRAINA_FRAMING, FaceDetector, align_face, centre_crop, paste_back
from cyclegan_tf.faces.detector import blazeface_anchors, tile_windows
from cyclegan_tf.faces.framing import alignment_matrix, feather_mask
from cyclegan_tf.faces.wide_shots import apply, wide_shot

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


@pytest.fixture(scope="module")
def astronaut():
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def astronaut_eyes(detector, astronaut):
    (face,) = detector.detect(astronaut)
    return face.eyes


def test_anchors_cover_the_two_grids_of_blazeface():
    anchors = blazeface_anchors()
    assert anchors.shape == (896, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


def test_tiles_cover_the_whole_photo():
    windows = tile_windows(1280, 960)
    covered = np.zeros((960, 1280), bool)
    for w in windows:
        covered[w.y0 : w.y0 + w.side, w.x0 : w.x0 + w.side] = True
    assert covered.all() and all(w.side == 480 for w in windows)


def test_the_astronauts_eyes_are_found_where_they_are(astronaut_eyes):
    # Hand-labelled eye centres of skimage.data.astronaut() (512x512): the pupils.
    np.testing.assert_allclose(astronaut_eyes, [[204, 104], [247, 105]], atol=6)


@pytest.mark.parametrize(
    "height_share, centre, angle",
    [(0.8, (0.3, 0.4), 15.0), (0.7, (0.7, 0.6), -20.0), (1.0, (0.55, 0.5), 20.0)],
)
def test_a_small_tilted_off_centre_face_is_found_and_framed_like_the_training_data(
    detector, astronaut, astronaut_eyes, height_share, centre, angle
):
    shot, matrix = wide_shot(astronaut, (1280, 960), height_share, centre, angle)
    truth = apply(matrix, astronaut_eyes)  # where the eyes went
    faces = detector.detect(shot)
    assert faces, "no face found in the wide shot"
    eye_distance = np.hypot(*(truth[1] - truth[0]))
    assert np.abs(faces[0].eyes - truth).max() < 0.1 * eye_distance
    crop = align_face(shot, faces[0].eyes, 256)
    in_crop = apply(crop.matrix, truth)
    assert abs(in_crop[:, 1].mean() / 256 - TRAINA_FRAMING.eye_y) < 0.02  # the bar
    assert abs(in_crop[:, 0].mean() / 256 - TRAINA_FRAMING.eye_x) < 0.02
    roll = np.degrees(np.arctan2(*(in_crop[1] - in_crop[0])[::-1]))
    assert abs(roll) < 3.0  # levelled


def test_photos_without_a_face_give_no_face(detector):
    assert detector.detect(skimage_data.coffee()) == []
    assert detector.detect(np.full((300, 400, 3), 128, np.uint8)) == []


def test_alignment_sends_the_eyes_exactly_to_the_framing():
    eyes = np.asarray([[310.0, 420.0], [402.0, 380.0]])  # tilted, anywhere
    matrix = alignment_matrix(eyes, 256)
    f = TRAINA_FRAMING
    expected = [
        [(f.eye_x - f.eye_distance / 2) * 256, f.eye_y * 256],
        [(f.eye_x + f.eye_distance / 2) * 256, f.eye_y * 256],
    ]
    np.testing.assert_allclose(apply(matrix, eyes), expected, atol=1e-9)
    with pytest.raises(ValueError, match="eye positions coincide"):
        alignment_matrix(np.asarray([[5.0, 5.0], [5.0, 5.0]]), 256)


def test_the_crop_shows_the_photo_through_its_matrix(astronaut, astronaut_eyes):
    crop = align_face(astronaut, astronaut_eyes, 128)
    assert crop.pixels.shape == (128, 128, 3) and crop.pixels.dtype == np.uint8
    # A pixel of the crop holds the photo's colour at the matching place (smooth skin there).
    forehead = np.asarray([[64.0, 20.0]])
    inverse = np.linalg.inv(np.vstack([crop.matrix, [0, 0, 1]]))[:2]
    x, y = apply(inverse, forehead)[0].round().astype(int)
    np.testing.assert_allclose(crop.pixels[20, 64], astronaut[y, x], atol=25)


def test_pasting_a_crop_back_restores_the_face_and_leaves_the_rest_untouched(
    astronaut, astronaut_eyes
):
    crop = align_face(astronaut, astronaut_eyes, 256)
    same = paste_back(astronaut, crop.pixels, crop.matrix)
    face = (slice(80, 150), slice(190, 260))
    error = np.abs(same[face].astype(int) - astronaut[face]).mean()
    assert error < 6  # resampled twice, nothing else
    white = paste_back(astronaut, np.full_like(crop.pixels, 255), crop.matrix)
    assert white[115, 225].min() > 245  # the middle of the face is replaced
    np.testing.assert_array_equal(white[400:], astronaut[400:])  # far from the face: untouched
    # Feathered: between the two, values fall off gradually (no hard seam).
    mask = feather_mask(256)
    assert mask[128, 128] == 1.0 and mask[0, 128] < 0.02 and 0.2 < mask[15, 128] < 0.8


def test_centre_crop_is_the_largest_centred_square():
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 50:150] = 255
    crop = centre_crop(image, 64)
    assert crop.pixels.shape == (64, 64, 3)
    assert crop.pixels[2:-2, 2:-2].min() == 255  # only the white middle square


def write_photo(path, array):
    Image.fromarray(array).save(path)


def test_prepare_faces_crops_reports_and_never_overwrites(tmp_path, detector, astronaut):
    from cyclegan_tf.faces.folder import REPORT_NAME, prepare_faces

    photos = tmp_path / "photos"
    (photos / "trip").mkdir(parents=True)
    shot, _ = wide_shot(astronaut, (640, 480), 0.9, (0.4, 0.5), -10.0)
    write_photo(photos / "a.jpg", shot)
    write_photo(photos / "a.png", astronaut)  # same stem: both kept
    write_photo(photos / "trip" / "coffee.png", skimage_data.coffee())
    (photos / "broken.jpg").write_bytes(b"not an image at all")
    out = tmp_path / "trainA"
    report = prepare_faces(photos, out, size=64, detector=detector)
    assert sorted(report.written) == [str(out / "a_jpg.png"), str(out / "a_png.png")]
    assert report.no_face == [str(photos / "trip" / "coffee.png")]
    assert list(report.unreadable) == [str(photos / "broken.jpg")]
    assert Image.open(out / "a_jpg.png").size == (64, 64)
    saved = json.loads((out / REPORT_NAME).read_text())
    assert saved["no_face"] == report.no_face
    # Run again: the crops exist, so nothing is rewritten.
    before = (out / "a_jpg.png").read_bytes()
    write_photo(out / "a_png.png", np.zeros((8, 8, 3), np.uint8))  # the user's edit survives
    again = prepare_faces(photos, out, size=64, detector=detector)
    assert again.written == [] and len(again.kept_existing) == 2
    assert (out / "a_jpg.png").read_bytes() == before
    assert Image.open(out / "a_png.png").size == (8, 8)
    with pytest.raises(ValueError, match="input folder"):
        prepare_faces(photos, photos, detector=detector)


def test_all_faces_gives_one_crop_per_face(tmp_path, detector, astronaut):
    from cyclegan_tf.faces.folder import prepare_faces

    photos = tmp_path / "photos"
    photos.mkdir()
    write_photo(photos / "two.png", np.concatenate([astronaut, astronaut[:, ::-1]], axis=1))
    report = prepare_faces(photos, tmp_path / "out", size=64, all_faces=True, detector=detector)
    assert sorted(p.rsplit("/", 1)[1] for p in report.written) == [
        "two_face0.png",
        "two_face1.png",
    ]


def test_translate_face_crops_translates_and_pastes_back(tmp_path, astronaut, caplog, capsys):
    from cyclegan_tf.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    shot, _ = wide_shot(astronaut, (640, 480), 0.9, (0.35, 0.5), 12.0)
    write_photo(photos / "wide.png", shot)
    write_photo(photos / "coffee.png", skimage_data.coffee())
    assert main(["translate", "selfie2anime-mobile", str(photos), "--out", str(tmp_path / "crops"),
                 "--face"]) == 0  # fmt: skip
    assert Image.open(tmp_path / "crops" / "wide.png").size == (256, 256)  # the run size
    assert "no face found in" in caplog.text and "coffee.png" in caplog.text
    assert Image.open(tmp_path / "crops" / "coffee.png").size == (256, 256)  # centre crop
    assert main(["translate", "selfie2anime-mobile", str(photos / "wide.png"), "--out",
                 str(tmp_path / "pasted"), "--face", "--paste-back"]) == 0  # fmt: skip
    pasted = np.asarray(Image.open(tmp_path / "pasted" / "wide.png"))
    assert pasted.shape == shot.shape
    changed = np.abs(pasted.astype(int) - shot).max(axis=2) > 0
    ys, xs = np.nonzero(changed)
    assert changed.mean() < 0.25  # the face, not the photo
    assert xs.max() < 0.6 * 640  # the face sits at 35% of the width: nothing changed far right


def test_translate_face_strict_and_misused_options_are_errors(tmp_path, capsys):
    from cyclegan_tf.cli import main

    write_photo(tmp_path / "coffee.png", skimage_data.coffee())
    argv = ["translate", "selfie2anime-mobile", str(tmp_path / "coffee.png"), "--out",
            str(tmp_path / "out")]  # fmt: skip
    assert main(argv + ["--face", "--strict"]) == 2
    assert "no face found in" in capsys.readouterr().err
    assert main(argv + ["--paste-back"]) == 2
    assert "go with --face" in capsys.readouterr().err


def test_faces_command_prints_its_report(tmp_path, astronaut, capsys):
    from cyclegan_tf.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    write_photo(photos / "portrait.png", astronaut)
    write_photo(photos / "coffee.png", skimage_data.coffee())
    assert main(["faces", str(photos), "--out", str(tmp_path / "out"), "--size", "96"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 1 face crop(s); 1 photo(s) without a face" in printed
    assert f"no face: {photos / 'coffee.png'}" in printed
    assert Image.open(tmp_path / "out" / "portrait.png").size == (96, 96)
