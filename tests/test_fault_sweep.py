"""The fault sweep (bench/fault_sweep.py, issue 15): its instruments, and a short sweep of three kills of the
test study, each rerun to the end and compared with the end-to-end test's uninterrupted run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import REPO, TEST_CONFIG


def load_sweep():
    spec = importlib.util.spec_from_file_location("fault_sweep", REPO / "bench" / "fault_sweep.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sweep = load_sweep()

LOG = """\
[Sun Nov 29 01:28:57 2026]
localrule finetune:
    output: results/test/rep-1/finetune/math/toy/low/s/wc/lr-0.001
    log: logs/test/rep-1/finetune/math/toy/low/s/wc/lr-0.001.log
    jobid: 6
    wildcards: dataset=math
[Sun Nov 29 01:28:58 2026]
rule make_table1:
    output: results/test/table1.tex, results/test/table1.md
    log: logs/test/make_table1.log
    jobid: 7
[Sun Nov 29 01:29:40 2026]
Finished jobid: 6 (Rule: finetune)
"""


def test_jobs_are_read_from_snakemakes_log():
    jobs = sweep.parse_jobs(LOG)
    finetune = jobs["logs/test/rep-1/finetune/math/toy/low/s/wc/lr-0.001.log"]
    table = jobs["logs/test/make_table1.log"]
    assert finetune.rule == "finetune"
    assert finetune.outputs == ["results/test/rep-1/finetune/math/toy/low/s/wc/lr-0.001"]
    assert (finetune.end - finetune.start).total_seconds() == 43
    assert table.outputs == ["results/test/table1.tex", "results/test/table1.md"] and table.end is None
    assert sweep.rule_durations(jobs) == {"finetune": 43.0}


def test_trees_are_compared_byte_for_byte(tmp_path):
    for name, files in (("ref", {"a": b"1", "d/b": b"2", "d/c": b"3"}), ("got", {"a": b"1", "d/b": b"x", "e": b""})):
        for rel, data in files.items():
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / rel).write_bytes(data)
    assert sweep.compare_trees(tmp_path / "ref", tmp_path / "got") == {
        "files": 4, "missing": ["d/c"], "extra": ["e"], "differ": ["d/b"]}


def test_a_finetuning_runs_state_is_read_from_its_directory(tmp_path):
    partial = tmp_path / "lr-0.001.partial"
    for step, scored in ((3, True), (6, False)):
        checkpoint = partial / f"checkpoint-{step}"
        checkpoint.mkdir(parents=True)
        (checkpoint / "scores.json").write_text('{"step": %d%s}' % (step, ', "validation_accuracy": 0.5' * scored))
    (partial / "checkpoint-6" / "training_state").mkdir()
    (partial / ".checkpoint-9.tmp" / "training_state").mkdir(parents=True)
    (partial / ".checkpoint-9.tmp" / "training_state" / "optimizer.bin").write_bytes(b"")
    snapshot = sweep.training_snapshot(partial)
    assert snapshot == {"checkpoints": [3, 6], "resumable_from": 6, "saving": [9],
                        "saving_files": ["training_state/optimizer.bin"], "trained": False, "scored": [3],
                        "started": True, "finished": False}
    assert sweep.finetune_phase(snapshot) == "save"
    partial.rename(tmp_path / "lr-0.001")
    assert sweep.finetune_phase(sweep.training_snapshot(partial)) == "finished"


def test_trials_cycle_through_every_stage_and_kill():
    trials = sweep.plan_trials(2 * len(sweep.STAGES) * len(sweep.SCOPES), seed=3)
    pairs = [(t.stage, t.scope) for t in trials]
    assert sorted(pairs[:len(pairs) // 2]) == sorted(pairs[len(pairs) // 2:])
    assert len(set(pairs)) == len(sweep.STAGES) * len(sweep.SCOPES)
    assert trials == sweep.plan_trials(len(trials), seed=3)


@pytest.mark.e2e
def test_short_fault_sweep_loses_nothing(local_test_run: Path, tmp_path):
    """Three kills (a whole run during a checkpoint save, one evaluation job, a whole run while tables are made),
    each rerun with --rerun-incomplete: every result file as the uninterrupted run's, the finetuning run
    resumed from the checkpoint it had, no finished job run again."""
    trials = [sweep.Trial(0, "finetune-save", "run", 11), sweep.Trial(1, "evaluation", "job", 12),
              sweep.Trial(2, "tables", "run", 13)]
    result = sweep.sweep(trials, local_test_run, tmp_path, TEST_CONFIG, cores=2, progress=print)
    summary = result["summary"]
    assert summary["killed"] == 3, result["trials"]
    assert summary["identical"] == 3 and not summary["mismatches"], summary
    assert summary["files_compared"] == 3 * sum(path.is_file() for path in (local_test_run / "results").rglob("*"))
    assert summary["interrupted_not_rerun"] == 0 and summary["finished_jobs_rerun"] == 0, summary
    assert summary["finetune_runs_resumed"] >= 1 and summary["checkpoints_lost"] == 0, summary
    assert summary["max_steps_redone_per_run"] <= summary["checkpoint_interval"], summary
