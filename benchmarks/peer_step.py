"""Runs the PyTorch reference step (`torch_cyclegan_reference.py`) in this process and adds its
memory to the JSON line it prints: peak RSS minus the RSS after importing PyTorch, measured the
way `train_throughput.py` measures ours. The reference file itself is left as it is.

    python benchmarks/peer_step.py PATH/torch_cyclegan_reference.py --size 96 ... --threads 2
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import runpy
import sys

import torch  # noqa: F401 - imported first, so its memory is not counted


def rss_mib() -> float:
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    after_import = rss_mib()
    reference, *options = sys.argv[1:]
    sys.argv = [reference, *options]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        runpy.run_path(reference, run_name="__main__")
    result = json.loads(printed.getvalue().strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_mib_over_import"] = peak - after_import
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
