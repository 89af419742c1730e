"""The rules' software environments (``envs/*.yaml``): what a rule's script needs, and the envs' locks.

A script needs the third-party modules its own code imports and those of every package function it can
reach.  The package imports heavy libraries (torch, vLLM) inside the functions that use them, so that the
torch-free rules run in a light env; :meth:`ImportGraph.requirements` therefore follows calls function by
function (a name resolved statically: a top-level def, ``module.attr`` or ``from module import name``), not
module by module: importing ``weakstrong.data`` needs nothing, calling its ``load_source`` needs
``datasets``.  Every branch of a function counts (``make_generator`` reaches every backend), so the answer
errs on the side of more.

``python -m weakstrong.envs lock`` (``make lock``) compiles ``requirements/*.lock``: each env file's full
closure, and the development venv's (``make``) from pyproject.toml.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "weakstrong"
#: Conda env files of the rules and their locks, compiled for the machines the workflow runs on.
ENVS_DIR = ROOT / "envs"
LOCKS_DIR = ROOT / "requirements"
PYTHON_VERSION = "3.11"   # as schemas/env.schema.yaml has the env files install
PLATFORM = "x86_64-manylinux_2_28"


class EnvError(ValueError):
    """An env file that cannot be read as the workflow's env files are written."""


def put_on_pythonpath(directory: str, environ: dict | None = None) -> None:
    """Put ``directory`` (the workflow's source) first on PYTHONPATH, once: jobs, which inherit it, import the
    package from there in whatever env they run, and so do the processes a job starts (``accelerate
    launch``), which Snakemake's own additions to a script's ``sys.path`` do not reach."""
    environ = os.environ if environ is None else environ
    paths = [path for path in environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    if directory not in paths:
        environ["PYTHONPATH"] = os.pathsep.join([directory, *paths])


# --- what a script needs ---------------------------------------------------------------------------------

Node = tuple[str, str | None]  # (module, top-level name); None is the module's import-time code


@dataclass
class _Scope:
    """What one body of code (a module's top level, or one top-level def) imports and refers to."""
    external: set[str] = field(default_factory=set)
    edges: set[Node] = field(default_factory=set)


@dataclass
class _Module:
    name: str
    aliases: dict[str, Node]          # local name -> internal module (name None) or internal (module, name)
    defs: dict[str, ast.AST]
    top: _Scope


def _package_modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root``: dotted name -> file."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _top_level(name: str) -> str:
    return name.split(".", 1)[0]


def _import_targets(node: ast.Import | ast.ImportFrom, modules: dict[str, Path], where: str):
    """(local alias, internal target or None, external top-level module or None) of each imported name."""
    if isinstance(node, ast.ImportFrom) and node.level:
        raise EnvError(f"{where}, line {node.lineno}: relative import; the analysis reads absolute imports only")
    if isinstance(node, ast.Import):
        for alias in node.names:
            if _top_level(alias.name) == PACKAGE:
                # `import weakstrong.x` binds `weakstrong`; `import weakstrong.x as y` binds the module
                yield (alias.asname or PACKAGE), ((alias.name if alias.asname else PACKAGE), None), None
            else:
                yield alias.asname or _top_level(alias.name), None, _top_level(alias.name)
        return
    if _top_level(node.module) != PACKAGE:
        for alias in node.names:
            yield alias.asname or alias.name, None, _top_level(node.module)
        return
    for alias in node.names:
        submodule = f"{node.module}.{alias.name}"
        target = (submodule, None) if submodule in modules else (node.module, alias.name)
        yield alias.asname or alias.name, target, None


def _walk(body: list[ast.AST], skip_defs: bool):
    """Every node of ``body``; with ``skip_defs``, not inside function bodies (a module's import-time code:
    decorators, defaults, class bodies and statements, but no function body)."""
    nodes = list(body)
    while nodes:
        node = nodes.pop()
        if skip_defs and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nodes.extend(getattr(node, "decorator_list", []))
            nodes.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
            continue
        yield node
        nodes.extend(ast.iter_child_nodes(node))


def _scan(body: list[ast.AST], module: _Module, modules: dict[str, Path], where: str, *, skip_defs: bool) -> _Scope:
    """The imports and internal references of ``body`` (see :func:`_walk`)."""
    scope = _Scope()
    aliases = dict(module.aliases)
    for node in _walk(body, skip_defs):    # imports first: a name may be used above its (lazy) import
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for local, target, external in _import_targets(node, modules, where):
                if external:
                    scope.external.add(external)
                else:
                    aliases[local] = target
                    scope.edges.add(target)
    for node in _walk(body, skip_defs):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = aliases.get(node.value.id)
            if target and target[1] is None:
                # `study.lr_label` or `weakstrong.study`: a name (or submodule) of an internal module
                submodule = f"{target[0]}.{node.attr}"
                scope.edges.add((submodule, None) if submodule in modules else (target[0], node.attr))
        elif isinstance(node, ast.Name):
            if node.id in aliases:
                scope.edges.add(aliases[node.id])
            elif node.id in module.defs:
                scope.edges.add((module.name, node.id))
    return scope


def _parse_module(name: str, path: Path, modules: dict[str, Path]) -> tuple[_Module, dict[str, _Scope]]:
    """A module's import-time scope and the scope of each of its top-level functions and classes."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    defs = {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    aliases = {}
    for node in _walk(tree.body, skip_defs=True):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for local, target, _ in _import_targets(node, modules, str(path)):
                if target:
                    aliases[local] = target
    module = _Module(name, aliases, defs, _Scope())
    module.top = _scan(tree.body, module, modules, str(path), skip_defs=True)
    scopes = {}
    for def_name, node in defs.items():
        body = node.body if isinstance(node, ast.ClassDef) else [*node.body, *node.args.defaults]
        scopes[def_name] = _scan(body, module, modules, str(path), skip_defs=False)
    return module, scopes


class ImportGraph:
    """The package's modules, function by function, for :meth:`requirements`."""

    def __init__(self, root: Path = ROOT):
        self.root = root
        self.modules = _package_modules(root)
        self.scopes: dict[Node, _Scope] = {}
        self.parsed: dict[str, _Module] = {}
        for name, path in self.modules.items():
            module, scopes = _parse_module(name, path, self.modules)
            self.parsed[name] = module
            self.scopes[(name, None)] = module.top
            self.scopes.update({(name, def_name): scope for def_name, scope in scopes.items()})

    def module_graph(self) -> dict[str, set[str]]:
        """Each module of the package with the package's modules it imports or names, anywhere in it (imports
        inside functions too); a subpackage's ``__init__`` is the module of the subpackage's name, so a name
        imported from a subpackage is an edge to its ``__init__``. The layering and cycle tests read this."""
        graph: dict[str, set[str]] = {name: set() for name in self.modules}
        for (module, _), scope in self.scopes.items():
            graph[module] |= {target for target, _ in scope.edges}
        return {module: targets - {module, PACKAGE} for module, targets in graph.items()}

    def _resolve(self, node: Node) -> list[Node]:
        """A reachable (module, name): the module's import-time code and the name's own scope, following a
        name that the module itself imported (a re-export) to where it is defined."""
        module, name = node
        if module not in self.modules:
            raise EnvError(f"{module} is imported but is no module of {self.root / PACKAGE}")
        if name is None or (module, name) in self.scopes:
            return [(module, None), node]
        alias = self.parsed[module].aliases.get(name)
        if alias is None:
            return [(module, None)]   # a module-level constant: its code runs at import
        return [(module, None), alias]

    def reach(self, script: Path) -> tuple[set[str], set[Node]]:
        """What ``script`` runs: the top-level modules it imports itself, and every (module, name) of the
        package it can reach, directly or through the package (each module's import-time code as (module,
        None))."""
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
        # a script runs top to bottom: every line of it, its own functions' bodies included, counts
        scope = _scan(tree.body, _Module(f"script {script}", {}, {}, _Scope()), self.modules, str(script),
                      skip_defs=False)
        seen, todo = set(), list(scope.edges)
        while todo:
            for node in self._resolve(todo.pop()):
                if node not in seen:
                    seen.add(node)
                    todo.extend(self.scopes[node].edges)
        return set(scope.external), seen

    def requirements(self, script: Path) -> set[str]:
        """Top-level third-party modules that ``script`` can import, directly or through the package."""
        external, reached = self.reach(script)
        needed = external.union(*(self.scopes[node].external for node in reached))
        return {module for module in needed if module not in sys.stdlib_module_names and module != "__future__"}

    def package_modules(self, script: Path) -> set[str]:
        """The package's modules whose code ``script`` can run (weakstrong.code_version hashes them)."""
        return {module for module, _ in self.reach(script)[1]}


def script_imports(script: Path) -> list[str]:
    """The script's own import statements, at any depth, as lines of code that import just what they do."""
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    return [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]


# --- env files and their locks ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EnvFile:
    path: Path
    pins: dict[str, str]        # canonical distribution name -> exact version
    options: tuple[str, ...]    # pip's index options ("--extra-index-url URL")

    def requirements(self) -> list[str]:
        return [f"{name}=={version}" for name, version in self.pins.items()]


def canonical(name: str) -> str:
    """PEP 503 name normalisation: PyYAML == pyyaml, latex2sympy2_extended == latex2sympy2-extended."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_env(path: Path, schema: Path = ROOT / "schemas" / "env.schema.yaml") -> EnvFile:
    """An env file, checked against ``schemas/env.schema.yaml``."""
    import jsonschema

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise EnvError(f"{path}: not YAML: {error}") from None
    validator = jsonschema.Draft202012Validator(yaml.safe_load(schema.read_text(encoding="utf-8")))
    problems = [f"{'.'.join(map(str, error.absolute_path)) or 'top level'}: {error.message}"
                for error in validator.iter_errors(spec)]
    if problems:
        raise EnvError(f"{path} does not match {schema.name}:\n  " + "\n  ".join(problems))
    pip = spec["dependencies"][2]
    pins, options = {}, []
    for entry in pip["pip"]:
        if entry.startswith("--"):
            options.append(entry)
            continue
        name, version = entry.split("==")
        if canonical(name) in pins:
            raise EnvError(f"{path}: {name} is pinned twice")
        pins[canonical(name)] = version
    return EnvFile(path, pins, tuple(options))


def read_lock(path: Path) -> dict[str, str]:
    """A lock's pins: canonical name -> version."""
    pins = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name.strip()):
            raise EnvError(f"{path}, line {number}: not a 'name==version' pin: {line!r}")
        if canonical(name) in pins:
            raise EnvError(f"{path}, line {number}: {name} is pinned twice")
        pins[canonical(name)] = version.strip()
    return pins


