"""Face framing measured on real faces: the training framing, detection rate, landmark error on
wide shots with a known answer, and time per photo in Python (and, with --browser, in the page).

    python benchmarks/faces.py --framing ~/data/selfie2anime/trainA \
        --test ~/data/selfie2anime/testA [--browser]

- framing: BlazeFace on every trainA selfie; eye midpoint, eye line height, eye distance (shares of
  the 256 px frame) and roll: medians and spread. These are `TRAINA_FRAMING`'s numbers.
- testA: the share of the 100 test selfies with a face found (goal: at least 98%).
- wide shots: each testA selfie whose face was found, scaled to 35-60% of a 1280x960 canvas's
  height, turned by -20..20 degrees and placed off-centre (`cyclegan_tf.faces.wide_shots`); the
  eyes found in the original, carried through that known transform, are the truth. Reported: found
  rate, eye error (share of the eye distance) and, after alignment, how far the true eye line is
  from the framing's (share of the crop height; goal: within 2%).
- time: detection plus alignment per 1280x960 wide shot, 1 thread (goal: under 50 ms); with
  --browser, the web app's framing of the same kind of photo in Chromium (goal: under 100 ms).

The selfies are not ours: no picture of them is written, only numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402

from cyclegan_tf.data.images import list_images, load_rgb  # noqa: E402
from cyclegan_tf.faces import TRAINA_FRAMING, FaceDetector, align_face  # noqa: E402
from cyclegan_tf.faces.wide_shots import apply, wide_shot  # noqa: E402
from cyclegan_tf.machine import cpu_signature  # noqa: E402

CANVAS = (1280, 960)
CROP = 256


def progress(total: int, label: str):
    import keras

    print(label)
    return keras.utils.Progbar(total)


def spread(values) -> dict:
    values = np.asarray(values, np.float64)
    p5, p25, p50, p75, p95 = np.percentile(values, [5, 25, 50, 75, 95])
    return {"median": p50, "p25": p25, "p75": p75, "p5": p5, "p95": p95, "n": len(values)}


def eye_geometry(eyes: np.ndarray, size: float) -> dict:
    vector = eyes[1] - eyes[0]
    return {
        "eye_x": float(eyes[:, 0].mean() / size),
        "eye_y": float(eyes[:, 1].mean() / size),
        "eye_distance": float(np.hypot(*vector) / size),
        "roll_deg": float(np.degrees(np.arctan2(vector[1], vector[0]))),
    }


def measure_framing(folder: str, detector: FaceDetector) -> dict:
    paths = list_images(folder)
    bar = progress(len(paths), f"framing: {len(paths)} images in {folder}")
    rows, missed = [], 0
    for i, path in enumerate(paths):
        image = load_rgb(path)
        faces = detector.detect(image)
        if faces:
            rows.append(eye_geometry(faces[0].eyes, image.shape[0]))
        else:
            missed += 1
        bar.update(i + 1)
    return {
        "folder": folder,
        "images": len(paths),
        "found": len(rows),
        **{key: spread([r[key] for r in rows]) for key in rows[0]},
    }


def measure_test(folder: str, detector: FaceDetector, seed: int) -> dict:
    paths = list_images(folder)
    rng = np.random.default_rng(seed)
    bar = progress(len(paths), f"test: {len(paths)} images in {folder}, one wide shot each")
    found, shots, shot_found, eye_errors, line_errors, times = 0, 0, 0, [], [], []
    for i, path in enumerate(paths):
        image = load_rgb(path)
        faces = detector.detect(image)
        bar.update(i + 1)
        if not faces:
            continue
        found += 1
        truth_in_original = faces[0].eyes
        shot, matrix = wide_shot(
            image,
            CANVAS,
            height_share=rng.uniform(0.35, 0.6),
            centre=(rng.uniform(0.25, 0.75), rng.uniform(0.3, 0.7)),
            angle=rng.uniform(-20.0, 20.0),
            seed=int(rng.integers(1 << 30)),
        )
        truth = apply(matrix, truth_in_original)
        shots += 1
        start = time.perf_counter()
        detected = detector.detect(shot)
        crop = align_face(shot, detected[0].eyes, CROP) if detected else None
        times.append((time.perf_counter() - start) * 1000.0)
        if crop is None:
            continue
        shot_found += 1
        distance = np.hypot(*(truth[1] - truth[0]))
        eye_errors.append(float(np.max(np.hypot(*(detected[0].eyes - truth).T)) / distance))
        true_in_crop = apply(crop.matrix, truth)
        line_errors.append(float(abs(true_in_crop[:, 1].mean() / CROP - TRAINA_FRAMING.eye_y)))
    line = np.asarray(line_errors)
    return {
        "folder": folder,
        "images": len(paths),
        "found": found,
        "wide_shots": shots,
        "wide_found": shot_found,
        "eye_error_share_of_eye_distance": spread(eye_errors),
        "eye_line_error_share_of_crop": spread(line_errors),
        "eye_line_within_2pct": float(np.mean(line <= 0.02)) if len(line) else 0.0,
        "python_ms_per_photo": spread(times),
    }


def timing_photos(test_folder: str | None, folder: Path) -> list[Path]:
    """1280x960 photos to time: the astronaut small, tilted and off-centre (found only by the
    tile search), and, with --test, a wide shot of the first test selfie (found at once)."""
    from PIL import Image
    from skimage.data import astronaut

    folder.mkdir(parents=True, exist_ok=True)
    shots = {"astronaut_wide": wide_shot(astronaut(), CANVAS, 0.8, (0.3, 0.45), 15.0)[0]}
    if test_folder:
        selfie = load_rgb(list_images(test_folder)[0])
        shots["selfie_wide"] = wide_shot(selfie, CANVAS, 0.5, (0.6, 0.45), -12.0)[0]
    paths = []
    for name, shot in shots.items():
        paths.append(folder / f"{name}.png")
        Image.fromarray(shot).save(paths[-1])
    return paths


def time_side_by_side(args, detector: FaceDetector, runs: int = 20) -> dict:
    """Detect + align per photo: Python (1 thread) and, with --browser, the page, same photos."""
    import tempfile

    timing = {}
    with tempfile.TemporaryDirectory() as tmp:
        photos = timing_photos(args.test, Path(tmp))
        for photo in photos:
            image = load_rgb(photo)
            times = []
            for _ in range(runs + 2):
                start = time.perf_counter()
                faces = detector.detect(image)
                if faces:
                    align_face(image, faces[0].eyes, CROP)
                times.append((time.perf_counter() - start) * 1000.0)
            times = sorted(times[2:])  # two warm-up runs
            timing[photo.name] = {"python": {
                "median_ms": times[runs // 2], "p95_ms": times[int(runs * 0.95)],
                "min_ms": times[0], "runs": runs, "found": bool(faces),
            }}  # fmt: skip
        if args.browser:
            from faces_browser import time_browser_framing

            for name, page in time_browser_framing(photos, runs).items():
                timing[name]["browser"] = page
    return timing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--framing", help="the training selfies (selfie2anime trainA)")
    parser.add_argument("--test", help="held-out selfies (selfie2anime testA)")
    parser.add_argument("--browser", action="store_true", help="also time the web app's framing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "faces"))
    args = parser.parse_args(argv)
    detector = FaceDetector(num_threads=1)
    report: dict = {
        "command": "python benchmarks/faces.py " + " ".join(argv or sys.argv[1:]),
        "machine": {**describe_machine(), "cpu_signature": cpu_signature()},
        "canvas": CANVAS,
        "framing_constants": vars(TRAINA_FRAMING),
    }
    if args.framing:
        report["framing"] = measure_framing(args.framing, detector)
    if args.test:
        report["test"] = measure_test(args.test, detector, args.seed)
    report["timing"] = time_side_by_side(args, detector)
    write_report(report, args.out, to_markdown)
    return 0


def to_markdown(report: dict) -> str:
    lines = [
        "# Face framing: BlazeFace short-range (LiteRT), selfie2anime",
        "",
        f"`{report['command']}`",
        "",
        markdown_machine(report["machine"])
        + f" CPU: {report['machine']['cpu_signature'].split(', ', 1)[-1]}.",
        "",
    ]
    if "framing" in report:
        f = report["framing"]
        lines += [
            f"## The training framing ({f['found']} of {f['images']} trainA selfies with a face)",
            "",
            "| measure (share of the 256 px frame) | median | p25 | p75 | p5 | p95 |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for key in ("eye_x", "eye_y", "eye_distance", "roll_deg"):
            s = f[key]
            lines.append(
                f"| {key} | {s['median']:.3f} | {s['p25']:.3f} | {s['p75']:.3f} | "
                f"{s['p5']:.3f} | {s['p95']:.3f} |"
            )
        lines.append("")
    if "test" in report:
        t = report["test"]
        eye, line, ms = (
            t["eye_error_share_of_eye_distance"],
            t["eye_line_error_share_of_crop"],
            t["python_ms_per_photo"],
        )
        lines += [
            "## Detection and alignment",
            "",
            "| measure | result | goal |",
            "| --- | ---: | --- |",
            f"| testA selfies with a face found | {t['found']}/{t['images']} "
            f"({t['found'] / t['images']:.0%}) | at least 98% |",
            f"| wide shots (1280x960, face 35-60% of the height, -20..20 deg, off-centre) "
            f"with the face found | {t['wide_found']}/{t['wide_shots']} | |",
            f"| eye error, share of the eye distance: median / p95 | {eye['median']:.3f} / "
            f"{eye['p95']:.3f} | |",
            f"| true eye line vs the framing's, share of the crop height: median / p95 | "
            f"{line['median']:.4f} / {line['p95']:.4f} | within 0.02 |",
            f"| wide shots with the eye line within 2% | {t['eye_line_within_2pct']:.0%} | |",
            f"| Python, detect + align one wide shot, 1 thread: median / p95 | "
            f"{ms['median']:.1f} ms / {ms['p95']:.1f} ms | under 50 ms |",
        ]
        lines.append("")
    if "timing" in report:
        lines += [
            "## Time to frame one 1280x960 photo (detect + align), side by side in one run",
            "",
            "| photo | where | found | median | p95 | goal |",
            "| --- | --- | --- | ---: | ---: | --- |",
        ]
        for name, places in report["timing"].items():
            for place, t in places.items():
                where = (
                    "Python, ai-edge-litert, 1 thread"
                    if place == "python"
                    else "web app in Chromium (LiteRT.js wasm)"
                )
                goal = "under 50 ms" if place == "python" else "under 100 ms"
                lines.append(
                    f"| {name} | {where} | {'yes' if t['found'] else 'no'} | "
                    f"{t['median_ms']:.1f} ms | {t['p95_ms']:.1f} ms | {goal} |"
                )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
