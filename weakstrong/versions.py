"""The code version of a rule's script: a digest of the package code the script can run, for the rule's params.

Snakemake reruns a job when its script changes, not when the package code the script calls does; a rule with
``code_version=get_code_version("scripts/<script>.py")`` in its params (rules/common.smk) reruns when any of
that code changes.  Which modules a script can run is :class:`weakstrong.envs.ImportGraph`'s answer, the graph
the env checks use: the modules it imports, transitively, and those its reachable functions import lazily.

A module of a subpackage (``weakstrong.grading``, ``weakstrong.sampling``) stands for the whole subpackage:
every file under its directory is hashed (a package's data files too).  A plain module is its own file.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from weakstrong.envs import PACKAGE, ROOT, ImportGraph

#: Hex digits of a code version.
LENGTH = 16


@cache
def import_graph(root: Path = ROOT) -> ImportGraph:
    """The package's import graph under ``root``, built once per process."""
    return ImportGraph(root)


def code_unit(module: str, graph: ImportGraph) -> Path:
    """The file or directory whose contents stand for ``module``: the directory of the subpackage of the
    package that it is or is in (``weakstrong.grading.pool`` -> ``weakstrong/grading``), else its own file."""
    parts = module.split(".")
    if len(parts) > 1 and graph.modules[module].parent != graph.root / PACKAGE:
        return graph.root / PACKAGE / parts[1]
    return graph.modules[module]


def _unit_files(unit: Path) -> list[Path]:
    """A module's file, or every file of a package's directory but Python's caches and hidden files."""
    if unit.is_file():
        return [unit]
    return sorted(path for path in unit.rglob("*") if path.is_file() and path.suffix not in (".pyc", ".pyo")
                  and not any(part == "__pycache__" or part.startswith(".") for part in path.relative_to(unit).parts))


def code_units(script: str | Path, root: str | Path = ROOT, graph: ImportGraph | None = None) -> set[str]:
    """The units (modules and subpackages, as paths relative to ``root``) of the package code ``script`` runs."""
    root = Path(root)
    graph = graph or import_graph(root)
    return {code_unit(module, graph).relative_to(root).as_posix()
            for module in graph.package_modules(root / script)}


def code_files(script: str | Path, root: str | Path = ROOT, graph: ImportGraph | None = None) -> list[Path]:
    """Every file of the package code ``script`` (relative to ``root``, or absolute) runs, in a stable order."""
    root = Path(root)
    return sorted({path for unit in code_units(script, root, graph) for path in _unit_files(root / unit)})


def code_version(script: str | Path, root: str | Path = ROOT, graph: ImportGraph | None = None) -> str:
    """The digest of :func:`code_files`: their paths relative to ``root`` and their contents."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in code_files(script, root, graph):
        content = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:LENGTH]


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a file's contents, for a param that reruns a rule when the file (a template) changes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