@dataclass(frozen=True)
class LockSpec:
    """How one lock is compiled: from an env file, or (the development venv, ``make``) from pyproject.toml."""
    name: str
    env: str | None = None                  # envs/<env>.yaml; None: pyproject.toml with ``extras``
    extras: tuple[str, ...] = ()
    cpu: bool = True                        # takes the dev venv's versions and the CPU overrides

    @property
    def path(self) -> Path:
        return LOCKS_DIR / f"{self.name}.lock"


DEV_LOCK = LockSpec("cpu", extras=("cpu", "slurm", "test"))
#: In this order: the dev venv's lock first, as the CPU envs take its versions (they are a part of what the
#: test suite runs in); the GPU env resolves on its own (vLLM 0.33 wants torch 2.14).
LOCKS = (DEV_LOCK, LockSpec("light", "light"), LockSpec("model-cpu", "model-cpu"),
         LockSpec("model-gpu", "model-gpu", cpu=False))
#: Versions that the CPU locks force against a declared requirement, and packages they leave out (why: there).
CPU_OVERRIDES = LOCKS_DIR / "cpu-overrides.txt"
#: The dev venv gets torch where the CPU model env does.
DEV_INDEX_FROM = "model-cpu"


def local_wheels() -> list[str]:
    """Directories where pip takes wheels from on this machine (its ``find-links``, from PIP_FIND_LINKS or a
    pip.conf), as in place of indexes it may not reach (torch's CPU build); uv does not read pip's settings."""
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    directories = []
    for line in listing.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".find-links"):
            directories += [d for d in ast.literal_eval(value).split() if d not in directories]
    return directories


