"""The `cyclegan-tf` command line: one thin layer over the library.

Every `CycleGANConfig` field is a `train` option with the paper's default and a help text; the CLI
builds the config object and nothing else reads flags.

Example:
    cyclegan-tf train --preset tiny --out runs/tiny
    cyclegan-tf translate runs/tiny photo.jpg --out translated/
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from cyclegan_tf import registry
from cyclegan_tf.config import PRESETS, CycleGANConfig, config_fields, field_choices
from cyclegan_tf.errors import UserError
from cyclegan_tf.evaluation.features import DEFAULT_FEATURES, FEATURE_NETWORKS

logger = logging.getLogger("cyclegan_tf")


class UsageError(UserError):
    """A bad option or path: printed as one line, exit status 2."""


# Exit statuses, also listed in `cyclegan-tf --help`, so scripts can tell the outcomes apart.
EXIT_OK = 0  # everything asked was done
EXIT_STOPPED = 1  # a run stopped part-way (disk full, read-only folder, NaN): its last
#                   checkpoint is kept, `train --resume` continues
EXIT_USAGE = 2  # a bad option, path or file: nothing was done
EXIT_SKIPPED = 3  # finished, but some input files could not be read and were skipped (named)
EXIT_CODES_HELP = (
    "exit status: 0 all done; 1 stopped part-way (no space left, read-only folder, NaN loss: "
    "the last checkpoint is kept, --resume continues); 2 bad option or input, nothing done; "
    "3 finished, but unreadable input files were skipped (each is named)"
)


def _report_skipped(report) -> int:
    """Print the unreadable files a command skipped; EXIT_SKIPPED if there were any."""
    if not report:
        return EXIT_OK
    print(f"skipped {len(report)} unreadable image(s):")
    for path, error in sorted(report.skipped.items()):
        print(f"  {path}: {error}")
    return EXIT_SKIPPED


def _new_report():
    from cyclegan_tf.data.images import DecodeReport

    return DecodeReport()


class DefaultsOnceHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" only where there is a default worth saying and the help text does
    not already say it (no "(default: None)", no "(default: False)" on a switch)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        if "(paper:" in text:
            return text
        return super()._get_help_string(action)


def _option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per config field; unset options keep the preset's value."""
    group = parser.add_argument_group("hyperparameters (defaults: the paper's, or the preset's)")
    for field in config_fields():
        help_text = f"{field.metadata['help']} (paper: {field.default})"
        if field.type in ("bool", bool) and field.name.startswith("no_"):
            # A negative switch (--no-flip): one flag; the preset's value when absent.
            group.add_argument(
                _option_name(field.name),
                dest=field.name,
                default=None,
                action="store_const",
                const=True,
                help=field.metadata["help"],
            )
            continue
        if field.type in ("bool", bool):
            group.add_argument(
                _option_name(field.name),
                dest=field.name,
                default=None,
                action=argparse.BooleanOptionalAction,
                help=help_text,
            )
            continue
        kind = {"int": int, "float": float, "str": str}[field.type]
        group.add_argument(
            _option_name(field.name),
            dest=field.name,
            type=kind,
            default=None,
            choices=field_choices(field),
            help=help_text,
            metavar=None if field_choices(field) else field.name.upper(),
        )


def config_overrides(args: argparse.Namespace) -> dict:
    return {
        f.name: getattr(args, f.name)
        for f in config_fields()
        if getattr(args, f.name, None) is not None
    }


# -- train --------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from cyclegan_tf.training import resume_config, train_run

    overrides = config_overrides(args)
    if args.resume:
        config = resume_config(args.resume, **overrides)
        run_dir = args.resume
    else:
        config = CycleGANConfig.preset(args.preset, **overrides)
        run_dir = args.out or os.path.join("runs", args.preset)
    print(
        f"training {config.generator} on {config.data} into {run_dir} "
        f"({config.total_epochs} epochs, batch {config.batch_size}, {config.crop_size} px)"
    )
    report = _new_report()
    train_run(
        config,
        run_dir,
        resume=bool(args.resume),
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        strict=args.strict,
        cache=args.cache,
        sample_every=args.sample_every,
        validate=not args.no_validation,
        verbose=2 if args.quiet else "auto",
        eval_every=args.eval_every,
        eval_images=args.eval_images,
        inception_weights=args.inception_weights,
        checkpoint_every=args.checkpoint_every,
        report=report,
    )
    status = _report_skipped(report)
    print(
        f"done: samples in {os.path.join(run_dir, 'samples')}, "
        f"generators {os.path.join(run_dir, 'generator_ab.keras')} and generator_ba.keras"
    )
    return status


