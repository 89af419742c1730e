"""Wall-clock figures for docs/measurements.md: a fresh clone's install, the toy study, the test suite, dry runs.

Clones this repository (its committed HEAD) into a temporary directory and, there, times:

* ``install``: ``make .venv/.installed`` (venv + the pinned CPU stack);
* ``demo``: ``make demo`` after the install (the toy study with --cores 2);
* ``test``: ``make test`` (the whole suite, Slurm and the end-to-end run included), unless --no-test;
* ``dry run``: ``snakemake -n`` of config.yaml (the paper) and of configs/toy.yaml, best of three.

Prints one line per figure and the toy tables' held-out generator accuracies.  The machine's speed varies
several-fold between runs, so compare figures taken in one run.

Usage: python bench/study_timings.py [--keep DIR] [--no-test] [--no-demo]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, log: Path) -> float:
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed after {seconds:.0f} s; see {log}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="clone into this (new) directory and keep it")
    parser.add_argument("--no-test", action="store_true", help="skip make test")
    parser.add_argument("--no-demo", action="store_true", help="skip make demo")
    args = parser.parse_args()
    clone = args.keep or Path(tempfile.mkdtemp(prefix="weakstrong-bench-")) / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    logs = clone.parent
    figures = {"install": timed(["make", ".venv/.installed"], clone, logs / "install.log")}
    print(f"install (venv + pinned stack): {figures['install']:.0f} s", flush=True)
    if not args.no_demo:
        figures["demo"] = timed(["make", "demo"], clone, logs / "demo.log")
        print(f"toy study (make demo after install): {figures['demo'] / 60:.1f} min", flush=True)
        print(f"make demo on a fresh clone, install included: {(figures['install'] + figures['demo']) / 60:.1f} min")
        for model_json in sorted((clone / "results/toy/rep-1/evaluation").glob("*/base/*.json")):
            result = json.loads(model_json.read_text())
            print(f"  held-out zero-shot pass@1 {model_json.parts[-3]:6s} {model_json.stem:12s} {result['zero_shot']['pass@1']:.3f}")
    snakemake = str(clone / ".venv/bin/snakemake")
    for name, extra in (("config.yaml", []), ("configs/toy.yaml", ["--configfile", "configs/toy.yaml"])):
        best = min(timed([snakemake, "-n", *extra], clone, logs / "dry-run.log") for _ in range(3))
        print(f"dry run of {name}: {best:.1f} s", flush=True)
    if not args.no_test:
        figures["test"] = timed(["make", "test"], clone, logs / "test.log")
        print(f"make test: {figures['test'] / 60:.1f} min", flush=True)
    print(f"logs in {logs}")


if __name__ == "__main__":
    main()