def index_options(spec: LockSpec, find_links: list[str]) -> list[str]:
    """Where uv finds ``spec``'s packages besides PyPI: the env file's extra indexes, or ``find_links``, the
    directories that hold their wheels on a machine that cannot reach them."""
    if find_links:
        return [part for directory in find_links for part in ("--find-links", directory)]
    env = read_env(ENVS_DIR / f"{spec.env or DEV_INDEX_FROM}.yaml")
    return [part for option in env.options for part in option.split()]


def compile_command(spec: LockSpec, source: Path, output: Path, find_links: list[str]) -> list[str]:
    """``uv pip compile`` of ``source`` (requirements or pyproject.toml) into ``output``, whose pins it keeps
    where they still fit."""
    command = [sys.executable, "-m", "uv", "pip", "compile", str(source), "--output-file", str(output),
               "--python-version", PYTHON_VERSION, "--python-platform", PLATFORM,
               "--no-header", "--no-annotate", "--quiet"]
    for extra in spec.extras:
        command += ["--extra", extra]
    if spec.cpu:
        command += ["--overrides", str(CPU_OVERRIDES)]
        if spec.env:
            command += ["--constraints", str(DEV_LOCK.path)]
    return command + index_options(spec, find_links)


def install_command(spec: LockSpec, python: Path, find_links: list[str]) -> list[str]:
    """``uv pip install`` of exactly ``spec``'s locked packages into the environment of ``python``."""
    return [sys.executable, "-m", "uv", "pip", "install", "--python", str(python), "--no-deps", "--quiet",
            "--requirement", str(spec.path), *index_options(spec, find_links)]


