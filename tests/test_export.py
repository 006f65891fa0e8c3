import json

import keras
import numpy as np
import pytest

from cyclegan_tf.checkpoints import save_generator
from cyclegan_tf.cli import main
from cyclegan_tf.export.benchmark import benchmark_models, write_benchmark
from cyclegan_tf.export.exporter import export_generator
from cyclegan_tf.export.litert import TFLiteModel, count_macs, op_counts
from cyclegan_tf.export.tflite import convert_generator
from cyclegan_tf.imaging import mean_psnr as psnr
from cyclegan_tf.networks import InstanceNormalization, build_generator
from cyclegan_tf.networks.layers import ReflectionPadding2D


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    """A small photo->anime generator saved as a run would save it (embedded dataset)."""
    from cyclegan_tf.config import CycleGANConfig

    config = CycleGANConfig.preset("tiny", ngf=4, crop_size=32, load_size=36)
    keras.utils.set_random_seed(1)
    generator = build_generator("resnet_6blocks", ngf=4, model_name="generator_ab")
    path = tmp_path_factory.mktemp("run") / "generator_ab.keras"
    save_generator(generator, path, config, "AtoB", epoch=1)
    return path


def test_export_norms_are_the_same_maths_and_training_layers_hold_no_export_state():
    from cyclegan_tf.export.export_layers import ExportInstanceNormalization

    x = np.random.default_rng(0).normal(2, 3, (1, 8, 8, 4)).astype("float32")
    layer = InstanceNormalization()
    reference = np.asarray(layer(x))
    pooled = ExportInstanceNormalization(pooled=True)
    np.testing.assert_allclose(pooled(x), reference, atol=1e-5)
    # A per-channel epsilon is a saved argument of the export layer, not a training attribute.
    scaled = ExportInstanceNormalization(channel_epsilon=[1e-5, 1e-5, 1e-5, 4.0])
    assert scaled.get_config()["channel_epsilon"] == pytest.approx([1e-5, 1e-5, 1e-5, 4.0])
    again = ExportInstanceNormalization.from_config(scaled.get_config())
    np.testing.assert_allclose(again(x)[..., :3], reference[..., :3], atol=1e-5)
    assert np.abs(np.asarray(again(x))[..., 3]).max() < np.abs(reference[..., 3]).max()
    assert not {"channel_epsilon", "pooled_statistics"} & set(vars(layer))


@pytest.mark.parametrize("padding", [1, 3])
def test_sliced_reflection_padding_is_the_same_pad(padding):
    from cyclegan_tf.export.export_layers import SlicedReflectionPadding2D

    x = np.random.default_rng(0).normal(size=(2, 9, 7, 3)).astype("float32")
    reference = np.asarray(ReflectionPadding2D(padding)(x))
    np.testing.assert_array_equal(SlicedReflectionPadding2D(padding)(x), reference)
    with pytest.raises(ValueError, match="needs more than 3 pixels, got 3"):
        SlicedReflectionPadding2D(3)(x[:, :3])


def test_export_layers_are_swapped_in_by_a_clone_with_the_same_outputs():
    from cyclegan_tf.export.export_layers import (
        ExportInstanceNormalization,
        SlicedReflectionPadding2D,
        with_export_layers,
    )

    generator = build_generator("resnet_6blocks", ngf=4, size=32)
    copy = with_export_layers(generator)
    kinds = {type(layer) for layer in copy.layers}
    assert {ExportInstanceNormalization, SlicedReflectionPadding2D} <= kinds
    assert InstanceNormalization not in kinds and ReflectionPadding2D not in kinds
    assert not any(isinstance(layer, ExportInstanceNormalization) for layer in generator.layers)
    x = np.random.default_rng(2).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(copy(x), generator(x), atol=1e-5)


def test_fixed_size_export_has_no_slow_ops_and_a_resizable_one_keeps_them(tmp_path):
    # MIRROR_PAD is not delegated to XNNPACK (40x slower than slices + concatenation), and
    # TRANSPOSE_CONV ran 1.75x slower than four sub-pixel convolutions.
    generator = build_generator("resnet_6blocks", ngf=4)
    fixed = tmp_path / "fixed.tflite"
    fixed.write_bytes(convert_generator(generator, "fp32", 32))
    resizable = tmp_path / "resizable.tflite"
    resizable.write_bytes(convert_generator(generator, "fp32", None))
    fixed_ops, resizable_ops = op_counts(TFLiteModel(fixed)), op_counts(TFLiteModel(resizable))
    assert "MIRROR_PAD" not in fixed_ops and "TRANSPOSE_CONV" not in fixed_ops
    from cyclegan_tf.export.lowering import narrow_convs

    # ngf 4: the 4-filter stem conv is as narrow as the 3-filter output conv
    assert narrow_convs(generator) == ["stem_conv", "head_conv"]
    assert fixed_ops["SPACE_TO_DEPTH"] == fixed_ops["DEPTH_TO_SPACE"] == 2
    assert resizable_ops["MIRROR_PAD"] == 14  # 6 blocks x 2 + stem + head
    assert resizable_ops["TRANSPOSE_CONV"] == 2
    x = np.random.default_rng(3).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(TFLiteModel(fixed).run(x), generator(x), atol=1e-5)


