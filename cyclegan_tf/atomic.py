"""Writing files so that a crash, a kill -9 or a full disk never leaves a half-written one.

Every file a run needs to continue (checkpoints, generators, the loss log, the config) is
written to a temporary name in the same folder, flushed to disk and renamed over the old one:
`os.replace` is atomic on POSIX, so a reader sees the old file or the new one, never a mix.
If the write fails (no space left, read-only folder) the temporary file is removed and the old
file is untouched.

Example:
    with replaced_atomically("runs/x/config.json") as temporary:
        temporary.write_text(text)
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced_atomically(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one step."""
    target = Path(target)
    temporary = target.with_name(partial_name(target.name))
    try:
        yield temporary
        sync_path(temporary)
        os.replace(temporary, target)
    except BaseException:
        remove_quietly(temporary)
        raise
    sync_path(target.parent)


def partial_name(name: str) -> str:
    """`model.weights.h5` -> `.model.partial-PID.weights.h5`: hidden, and keeps the extensions
    that savers check (Keras wants `.keras` and `.weights.h5`)."""
    base, dot, extensions = name.partition(".")
    return f".{base}.partial-{os.getpid()}{dot}{extensions}"


def write_text_atomically(target: str | os.PathLike, text: str) -> None:
    """`Path(target).write_text(text)`, atomically."""
    with replaced_atomically(target) as temporary:
        temporary.write_text(text)


def sync_path(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a rename after it is durable."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename is still atomic
    finally:
        os.close(descriptor)


def remove_quietly(path: Path) -> None:
    """Remove a file or folder if it exists; a failure here must not hide the original error."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
