import contextlib
import csv
import json

import numpy as np
import pytest
from PIL import Image

from cyclegan_tf.cli import main
from cyclegan_tf.training_state import checkpoint_epoch

TINY = [
    "--preset",
    "tiny",
    "--ngf",
    "4",
    "--ndf",
    "4",
    "--crop-size",
    "32",
    "--load-size",
    "36",
    "--synthetic-size",
    "8",
    "--batch-size",
    "2",
    "--n-epochs",
    "1",
    "--n-epochs-decay",
    "1",
    "--quiet",
]


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_train_checkpoint_resume_translate_and_info_end_to_end(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(run), "--epochs", "1"]) == 0
    assert checkpoint_epoch(run / "checkpoint") == 1
    for name in (
        "config.json",
        "losses.csv",
        "losses.png",
        "samples/epoch_001.png",
        "generator_ab.keras",
        "generator_ab.json",
        "generator_ba.keras",
    ):
        assert (run / name).is_file(), name
    assert json.loads((run / "config.json").read_text())["ngf"] == 4

    # Starting again into the same folder without --resume would overwrite it: refused.
    assert main(["train", *TINY, "--out", str(run)]) == 2
    assert "already holds a run" in capsys.readouterr().err

    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert checkpoint_epoch(run / "checkpoint") == 2
    assert [r["epoch"] for r in _rows(run / "losses.csv")] == ["0", "1"]
    assert (run / "samples/epoch_002.png").is_file()

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), np.uint8)).save(
        photos / "selfie.jpg"
    )
    out = tmp_path / "translated"
    assert main(["translate", str(run), str(photos), "--out", str(out), "--side-by-side"]) == 0
    assert Image.open(out / "selfie.png").size == (70, 50)  # the input's own size
    assert Image.open(out / "selfie_compare.png").size == (140, 50)
    assert (
        main(
            [
                "translate",
                str(run / "generator_ba.keras"),
                str(photos / "selfie.jpg"),
                "--out",
                str(out / "ba"),
            ]
        )
        == 0
    )
    assert (out / "ba" / "selfie.png").is_file()

    capsys.readouterr()
    assert main(["info", str(run)]) == 0
    text = capsys.readouterr().out
    assert "epochs completed: 2 of 2" in text and "ngf = 4" in text and "parameters:" in text


