"""The layering of docs/ARCHITECTURE.md, read from the modules' own imports (lazy ones included):
no import cycle between modules, and every module imports only from its own unit or lower layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cyclegan_tf"

# Lowest first; a unit is a top-level module or subpackage of cyclegan_tf. Keep in step with
# docs/ARCHITECTURE.md.
LAYERS = [
    ["atomic", "errors", "imaging", "plots", "registry", "pretrained", "run_folder"],
    ["config", "machine", "inference", "dtype_policies"],
    [
        "data",
        "networks",
        "losses",
        "image_pool",
        "precision",
        "distribute",
        "half_weights",
        "weight_average",
    ],
    ["checkpoints", "faces", "model"],
    ["training_state", "callbacks", "export", "translate"],
    ["evaluation"],
    ["training", "demo", "info"],
    ["cli"],
]


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("cyclegan_tf", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("cyclegan_tf"):
                continue
            for alias in node.names:  # `from cyclegan_tf.data import synthetic` is a module
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cyclegan_tf")}
    return found & known


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    return {name: imports_of(path, set(names)) - {name} for name, path in names.items()}


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cyclegan_tf"


def test_every_unit_has_a_layer():
    units = {unit(m) for m in import_graph()} - {"cyclegan_tf"}
    placed = {u for layer in LAYERS for u in layer}
    assert units == placed, f"add to LAYERS (and docs/ARCHITECTURE.md): {sorted(units - placed)}"


def test_the_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    # A package's __init__ re-exports its modules: an edge into the package is an edge to them.
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for dependency in sorted(graph[module]):
            if dependency.startswith(module + "."):
                continue  # a package's __init__ importing its own modules
            if state.get(dependency) == "open":
                cycle = path[path.index(dependency) :] + [dependency]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dependency not in state:
                visit(dependency)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_imports_go_only_down_the_layers():
    level = {u: i for i, layer in enumerate(LAYERS) for u in layer}
    level["cyclegan_tf"] = 0  # the package's __init__: config's public names only
    wrong = [
        f"{module} (layer {level[unit(module)]}) imports {dependency} "
        f"(layer {level[unit(dependency)]})"
        for module, dependencies in import_graph().items()
        for dependency in dependencies
        if unit(module) != unit(dependency)
        and level[unit(dependency)] >= level[unit(module)]
        and unit(module) != "cyclegan_tf"
    ]
    assert not wrong, "\n".join(sorted(wrong))
