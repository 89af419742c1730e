"""Rules' code versions (weakstrong.versions): each versioned rule's param is the digest of the package code its
script can run, followed through the package's imports (weakstrong.envs.ImportGraph), so that changing a module
reruns exactly the rules that run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from weakstrong import envs, rulebook, versions
from weakstrong.envs import ImportGraph

ROOT = Path(__file__).resolve().parents[1]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


# --- on a package made for the test -----------------------------------------------------------------------------

PACKAGE = {
    "weakstrong/plain.py": """\
        from weakstrong.pkg import helper


        def used():
            from weakstrong.lazy import thing
            return helper() + thing()


        def unused():
            from weakstrong.never import other
            return other()
        """,
    "weakstrong/lazy.py": "def thing():\n    return 1\n",
    "weakstrong/never.py": "def other():\n    return 2\n",
    "weakstrong/untouched.py": "X = 1\n",
    "weakstrong/pkg/__init__.py": "from weakstrong.pkg.core import helper\n",
    "weakstrong/pkg/core.py": "def helper():\n    return 3\n",
    "weakstrong/pkg/unused.py": "Y = 2\n",
    "weakstrong/pkg/tables/data.yaml": "a: 1\n",
    "scripts/a.py": "from weakstrong.plain import used\n\nused()\n",
    "scripts/b.py": "from weakstrong.untouched import X\n\nprint(X)\n",
}


@pytest.fixture
def package(tmp_path):
    write(tmp_path, PACKAGE)
    return tmp_path


def test_a_subpackage_counts_whole_and_a_plain_module_alone(package):
    assert versions.code_units("scripts/a.py", package) == {"weakstrong/plain.py", "weakstrong/lazy.py",
                                                            "weakstrong/pkg"}
    files = [path.relative_to(package).as_posix() for path in versions.code_files("scripts/a.py", package)]
    assert files == ["weakstrong/lazy.py", "weakstrong/pkg/__init__.py", "weakstrong/pkg/core.py",
                     "weakstrong/pkg/tables/data.yaml", "weakstrong/pkg/unused.py", "weakstrong/plain.py"]
    assert versions.code_units("scripts/b.py", package) == {"weakstrong/untouched.py"}


@pytest.mark.parametrize("changed, a_changes", [
    ("weakstrong/plain.py", True),             # imported by the script
    ("weakstrong/lazy.py", True),              # imported inside a function the script calls
    ("weakstrong/pkg/unused.py", True),        # a file of a package the script runs
    ("weakstrong/pkg/tables/data.yaml", True),  # a package's data file
    ("weakstrong/never.py", False),            # imported only by a function the script never reaches
    ("weakstrong/untouched.py", False),        # another script's
])
def test_a_change_changes_the_versions_of_the_scripts_that_run_it(package, changed, a_changes):
    before = {script: versions.code_version(script, package) for script in ("scripts/a.py", "scripts/b.py")}
    with (package / changed).open("a") as handle:
        handle.write("\n# changed\n")
    after = {script: versions.code_version(script, package) for script in ("scripts/a.py", "scripts/b.py")}
    assert (after["scripts/a.py"] != before["scripts/a.py"]) == a_changes
    assert (after["scripts/b.py"] != before["scripts/b.py"]) == (changed == "weakstrong/untouched.py")


def test_caches_and_hidden_files_do_not_count(package):
    before = versions.code_version("scripts/a.py", package)
    write(package, {"weakstrong/pkg/__pycache__/core.cpython-311.pyc": "x", "weakstrong/pkg/.core.py.swp": "x"})
    assert versions.code_version("scripts/a.py", package) == before
    assert len(before) == versions.LENGTH and int(before, 16) >= 0


def test_the_version_does_not_depend_on_where_the_checkout_is(package, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write(elsewhere, PACKAGE)
    assert versions.code_version("scripts/a.py", elsewhere) == versions.code_version("scripts/a.py", package)


# --- on the workflow ------------------------------------------------------------------------------------------

# Each rule with a script as Snakemake loads it: its code_version param, whether it is a localrule, and where
# its source is.
RULES_PROBE = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.enums import Quietness
from snakemake.settings.types import OutputSettings, ResourceSettings

root = Path(sys.argv[1])
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    workflow = api.workflow(resource_settings=ResourceSettings(), snakefile=root / "Snakefile")._workflow
    print(json.dumps({rule.name: {"script": str((Path(rule.snakefile).parent / rule.script).resolve()
                                                .relative_to(root)),
                                  "code_version": dict(rule.params.items()).get("code_version"),
                                  "local": rule.name in workflow._localrules,
                                  "source": [rule.snakefile, workflow.linemaps[rule.snakefile][rule.lineno]]}
                      for rule in workflow.rules if rule.script}))
"""