def test_sub_pixel_upsampling_is_the_pixel_aligned_transposed_conv():
    from cyclegan_tf.export.lowering import SubPixelConvTranspose, fast_copy

    keras.utils.set_random_seed(4)
    generator = build_generator("resnet_6blocks", ngf=4)
    for layer in generator.layers:  # non-zero biases, so the bias path is checked too
        if isinstance(layer, keras.layers.Conv2DTranspose):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, np.linspace(-1, 1, bias.size).astype("float32")])
    copy = fast_copy(generator)
    assert sum(isinstance(layer, SubPixelConvTranspose) for layer in copy.layers) == 2
    assert not any(isinstance(layer, SubPixelConvTranspose) for layer in generator.layers)
    x = np.random.default_rng(5).uniform(-1, 1, (2, 32, 40, 3)).astype("float32")
    np.testing.assert_allclose(copy(x), generator(x), atol=1e-5)


@pytest.mark.parametrize(
    "name, size", [("resnet_6blocks", 32), ("mobile", 32), ("mobile", 36), ("mobile_deep", 32)]
)
def test_narrow_output_convs_run_on_space_to_depth_blocks(name, size):
    # The output conv has 3 filters: as space-to-depth it is a 12-filter conv (same maths).
    from cyclegan_tf.export.lowering import SpaceToDepthConv2D, fast_copy

    keras.utils.set_random_seed(6)
    generator = build_generator(name, ngf=4)
    head = generator.get_layer("head_conv")
    kernel, bias = head.get_weights()
    head.set_weights([kernel, np.array([0.3, -0.2, 0.1], "float32")])
    copy = fast_copy(generator)
    assert isinstance(copy.get_layer("head_conv"), SpaceToDepthConv2D)
    x = np.random.default_rng(7).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    np.testing.assert_allclose(copy(x), generator(x), atol=1e-5)


def test_export_writes_every_variant_with_sidecars_and_a_parity_report(generator_file, tmp_path):
    report = export_generator(generator_file, tmp_path, resizable=True)
    assert set(report.variants) == {"fp32", "fp16", "dynamic", "int8", "fp32_resizable"}
    v = report.variants
    assert v["fp32"]["psnr_db"] > 60 and v["fp32"]["max_abs_diff"] <= 1
    assert v["fp16"]["psnr_db"] > 45
    assert v["int8"]["bytes"] < v["fp16"]["bytes"] < v["fp32"]["bytes"]
    # int8 keeps only the instance-norm arithmetic in float; every convolution is integer.
    from cyclegan_tf.export.tflite import NORM_FLOAT_OPS

    assert v["int8"]["float_ops"] and set(v["int8"]["float_ops"]) <= {*NORM_FLOAT_OPS, "ROUND"}
    assert "CONV_2D" in v["int8"]["ops"] and "CONV_2D" not in v["int8"]["float_ops"]
    assert "VAR_HANDLE" not in v["fp32"]["ops"]  # weights are constants, not variables
    sidecar = json.loads((tmp_path / "generator_ab_int8.json").read_text())
    assert sidecar["input"]["shape"] == [1, 32, 32, 3] and sidecar["input"]["range"] == [-1.0, 1.0]
    assert sidecar["direction"] == "AtoB" and sidecar["config"]["ngf"] == 4
    for name in ("parity.png", "parity.md", "parity.json"):
        assert (tmp_path / name).is_file()
    assert "| int8 |" in (tmp_path / "parity.md").read_text()
    resizable = TFLiteModel(tmp_path / "generator_ab_fp32_resizable.tflite")
    assert resizable.run(np.zeros((1, 48, 40, 3), "float32")).shape == (1, 48, 40, 3)


def test_saved_model_export_serves_the_same_translation(generator_file, tmp_path):
    import tensorflow as tf

    from cyclegan_tf.checkpoints import load_generator

    export_generator(generator_file, tmp_path, quantizations=("fp32",))
    served = tf.saved_model.load(str(tmp_path / "generator_ab_saved_model"))
    x = np.random.default_rng(2).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    generator, _ = load_generator(generator_file)
    out = served.signatures["serving_default"](image=tf.constant(x))["translated"]
    np.testing.assert_allclose(out, generator(x), atol=1e-5)


