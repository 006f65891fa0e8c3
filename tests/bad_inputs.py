"""A corpus of broken and odd image files, written by the tests (nothing binary is committed).

`write_corpus(folder)` writes one file (or folder, or link) per case and returns what each
command must do with it: "used" (decoded and translated / trained on / calibrated with) or
"reported" (named in the skipped-files report, everything else goes on). `docs/faults.md` is
the table of these cases and their outcomes.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

USED, REPORTED = "used", "reported"


def _photo(size: int = 40, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size, size + 8, 3), np.uint8))


def png_bomb(path: Path, side: int = 20_000) -> None:
    """A valid 20000x20000 grayscale PNG (400 megapixels), written in strips: ~400 KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    compressor, parts = zlib.compressobj(9), []
    row = b"\x00" * (side + 1)  # filter byte + a black row
    for _ in range(side // 500):
        parts.append(compressor.compress(row * 500))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def write_corpus(folder: str | os.PathLike) -> dict[str, str]:
    """Write the corpus into `folder`; {file name relative to folder: USED or REPORTED}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def case(name: str, outcome: str) -> Path:
        expected[name] = outcome
        return folder / name

    _photo(seed=1).save(case("good.png", USED))
    case("empty.jpg", REPORTED).write_bytes(b"")
    jpeg = io.BytesIO()
    _photo(seed=2).save(jpeg, "JPEG")
    case("truncated.jpg", REPORTED).write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    _photo(seed=3).save(case("png_named.jpg", USED), "PNG")  # like selfie2anime's trainB
    _photo(seed=4).convert("CMYK").save(case("cmyk.jpg", USED), "JPEG")
    sixteen = (np.random.default_rng(5).integers(0, 65535, (40, 48))).astype(np.uint16)
    Image.fromarray(sixteen).save(case("sixteen_bit.png", USED))
    frames = [_photo(seed=s).convert("P") for s in (6, 7)]
    frames[0].save(case("animated.gif", USED), save_all=True, append_images=frames[1:])
    rgb = [_photo(seed=s) for s in (8, 9)]
    rgb[0].save(case("animated.webp", USED), save_all=True, append_images=rgb[1:])
    Image.new("RGB", (1, 1), (200, 120, 40)).save(case("one_pixel.png", USED))
    png_bomb(case("bomb_20000x20000.png", REPORTED))
    (folder / "folder.jpg").mkdir()  # a folder with an image name: searched, not read
    _photo(seed=10).save(case("folder.jpg/inside.png", USED))
    os.symlink(folder / "gone.png", case("dangling_link.jpg", REPORTED))  # the read fails
    case("text.png", REPORTED).write_text("this is not a picture\n")
    _photo(seed=11).save(folder / os.fsdecode(b"caf\xe9.png"))  # a Latin-1, non-UTF-8 name
    expected[os.fsdecode(b"caf\xe9.png")] = USED
    _photo(seed=12).save(case("same.jpg", USED))
    _photo(seed=13).save(case("same.png", USED))  # its translation must not overwrite same.jpg's
    case("iphone.heic", REPORTED).write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    case("notes.txt", "ignored").write_text("not an image extension: not looked at\n")
    return expected