@pytest.fixture(scope="module")
def script_rules():
    proc = subprocess.run([sys.executable, "-c", RULES_PROBE, str(ROOT)], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def versioned(script_rules):
    """rule -> script of every rule with a code_version."""
    return {name: rule["script"] for name, rule in script_rules.items() if rule["code_version"] is not None}


def test_every_light_rule_is_versioned_by_its_own_script(script_rules, versioned):
    """The rules of seconds rerun when their code changes; the model jobs (not versioned but for the judge) are
    versioned by hand where a change must rerun them (grade_samples' grader_version), as a digest would rerun a
    GPU study on any edit."""
    assert {name for name, rule in script_rules.items() if rule["local"]} <= set(versioned)
    for name, script in versioned.items():
        params = dict(rulebook.params_source(*script_rules[name]["source"]))
        assert params["code_version"] == f'get_code_version("{script}")', name
        assert script_rules[name]["code_version"] == versions.code_version(script), name


def test_versions_cover_what_the_scripts_import_when_they_run(versioned):
    """Every package module that a versioned script's imports load, run in a fresh interpreter, is hashed."""
    probe = ("import json, sys\nfor line in json.loads(sys.argv[1]):\n    exec(line)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'weakstrong')))")
    graph = versions.import_graph(ROOT)
    for name, script in sorted(versioned.items()):
        lines = [line for line in envs.script_imports(ROOT / script) if "weakstrong" in line]
        proc = subprocess.run([sys.executable, "-c", probe, json.dumps(lines)], cwd=ROOT, text=True,
                              capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        loaded = {versions.code_unit(module, graph).relative_to(ROOT).as_posix()
                  for module in json.loads(proc.stdout) if module in graph.modules}
        assert loaded <= versions.code_units(script, ROOT), (name, loaded - versions.code_units(script, ROOT))


def test_measure_data_covers_the_statistics_of_its_verdicts(versioned):
    """measure_data's verdicts come from weakstrong.stats, which its hand-kept version once left out."""
    assert {"weakstrong/metrics.py", "weakstrong/stats.py", "weakstrong/study.py"} <= versions.code_units(
        versioned["measure_data"])


def test_changing_a_module_changes_exactly_the_versions_of_the_rules_that_run_it(versioned, tmp_path):
    shutil.copytree(ROOT / "weakstrong", tmp_path / "weakstrong", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    graph = ImportGraph(tmp_path)
    units = {name: versions.code_units(script, tmp_path, graph) for name, script in versioned.items()}

    def current():
        return {name: versions.code_version(script, tmp_path, graph) for name, script in versioned.items()}

    before = current()
    for module, path in sorted(graph.modules.items()):
        unit = versions.code_unit(module, graph).relative_to(tmp_path).as_posix()
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        changed = {name for name, version in current().items() if version != before[name]}
        path.write_bytes(original)
        assert changed == {name for name in versioned if unit in units[name]}, module
    assert {name for name in versioned if "weakstrong/stats.py" in units[name]} >= {
        "measure_data", "make_table1", "make_table2", "write_findings", "make_ablation_table"}
