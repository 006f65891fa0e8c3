"""Serving the built web demo on a free localhost port, for the browser benchmarks."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "mobile_demo" / "web"


@contextlib.contextmanager
def serving(site: Path | None = None, model: Path | None = None):
    """`npm run serve` (site: the build's dist/ by default; model: the build's by default);
    yields the URL and stops the server afterwards."""
    command = ["node", "scripts/serve.mjs", "--port", "0"]
    command += ["--root", str(site)] if site is not None else []
    command += ["--model", str(model)] if model is not None else []
    server = subprocess.Popen(command, cwd=WEB, stdout=subprocess.PIPE, text=True)
    try:
        yield server.stdout.readline().split(" at ")[-1].strip()
    finally:
        server.terminate()
        server.wait(10)
