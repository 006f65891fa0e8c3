import io
import logging
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.data import (
    DecodeReport,
    ImageDecodeError,
    list_images,
    load_domains,
    load_rgb,
    paired_batches,
    preprocess,
    unpaired_batches,
)
from cyclegan_tf.data.images import to_rgb
from cyclegan_tf.data.sources import folder_domain
from cyclegan_tf.data.synthetic import face_for, render_anime, render_pair, render_photo


def _write(path, size=(40, 30), colour=(200, 100, 50), mode="RGB", fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, format=fmt)
    return path


def test_lists_every_supported_format_recursively_and_sorted(tmp_path):
    names = ["b.jpg", "a.PNG", "sub/c.bmp", "sub/deeper/d.webp", "e.jpeg", "f.gif", "g.tiff"]
    for name in names:
        _write(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    found = [p[len(str(tmp_path)) + 1 :] for p in list_images(tmp_path)]
    assert found == sorted(names)
    assert load_rgb(tmp_path / "f.gif").shape == (30, 40, 3)  # GIF: the first frame, RGB


def test_missing_and_empty_folders_are_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="nowhere.*does not exist"):
        list_images(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty.*holds no readable image"):
        list_images(tmp_path / "empty")


def test_grayscale_palette_16bit_and_rgba_become_8bit_rgb(tmp_path):
    gray = to_rgb(Image.new("L", (4, 4), 128))
    assert gray.mode == "RGB" and gray.getpixel((0, 0)) == (128, 128, 128)
    palette = to_rgb(Image.new("RGB", (4, 4), (10, 20, 30)).convert("P"))
    assert palette.mode == "RGB"
    sixteen = to_rgb(Image.fromarray(np.full((4, 4), 65535, np.uint16)))
    assert sixteen.getpixel((0, 0)) == (255, 255, 255)
    half = to_rgb(Image.new("RGBA", (4, 4), (0, 0, 0, 128)))  # half-transparent black on white
    assert half.getpixel((0, 0)) == pytest.approx((127, 127, 127), abs=1)
    transparent = to_rgb(Image.new("RGBA", (4, 4), (255, 0, 0, 0)))
    assert transparent.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    image.save(tmp_path / "rotated.jpg", exif=exif)
    assert load_rgb(tmp_path / "rotated.jpg").shape == (40, 20, 3)


def _corrupt_folder(tmp_path):
    folder = tmp_path / "photos"
    for i in range(5):
        _write(folder / f"ok_{i}.png", colour=(i * 40, 0, 0))
    (folder / "garbage.jpg").write_bytes(b"this is not a jpeg at all")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        buffer, format="JPEG"
    )
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[:300])
    return folder


def test_corrupt_and_truncated_files_are_reported_by_name_and_skipped(tmp_path, caplog):
    folder = _corrupt_folder(tmp_path)
    config = CycleGANConfig(crop_size=16, load_size=16, batch_size=1)
    with caplog.at_level(logging.WARNING):
        report = DecodeReport()
        a, b = load_domains(f"{folder},{folder}", "train", report=report)
        images = [x.numpy() for x, _ in unpaired_batches(a, b, config)]
    assert len(images) == a.size  # an epoch still has max(|A|, |B|) batches: nothing crashed
    skipped = sorted(p.rsplit("/", 1)[1] for p in report.skipped)
    assert skipped == ["garbage.jpg", "truncated.jpg"]
    assert "garbage.jpg" in caplog.text and "truncated.jpg" in caplog.text


def test_strict_mode_stops_at_the_first_bad_file(tmp_path):
    folder = _corrupt_folder(tmp_path)
    with pytest.raises(ImageDecodeError, match="garbage.jpg"):
        list_images(folder, strict=True)


def test_fewer_images_than_the_batch_size_is_an_error(tmp_path):
    for d in "AB":
        _write(tmp_path / f"trainA{d}" / "x.png")
    a, b = load_domains(f"{tmp_path / 'trainAA'},{tmp_path / 'trainAB'}", "train")
    with pytest.raises(ValueError, match="holds 1 images, fewer than batch_size .4."):
        unpaired_batches(a, b, CycleGANConfig(batch_size=4))


