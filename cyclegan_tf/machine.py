"""What CPU a run is on, so training logs and benchmarks say where their numbers come from.

A run resumed on another kind of CPU (say, AVX2-only after a run on AMX) trains at another speed
and, in bf16, with other arithmetic: `record_machine` writes that into the run folder's
`machine.log` so its cost and results are never read as one machine's.
"""

from __future__ import annotations

import datetime
import logging
import os
import platform

from cyclegan_tf.run_folder import RunFolder

logger = logging.getLogger(__name__)

# CPU flags that change how fast (or whether) a precision trains.
NOTABLE_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8", "fma")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> list[str]:
    """The notable flags of this CPU (empty where /proc/cpuinfo is not readable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    present = set(line.split(":", 1)[1].split())
                    return [flag for flag in NOTABLE_FLAGS if flag in present]
    except OSError:
        pass
    return []


def has_native_bf16() -> bool:
    """True where bf16 matrix maths runs in hardware (AVX512-BF16 or AMX)."""
    flags = cpu_flags()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_signature() -> str:
    """One line naming the CPU, its core count and notable flags."""
    flags = " ".join(cpu_flags()) or "no notable flags"
    return f"{cpu_model()}, {os.cpu_count()} cores, flags: {flags}"


def record_machine(
    run_dir: str | os.PathLike, resumed: bool, precision: str | None = None
) -> str | None:
    """Append this machine (and the precision the run resolved to, e.g. 'auto -> float32') to
    the run's log; return a warning when a resume changed CPU kind."""
    path = RunFolder(run_dir).machine_log
    signature = cpu_signature()
    previous = None
    if path.exists():
        lines = [
            line
            for line in path.read_text().splitlines()
            if line.split("\t")[1:2] in (["start"], ["resume"])
        ]
        previous = lines[-1].split("\t", 2)[-1] if lines else None
    warning = None
    if resumed and previous is not None and previous != signature:
        warning = (
            f"resumed on another kind of CPU: this run was on '{previous}', now on '{signature}'; "
            "its step times and bf16 arithmetic differ between the two"
        )
        logger.warning(warning)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    event = "resume" if resumed else "start"
    with open(path, "a") as f:
        f.write(f"{stamp}\t{event}\t{signature}\n")
        if precision:
            f.write(f"{stamp}\tprecision\t{precision}\n")
        if warning:
            f.write(f"{stamp}\twarning\t{warning}\n")
    return warning
