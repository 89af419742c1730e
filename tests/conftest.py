"""Shared fixtures: the repository's paths, Snakemake of this venv, the paper's and the toy config (typed studies,
and as written), and one local run of the test study."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TEST_CONFIG = REPO / "configs" / "test.yaml"


def snakemake(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run this venv's Snakemake on the repository's Snakefile; output merged into .stdout."""
    return subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), *args], cwd=cwd, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def paper():
    """The paper's config (config.yaml), validated and typed (weakstrong.study_config.Study)."""
    from weakstrong.config import load

    return load(REPO / "config.yaml")


@pytest.fixture(scope="module")
def toy():
    """The toy config (configs/toy.yaml), validated and typed."""
    from weakstrong.config import load

    return load(REPO / "configs" / "toy.yaml")


@pytest.fixture(scope="module")
def raw_paper() -> dict:
    """config.yaml as written (not validated: no defaults filled in); one copy per test module."""
    import yaml

    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(scope="module")
def raw_toy() -> dict:
    """configs/toy.yaml as written; one copy per test module."""
    import yaml

    return yaml.safe_load((REPO / "configs" / "toy.yaml").read_text())


@pytest.fixture(scope="session")
def local_test_run(tmp_path_factory) -> Path:
    """The whole toy study at test sizes (configs/test.yaml), run once locally with 2 cores; its directory.

    The end-to-end test checks it, and the Slurm test compares its first replicate with a run through Slurm.
    """
    workdir = tmp_path_factory.mktemp("local-test-run")
    proc = snakemake("--directory", str(workdir), "--configfile", str(TEST_CONFIG), "--cores", "2",
                     cwd=workdir, timeout=1800)
    (workdir / "snakemake.log").write_text(proc.stdout)
    if proc.returncode != 0:
        pytest.fail(f"the test study failed (log {workdir / 'snakemake.log'}):\n{proc.stdout[-6000:]}",
                    pytrace=False)
    return workdir
