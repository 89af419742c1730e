"""Checkpoint selection: the best (learning rate, step) on validation accuracy, as in the paper."""

from __future__ import annotations

from pathlib import Path


def select_best(runs: dict[str, dict]) -> dict:
    """``runs`` maps a finetuning directory to its scores.json; ties go to the earlier run, then step."""
    candidates = []
    for run_dir, scores in runs.items():
        for record in scores["checkpoints"]:
            candidates.append({"checkpoint": str(Path(run_dir) / f"checkpoint-{record['step']}"),
                               "run": str(run_dir), "lr": record["settings"]["lr"], "step": record["step"],
                               "validation_accuracy": record["validation_accuracy"],
                               "train_loss": record["train_loss"]})
    if not candidates:
        raise ValueError(f"no checkpoints with scores in {sorted(runs)}")
    best = max(enumerate(candidates), key=lambda ic: (ic[1]["validation_accuracy"], -ic[0]))[1]
    return {**best, "candidates": candidates}