@pytest.mark.parametrize("quantize", ["fp32", "int8"])
def test_uint8_io_takes_and_returns_rgb_bytes(generator_file, tmp_path, quantize):
    report = export_generator(
        generator_file, tmp_path, quantizations=(quantize,), io="uint8", saved_model=False
    )
    model = TFLiteModel(report.variants[quantize]["file"])
    assert model.input_dtype == np.uint8
    out = model.run(np.full((1, 32, 32, 3), 200, np.uint8))
    assert out.dtype == np.uint8 and out.shape == (1, 32, 32, 3)
    # Raw RGB bytes, not quantized tensors whose scale and zero point an app would have to apply.
    assert tuple(model.input["quantization"]) == (0.0, 0)
    assert tuple(model.output["quantization"]) == (0.0, 0)
    if quantize == "fp32":
        assert report.variants["fp32"]["max_abs_diff"] <= 1
    else:  # as faithful as the float-I/O int8 model: the norm ops stay float here too
        float_io = export_generator(
            generator_file, tmp_path / "float", quantizations=("int8",), saved_model=False
        )
        assert report.variants["int8"]["psnr_db"] > float_io.variants["int8"]["psnr_db"] - 1.0
        assert set(float_io.variants["int8"]["float_ops"]) <= set(
            report.variants["int8"]["float_ops"]
        )


def test_int8_without_enough_calibration_images_is_refused():
    generator = build_generator("resnet_6blocks", ngf=4)
    images = [np.zeros((32, 32, 3), np.uint8)] * 10
    with pytest.raises(ValueError, match="at least 100 calibration images.*got 10"):
        convert_generator(generator, "int8", 32, calibration=images)


def test_macs_are_counted_from_the_graph(tmp_path):
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)  # 16*16*8 * 3*3*3
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x)  # 8*8*8 * 9
    x = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)  # 8*8*8 * 3*3*4
    model = keras.Model(inputs, x)
    (tmp_path / "m.tflite").write_bytes(convert_generator(model, "fp32", 16))
    expected = 16 * 16 * 8 * 27 + 8 * 8 * 8 * 9 + 8 * 8 * 8 * 36
    assert count_macs(TFLiteModel(tmp_path / "m.tflite")) == expected


def test_mobile_generator_fits_the_phone_budget(tmp_path):
    generator = build_generator("mobile", ngf=16)
    assert generator.count_params() <= 500_000
    (tmp_path / "mobile.tflite").write_bytes(convert_generator(generator, "fp32", 256))
    assert count_macs(TFLiteModel(tmp_path / "mobile.tflite")) <= 1.0e9


def test_benchmark_writes_json_markdown_and_a_chart(generator_file, tmp_path):
    report = export_generator(generator_file, tmp_path, quantizations=("fp32",), saved_model=False)
    results = benchmark_models(
        [report.variants["fp32"]["file"]], (1, 2), warmup=1, runs=2, progress=False
    )
    assert [r["threads"] for r in results] == [1, 2]
    assert all(r["median_ms"] > 0 and r["peak_rss_mb"] > 0 for r in results)
    assert results[0]["gmacs"] == pytest.approx(report.variants["fp32"]["macs"] / 1e9)
    paths = write_benchmark(results, tmp_path / "bench", runs=2)
    assert json.loads(paths["json"].read_text())["results"][0]["threads"] == 1
    assert paths["png"].stat().st_size > 0 and "| 1 |" in paths["md"].read_text()


def test_benchmark_names_a_file_that_is_not_a_model(tmp_path):
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError, match="broken.tflite"):
        benchmark_models([tmp_path / "broken.tflite"], (1,), progress=False)


