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

    from cyclegan_tf.machine import cpu_flags

    return {
        **machine_description(),
        "cpu_flags": cpu_flags(),  # avx2 / avx512f / avx512_bf16 / amx_bf16 decide the results
        "memory_gib": round(mem_kb / 2**20, 1),
        "tensorflow": tf.__version__,
    }


def markdown_machine(machine: dict) -> str:
    flags = machine.get("cpu_flags")
    flags = f", CPU flags: {' '.join(flags) or 'none of note'}" if flags is not None else ""
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores{flags}, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, TensorFlow {machine['tensorflow']}."
    )