def lock_header(spec: LockSpec) -> str:
    source = f"envs/{spec.env}.yaml" if spec.env else f"pyproject.toml [{','.join(spec.extras)}]"
    return (f"# Generated by `make lock` from {source} (uv pip compile for Python {PYTHON_VERSION}, {PLATFORM});\n"
            f"# do not edit. The full closure: install with `pip install --no-deps -r requirements/{spec.name}.lock`.\n")


def compile_lock(spec: LockSpec, find_links: list[str], workdir: Path) -> str:
    """The text of ``spec``'s lock, compiled afresh, keeping the present lock's versions where they fit."""
    output = workdir / f"{spec.name}.lock"
    if spec.path.exists():
        output.write_text(spec.path.read_text(encoding="utf-8"))
    if spec.env:
        source = workdir / f"{spec.env}.in"
        source.write_text("\n".join(read_env(ENVS_DIR / f"{spec.env}.yaml").requirements()) + "\n")
    else:
        source = ROOT / "pyproject.toml"
    result = subprocess.run(compile_command(spec, source, output, find_links), capture_output=True, text=True)
    if result.returncode != 0:
        raise EnvError(f"uv pip compile of {spec.path.name} failed:\n{result.stderr}")
    return lock_header(spec) + output.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m weakstrong.envs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    lock = commands.add_parser("lock", help="compile requirements/*.lock from envs/*.yaml and pyproject.toml")
    lock.add_argument("--find-links", action="append", metavar="DIR",
                      help="wheels to use in place of the env files' extra indexes (repeatable; default: "
                           "pip's find-links)")
    lock.add_argument("--check", action="store_true", help="compare with the present locks; write nothing")
    args = parser.parse_args(argv)
    stale = []
    with tempfile.TemporaryDirectory() as workdir:
        for spec in LOCKS:
            text = compile_lock(spec, args.find_links or local_wheels(), Path(workdir))
            if args.check:
                if not spec.path.exists() or spec.path.read_text(encoding="utf-8") != text:
                    stale.append(spec.path.name)
            else:
                spec.path.write_text(text, encoding="utf-8")
                print(f"wrote {spec.path.relative_to(ROOT)}")
    if stale:
        raise SystemExit(f"out of date (run `make lock`): {', '.join(stale)}")


if __name__ == "__main__":
    main()