def test_export_and_benchmark_commands(generator_file, tmp_path, capsys):
    out = tmp_path / "exported"
    assert (
        main(
            [
                "export",
                str(generator_file),
                "--out",
                str(out),
                "--quantize",
                "fp16",
                "--no-saved-model",
            ]
        )
        == 0
    )
    assert (out / "generator_ab_fp16.tflite").is_file()
    assert (
        main(
            [
                "benchmark",
                str(out / "generator_ab_fp16.tflite"),
                "--threads",
                "1",
                "--runs",
                "2",
                "--warmup",
                "1",
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    assert "generator_ab_fp16.tflite" in (tmp_path / "b.md").read_text()
    assert main(["export", str(generator_file), "--out", str(out), "--size", "30"]) == 2
    assert "size must be a multiple of 4 for generator 'resnet_6blocks', got 30" in (
        capsys.readouterr().err
    )


def test_psnr_of_identical_images_is_infinite():
    a = np.zeros((2, 4, 4, 3), np.uint8)
    assert psnr(a, a) == float("inf")
    assert psnr(a, a + 1) == pytest.approx(48.13, abs=0.01)


def test_every_quantization_name_has_one_recipe_and_the_cli_offers_exactly_those():
    from cyclegan_tf import registry
    from cyclegan_tf.cli import build_parser
    from cyclegan_tf.export.tflite import QUANTIZATION_RECIPES

    # int8 is the calibrated path (calibrate_int8, then int8_ranges.quantize)
    assert sorted([*QUANTIZATION_RECIPES, "int8"]) == sorted(registry.QUANTIZATIONS)
    export = build_parser()._subparsers._group_actions[0].choices["export"]
    choices = {a.dest: a.choices for a in export._actions if a.choices}
    assert list(choices["quantize"]) == [*registry.QUANTIZATIONS, "all"]
    assert list(choices["io"]) == list(registry.IO_TYPES)
    assert list(choices["direction"]) == list(registry.DIRECTIONS)


def test_a_tflite_sidecar_written_before_the_key_was_renamed_still_loads(tmp_path):
    """Files in users' hands say `training_config`; today's say `config`, like the .keras ones."""
    from cyclegan_tf.config import CycleGANConfig
    from cyclegan_tf.evaluation.translators import load_translators

    config = CycleGANConfig.preset("tiny", ngf=4)
    generator = build_generator("resnet_6blocks", ngf=4)
    for key in ("training_config", "config"):
        path = tmp_path / key / "generator_ab_fp32.tflite"
        path.parent.mkdir()
        path.write_bytes(convert_generator(generator, "fp32", 32))
        sidecar = {"format": "cyclegan-tf tflite", "direction": "AtoB", key: config.to_dict()}
        path.with_suffix(".json").write_text(json.dumps(sidecar))
        translator = load_translators(str(path), "AtoB")["AtoB"]
        assert translator.config == config


@pytest.mark.parametrize(("io", "mean", "std", "output_range"), [
    ("uint8", 0.0, 1.0, [0.0, 255.0]),
    ("float", 127.5, 127.5, [-1.0, 1.0]),
])  # fmt: skip
def test_exported_tflite_carries_standard_metadata_that_reads_back(
    generator_file, tmp_path, io, mean, std, output_range
):
    from cyclegan_tf import __version__
    from cyclegan_tf.export.tflite_metadata import read_metadata

    export_generator(generator_file, tmp_path, quantizations=("fp32",), io=io, saved_model=False)
    model = (tmp_path / "generator_ab_fp32.tflite").read_bytes()
    metadata = read_metadata(model)
    assert metadata["name"] == "cyclegan-tf photo -> anime generator"
    assert metadata["version"] == __version__ and metadata["min_parser_version"] == "1.0.0"
    assert "research use" in metadata["license"]
    assert metadata["input"]["color_space"] == "RGB"
    assert metadata["input"]["mean"] == [mean] * 3 and metadata["input"]["std"] == [std] * 3
    assert metadata["output"]["range"] == output_range
    # The runtime ignores the block: same outputs as the model without it.
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    x = ((x + 1) * 127.5).astype("uint8") if io == "uint8" else x
    assert TFLiteModel(tmp_path / "generator_ab_fp32.tflite").run(x).shape == (1, 32, 32, 3)


def test_the_shipped_phone_model_carries_standard_metadata():
    from cyclegan_tf.export.tflite_metadata import read_metadata
    from cyclegan_tf.pretrained import resolve_model

    metadata = read_metadata(resolve_model("selfie2anime-mobile:int8").read_bytes())
    assert metadata["input"]["std"] == [1.0] * 3 and metadata["output"]["range"] == [0.0, 255.0]


def test_export_can_write_a_float16_keras_copy_and_keep_chosen_ops_float(generator_file, tmp_path):
    from cyclegan_tf.checkpoints import load_generator
    from cyclegan_tf.export.tflite import calibrate_int8

    generator, _ = load_generator(generator_file)
    images = [np.random.default_rng(i).integers(0, 256, (32, 32, 3), np.uint8) for i in range(100)]
    calibrated = calibrate_int8(generator, 32, "uint8", images, progress=False)
    from cyclegan_tf.export.int8_ranges import conv_nodes

    last_conv = conv_nodes(calibrated)[-1]
    report = export_generator(
        generator_file,
        tmp_path,
        quantizations=("int8",),
        io="uint8",
        saved_model=False,
        half_keras=True,
        float_nodes=(last_conv,),
    )
    assert report.variants["int8"]["float_ops"].get("CONV_2D") == 1
    half = report.half_keras
    assert half["psnr_db"] > 40 and half["bytes"] < generator_file.stat().st_size
    assert (tmp_path / "generator_ab.keras").is_file() and (
        tmp_path / "generator_ab.json"
    ).is_file()
    assert "float16 weights" in (tmp_path / "parity.md").read_text()
    with pytest.raises(ValueError, match="not ops of this model"):
        export_generator(
            generator_file, tmp_path / "bad", quantizations=("int8",), float_nodes=("nope",)
        )