def test_selfie2anime_layout_gives_unpaired_epochs_of_the_larger_domain(tmp_path):
    for i in range(6):
        _write(tmp_path / "trainA" / f"{i}.jpg", size=(50, 40))
    for i in range(3):
        _write(tmp_path / "trainB" / f"{i}.png", size=(30, 30))
    config = CycleGANConfig(load_size=36, crop_size=32, batch_size=2)
    a, b = load_domains(str(tmp_path), "train")
    batches = list(unpaired_batches(a, b, config))
    assert len(batches) == 3  # max(6, 3) // 2
    assert batches[0][0].shape == (2, 32, 32, 3) and batches[0][1].shape == (2, 32, 32, 3)


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("resize_and_crop", (32, 32)),
        ("crop", (32, 32)),
        ("scale_width", (53, 36)),
        ("scale_width_and_crop", (32, 32)),
        ("none", (60, 40)),
    ],
)
def test_preprocess_modes_give_the_official_sizes_in_unit_range(mode, expected):
    config = CycleGANConfig(preprocess=mode, load_size=36, crop_size=32, batch_size=1, pool_size=0)
    image = tf.constant(np.random.default_rng(0).integers(0, 256, (61, 41, 3)), tf.uint8)
    out = preprocess(image, config, training=True).numpy()
    assert out.shape[:2] == expected
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_small_images_are_upscaled_before_cropping():
    config = CycleGANConfig(preprocess="crop", crop_size=32, load_size=36)
    out = preprocess(tf.zeros((10, 20, 3), tf.uint8), config, training=False)
    assert out.shape == (32, 32, 3)


def test_evaluation_preprocessing_is_deterministic():
    config = CycleGANConfig(load_size=36, crop_size=32)
    image = tf.constant(np.random.default_rng(0).integers(0, 256, (50, 50, 3)), tf.uint8)
    first, second = (preprocess(image, config, training=False) for _ in range(2))
    np.testing.assert_array_equal(first, second)


def test_synthetic_faces_are_deterministic_for_a_seed():
    np.testing.assert_array_equal(
        render_photo(face_for(3, 0, 5), 64), render_photo(face_for(3, 0, 5), 64)
    )
    assert not np.array_equal(
        render_photo(face_for(3, 0, 5), 64), render_photo(face_for(4, 0, 5), 64)
    )


def test_synthetic_styles_differ_as_photo_and_anime():
    photo, anime = render_pair(face_for(0, 2, 0), 64)
    assert photo.shape == anime.shape == (64, 64, 3)

    def colours(image):
        return len(np.unique(image.reshape(-1, 3), axis=0))

    assert colours(anime) < 40 < colours(photo)  # flat posterized colours against noisy shading
    border = np.concatenate([anime[0], anime[:, 0]])
    assert len(np.unique(border, axis=0)) == 1  # plain anime background


def test_synthetic_test_split_is_paired_and_train_split_is_not():
    test_a, test_b = load_domains("synthetic", "test", image_size=32)
    a0, b0 = next(iter(test_a.dataset)).numpy(), next(iter(test_b.dataset)).numpy()
    np.testing.assert_array_equal(b0, render_anime(face_for(0, 2, 0), 32))
    np.testing.assert_array_equal(a0, render_photo(face_for(0, 2, 0), 32))
    train_a, train_b = load_domains("synthetic", "train", image_size=32, synthetic_size=4)
    assert train_a.size == train_b.size == 4
    assert face_for(0, 0, 0) != face_for(0, 1, 0)


def test_paired_batches_keep_pairs_together():
    config = CycleGANConfig(load_size=32, crop_size=32, batch_size=2)
    test_a, test_b = load_domains("synthetic", "test", image_size=32)
    a, b = next(iter(paired_batches(test_a, test_b, config)))
    expected_a, expected_b = render_pair(face_for(0, 2, 1), 32)
    np.testing.assert_allclose(a[1], expected_a / 127.5 - 1, atol=1e-5)
    np.testing.assert_allclose(b[1], expected_b / 127.5 - 1, atol=1e-5)


