"""Multi-worker training with real worker processes on localhost (MultiWorkerMirroredStrategy,
the cluster in TF_CONFIG): the step equals a single process's, a killed worker's run resumes, and
a bad or incomplete cluster fails with a sentence instead of hanging.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cyclegan_tf.distribute import ClusterConfigError, local_tf_configs, read_cluster
from cyclegan_tf.training_state import latest_state

STEP_SCRIPT = Path(__file__).with_name("multiworker_step.py")
TIMEOUT = 300
TINY = [
    "--preset", "tiny", "--distribute", "multiworker", "--ngf", "4", "--ndf", "4",
    "--crop-size", "32", "--load-size", "36", "--synthetic-size", "8", "--batch-size", "2",
    "--n-epochs", "2", "--n-epochs-decay", "1", "--quiet", "--eval-every", "0",
    "--checkpoint-every", "2",
]  # fmt: skip


def _env(tf_config: str | None = None) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = tf_config
    return env


def _start_workers(command: list[str], count: int = 2) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(config)
        )
        for config in local_tf_configs(count)
    ]


def _finish(workers: list[subprocess.Popen]) -> list[str]:
    """Wait for every worker; fail with their output if one fails or hangs."""
    outputs = []
    try:
        for worker in workers:
            output, _ = worker.communicate(timeout=TIMEOUT)
            outputs.append(output)
    finally:
        for worker in workers:
            worker.kill()
    for worker in workers:
        assert worker.returncode == 0, "\n\n".join(outputs)
    return outputs


def _train_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cyclegan_tf.cli", "train", *args]


# -- TF_CONFIG ----------------------------------------------------------------------------------
GOOD = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}


@pytest.mark.parametrize(
    "tf_config, message",
    [
        (None, "needs the TF_CONFIG environment variable"),
        ("{not json", "TF_CONFIG is not valid JSON"),
        ('["worker"]', "must be a JSON object"),
        (json.dumps({"task": GOOD["task"]}), 'no "cluster" object'),
        (json.dumps({**GOOD, "cluster": {"ps": ["a:1"]}}), "parameter servers"),
        (json.dumps({**GOOD, "cluster": {"worker": ["a"]}}), "'a' is not \"host:port\""),
        (json.dumps({**GOOD, "cluster": {"worker": ["a:99999"]}}), "port 1-65535"),
        (json.dumps({"cluster": GOOD["cluster"]}), 'no "task" object'),
        (json.dumps({**GOOD, "task": {"type": "chief", "index": 0}}), "'chief' is not in"),
        (json.dumps({**GOOD, "task": {"type": "worker", "index": 2}}), "index 2 is out of range"),
    ],
)
def test_a_malformed_tf_config_is_named(tf_config, message):
    environ = {} if tf_config is None else {"TF_CONFIG": tf_config}
    with pytest.raises(ClusterConfigError, match="TF_CONFIG") as raised:
        read_cluster(environ)
    assert message in str(raised.value)


def test_the_chief_is_worker_0_unless_a_chief_is_named():
    cluster = read_cluster({"TF_CONFIG": json.dumps(GOOD)})
    assert (cluster.own_address, cluster.is_chief) == ("b:2", False)
    assert [p[2] for p in cluster.peers] == ["a:1"]
    first = {**GOOD, "task": {"type": "worker", "index": 0}}
    assert read_cluster({"TF_CONFIG": json.dumps(first)}).is_chief
    with_chief = {**first, "cluster": {**GOOD["cluster"], "chief": ["c:3"]}}
    assert not read_cluster({"TF_CONFIG": json.dumps(with_chief)}).is_chief


def test_a_malformed_tf_config_stops_the_cli_with_status_2(tmp_path):
    done = subprocess.run(
        _train_cli(*TINY, "--out", str(tmp_path / "run")),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env("{not json"),
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "TF_CONFIG is not valid JSON" in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_worker_that_never_comes_is_named_within_the_timeout(tmp_path):
    tf_config = local_tf_configs(2)[0]  # nothing will listen on worker 1's port
    peer = json.loads(tf_config)["cluster"]["worker"][1]
    started = time.monotonic()
    done = subprocess.run(
        _train_cli(*TINY, "--out", str(tmp_path / "run"), "--peer-timeout", "3"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(tf_config),
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"not reachable: worker 1 ({peer}" in done.stderr
    assert time.monotonic() - started < 120  # 3 s of waiting plus start-up, not a hang
    assert not (tmp_path / "run").exists()


# -- training -----------------------------------------------------------------------------------
def _image_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for split, count in (("train", 2), ("test", 3)):
        for domain in "AB":
            folder = root / f"{split}{domain}"
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def _weights(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    saved = np.load(path)
    count = int(saved["count"])
    values = [saved[f"arr_{i}"] for i in range(2 * count)]
    return values[:count], values[count:]


def test_two_workers_take_the_same_step_as_one_process(tmp_path):
    """Two workers with one image each must take the step one process takes with both.

    Plain SGD: a wrong reduction across workers (a mean where a sum belongs, say) would move
    the weights by a sizeable part of the update. Every loss term is a sum of per-image terms
    (instance norm, per-image pool), so which worker holds which image does not matter; one step
    only, as in the in-process MirroredStrategy test (summation order grows over steps).
    """
    data = _image_folder(tmp_path / "data")
    command = [sys.executable, str(STEP_SCRIPT)]
    workers = _start_workers([*command, str(tmp_path / "workers.npz"), str(data)])
    _finish(workers)
    single = subprocess.run(
        [*command, str(tmp_path / "single.npz"), str(data)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(),
    )
    assert single.returncode == 0, single.stdout + single.stderr
    start, stepped = _weights(tmp_path / "single.npz")
    worker_start, worker_stepped = _weights(tmp_path / "workers.npz")
    for a, b in zip(start, worker_start, strict=True):
        np.testing.assert_array_equal(a, b)  # same seed, same initial weights
    largest_update = max(float(np.abs(a - b).max()) for a, b in zip(stepped, start, strict=True))
    assert largest_update > 1e-3
    worst = max(float(np.abs(a - b).max()) for a, b in zip(stepped, worker_stepped, strict=True))
    assert worst < 0.01 * largest_update, (worst, largest_update)


def test_a_killed_worker_stops_the_run_and_a_restart_resumes_it(tmp_path):
    run = tmp_path / "run"
    workers = _start_workers(_train_cli(*TINY, "--out", str(run)))
    try:
        deadline = time.monotonic() + TIMEOUT
        while (state := latest_state(run / "checkpoint")) is None or state.epoch < 1:
            assert all(w.poll() is None for w in workers), workers[0].stdout.read()
            assert time.monotonic() < deadline, "no checkpoint of epoch 1"
            time.sleep(0.05)
        workers[1].send_signal(signal.SIGKILL)  # in epoch 2 of 3
        chief_output, _ = workers[0].communicate(timeout=TIMEOUT)
    finally:
        for worker in workers:
            worker.kill()
    # The chief notices, says what to do, and exits 1 (stopped part-way, checkpoint kept).
    assert workers[0].returncode == 1, chief_output
    assert "lost contact with another worker" in chief_output
    assert f"--resume {run}" in chief_output
    stopped_at = latest_state(run / "checkpoint")
    assert stopped_at.epoch < 3

    outputs = _finish(_start_workers(_train_cli("--resume", str(run))))
    state = latest_state(run / "checkpoint")
    assert (state.epoch, state.step) == (3, 0), outputs[0]
    epochs = [line.split(",")[0] for line in (run / "losses.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]  # each epoch logged once, by the chief
    assert "resume" in (run / "machine.log").read_text()
    assert "2 workers, 2 replicas" in (run / "machine.log").read_text()
    # Nothing partial, nothing from the other worker (it wrote into a folder of its own).
    assert not list(run.rglob(".*partial*"))
    assert sorted(p.name for p in (run / "checkpoint").iterdir() if p.is_dir()) == [
        "state-e0002-s000000",
        "state-e0003-s000000",
    ]
    assert (run / "generator_ab.keras").is_file()


def test_distribute_mirrored_runs_the_whole_training_path_in_process(tiny_config, tmp_path):
    """`--distribute mirrored` through `train_run`: here over the two logical CPUs that conftest
    makes (on a GPU machine, over its GPUs: the same code); tests/test_model.py checks that such
    a step equals one device's."""
    from cyclegan_tf.training import train_run

    config = tiny_config.replace(distribute="mirrored", n_epochs=1, n_epochs_decay=0)
    history = train_run(config, tmp_path / "run", validate=False, eval_every=0, verbose=0)
    assert len(history.history["G"]) == 1
    assert "2 local replica(s)" in (tmp_path / "run" / "machine.log").read_text()
    assert latest_state(tmp_path / "run" / "checkpoint").epoch == 1
