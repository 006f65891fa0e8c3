"""Finding and decoding image files so that one bad file never stops a run.

Images are decoded with Pillow, which reads JPEG, PNG, BMP, WebP, GIF (the first frame) and TIFF,
applies the EXIF orientation, and lets us turn grayscale, palette, 16-bit and RGBA images into
plain 8-bit RGB (alpha composited on white). A file that cannot be decoded is logged by name and
skipped; `strict=True` raises.

Example:
    paths = list_images("data/selfie2anime/trainA")
    image = load_rgb(paths[0])  # uint8 (H, W, 3)
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from cyclegan_tf.errors import UserError

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")
# Photo formats people will drop into a folder that Pillow does not read without plug-ins:
# reported by name instead of silently ignored.
UNSUPPORTED_EXTENSIONS = {
    ".heic": "HEIC (iPhone photos) is not supported: convert it to JPEG or PNG",
    ".heif": "HEIF is not supported: convert it to JPEG or PNG",
    ".avif": "AVIF is not supported: convert it to JPEG or PNG",
}


class ImageDecodeError(UserError, ValueError):
    """An image file that Pillow cannot read, with the file's name in the message."""


def list_images(
    folder: str | os.PathLike, strict: bool = False, report: DecodeReport | None = None
) -> list[str]:
    """Every image file under `folder` (recursive, sorted). Unreadable headers are skipped and
    added to `report` (the caller's; without one they are only logged).

    Raises a ValueError naming the folder when it is missing or holds no image.
    """
    report = report if report is not None else DecodeReport()
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"image folder {str(root)!r} does not exist or is not a folder")
    # Folders are searched, not read (even one named x.jpg); anything else with an image
    # extension is tried, so a broken link or an unreadable file is reported, not ignored.
    candidates = sorted(p for p in root.rglob("*") if not p.is_dir())
    readable = []
    for p in candidates:
        path, suffix = str(p), p.suffix.lower()
        if suffix in UNSUPPORTED_EXTENSIONS:
            error: Exception = ValueError(UNSUPPORTED_EXTENSIONS[suffix])
        elif suffix not in IMAGE_EXTENSIONS:
            continue
        else:
            try:  # opening reads the header only: cheap even for thousands of files
                with Image.open(path) as image:
                    image.size  # noqa: B018 - touches the header
                readable.append(path)
                continue
            except Exception as e:  # Pillow raises many kinds of errors for bad files
                error = e
        if strict:
            raise ImageDecodeError(f"cannot read image {path}: {error}") from None
        report.add(path, error)
    if not readable:
        raise ValueError(
            f"image folder {str(root)!r} holds no readable image "
            f"({', '.join(IMAGE_EXTENSIONS)}, searched recursively)"
        )
    return readable


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: EXIF orientation applied, alpha composited on white."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) grayscale: scale the full range down to 8 bits.
        array = np.asarray(image, np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def load_rgb(path: str | os.PathLike) -> np.ndarray:
    """The image at `path` as uint8 (H, W, 3); raises ImageDecodeError naming the file."""
    try:
        with Image.open(path) as image:
            image.load()
            return np.asarray(to_rgb(image), np.uint8)
    except Exception as e:
        raise ImageDecodeError(f"cannot decode image {os.fspath(path)}: {e}") from None


def output_names(paths: list[str], root: str | os.PathLike | None = None) -> dict[str, Path]:
    """A distinct `.png` name for each input image, so no result overwrites another.

    The name is the image's path under `root` (its file name without a root) with `.png`;
    images whose names would collide (a.jpg and a.png) keep their extension in it (a_jpg.png,
    a_png.png), and any collision left (x.jpg in two folders) gets a number (x_2.png).
    """
    relative = {p: Path(p).relative_to(root) if root else Path(Path(p).name) for p in paths}
    stems = Counter(r.with_suffix("") for r in relative.values())
    names: dict[str, Path] = {}
    taken: set[Path] = set()
    for path, r in relative.items():
        name = r.with_suffix(".png")
        if stems[r.with_suffix("")] > 1:
            name = r.with_name(f"{r.stem}_{r.suffix[1:].lower()}.png")
        base, number = name, 2
        while name in taken:
            name = base.with_name(f"{base.stem}_{number}.png")
            number += 1
        taken.add(name)
        names[path] = name
    return names


class DecodeReport:
    """The files a command skipped because they could not be read, for its end-of-run summary.

    Each command makes its own and passes it down (to `tf.data` workers too: adding is locked).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.skipped: dict[str, str] = {}

    def add(self, path: str, error: Exception) -> None:
        with self._lock:
            if path not in self.skipped:
                logger.warning("skipping unreadable image %s: %s", path, error)
            self.skipped[path] = str(error)

    def clear(self) -> None:
        with self._lock:
            self.skipped.clear()

    def __len__(self) -> int:
        return len(self.skipped)
