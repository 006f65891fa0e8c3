"""The web app's face framing timed in Chromium (LiteRT.js, wasm), for benchmarks/faces.py.

Builds the site (`mobile_demo/web`, npm packages installed), serves it with the shipped model,
uploads each photo and times N more framings (detection + aligned crop) of it in the page.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from web_demo import WEB, serving


def time_browser_framing(photos: list[Path], runs: int = 20, chromium: str = "/usr/bin/chromium"):
    """{photo name: {median_ms, p95_ms, min_ms, runs, found}} for each photo, in one browser."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        vite = WEB / "node_modules" / ".bin" / "vite"
        subprocess.run(
            [str(vite), "build", "--outDir", str(site), "--emptyOutDir", "--logLevel", "warn"],
            cwd=WEB,
            check=True,
        )
        with serving(site) as url:
            for photo in photos:
                out = Path(tmp) / photo.stem
                subprocess.run(
                    ["node", "tests/browser_test.mjs", "--url", url, "--out", str(out),
                     "--chromium", chromium, "--face-photo", str(photo),
                     "--framing-benchmark", str(runs)],
                    cwd=WEB, check=True, timeout=600, stdout=sys.stderr,
                )  # fmt: skip
                page = json.loads((out / "results.json").read_text())
                results[photo.name] = {
                    **page["framing_benchmark"],
                    "found": page["face"]["framing"]["found"],
                }
    return results
