"""The package ``weakstrong`` has no import cycle, lazy imports included (issue 26): each module can be read
(and tested) with only the modules below it.  A subpackage's ``__init__`` counts as a module, so a submodule
importing a name from its own package's ``__init__`` while that ``__init__`` imports it is a cycle too."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.import_graph import find_cycle, import_graph, module_imports

PACKAGE = Path(__file__).resolve().parents[1] / "weakstrong"


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 40 and "weakstrong.sampling.params" in graph
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


MODULES = {name: Path(name) for name in ("pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.sub.c")}


@pytest.mark.parametrize("module, is_package, source, expected", [
    ("pkg.a", False, "from pkg.sub.b import f\nimport os", {"pkg.sub.b"}),
    ("pkg.a", False, "def f():\n    from pkg.sub import c", {"pkg.sub.c"}),  # a lazy import of a submodule
    ("pkg.a", False, "from pkg.sub import name_in_init", {"pkg.sub"}),
    ("pkg.sub.b", False, "from . import c\nfrom .. import a", {"pkg.sub.c", "pkg.a"}),
    ("pkg.sub", True, "from .b import f", {"pkg.sub.b"}),
    ("pkg.sub.b", False, "import pkg.sub.c as c", {"pkg.sub.c"}),
])
def test_import_reader(module, is_package, source, expected):
    assert module_imports(source, module, is_package, MODULES) == expected


def test_cycle_finder():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
