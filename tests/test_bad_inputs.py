"""The bad-input corpus (tests/bad_inputs.py) through every command that reads images: each file
is used or named as skipped, every other file is processed, nothing overwrites anything, and the
exit status is 3 ("finished, but skipped some inputs")."""

from __future__ import annotations

import numpy as np
from bad_inputs import REPORTED, USED, write_corpus
from PIL import Image

from cyclegan_tf.cli import EXIT_SKIPPED, main

TINY = [
    "--preset", "tiny", "--ngf", "4", "--ndf", "4", "--crop-size", "32", "--load-size", "36",
    "--batch-size", "2", "--n-epochs", "1", "--n-epochs-decay", "0", "--quiet",
    "--no-validation", "--eval-every", "0",
]  # fmt: skip


def _good_images(folder, count, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (36, 40, 3), np.uint8)).save(folder / f"g{i:03d}.png")


def _skipped_lines(printed: str) -> set[str]:
    """The paths listed under "skipped N unreadable image(s):"."""
    lines = printed.split("unreadable image(s):", 1)[1].splitlines()
    return {line.strip().split(": ", 1)[0] for line in lines if line.startswith("  ")}


def _check_report(printed: str, corpus, expected: dict[str, str]) -> None:
    skipped = _skipped_lines(printed)
    reported = {str(corpus / n) for n, outcome in expected.items() if outcome == REPORTED}
    assert skipped == reported, printed


def test_the_bad_input_corpus_through_train_translate_evaluate_and_export(tmp_path, capsys):
    data = tmp_path / "data"
    expected = write_corpus(data / "trainA")
    used = sorted(n for n, outcome in expected.items() if outcome == USED)
    _good_images(data / "trainB", 16)
    _good_images(data / "testA", 4, seed=1)
    _good_images(data / "testB", 4, seed=1)

    # train: the corpus is domain A's training set.
    run = tmp_path / "run"
    capsys.readouterr()
    assert main(["train", *TINY, "--data", str(data), "--out", str(run)]) == EXIT_SKIPPED
    printed = capsys.readouterr().out
    _check_report(printed, data / "trainA", expected)
    assert (run / "generator_ab.keras").is_file()

    # translate: one output per usable file, none overwritten (same.jpg / same.png).
    out = tmp_path / "translated"
    assert main(["translate", str(run), str(data / "trainA"), "--out", str(out)]) == EXIT_SKIPPED
    printed = capsys.readouterr().out
    _check_report(printed, data / "trainA", expected)
    written = sorted(p for p in out.rglob("*.png"))
    assert len(written) == len(used) == 11
    assert {p.name for p in written} >= {"same_jpg.png", "same_png.png", "inside.png"}
    for path in written:
        assert Image.open(path).mode == "RGB"

    # evaluate: the corpus is the test split of domain A.
    test_data, evaluation = tmp_path / "test_data", tmp_path / "evaluation"
    write_corpus(test_data / "testA")
    _good_images(test_data / "testB", 4, seed=1)
    status = main(
        ["evaluate", str(run), "--data", str(test_data), "--out", str(evaluation), "--no-features"]
    )
    printed = capsys.readouterr().out
    assert status == EXIT_SKIPPED, printed
    _check_report(printed, test_data / "testA", expected)
    assert (evaluation / "evaluation.json").is_file()

    # export --calibration: the corpus beside 100 good photos.
    _good_images(data / "trainA" / "more", 100, seed=2)
    status = main(
        ["export", str(run), "--out", str(tmp_path / "export"), "--quantize", "int8",
         "--io", "uint8", "--size", "32", "--calibration", str(data / "trainA"),
         "--no-saved-model"]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert status == EXIT_SKIPPED, printed
    _check_report(printed, data / "trainA", expected)
    assert (tmp_path / "export" / "generator_ab_int8.tflite").is_file()

    # Each command reports what it skipped, and only that: no report outlives its command.
    good = tmp_path / "good_out"
    assert main(["translate", str(run), str(data / "trainB"), "--out", str(good)]) == 0
    assert "skipped" not in capsys.readouterr().out


def test_the_decompression_bomb_is_refused_from_its_header(tmp_path):
    """400 megapixels: refused before a pixel is decoded (Pillow's limit), named with the reason."""
    from cyclegan_tf.data.images import DecodeReport, list_images

    expected = write_corpus(tmp_path)
    report = DecodeReport()
    readable = list_images(tmp_path, report=report)
    bomb = str(tmp_path / "bomb_20000x20000.png")
    assert bomb not in readable
    assert "decompression bomb" in report.skipped[bomb].lower()
    assert "HEIC" in report.skipped[str(tmp_path / "iphone.heic")]
    assert str(tmp_path / "notes.txt") not in report.skipped  # not an image: not looked at
    assert len(readable) == sum(outcome == USED for outcome in expected.values()) + 1  # truncated
