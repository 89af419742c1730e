"""The grading package is layered: each module imports only modules below it (issue 26, item 1).

The package's import graph (``weakstrong.envs.ImportGraph``: read with ``ast``, nothing imported, so imports
inside functions count too; tested in tests/test_package_imports.py), restricted to ``weakstrong/grading/``,
must be acyclic and follow the order declared in ``weakstrong.grading.LAYERS``: a module imports only modules
listed before it, and never the package ``__init__`` (which sits on top and may import them all).
"""

from __future__ import annotations

import ast
from pathlib import Path


from helpers.import_graph import find_cycle
from weakstrong.envs import ImportGraph

PACKAGE = "weakstrong.grading"
ROOT = Path(__file__).resolve().parents[1] / "weakstrong" / "grading"
MAX_LINES = 500


def declared_layers() -> list[str]:
    """``LAYERS`` as written in the package's ``__init__.py`` (read from its source, not imported)."""
    tree = ast.parse((ROOT / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LAYERS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("weakstrong/grading/__init__.py declares no LAYERS")


def import_graph() -> dict[str, set[str]]:
    """The grading modules by name ("__init__" for the package) with the grading modules each imports, from the
    package's import graph (weakstrong.envs.ImportGraph)."""
    def short(module: str) -> str:
        return "__init__" if module == PACKAGE else module.removeprefix(PACKAGE + ".")

    return {short(module): {short(t) for t in targets if t == PACKAGE or t.startswith(PACKAGE + ".")}
            for module, targets in ImportGraph().module_graph().items()
            if module == PACKAGE or module.startswith(PACKAGE + ".")}


def test_every_module_is_a_declared_layer():
    layers = declared_layers()
    assert len(layers) == len(set(layers)), f"a layer is declared twice: {layers}"
    modules = {p.stem for p in ROOT.glob("*.py")} - {"__init__"}
    assert modules == set(layers), (f"modules not in LAYERS: {sorted(modules - set(layers))}; "
                                    f"LAYERS without a module: {sorted(set(layers) - modules)}")
    assert not (ROOT.parent / "grading.py").exists(), "weakstrong/grading.py would shadow or confuse the package"


def test_import_graph_is_acyclic():
    graph = import_graph()
    assert find_cycle(graph) is None, f"import cycle in {PACKAGE}: {' -> '.join(find_cycle(graph))}"


def test_modules_import_only_lower_layers():
    layers = declared_layers()
    rank = {name: i for i, name in enumerate(layers)}
    upward = []
    for module, targets in import_graph().items():
        if module == "__init__":
            continue  # the public API on top may import every layer
        for target in sorted(targets):
            if target == "__init__" or rank[target] >= rank[module]:
                upward.append(f"{module} imports {target}")
    assert upward == [], f"imports against the layer order {layers}: {upward}"


def test_modules_stay_small():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in ROOT.glob("*.py")}
    assert all(n <= MAX_LINES for n in sizes.values()), f"over {MAX_LINES} lines: {sizes}"


def test_public_names_and_private_names_in_use_are_importable():
    import weakstrong.grading as grading
    from weakstrong.grading import (  # noqa: F401 - what other modules, scripts, tests and bench import
        DEFAULT_TIMEOUT,
        GRADER_VERSION,
        MAX_ANSWER_CHARS,
        MIN_SIG_DIGITS,
        START_TIMEOUT,
        extract_answer,
        grade,
        grade_many,
        grader_settings,
        is_equivalent,
        undecided_summary,
    )

    for name in ("_fast", "_available_cpus", "_idle", "_shutdown", "_node", "_clean", "_quick_value"):
        assert hasattr(grading, name), name
    assert tuple(grading.LAYERS) == tuple(declared_layers())
