"""The package ``weakstrong`` has no import cycle, lazy imports included (issue 26): each module can be read
(and tested) with only the modules below it.  A subpackage's ``__init__`` counts as a module, so a submodule
importing a name from its own package's ``__init__`` while that ``__init__`` imports it is a cycle too.  The
graph is the one the code versions read (``weakstrong.envs.ImportGraph``)."""

from __future__ import annotations

import pytest

from helpers.import_graph import find_cycle
from weakstrong.envs import EnvError, ImportGraph


def test_the_package_has_no_import_cycle():
    graph = ImportGraph().module_graph()
    assert len(graph) > 40 and "weakstrong.sampling.params" in graph
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


#: A package with a subpackage, and the imports each module makes.
SOURCES = {
    "a.py": "from weakstrong.sub.b import f\nimport os\n\nx = 1\n",
    "lazy.py": "def f():\n    from weakstrong.sub import c\n    return c\n",   # a lazy import of a submodule
    "init_name.py": "from weakstrong.sub import name_in_init\n",
    "aliased.py": "import weakstrong.sub.c as c\n",
    "attribute.py": "import weakstrong.a\n\n\ndef g():\n    return weakstrong.a.x\n",
    "sub/__init__.py": "from weakstrong.sub.b import f\nname_in_init = 1\n",
    "sub/b.py": "def f():\n    return 1\n",
    "sub/c.py": "from weakstrong.a import x\n",
}


@pytest.fixture
def graph(tmp_path):
    for name, source in SOURCES.items():
        path = tmp_path / "weakstrong" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return ImportGraph(tmp_path).module_graph()


@pytest.mark.parametrize("module, expected", [
    ("weakstrong.a", {"weakstrong.sub.b"}),
    ("weakstrong.lazy", {"weakstrong.sub.c"}),
    ("weakstrong.init_name", {"weakstrong.sub"}),
    ("weakstrong.aliased", {"weakstrong.sub.c"}),
    ("weakstrong.attribute", {"weakstrong.a"}),
    ("weakstrong.sub", {"weakstrong.sub.b"}),
    ("weakstrong.sub.c", {"weakstrong.a"}),
])
def test_import_reader(graph, module, expected):
    assert graph[module] == expected


def test_a_relative_import_is_refused_by_file_and_line(tmp_path):
    (tmp_path / "weakstrong").mkdir()
    (tmp_path / "weakstrong" / "a.py").write_text("import os\nfrom . import b\n")
    (tmp_path / "weakstrong" / "b.py").write_text("")
    with pytest.raises(EnvError, match=r"a\.py, line 2: relative import"):
        ImportGraph(tmp_path)


def test_cycle_finder():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    graph = {"weakstrong.sub": {"weakstrong.sub.b"}, "weakstrong.sub.b": {"weakstrong.sub"}}
    assert find_cycle(graph) == ["weakstrong.sub", "weakstrong.sub.b", "weakstrong.sub"]