def test_tfds_cycle_gan_loads_offline_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        a, b = load_domains("tfds:cycle_gan/horse2zebra", "train")
        image = next(iter(a.dataset))
    assert (a.name, b.name, a.size) == ("trainA", "trainB", 6)
    assert image.dtype == tf.uint8 and image.shape[-1] == 3


def test_unknown_tfds_name_is_refused():
    with pytest.raises(ValueError, match="cycle_gan/horse2zebra"):
        load_domains("tfds:cycle_gan/cats2dogs", "train")


def test_unknown_data_spec_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="not a folder, 'A_DIR,B_DIR'"):
        load_domains(str(tmp_path / "missing"), "train")


def test_png_data_with_a_jpg_extension_is_read_like_selfie2anime_trainb(tmp_path):
    """selfie2anime's trainB files are PNG data named .jpg: the loader must read them as images."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    path = tmp_path / "trainB" / "0001.jpg"
    path.parent.mkdir(parents=True)
    Image.fromarray(pixels).save(path, format="PNG")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(load_rgb(path), pixels)  # lossless: really decoded as PNG
    for i in range(3):
        _write(tmp_path / "trainA" / f"{i}.jpg")
    report = DecodeReport()
    _, b = load_domains(str(tmp_path), "train", image_size=24, report=report)
    assert b.size == 1 and not report


def test_a_file_name_that_is_not_utf8_trains(tmp_path):
    """Linux file names are bytes: one that is not UTF-8 must not stop tf.data."""
    import os

    folder = tmp_path / "photos"
    folder.mkdir()
    _write(folder / "plain.png")
    odd = os.path.join(os.fsencode(folder), b"caf\xe9.png")  # Latin-1 bytes
    Image.new("RGB", (40, 30), (10, 20, 30)).save(open(odd, "wb"), format="PNG")
    config = CycleGANConfig(crop_size=16, load_size=16, batch_size=1)
    report = DecodeReport()
    a, b = load_domains(f"{folder},{folder}", "train", report=report)
    images = [x.numpy() for x, _ in unpaired_batches(a, b, config)]
    assert len(images) == 2 and len(report) == 0


def _numbered_folder(root, count: int):
    """Images whose pixels all equal their number, so a batch says which files it holds."""
    root.mkdir()
    for i in range(count):
        Image.fromarray(np.full((8, 8, 3), i * 10, np.uint8)).save(root / f"{i:02d}.png")
    return str(root)


def test_shards_split_a_folder_into_disjoint_shares_decoded_by_their_worker(tmp_path):
    domain = folder_domain(_numbered_folder(tmp_path / "A", 5), "trainA")
    shares = [domain.shard(2, i) for i in range(2)]
    values = [sorted(int(image[0, 0, 0]) // 10 for image in s.dataset) for s in shares]
    assert values == [[0, 2, 4], [1, 3]]
    assert [s.size for s in shares] == [3, 2]
    # Sharding happens on the file names, before decoding: each worker decodes only its files.
    names = [os.path.basename(os.fsdecode(p.numpy())) for p in shares[1].items]
    assert names == ["01.png", "03.png"]


def test_a_worker_pipeline_reads_its_shard_in_per_replica_batches_without_end(tmp_path):
    a = folder_domain(_numbered_folder(tmp_path / "A", 8), "trainA")
    b = folder_domain(_numbered_folder(tmp_path / "B", 8), "trainB")
    config = CycleGANConfig(
        data="x", load_size=8, crop_size=8, batch_size=4, no_flip=True, pool_size=0
    )
    context = tf.distribute.InputContext(
        num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2
    )
    batches = unpaired_batches(a, b, config, input_context=context)
    seen = set()
    for real_a, _ in batches.take(12):  # 3 epochs' worth: the pipeline repeats
        assert real_a.shape == (2, 8, 8, 3)  # global batch 4 over 2 replicas
        seen |= {round((float(x[0, 0, 0]) + 1) * 127.5 / 10) for x in real_a}
    assert seen == {1, 3, 5, 7}  # worker 1 of 2 reads only its files
    with pytest.raises(ValueError, match="multiple of the 3 replicas"):
        odd = tf.distribute.InputContext(2, 0, 3)
        unpaired_batches(a, b, config, input_context=odd)
