"""Pictures people would rather look at than read: sample grids and loss curves (PNG)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure  # no pyplot: files only, and a notebook's backend is kept


def save_image_grid(
    rows: Sequence[Sequence[np.ndarray]],
    column_titles: Sequence[str],
    path: str | os.PathLike,
    row_titles: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Save a grid of uint8 RGB images (rows x columns) with titles as a PNG."""
    n_rows, n_cols = len(rows), len(column_titles)
    fig = Figure(figsize=(2.2 * n_cols, 2.2 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            ax = axes[r][c]
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_titles[c], fontsize=9)
            if c == 0 and row_titles:
                ax.set_ylabel(row_titles[r], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96) if title else None)
    fig.savefig(path, dpi=100)


def read_csv_log(path: str | os.PathLike) -> dict[str, list[float]]:
    """Columns of a loss log as float lists (the 'epoch' column included; "NA" is NaN).

    Values beyond the header (an old Keras `CSVLogger` appending other keys) are ignored.
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key is None:
                continue
            try:
                columns.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                columns.setdefault(key, []).append(float("nan"))
    return columns


METRIC_PREFIXES = ("psnr_", "ssim_", "kid_")


def save_loss_curves(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Plot every logged loss per epoch (training solid, validation dashed) as a PNG.

    Translation metrics (psnr_*, ssim_*, kid_*) logged by `TranslationMetrics` get their own
    panels beside the losses; epochs without a measurement are skipped in those lines.
    """
    columns = read_csv_log(csv_path)
    epochs = np.asarray(columns.pop("epoch", []), int) + 1
    names = [k for k in columns if not k.startswith("val_") and k != "lr"]
    metrics = [n for n in names if n.startswith(METRIC_PREFIXES)]
    losses = [n for n in names if n not in metrics]
    panels = [
        ("adversarial losses", [n for n in losses if n in ("G", "F", "D_A", "D_B")]),
        ("reconstruction losses", [n for n in losses if n not in ("G", "F", "D_A", "D_B")]),
    ]
    for prefix, title in (
        ("psnr_", "PSNR vs truth (dB)"),
        ("ssim_", "SSIM vs truth"),
        ("kid_", "KID x100"),
    ):
        keys = [n for n in metrics if n.startswith(prefix)]
        if keys:
            panels.append((title, keys))
    fig = Figure(figsize=(5 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (title, keys) in zip(axes[0], panels, strict=True):
        for key in keys:
            values = np.asarray(columns[key], float)
            shown = np.isfinite(values)
            (line,) = ax.plot(epochs[shown], values[shown], marker="o", markersize=3, label=key)
            if f"val_{key}" in columns:
                ax.plot(
                    epochs,
                    columns[f"val_{key}"],
                    linestyle="--",
                    color=line.get_color(),
                    label=f"val {key}",
                )
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if keys:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)


def save_latency_chart(results: list[dict], path: str | os.PathLike) -> None:
    """Horizontal bars: median latency per model, one bar per thread count (log scale)."""
    models = list(dict.fromkeys(r["model"] for r in results))
    threads = sorted({r["threads"] for r in results})
    fig = Figure(figsize=(8, 0.6 + 0.5 * len(models) * len(threads)))
    ax = fig.subplots()
    height = 0.8 / len(threads)
    for i, t in enumerate(threads):
        values = [
            next((r["median_ms"] for r in results if r["model"] == m and r["threads"] == t), 0.0)
            for m in models
        ]
        positions = np.arange(len(models)) + i * height
        bars = ax.barh(positions, values, height=height, label=f"{t} thread{'s' * (t > 1)}")
        ax.bar_label(bars, labels=[f"{v:.0f} ms" for v in values], fontsize=7, padding=2)
    ax.set_yticks(np.arange(len(models)) + height * (len(threads) - 1) / 2, models, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("median latency (ms, log scale)")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
