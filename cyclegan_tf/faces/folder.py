"""Turning a folder of a user's own photos into training images framed like selfie2anime.

One aligned crop per photo (the best face, or every face with `all_faces`), the photos with no
face and the unreadable ones reported by name, and nothing overwritten: a crop whose file exists
is left as it is and reported, so a second run over a grown folder only adds the new photos.

Example:
    report = prepare_faces("my_photos/", "my_data/trainA", size=256)
    print(report.summary())
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from cyclegan_tf.data.images import (
    DecodeReport,
    ImageDecodeError,
    list_images,
    load_rgb,
    output_names,
)
from cyclegan_tf.faces.detector import FaceDetector
from cyclegan_tf.faces.framing import TRAINA_FRAMING, Framing, align_face

REPORT_NAME = "faces_report.json"


@dataclass
class FacesReport:
    """What `prepare_faces` did with each photo; written as `faces_report.json` in the output."""

    written: list[str] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    kept_existing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"wrote {len(self.written)} face crop(s); {len(self.no_face)} photo(s) without a "
            f"face, {len(self.unreadable)} unreadable, {len(self.kept_existing)} crop(s) already "
            "there (kept)"
        ]
        lines += [f"  no face: {path}" for path in self.no_face]
        lines += [f"  unreadable: {path}: {error}" for path, error in self.unreadable.items()]
        lines += [f"  exists, not overwritten: {path}" for path in self.kept_existing]
        return "\n".join(lines)


def prepare_faces(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    size: int = 256,
    all_faces: bool = False,
    framing: Framing = TRAINA_FRAMING,
    detector: FaceDetector | None = None,
    progress=None,
) -> FacesReport:
    """Write one aligned `size` x `size` crop per photo of `in_dir` (recursive) to `out_dir`.

    `progress(done, total)` is called after each photo (the CLI shows a bar with it).
    """
    root, out = Path(in_dir), Path(out_dir)
    if out.resolve() == root.resolve():
        raise ValueError(f"--out {out} is the input folder: the crops need a folder of their own")
    unreadable = DecodeReport()
    paths = list_images(root, report=unreadable)  # unreadable headers: skipped and recorded
    report = FacesReport(unreadable=dict(unreadable.skipped))
    detector = detector or FaceDetector()
    names = output_names(paths, root)
    for done, path in enumerate(paths, 1):
        try:
            photo = load_rgb(path)
        except ImageDecodeError as e:
            report.unreadable[path] = str(e)
            continue
        faces = detector.detect(photo)
        if not faces:
            report.no_face.append(path)
        for k, face in enumerate(faces if all_faces else faces[:1]):
            name = names[path]
            if all_faces:
                name = name.with_name(f"{name.stem}_face{k}.png")
            target = out / name
            if target.exists():
                report.kept_existing.append(str(target))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            crop = align_face(photo, face.eyes, size, framing)
            Image.fromarray(crop.pixels).save(target)
            report.written.append(str(target))
        if progress is not None:
            progress(done, len(paths))
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_NAME).write_text(json.dumps(vars(report), indent=2) + "\n")
    return report
