"""Standard TFLite model metadata (`TFLITE_METADATA`, schema `M001`) embedded in each export.

Android Studio's ML Model Binding, the TFLite Support task library and Netron read this block; it
says what the model is and how to feed it: name, description, version, author, license, the input
image's colour space and normalization (mean/std that turn camera bytes into the model's input),
and the output's value range. The JSON sidecar stays beside the file with our own details.

The schema's Python classes are vendored (`export/vendor`); the block is added to the model's
flatbuffer with TensorFlow Lite's `flatbuffer_utils`, as `tflite_support`'s MetadataPopulator does.

Example:
    tflite_bytes = with_metadata(tflite_bytes, describe_generator("AtoB", "uint8", "0.1.0"))
    read_metadata(tflite_bytes)["name"]  # 'cyclegan-tf photo -> anime generator'
"""

from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
from tensorflow.lite.python import schema_py_generated as model_schema
from tensorflow.lite.tools import flatbuffer_utils

from cyclegan_tf.export.vendor import metadata_schema_py_generated as meta

METADATA_NAME = b"TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
# Only fields of metadata schema 1.0.0 are written (image properties, normalization, stats).
MIN_PARSER_VERSION = "1.0.0"
LICENSE = (
    "Code: Apache-2.0 (cyclegan-tf). Weights: whatever the training data allows; the shipped "
    "selfie2anime model is for research use (its dataset has no license)."
)


@dataclass(frozen=True)
class GeneratorDescription:
    """What the metadata says about an exported generator."""

    name: str
    description: str
    version: str
    author: str
    license: str
    input_mean: float
    input_std: float
    output_range: tuple[float, float]
    input_name: str = "image"
    output_name: str = "translation"


def describe_generator(
    direction: str, io: str, version: str, license_text: str = LICENSE
) -> GeneratorDescription:
    """The description of a generator export: photo->anime (AtoB) or back, float or uint8 I/O."""
    what = "photo -> anime" if direction == "AtoB" else "anime -> photo"
    if io == "uint8":
        mean, std, output = 0.0, 1.0, (0.0, 255.0)  # the graph scales bytes itself
        feed = "RGB bytes 0-255 as they are"
    else:
        mean, std, output = 127.5, 127.5, (-1.0, 1.0)  # (byte - 127.5) / 127.5 in [-1, 1]
        feed = "float RGB in [-1, 1] = (byte - 127.5) / 127.5"
    return GeneratorDescription(
        name=f"cyclegan-tf {what} generator",
        description=(
            f"CycleGAN generator ({direction}: {what}), square RGB image in, translated image "
            f"of the same size out. Input: {feed}; centre-crop to a square and resize first."
        ),
        version=version,
        author="cyclegan-tf",
        license=license_text,
        input_mean=mean,
        input_std=std,
        output_range=output,
    )


def with_metadata(model: bytes, description: GeneratorDescription) -> bytes:
    """`model` with a standard TFLITE_METADATA block (replacing any earlier one)."""
    block = _metadata_block(description)
    tree = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    buffer = model_schema.BufferT()
    buffer.data = list(block)
    entries = [m for m in (tree.metadata or []) if m.name != METADATA_NAME]
    tree.buffers.append(buffer)
    entry = model_schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(tree.buffers) - 1
    tree.metadata = entries + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


def read_metadata(model: bytes) -> dict | None:
    """The TFLITE_METADATA of a `.tflite` as a plain dict, read with the standard schema."""
    tree = model_schema.Model.GetRootAs(model, 0)
    for i in range(tree.MetadataLength()):
        entry = tree.Metadata(i)
        if entry.Name() != METADATA_NAME:
            continue
        data = tree.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
        if not meta.ModelMetadata.ModelMetadataBufferHasIdentifier(data, 0):
            raise ValueError("TFLITE_METADATA block without the M001 identifier")
        return _to_dict(meta.ModelMetadataT.InitFromObj(meta.ModelMetadata.GetRootAs(data, 0)))
    return None


def _metadata_block(d: GeneratorDescription) -> bytes:
    image = meta.ImagePropertiesT()
    image.colorSpace = meta.ColorSpaceType.RGB
    content = meta.ContentT()
    content.contentPropertiesType = meta.ContentProperties.ImageProperties
    content.contentProperties = image

    normalization = meta.NormalizationOptionsT()
    normalization.mean, normalization.std = [d.input_mean] * 3, [d.input_std] * 3
    unit = meta.ProcessUnitT()
    unit.optionsType = meta.ProcessUnitOptions.NormalizationOptions
    unit.options = normalization

    inputs = meta.TensorMetadataT()
    inputs.name = d.input_name
    inputs.description = "the photo (or drawing) to translate, RGB"
    inputs.content, inputs.processUnits = content, [unit]
    inputs.stats = _stats(0.0, 255.0)  # the camera bytes the normalization starts from

    outputs = meta.TensorMetadataT()
    outputs.name = d.output_name
    outputs.description = "the translated image, RGB"
    outputs.content = content
    outputs.stats = _stats(*d.output_range)

    subgraph = meta.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [inputs], [outputs]
    model = meta.ModelMetadataT()
    model.name, model.description, model.version = d.name, d.description, d.version
    model.author, model.license = d.author, d.license
    model.subgraphMetadata = [subgraph]
    model.minParserVersion = MIN_PARSER_VERSION
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), FILE_IDENTIFIER)
    return bytes(builder.Output())


def _stats(low: float, high: float):
    stats = meta.StatsT()
    stats.min, stats.max = [low], [high]
    return stats


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _to_dict(model) -> dict:
    def tensor(t) -> dict:
        units = t.processUnits or []
        norm = next(
            (u.options for u in units if isinstance(u.options, meta.NormalizationOptionsT)), None
        )
        color = t.content.contentProperties.colorSpace if t.content else None
        return {
            "name": _text(t.name),
            "description": _text(t.description),
            "color_space": {meta.ColorSpaceType.RGB: "RGB"}.get(color, color),
            "mean": None if norm is None else [float(v) for v in norm.mean],
            "std": None if norm is None else [float(v) for v in norm.std],
            "range": [float(t.stats.min[0]), float(t.stats.max[0])] if t.stats else None,
        }

    subgraph = model.subgraphMetadata[0]
    return {
        "name": _text(model.name),
        "description": _text(model.description),
        "version": _text(model.version),
        "author": _text(model.author),
        "license": _text(model.license),
        "min_parser_version": _text(model.minParserVersion),
        "input": tensor(subgraph.inputTensorMetadata[0]),
        "output": tensor(subgraph.outputTensorMetadata[0]),
    }
