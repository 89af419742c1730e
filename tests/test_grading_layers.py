"""The grading package is layered: each module imports only modules below it (issue 26, item 1).

The modules of ``weakstrong/grading/`` are parsed with ``ast`` (nothing is imported to find the imports, so
imports inside functions count too), and the package's import graph must be acyclic and follow the order
declared in ``weakstrong.grading.LAYERS``: a module imports only modules listed before it, and never the
package ``__init__`` (which sits on top and may import them all).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers.import_graph import find_cycle

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


def package_imports(source: str, module: str, submodules: set[str]) -> set[str]:
    """The package modules that ``source`` (the module ``module``; "__init__" for the package) imports:
    submodule names, or "__init__" for the package itself.  Relative and absolute imports, anywhere."""
    base = PACKAGE if module == "__init__" else f"{PACKAGE}.{module}"
    is_package = module == "__init__"
    found = set()

    def add(target: str, names=()):
        if target == PACKAGE:  # "from weakstrong.grading import x": a submodule, or a name of __init__
            for name in names or ["*"]:
                found.add(name if name in submodules else "__init__")
        elif target.startswith(PACKAGE + "."):
            found.add(target[len(PACKAGE) + 1 :].split(".")[0])

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")
                anchor = parts if is_package else parts[:-1]  # the package a relative import starts from
                anchor = anchor[: len(anchor) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            add(target, [alias.name for alias in node.names])
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {p.stem: p for p in ROOT.glob("*.py")}
    submodules = set(files) - {"__init__"}
    return {name: package_imports(path.read_text(encoding="utf-8"), name, submodules) for name, path in files.items()}


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


# --- the checker itself --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module, source, expected", [
    ("trees", "from weakstrong.grading.text import _clean\nfrom weakstrong.styles import check_style", {"text"}),
    ("trees", "from .text import _clean\nfrom . import exact", {"text", "exact"}),
    ("text", "def f():\n    from weakstrong.grading.pool import _idle", {"pool"}),  # a lazy import counts
    ("text", "from weakstrong.grading import grade", {"__init__"}),
    ("text", "from . import extract_answer", {"__init__"}),
    ("text", "import weakstrong.grading.compare", {"compare"}),
    ("__init__", "from .pool import _idle\nfrom weakstrong.grading import trees", {"pool", "trees"}),
])
def test_import_reader(module, source, expected):
    submodules = {"text", "exact", "trees", "pool", "compare"}
    assert package_imports(source, module, submodules) == expected
