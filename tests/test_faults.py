"""Faults reproduced for real: kill -9 mid-epoch and mid-checkpoint, a full disk, a read-only run
folder, a NaN. Each test runs `cyclegan-tf train` in a subprocess (a SIGKILL cannot be caught) on
the embedded data at tiny size: 4 steps per epoch, a checkpoint after every step.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.training import build_model
from cyclegan_tf.training_state import latest_state

TINY = [
    "--preset", "tiny", "--ngf", "4", "--ndf", "4", "--crop-size", "32", "--load-size", "36",
    "--synthetic-size", "8", "--batch-size", "2", "--n-epochs", "2", "--n-epochs-decay", "1",
    "--quiet", "--no-validation", "--eval-every", "0",
]  # fmt: skip
STEPS_PER_EPOCH = 4  # 8 images, batch 2
TIMEOUT = 240


def _train(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cyclegan_tf.cli", "train", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
    )


def _wait_until(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"training ended before {what}:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert process.returncode == -signal.SIGKILL


def _finish(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cyclegan_tf.cli", "train", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _state_values(run: Path, weights: Path) -> tuple[int, list[np.ndarray]]:
    """A fresh model with `weights` loaded: generator optimizer step and every variable."""
    model = build_model(CycleGANConfig.load_json(run / "config.json"))
    model.load_weights(weights)
    values = [v.numpy() for v in model.weights + model.gen_optimizer.variables]
    return int(model.gen_optimizer.iterations.numpy()), values


def _train_until_paused(run: Path, flag: Path, paused_at: str) -> None:
    """Train with a checkpoint every step; SIGKILL the process while it writes `paused_at`."""
    process = _train(
        *TINY,
        "--out",
        str(run),
        "--checkpoint-every",
        "1",
        env={"CYCLEGAN_TF_SAVE_PAUSE_AT": paused_at, "CYCLEGAN_TF_SAVE_PAUSE_FLAG": str(flag)},
    )
    _wait_until(flag.exists, process, f"the write of {paused_at}")
    _kill(process)


def test_kill_9_while_writing_a_step_checkpoint_resumes_from_the_previous_one(tmp_path):
    run = tmp_path / "run"
    paused_at = "state-e0001-s000003"  # the 3rd step of epoch 2
    _train_until_paused(run, tmp_path / "flag", paused_at)
    partial = list((run / "checkpoint").glob(f".{paused_at}.partial-*"))
    assert len(partial) == 1 and (partial[0] / "model.weights.h5").is_file()  # half done ...
    state = latest_state(run / "checkpoint")
    assert (state.epoch, state.step) == (1, 2)  # ... and never what a resume loads
    # The state is complete and holds the optimizer's step counter of that exact step.
    iterations, before = _state_values(run, state.weights)
    assert iterations == 1 * STEPS_PER_EPOCH + 2

    log = _finish("--resume", str(run), "--checkpoint-every", "1")
    assert f"resumed from {state.folder}" in log
    assert f"2 of its {STEPS_PER_EPOCH} steps left" in log
    final = latest_state(run / "checkpoint")
    assert (final.epoch, final.step) == (3, 0)
    # The steps done before the kill were not trained again: 3 epochs of steps in all.
    iterations, after = _state_values(run, final.weights)
    assert iterations == 3 * STEPS_PER_EPOCH
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert not list((run / "checkpoint").glob(".state-*"))  # no partial state left behind


def test_a_nan_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "run"
    # A learning rate of 1e30 is a real divergence: weights jump to ~1e30 after the first
    # step, activations overflow and the instance norms produce NaN.
    done = subprocess.run(
        [sys.executable, "-m", "cyclegan_tf.cli", "train", *TINY, "--out", str(run),
         "--checkpoint-every", "1", "--lr", "1e30"],
        capture_output=True, text=True, timeout=TIMEOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stopped:" in done.stderr and "training step" in done.stderr
    assert "nan" in done.stderr.lower()
    assert f"--resume {run}" in done.stderr
    state = latest_state(run / "checkpoint")
    if state is not None:  # whatever was saved before the NaN holds finite weights only
        _, values = _state_values(run, state.weights)
        assert all(np.isfinite(v).all() for v in values if v.dtype.kind == "f")


def _unshare_available() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


needs_mount_namespace = pytest.mark.skipif(
    not _unshare_available(), reason="needs root and unshare -m to mount a private tmpfs"
)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """One epoch trained once for the disk tests, which copy it and never change it."""
    run = tmp_path_factory.mktemp("trained") / "run"
    _finish(*TINY, "--out", str(run), "--epochs", "1", "--sample-every", "5")
    return run


def _in_tmpfs(
    tmp_path: Path, run: Path, size_kb: int, then: str, read_only: bool
) -> tuple[str, int, Path]:
    """Copy `run` into a private tmpfs of `size_kb`, resume it there, copy the result back."""
    mount, result = tmp_path / "mnt", tmp_path / "after"
    mount.mkdir()
    remount = f"mount -o remount,ro {mount}" if read_only else "true"
    script = f"""
        set -e
        mount -t tmpfs -o size={size_kb}k tmpfs {mount}
        cp -a {run} {mount}/run
        {remount}
        set +e
        {sys.executable} -m cyclegan_tf.cli train --resume {mount}/run {then} > {tmp_path}/log 2>&1
        echo $? > {tmp_path}/rc
        cp -a {mount}/run {result}
    """
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=TIMEOUT)
    return (tmp_path / "log").read_text(), int((tmp_path / "rc").read_text()), result


@needs_mount_namespace
def test_a_full_disk_names_the_path_and_keeps_the_previous_checkpoint(tmp_path, trained_run):
    run = trained_run
    used_kb = int(
        subprocess.run(["du", "-sk", run], capture_output=True, text=True).stdout.split()[0]
    )
    weights_kb = latest_state(run / "checkpoint").weights.stat().st_size // 1024
    # Room for the run and its small files, not for another state.
    log, rc, after = _in_tmpfs(
        tmp_path, run, used_kb + weights_kb // 2, "--quiet --sample-every 5", read_only=False
    )
    assert rc == 1, log
    assert "No space left on device" in log and "/run" in log
    assert "is intact" in log or "is kept" in log
    state = latest_state(after / "checkpoint")
    assert (state.epoch, state.step) == (1, 0)
    _state_values(after, state.weights)  # still loads
    assert not list((after / "checkpoint").glob(".state-*"))  # the partial write was removed


@needs_mount_namespace
def test_a_read_only_run_folder_is_a_clear_error(tmp_path, trained_run):
    run = trained_run
    log, rc, after = _in_tmpfs(tmp_path, run, 8192, "--quiet", read_only=True)
    assert rc == 1, log
    assert "Read-only file system" in log and "/run" in log
    assert "Traceback" not in log
    state = latest_state(after / "checkpoint")
    assert (state.epoch, state.step) == (1, 0)
