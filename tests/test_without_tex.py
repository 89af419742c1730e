"""A machine without TeX: the study still writes every table, figure, the findings and the paper's LaTeX
source, exits 0, and says at the end how to get the PDF; with pdflatex installed the PDF is built too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE, TEST_CONFIG
from helpers.hidden_tools import TEX_ENGINES, path_without

TOY_CONFIG = REPO / "configs" / "toy.yaml"
NOTICE = "No pdflatex on this machine, so the paper is"


def run_snakemake(args: list[str], cwd: Path, path: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=path)
    return subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), *args], cwd=cwd, env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


@pytest.fixture
def no_tex_path(tmp_path) -> str:
    path = path_without(TEX_ENGINES, tmp_path / "shadow")
    env_python = Path(sys.executable).parent
    assert shutil.which("pdflatex", path=path) is None
    return f"{env_python}{os.pathsep}{path}"


def planned_rules(stdout: str) -> set[str]:
    return set(re.findall(r"^rule (\w+):", stdout, re.MULTILINE)) | set(re.findall(r"^localrule (\w+):", stdout,
                                                                                  re.MULTILINE))


def test_without_tex_the_plan_writes_the_source_and_not_the_pdf(tmp_path, no_tex_path):
    proc = run_snakemake(["-n", "--directory", str(tmp_path), "--configfile", str(TOY_CONFIG)], tmp_path, no_tex_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    rules = planned_rules(proc.stdout)
    assert {"write_paper", "write_findings", "make_table1", "record_provenance"} <= rules
    assert "make_paper" not in rules


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_with_tex_the_plan_builds_the_pdf(tmp_path):
    proc = run_snakemake(["-n", "--directory", str(tmp_path), "--configfile", str(TOY_CONFIG)], tmp_path,
                         os.environ["PATH"])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert {"write_paper", "make_paper"} <= planned_rules(proc.stdout)


@pytest.mark.e2e
def test_the_test_study_finishes_without_tex_and_says_how_to_get_the_pdf(local_test_run: Path, no_tex_path):
    # The final rules of the finished test study run again on a PATH without TeX, as on a fresh machine.
    results = local_test_run / "results" / "test"
    proc = run_snakemake(["--directory", str(local_test_run), "--configfile", str(TEST_CONFIG), "--cores", "2",
                          "--forcerun", "write_paper", "write_findings"], local_test_run, no_tex_path)
    assert proc.returncode == 0, proc.stdout[-5000:]
    notices = [line for line in proc.stdout.splitlines() if line.startswith(NOTICE)]
    assert notices == [f"{NOTICE} results/test/paper.tex (LaTeX source) and not its PDF; to get the PDF, install "
                       "TeX (Debian: apt-get install --no-install-recommends texlive-latex-base "
                       "texlive-latex-recommended) and run the same command again."]
    assert "\\begin{document}" in (results / "paper.tex").read_text()
    for name in ("table1.tex", "table2.tex", "findings.md", "provenance.json", "rep-1/figures/math/toy/coverage.png",
                 "figures/math/toy/finetuning.png"):
        assert (results / name).exists(), name
