"""The walk-through notebook runs top to bottom (smoke sizes) and is committed without outputs."""

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs; clear them"
            assert cell.execution_count is None, f"{path.name}: clear the execution counts"


def test_train_notebook_runs_and_produces_its_figures_and_files(tmp_path, monkeypatch):
    path = Path(__file__).parents[1] / "notebooks" / "train_selfie2anime.ipynb"
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.setenv("CYCLEGAN_SMOKE", "1")
    monkeypatch.setenv("CYCLEGAN_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    run = tmp_path / "notebook"
    for name in (
        "figures/batch.png",
        "figures/translations.png",
        "figures/tflite_vs_keras.png",
        "samples/latest.png",
        "losses.png",
        "generator_ab.keras",
        "export/generator_ab_int8.tflite",
        "export/parity.png",
        "evaluation/best_worst_AtoB.png",
    ):
        assert (run / name).is_file(), f"the notebook did not write {name}"
    keras_eval = json.loads((run / "evaluation" / "evaluation.json").read_text())
    tflite_eval = json.loads((run / "evaluation_int8" / "evaluation.json").read_text())
    assert set(keras_eval["directions"]) == {"AtoB", "BtoA"}
    assert list(tflite_eval["directions"]) == ["AtoB"]
    images = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 6  # batch, samples, curves, translations, tflite, best/worst
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert os.environ["CYCLEGAN_SMOKE"] == "1"