# -- translate ----------------------------------------------------------------------------------
def cmd_translate(args: argparse.Namespace) -> int:
    from cyclegan_tf.translate import translate_paths

    report = _new_report()
    written = translate_paths(
        args.model,
        args.inputs,
        args.out,
        direction=args.direction,
        size=args.size,
        side_by_side=args.side_by_side,
        face=args.face,
        paste=args.paste_back,
        strict=args.strict,
        report=report,
    )
    print(f"wrote {len(written)} translation(s) to {args.out}")
    return _report_skipped(report)


# -- demo ---------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from cyclegan_tf.demo import run_demo

    written = run_demo(args.out, args.model)
    print(f"wrote {written[0]} (the whole picture) and {len(written) - 1} more PNGs to {args.out}")
    return 0


# -- faces --------------------------------------------------------------------------------------
def cmd_faces(args: argparse.Namespace) -> int:
    import keras

    from cyclegan_tf.faces.folder import REPORT_NAME, prepare_faces

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        bar = bar or keras.utils.Progbar(total, unit_name="photo")
        bar.update(done)

    report = prepare_faces(
        args.in_dir, args.out, size=args.size, all_faces=args.all_faces, progress=progress
    )
    print(report.summary())
    print(f"crops and {REPORT_NAME} in {args.out}")
    return 0


# -- info ---------------------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    from cyclegan_tf.info import describe

    print(describe(args.path))
    return 0


# -- export -------------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from cyclegan_tf.export.exporter import export_generator
    from cyclegan_tf.export.tflite import QUANTIZATIONS

    quantizations = QUANTIZATIONS if args.quantize == "all" else (args.quantize,)
    skipped = _new_report()
    report = export_generator(
        args.model,
        args.out,
        direction=args.direction,
        quantizations=quantizations,
        size=args.size,
        io=args.io,
        calibration=args.calibration,
        resizable=args.resizable,
        saved_model=not args.no_saved_model,
        parity=args.parity,
        report=skipped,
        half_keras=args.keras_float16,
        float_nodes=tuple(args.float_node or ()),
    )
    print(report.to_markdown())
    print(
        f"wrote {len(report.variants)} .tflite file(s), their .json sidecars, parity.json, "
        f"parity.md and parity.png to {args.out}"
    )
    return _report_skipped(skipped)


# -- evaluate -----------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from cyclegan_tf.evaluation.evaluate import evaluate_model, to_markdown

    report = _new_report()
    result = evaluate_model(
        args.model,
        args.data,
        args.out,
        direction=args.direction,
        size=args.size,
        max_images=args.max_images,
        paired=args.paired,
        features=None if args.no_features else args.features,
        inception_weights=args.inception_weights,
        kid_subsets=args.kid_subsets,
        probe_images=args.probe_images,
        report=report,
    )
    print(to_markdown(result))
    print(f"wrote evaluation.json, evaluation.md and best/worst PNGs to {args.out}")
    return _report_skipped(report)


# -- benchmark ----------------------------------------------------------------------------------
def cmd_benchmark(args: argparse.Namespace) -> int:
    from cyclegan_tf.export.benchmark import benchmark_models, write_benchmark

    results = benchmark_models(args.models, tuple(args.threads), args.warmup, args.runs)
    paths = write_benchmark(results, args.out, args.runs)
    print(paths["md"].read_text())
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cyclegan-tf",
        description="CycleGAN in Keras 3: train, translate, inspect, export to TFLite, benchmark.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    _add_train_command(commands)
    _add_translate_command(commands)
    _add_demo_command(commands)
    _add_faces_command(commands)
    _add_info_command(commands)
    _add_export_command(commands)
    _add_evaluate_command(commands)
    _add_benchmark_command(commands)
    return parser


def _add_train_command(commands) -> None:
    """The `train` subcommand's options."""
    train = commands.add_parser(
        "train",
        help="train a CycleGAN (default: embedded dataset)",
        formatter_class=DefaultsOnceHelpFormatter,
    )
    train.add_argument(
        "--preset",
        default="paper",
        choices=list(PRESETS),
        help="starting recipe; options below override it",
    )
    train.add_argument("--out", help="run folder (default: runs/PRESET)")
    train.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its last completed epoch",
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        help="stop after this epoch (default: n_epochs + n_epochs_decay)",
    )
    train.add_argument(
        "--steps-per-epoch",
        type=_positive_int,
        help="steps per epoch (default: one pass over the larger domain); fewer for quick "
        "trials, more to match another run's step count (the batches repeat)",
    )
    train.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unreadable image instead of skipping it",
    )
    train.add_argument("--cache", action="store_true", help="keep decoded images in memory")
    train.add_argument(
        "--sample-every", type=_positive_int, default=1, help="write a sample grid every N epochs"
    )
    train.add_argument(
        "--checkpoint-every",
        type=int,
        default=0,
        metavar="STEPS",
        help="also save the full training state every STEPS steps (0: at epoch ends only); "
        "--resume then finishes the interrupted epoch's remaining steps",
    )
    train.add_argument("--no-validation", action="store_true", help="skip the test split")
    train.add_argument("--quiet", action="store_true", help="one line per epoch")
    train.add_argument(
        "--eval-every",
        type=int,
        default=1,
        help="log PSNR/SSIM vs truth (paired data) and KID every N epochs; 0: never",
    )
    train.add_argument(
        "--eval-images", type=_positive_int, default=64, help="test pairs the metrics use"
    )
    train.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="also log KID: 'imagenet' (Keras download/cache) or a local InceptionV3 .h5",
    )
    add_config_options(train)
    train.set_defaults(func=cmd_train)


