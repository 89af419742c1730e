"""Checkpoint selection: the best (learning rate, step) on validation accuracy, as in the paper, with the
untrained student (step 0) as a candidate, so finetuning that only hurts is visible as such."""

from __future__ import annotations

from pathlib import Path


def select_best(runs: dict[str, dict], base: dict) -> dict:
    """``runs`` maps a finetuning directory to its scores.json; ``base`` is the untrained student
    (``{"checkpoint": path, "validation_accuracy": ...}``).  Ties go to the untrained student, then the
    earlier run, then the earlier step."""
    candidates = [{"checkpoint": base["checkpoint"], "run": None, "lr": None, "step": 0,
                   "validation_accuracy": base["validation_accuracy"], "train_loss": None}]
    for run_dir, scores in runs.items():
        for record in scores["checkpoints"]:
            candidates.append({"checkpoint": str(Path(run_dir) / f"checkpoint-{record['step']}"),
                               "run": str(run_dir), "lr": record["settings"]["lr"], "step": record["step"],
                               "validation_accuracy": record["validation_accuracy"],
                               "train_loss": record["train_loss"]})
    best = max(enumerate(candidates), key=lambda ic: (ic[1]["validation_accuracy"], -ic[0]))[1]
    examples = {str(run_dir): scores.get("examples") for run_dir, scores in runs.items()}
    return {**best, "trained_on": max(examples.values(), default=0), "candidates": candidates}
