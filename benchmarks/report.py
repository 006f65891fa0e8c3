"""Writing a benchmark's results: `NAME.json` (everything) and `NAME.md` (the table)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def write_report(report: dict, out: str | Path, to_markdown: Callable[[dict], str]) -> Path:
    """Write `out`.json and `out`.md (numpy scalars become floats); returns the .md path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    markdown = to_markdown(report)
    out.with_suffix(".md").write_text(markdown)
    print(markdown)
    return out.with_suffix(".md")