def _add_translate_command(commands) -> None:
    """The `translate` subcommand's options."""
    translate = commands.add_parser("translate", help="translate image files or folders")
    translate.add_argument(
        "model",
        help="a run folder, a generator .keras file or a shipped model (selfie2anime-mobile)",
    )
    translate.add_argument("inputs", nargs="+", help="image files or folders")
    translate.add_argument("--out", required=True, help="folder for the translations")
    translate.add_argument(
        "--direction",
        choices=registry.DIRECTIONS,
        help="with a run folder: which generator (default AtoB)",
    )
    translate.add_argument(
        "--size",
        type=_positive_int,
        help="resize the shorter side to SIZE for the generator "
        "(default: a shipped model's run size, else the training crop size); output keeps the "
        "input size",
    )
    translate.add_argument(
        "--side-by-side", action="store_true", help="also write input | translation comparisons"
    )
    translate.add_argument(
        "--face",
        action="store_true",
        help="crop each photo on its face, aligned and framed like the training data, and "
        "translate that crop (no face: the centre crop, with a warning)",
    )
    translate.add_argument(
        "--paste-back",
        action="store_true",
        help="with --face: blend the translated face back into the photo (feathered)",
    )
    translate.add_argument(
        "--strict", action="store_true", help="with --face: a photo without a face is an error"
    )
    translate.set_defaults(func=cmd_translate)


def _add_demo_command(commands) -> None:
    """The `demo` subcommand's options."""
    demo = commands.add_parser(
        "demo",
        help="the shipped photo->anime model on sample photos that ship with it (no download)",
    )
    demo.add_argument("--out", default="demo", help="folder for the pictures (default: demo/)")
    demo.add_argument("--model", default="selfie2anime-mobile", help="a shipped model's name")
    demo.set_defaults(func=cmd_demo)


def _add_faces_command(commands) -> None:
    """The `faces` subcommand's options."""
    faces = commands.add_parser(
        "faces",
        help="prepare a photo folder for training: one aligned face crop per photo",
        description="Detect the face in each photo of IN_DIR (recursive), align it (eyes level) "
        "and crop it framed like selfie2anime's trainA. Photos without a face and unreadable "
        "files are reported; existing crops are never overwritten.",
    )
    faces.add_argument("in_dir", help="a folder of photos")
    faces.add_argument("--out", required=True, help="folder for the crops (e.g. my_data/trainA)")
    faces.add_argument("--size", type=_positive_int, default=256, help="crop side in pixels")
    faces.add_argument(
        "--all-faces", action="store_true", help="one crop per face found, not only the largest"
    )
    faces.set_defaults(func=cmd_faces)


def _add_info_command(commands) -> None:
    """The `info` subcommand's options."""
    info = commands.add_parser(
        "info", help="config, parameter counts and epoch of a run/model; the shipped models"
    )
    info.add_argument(
        "path",
        nargs="?",
        help="a run folder, a generator .keras file or a shipped model's name (none: list the "
        "shipped models)",
    )
    info.set_defaults(func=cmd_info)


