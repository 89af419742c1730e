"""Import graphs read from source with ``ast`` (nothing is imported; imports inside functions count too), and
the cycle finder the layering tests use."""

from __future__ import annotations

import ast
from pathlib import Path


def package_modules(root: Path) -> dict[str, Path]:
    """The modules of the package at ``root`` by dotted name (a subpackage by its name, from ``__init__.py``)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ``modules`` that defines ``name`` (a module, or a name inside one)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def module_imports(source: str, module: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``source`` (the module ``module``) imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {_owner(alias.name, modules) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            found |= {_owner(f"{target}.{alias.name}", modules) for alias in node.names}
    return found - {None, module}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the package at ``root`` with the package's modules it imports."""
    modules = package_modules(root)
    return {name: module_imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", modules)
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None
