"""A description of the machine a benchmark ran on, stored with every result."""

from __future__ import annotations

from cyclegan_tf.export.benchmark import machine_description


def describe_machine() -> dict:
    """The export benchmark's description, plus memory and the TensorFlow version."""
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    import tensorflow as tf

    return {
        **machine_description(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "tensorflow": tf.__version__,
    }


def markdown_machine(machine: dict) -> str:
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, TensorFlow {machine['tensorflow']}."
    )
