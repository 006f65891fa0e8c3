"""Which compute precision a run uses: `auto` picks what this machine runs fastest.

Measured side by side (benchmarks/results/): on a CPU with native bf16 (AVX512-BF16 or AMX),
`mixed_bfloat16` trains ResNet generators 1.5-2.5x faster than float32; on a CPU without it,
bf16 is emulated and a step ran 17x slower (PyTorch, side by side). `auto` therefore means
mixed_bfloat16 on a native-bf16 CPU, mixed_float16 on a GPU of compute capability 7.0 or more,
float32 otherwise; an explicit mixed_bfloat16 on a CPU without native bf16 still trains, with a
warning.

Example:
    resolve_precision("auto")   # 'mixed_bfloat16' on an AMX Xeon, 'float32' on an AVX2 EPYC
"""

from __future__ import annotations

import functools
import logging

from cyclegan_tf.machine import has_native_bf16

logger = logging.getLogger(__name__)

BF16_EMULATED_SLOWDOWN = 17  # s/step ratio bf16 / float32 on an AVX2-only CPU (PyTorch, 2026)


@functools.cache
def gpu_compute_capability() -> tuple[int, int] | None:
    """The first GPU's compute capability, or None without a GPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return tuple(details.get("compute_capability", (0, 0)))


def resolve_precision(asked: str) -> str:
    """The precision a run uses for `asked` (`auto` resolves; the others stay as asked)."""
    if asked != "auto":
        if asked == "mixed_bfloat16":
            warn_if_emulated()
        return asked
    capability = gpu_compute_capability()
    if capability is not None:
        return "mixed_float16" if capability >= (7, 0) else "float32"
    return "mixed_bfloat16" if has_native_bf16() else "float32"


@functools.cache
def warn_if_emulated() -> None:
    """Once per process: bf16 asked for on a CPU that can only emulate it."""
    if gpu_compute_capability() is None and not has_native_bf16():
        logger.warning(
            "precision mixed_bfloat16 on a CPU without native bf16 (no avx512_bf16 or amx_bf16 "
            "flag): it is emulated, and a training step ran %dx slower than float32 on such a "
            "CPU; use --precision auto (float32 here) unless you mean it",
            BF16_EMULATED_SLOWDOWN,
        )