def _add_export_command(commands) -> None:
    """The `export` subcommand's options."""
    export = commands.add_parser("export", help="export a generator to .tflite (+ parity report)")
    export.add_argument(
        "model",
        help="a run folder, a generator .keras file or a shipped model (selfie2anime-mobile)",
    )
    export.add_argument("--out", required=True, help="folder for the exported files")
    export.add_argument(
        "--direction",
        choices=registry.DIRECTIONS,
        help="with a run folder: which generator (default AtoB, photo->anime)",
    )
    export.add_argument("--quantize", default="all", choices=[*registry.QUANTIZATIONS, "all"])
    export.add_argument(
        "--size",
        type=_positive_int,
        help="fixed input size S (1 x S x S x 3); default: a shipped model's run size, else the "
        "training crop size",
    )
    export.add_argument(
        "--io",
        default="float",
        choices=registry.IO_TYPES,
        help="float: [-1, 1] tensors; uint8: RGB bytes in and out",
    )
    export.add_argument(
        "--calibration",
        metavar="DIR",
        help="images of the input domain for int8 (>= 100; default for runs on "
        "the embedded dataset: its test photos)",
    )
    export.add_argument(
        "--parity",
        metavar="DIR",
        help="images to check the exports on (default: the calibration images)",
    )
    export.add_argument(
        "--resizable", action="store_true", help="also export an fp32 model with a resizable input"
    )
    export.add_argument(
        "--no-saved-model", action="store_true", help="skip the TF SavedModel export"
    )
    export.add_argument(
        "--keras-float16",
        action="store_true",
        help="also write the generator as a .keras file with float16 weights (half the size, "
        "for shipping; it loads back as float32)",
    )
    export.add_argument(
        "--float-node",
        action="append",
        metavar="NAME",
        help="keep this op of the int8 model in float (its output tensor's name; repeatable; "
        "benchmarks/int8_sensitivity.py ranks them)",
    )
    export.set_defaults(func=cmd_export)


def _add_evaluate_command(commands) -> None:
    """The `evaluate` subcommand's options."""
    evaluate = commands.add_parser(
        "evaluate", help="PSNR/SSIM vs truth, cycle error, FID/KID of a model or .tflite"
    )
    evaluate.add_argument(
        "model",
        help="a run folder, a generator .keras, an exported .tflite or a shipped model "
        "(selfie2anime-mobile, selfie2anime-mobile:int8)",
    )
    evaluate.add_argument(
        "--data", default="synthetic", help="data spec whose test split is used (as for train)"
    )
    evaluate.add_argument("--out", required=True, help="folder for evaluation.json/.md and PNGs")
    evaluate.add_argument("--direction", choices=registry.DIRECTIONS, help="only this direction")
    evaluate.add_argument(
        "--size",
        type=_positive_int,
        help="image size (default: a shipped model's run size, else its training size)",
    )
    evaluate.add_argument(
        "--max-images", type=int, default=0, help="use at most N test images per domain (0: all)"
    )
    evaluate.add_argument(
        "--paired",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="testA[i] and testB[i] are true pairs (default: only for the embedded dataset)",
    )
    evaluate.add_argument(
        "--features",
        choices=FEATURE_NETWORKS,
        default=DEFAULT_FEATURES,
        help="ImageNet network for FID/KID and the probe: efficientnet-lite0 (weights installed "
        "with the package, offline) or inception (InceptionV3, the literature's; downloads once)",
    )
    evaluate.add_argument(
        "--inception-weights",
        default="imagenet",
        metavar="PATH",
        help="with --features inception: a no-top .h5; 'imagenet': Keras cache or download",
    )
    evaluate.add_argument(
        "--no-features",
        "--no-inception",
        dest="no_features",
        action="store_true",
        help="skip FID/KID and the probe",
    )
    evaluate.add_argument("--kid-subsets", type=_positive_int, default=100)
    evaluate.add_argument(
        "--probe-images",
        type=int,
        default=500,
        help="training images per domain for the linear probe (A vs B); 0: no probe",
    )
    evaluate.set_defaults(func=cmd_evaluate)


def _add_benchmark_command(commands) -> None:
    """The `benchmark` subcommand's options."""
    bench = commands.add_parser("benchmark", help="LiteRT latency of .tflite files, side by side")
    bench.add_argument("models", nargs="+", help=".tflite files (ours and peers)")
    bench.add_argument("--threads", type=_positive_int, nargs="+", default=[1, 2])
    bench.add_argument("--warmup", type=int, default=3)
    bench.add_argument("--runs", type=_positive_int, default=10)
    bench.add_argument("--out", default="benchmark", help="output path stem (.json/.md/.png)")
    bench.set_defaults(func=cmd_benchmark)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide C++ start-up chatter
    try:
        return args.func(args)
    except (UserError, ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"cyclegan-tf {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ArithmeticError) as e:  # disk full, read-only, NaN (NonFinite*Error)
        print(f"cyclegan-tf {args.command}: stopped: {e}", file=sys.stderr)
        if args.command == "train":
            run = args.resume or args.out or os.path.join("runs", args.preset)
            print(
                f"the last complete checkpoint in {os.path.join(run, 'checkpoint')} is kept; "
                f"fix the cause, then: cyclegan-tf train --resume {run}",
                file=sys.stderr,
            )
        return EXIT_STOPPED


if __name__ == "__main__":
    sys.exit(main())
