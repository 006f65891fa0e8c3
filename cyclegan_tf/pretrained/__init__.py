"""Models that ship inside the package, usable by name wherever a model path is accepted.

`cyclegan-tf translate selfie2anime-mobile photo.jpg --out anime/` needs no download: the files
are package data (a non-editable install carries them). A name resolves to the folder's Keras
generator; `NAME:int8` to its int8 `.tflite` (uint8 I/O). Each model folder holds the generator
with its sidecar JSON, the `.tflite` with its sidecar, and `MODEL_CARD.md` (data, recipe, numbers,
failure cases and terms of use).

Example:
    path = resolve_model("selfie2anime-mobile")        # .../generator_ab.keras
    path = resolve_model("selfie2anime-mobile:int8")   # .../generator_ab_int8.tflite
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class PretrainedModel:
    """A shipped photo->anime generator and the size it is meant to run at."""

    name: str
    summary: str
    run_size: int
    terms: str

    @property
    def folder(self) -> Path:
        return FOLDER / self.name

    def files(self) -> dict[str, Path]:
        """Variant -> file: 'keras' (the generator) and 'int8' (the phone model)."""
        return {
            "keras": self.folder / "generator_ab.keras",
            "int8": self.folder / "generator_ab_int8.tflite",
        }


PRETRAINED: dict[str, PretrainedModel] = {
    model.name: model
    for model in (
        PretrainedModel(
            name="selfie2anime-mobile",
            summary="selfie -> anime face, phone-size generator (mobile_deep, ngf 16, float16 "
            "weights in the .keras), trained on selfie2anime at 128 px, runs at 256 px",
            run_size=256,
            terms="weights for research use only (the selfie2anime data has no license); "
            "code Apache-2.0",
        ),
    )
}


def split_name(spec: str | os.PathLike) -> tuple[PretrainedModel, str] | None:
    """(model, variant) when `spec` names a shipped model and is not an existing path."""
    text = str(spec)
    if os.path.exists(text):
        return None
    name, _, variant = text.partition(":")
    if name not in PRETRAINED:
        return None
    model = PRETRAINED[name]
    variant = variant or "keras"
    if variant not in model.files():
        raise ValueError(
            f"model {text!r}: {name} has the variants {sorted(model.files())}, not {variant!r}"
        )
    return model, variant


def resolve_model(spec: str | os.PathLike) -> Path:
    """A path for `spec`: a shipped model's file when it names one, else `spec` itself."""
    found = split_name(spec)
    if found is None:
        return Path(spec)
    model, variant = found
    path = model.files()[variant]
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped model {model.name} is missing {path} in this install; reinstall "
            "cyclegan-tf (the files are package data)"
        )
    return path


def run_size(spec: str | os.PathLike) -> int | None:
    """The size a shipped model is meant to run at, or None for other models."""
    found = split_name(spec)
    return found[0].run_size if found else None


def describe_shipped() -> str:
    """One paragraph per shipped model, for `cyclegan-tf info`."""
    lines = ["shipped models (use the name wherever a model path is accepted):"]
    for model in PRETRAINED.values():
        present = [
            model.name if variant == "keras" else f"{model.name}:{variant}"
            for variant, path in model.files().items()
            if path.is_file()
        ]
        lines += [
            f"  {model.name}: {model.summary}",
            f"    variants: {', '.join(present) or 'none installed'}",
            f"    terms: {model.terms}; model card: {model.folder / 'MODEL_CARD.md'}",
        ]
    return "\n".join(lines)