def test_resume_refuses_to_change_the_architecture(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"ngf": 4, "ndf": 4}))
    assert main(["train", "--resume", str(run), "--ngf", "8"]) == 2
    assert "cannot change ['ngf']" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--generator", "resnet_99"], "invalid choice: 'resnet_99'"),
        (["train", "--ngf", "-3"], "ngf must be a positive integer, got -3"),
        (["train", "--crop-size", "300"], "crop_size (300) must not be larger than load_size"),
        (["train", "--data", "/no/such/folder"], "'/no/such/folder' is not a folder"),
        (["train", "--epochs", "0"], "expected a positive integer, got 0"),
        (["translate", "/no/model", "x.png", "--out", "o"], "/no/model is neither"),
        (["info", "/no/run"], "/no/run is neither a run folder"),
    ],
)
def test_bad_options_fail_at_once_naming_the_option(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argparse_rejects = "invalid choice" in message or "expected" in message
    with pytest.raises(SystemExit) if argparse_rejects else contextlib.nullcontext():
        assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # a failed start leaves no half-made run folder


def test_loss_log_keeps_columns_aligned_when_a_resumed_run_logs_other_keys(tmp_path):
    """A run resumed with --no-validation (or metrics switched on) logs other keys."""
    from cyclegan_tf.callbacks import LossLog
    from cyclegan_tf.plots import read_csv_log

    path = tmp_path / "losses.csv"
    LossLog(path).on_epoch_end(0, {"G": 1.0, "val_G": 2.0})
    LossLog(path).on_epoch_end(1, {"G": 0.5, "psnr_ab": 14.0})  # no val_G, a new column
    LossLog(path).on_epoch_end(1, {"G": 0.4, "psnr_ab": 15.0})  # epoch 1 redone after a crash
    rows = _rows(path)
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert rows[0] == {"epoch": "0", "G": "1.0", "val_G": "2.0", "psnr_ab": "NA"}
    assert rows[1] == {"epoch": "1", "G": "0.4", "val_G": "NA", "psnr_ab": "15.0"}
    assert not (tmp_path / "losses.csv.tmp").exists()
    log = read_csv_log(path)
    assert log["G"] == [1.0, 0.4] and np.isnan(log["val_G"][1])


def test_loss_curves_read_a_log_whose_rows_overflow_its_header(tmp_path):
    """Keras' CSVLogger appended rows longer than the header on resume: still plotted."""
    from cyclegan_tf.plots import save_loss_curves

    path = tmp_path / "losses.csv"
    path.write_text("epoch,G,val_G\n0,1.0,2.0\n1,0.5,NA,NA\n")
    save_loss_curves(path, tmp_path / "losses.png")
    assert (tmp_path / "losses.png").stat().st_size > 0


def test_translate_skips_bad_files_names_them_and_overwrites_nothing(tmp_path, capsys):
    """A folder as users have them: a truncated JPEG in the middle, a.jpg beside a.png, a GIF."""
    run = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(run), "--epochs", "1"]) == 0
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.jpg", "a.png", "c.gif", "z.jpg"):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), np.uint8)).save(photos / name)
    good = (photos / "z.jpg").read_bytes()
    (photos / "b_truncated.jpg").write_bytes(good[: len(good) // 2])
    capsys.readouterr()
    assert (
        main(["translate", str(run), str(photos), "--out", str(tmp_path / "out")]) == 3
    )  # finished, some skipped
    printed = capsys.readouterr().out
    assert "wrote 4 translation(s)" in printed
    assert "skipped 1 unreadable image(s)" in printed and "b_truncated.jpg" in printed
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["a_jpg.png", "a_png.png", "c.png", "z.png"]  # z after the bad file too


def test_output_names_never_collide():
    from cyclegan_tf.data.images import output_names

    names = output_names(["a/x.jpg", "b/x.jpg", "a/y.jpg", "a/y.png", "b/z.png"])
    assert [str(n) for n in names.values()] == [
        "x_jpg.png", "x_jpg_2.png", "y_jpg.png", "y_png.png", "z.png"
    ]  # fmt: skip
    nested = output_names(["r/a.jpg", "r/s/a.jpg", "r/a.png"], "r")
    assert [str(n) for n in nested.values()] == ["a_jpg.png", "s/a.png", "a_png.png"]


def test_help_says_each_default_once_switches_read_naturally_and_exit_codes_are_listed():
    from cyclegan_tf.cli import build_parser

    parser = build_parser()
    assert "exit status: 0 all done; 1 stopped part-way" in " ".join(parser.format_help().split())
    train = parser._subparsers._group_actions[0].choices["train"]
    text = " ".join(train.format_help().split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert text.count("(default: runs/PRESET)") == 1
    assert "--no-no-flip" not in text and "[--no-flip]" in text
    from cyclegan_tf.cli import config_overrides

    assert config_overrides(parser.parse_args(["train", "--no-flip"]))["no_flip"] is True
    assert "no_flip" not in config_overrides(parser.parse_args(["train"]))  # the preset's value


def test_train_with_unusable_inception_weights_is_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not weights")
    status = main(["train", *TINY, "--out", str(tmp_path / "run"), "--inception-weights", str(bad)])
    err = capsys.readouterr().err
    assert status == 2 and "bad.h5" in err, err
    assert not (tmp_path / "run").exists()  # nothing was started


def _documented_commands():
    """Each `cyclegan-tf COMMAND ...` command line in README.md and docs/ (continuations joined)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            for part in line.split("cyclegan-tf ")[1:]:
                words = part.replace("`", " ").split()
                if words and words[0].isidentifier():
                    yield doc.name, words[0], [w.split("=")[0] for w in words if w.startswith("--")]


def test_every_flag_the_docs_and_messages_mention_exists():
    import re
    from pathlib import Path

    from cyclegan_tf.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    options = {name: set(p._option_string_actions) for name, p in commands.items()}
    checked = 0
    for doc, command, flags in _documented_commands():
        if command not in commands:
            continue  # prose such as "cyclegan-tf is ..."
        for flag in flags:
            assert flag in options[command], f"{doc}: cyclegan-tf {command} has no {flag}"
            checked += 1
    assert checked > 30
    every = set(parser._option_string_actions).union(*options.values())
    package = Path(__file__).resolve().parent.parent / "cyclegan_tf"
    for path in package.rglob("*.py"):
        for line in path.read_text().splitlines():
            if "benchmarks/" in line:
                continue  # a benchmark script's own options
            for flag in re.findall(r"[\"'(\s](--[a-z][a-z0-9-]+)", line):
                assert flag in every, f"{path.name} mentions {flag}, which no command has"
