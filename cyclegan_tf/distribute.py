"""Where training runs: one device, every local device, or several worker processes.

`none` is TensorFlow's default strategy; `mirrored` is `tf.distribute.MirroredStrategy` over this
machine's GPUs (or one CPU); `multiworker` is `tf.distribute.MultiWorkerMirroredStrategy`, with
the cluster read from `TF_CONFIG` as in TensorFlow's multi-worker Keras guide. Every worker runs the
same command; worker 0 (or the `chief` task) is the chief, the only one that writes the run folder.

`TF_CONFIG` is checked here before TensorFlow sees it, so a typo gets a sentence instead of a
C++ stack, and every worker is waited for (`peer_timeout` seconds) before TensorFlow's own start-up
wait, which cannot be interrupted: a worker that never comes is named instead of a hang.

Example (two machines, the same command on each, `index` 0 and 1):
    TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
                "task": {"type": "worker", "index": 0}}' \
        cyclegan-tf train --distribute multiworker --data /shared/selfie2anime --out /shared/run
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass

import tensorflow as tf

from cyclegan_tf.errors import UserError

TF_CONFIG = "TF_CONFIG"
TASK_TYPES = ("chief", "worker")
EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


class ClusterConfigError(UserError):
    """TF_CONFIG is missing or malformed, or a worker it names cannot be reached."""


@dataclass(frozen=True)
class Cluster:
    """The workers of a multi-worker run and which of them this process is."""

    addresses: dict[str, list[str]]  # task type -> "host:port" of each task
    task_type: str
    task_index: int

    @property
    def own_address(self) -> str:
        return self.addresses[self.task_type][self.task_index]

    @property
    def peers(self) -> list[tuple[str, int, str]]:
        """(task type, index, address) of every other task."""
        return [
            (kind, i, address)
            for kind, addresses in self.addresses.items()
            for i, address in enumerate(addresses)
            if (kind, i) != (self.task_type, self.task_index)
        ]

    @property
    def is_chief(self) -> bool:
        if "chief" in self.addresses:
            return self.task_type == "chief"
        return self.task_index == 0


def read_cluster(environ: dict[str, str] | None = None) -> Cluster:
    """The cluster in `TF_CONFIG`, checked; ClusterConfigError names what is wrong."""
    text = (os.environ if environ is None else environ).get(TF_CONFIG)
    if not text:
        raise ClusterConfigError(
            f"--distribute multiworker needs the {TF_CONFIG} environment variable on every "
            f"worker, e.g. {TF_CONFIG}='{EXAMPLE}' (index 0 on the first worker, 1 on the next)"
        )
    try:
        values = json.loads(text)
    except json.JSONDecodeError as e:
        raise ClusterConfigError(f"{TF_CONFIG} is not valid JSON ({e}): {text!r}") from None
    if not isinstance(values, dict):
        raise ClusterConfigError(f"{TF_CONFIG} must be a JSON object like {EXAMPLE}")
    cluster, task = values.get("cluster"), values.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise ClusterConfigError(
            f'{TF_CONFIG} has no "cluster" object listing the workers, e.g. {EXAMPLE}'
        )
    unknown = sorted(set(cluster) - set(TASK_TYPES))
    if unknown:
        raise ClusterConfigError(
            f"{TF_CONFIG} cluster has task type(s) {unknown}; multi-worker training uses only "
            f"{list(TASK_TYPES)} (parameter servers and evaluators are not supported)"
        )
    addresses: dict[str, list[str]] = {}
    for kind, entries in cluster.items():
        if not isinstance(entries, list) or not entries:
            raise ClusterConfigError(
                f'{TF_CONFIG} cluster "{kind}" must be a non-empty list of "host:port"'
            )
        for entry in entries:
            _check_address(kind, entry)
        addresses[kind] = list(entries)
    if len(addresses.get("chief", [])) > 1:
        raise ClusterConfigError(f'{TF_CONFIG} cluster may have one "chief", not several')
    if not isinstance(task, dict):
        raise ClusterConfigError(
            f'{TF_CONFIG} has no "task" object saying which worker this is, e.g. '
            '"task": {"type": "worker", "index": 0}'
        )
    kind, index = task.get("type"), task.get("index", 0)
    if kind not in addresses:
        raise ClusterConfigError(
            f"{TF_CONFIG} task type {kind!r} is not in its cluster ({sorted(addresses)})"
        )
    if not isinstance(index, int) or not 0 <= index < len(addresses[kind]):
        raise ClusterConfigError(
            f'{TF_CONFIG} task index {index!r} is out of range: cluster "{kind}" lists '
            f"{len(addresses[kind])} address(es), so the index is 0 to {len(addresses[kind]) - 1}"
        )
    return Cluster(addresses, kind, index)


def _check_address(kind: str, entry: object) -> None:
    host, _, port = str(entry).rpartition(":")
    if not isinstance(entry, str) or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterConfigError(
            f'{TF_CONFIG} cluster "{kind}" entry {entry!r} is not "host:port" (port 1-65535)'
        )


def unreachable_peers(cluster: Cluster, timeout: float = 2.0) -> list[str]:
    """The other tasks that do not accept a TCP connection now, as 'worker 1 (host:port)'."""
    missing = []
    for kind, index, address in cluster.peers:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                pass
        except OSError as e:
            missing.append(f"{kind} {index} ({address}: {e.strerror or e})")
    return missing


def wait_for_peers(cluster: Cluster, timeout: float, poll: float = 0.5) -> None:
    """Return once every other task accepts a TCP connection; ClusterConfigError after `timeout`.

    TensorFlow's own start-up wait cannot be interrupted (it holds the interpreter: no signal
    handler or watchdog thread runs), so this wait comes first. Meanwhile this task listens on
    its own port, so that the others see it too; the port is freed before TensorFlow takes it.
    """
    port = int(cluster.own_address.rpartition(":")[2])
    try:
        listener = socket.create_server(("", port), backlog=64)
    except OSError as e:
        raise ClusterConfigError(
            f"{cluster.task_type} {cluster.task_index} cannot listen on port {port} "
            f"({cluster.own_address} in {TF_CONFIG}): {e.strerror or e}; is another run using it?"
        ) from None
    listener.setblocking(False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            missing = unreachable_peers(cluster, timeout=poll)
            _drain(listener)
            if not missing:
                return
            if time.monotonic() > deadline:
                raise ClusterConfigError(
                    f"{cluster.task_type} {cluster.task_index} ({cluster.own_address}) waited "
                    f"{timeout:.0f} s for the other workers of {TF_CONFIG}; not reachable: "
                    f"{', '.join(missing)}. Start the same command on every worker (each with its "
                    "own task index), and check the addresses and that the ports are open "
                    "between the machines (--peer-timeout sets the wait)"
                )
            time.sleep(poll)
    finally:
        _drain(listener)
        listener.close()


def _drain(listener: socket.socket) -> None:
    """Accept and close the connections other workers made to check on this one."""
    while True:
        try:
            connection, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        connection.close()


def make_strategy(mode: str, peer_timeout: float = 120.0) -> tf.distribute.Strategy | None:
    """The strategy `--distribute mode` asks for; None for 'none' (TensorFlow's default).

    'multiworker' must be made before TensorFlow runs any op in this process (TensorFlow
    configures its collective ops once, at start-up). It first waits up to `peer_timeout` seconds
    for every worker of `TF_CONFIG` to be reachable, then for all of them to join.
    """
    if mode == "none":
        return None
    if mode == "mirrored":
        return tf.distribute.MirroredStrategy()
    if mode != "multiworker":
        raise ValueError(f"distribute must be one of none, mirrored, multiworker; got {mode!r}")
    wait_for_peers(read_cluster(), peer_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_multi_worker(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether `strategy` spans several worker processes."""
    extended = getattr(strategy, "extended", None)
    in_multi_worker = getattr(extended, "_in_multi_worker_mode", None)
    return bool(in_multi_worker and in_multi_worker())


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether this process writes the run folder: always, except on a non-chief worker."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    kind, index = resolver.task_type, resolver.task_id
    if kind == "chief" or kind is None:
        return True
    return kind == "worker" and index == 0 and "chief" not in resolver.cluster_spec().as_dict()


def worker_name(strategy: tf.distribute.Strategy | None) -> str:
    """'worker 1' (or 'chief 0'); 'local' outside multi-worker training."""
    if not is_multi_worker(strategy):
        return "local"
    resolver = strategy.cluster_resolver
    return f"{resolver.task_type} {resolver.task_id}"


def describe_strategy(strategy: tf.distribute.Strategy | None) -> str:
    """For the run's machine log: 'one device', '2 local replicas', '2 workers, 2 replicas'."""
    if strategy is None:
        return "one device"
    replicas = strategy.num_replicas_in_sync
    if is_multi_worker(strategy):
        workers = sum(len(v) for v in strategy.cluster_resolver.cluster_spec().as_dict().values())
        return f"{workers} workers, {replicas} replicas ({worker_name(strategy)} writes this)"
    return f"{replicas} local replica(s)"


class WorkerLostError(OSError):
    """Another worker died or became unreachable; every worker must restart with --resume."""


# What TensorFlow raises in the survivors when a worker of the cluster dies mid-step.
WORKER_LOST_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.CancelledError,
    tf.errors.AbortedError,
)


def local_tf_configs(count: int) -> list[str]:
    """`TF_CONFIG` values for `count` workers on this host, on free ports: one per worker.

    For trying multi-worker training on one machine (the tests and the scaling benchmark).
    """
    sockets = [socket.create_server(("localhost", 0)) for _ in range(count)]
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    return [
        json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        for index in range(count)
    ]
