"""Checkpoint selection: the best (learning rate, step) on validation accuracy, as in the paper. The paper picks
the best of the finetuned checkpoints; with ``untrained_candidate`` the untrained student (step 0) competes too,
so that a model finetuning only hurts is kept as it was. Either way the untrained student's validation score is
recorded beside the choice, so that finetuning that hurts is visible as such."""

from __future__ import annotations

from pathlib import Path


def select_best(runs: dict[str, dict], base: dict, *, untrained_candidate: bool = False) -> dict:
    """``runs`` maps a finetuning directory to its scores.json; ``base`` is the untrained student
    (``{"checkpoint": path, "validation_accuracy": ...}``).  The candidates are every run's checkpoints, and the
    untrained student where ``untrained_candidate`` is set or no run wrote a checkpoint (no data to train on).
    Ties go to the untrained student, then the earlier run, then the earlier step.  ``untrained`` records the
    untrained student's validation score whether or not it competed."""
    untrained = {"checkpoint": base["checkpoint"], "run": None, "lr": None, "step": 0,
                 "validation_accuracy": base["validation_accuracy"], "train_loss": None}
    checkpoints = []
    for run_dir, scores in runs.items():
        for record in scores["checkpoints"]:
            checkpoints.append({"checkpoint": str(Path(run_dir) / f"checkpoint-{record['step']}"),
                                "run": str(run_dir), "lr": record["settings"]["lr"], "step": record["step"],
                                "validation_accuracy": record["validation_accuracy"],
                                "train_loss": record["train_loss"]})
    candidates = [untrained, *checkpoints] if untrained_candidate or not checkpoints else checkpoints
    best = max(enumerate(candidates), key=lambda ic: (ic[1]["validation_accuracy"], -ic[0]))[1]
    examples = {str(run_dir): scores.get("examples") for run_dir, scores in runs.items()}
    return {**best, "trained_on": max(examples.values(), default=0), "candidates": candidates,
            "untrained": {"checkpoint": base["checkpoint"], "validation_accuracy": base["validation_accuracy"],
                          "candidate": candidates[0] is untrained}}
