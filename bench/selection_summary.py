"""How finetuning fared on validation: per finetuning run's selection, the untrained model's validation score
against the best checkpoint of each learning rate, and a count of the generator runs in which finetuning beat the
untrained model. Reads selection files only (validation data), so it serves to choose a design without looking
at test results (docs/toy-world.md: the finetuning design).

    python bench/selection_summary.py results/toy          # every replicate's selections under a results dir
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def summarize(selection: dict) -> dict:
    """The untrained model's validation score and each learning rate's best checkpoint score."""
    best: dict[float, float] = defaultdict(float)
    for candidate in selection["candidates"]:
        if candidate["step"]:
            best[candidate["lr"]] = max(best[candidate["lr"]], candidate["validation_accuracy"])
    untrained = selection.get("untrained", {}).get("validation_accuracy")
    if untrained is None:  # selections written before the untrained score was recorded apart
        untrained = next((c["validation_accuracy"] for c in selection["candidates"] if c["step"] == 0), None)
    return {"untrained": untrained, "best_by_lr": dict(best)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--generators", nargs="+", default=["toy-wc", "toy-se"],
                        help="students that are also generators (self-improvement, weak-to-strong)")
    args = parser.parse_args()
    paths = sorted(args.results.glob("**/selection/**/*.json"))
    beaten = generator_runs = 0
    wins: dict[float, int] = defaultdict(int)
    print(f"{'selection':70s} {'untrained':>9s}  best checkpoint per lr")
    for path in paths:
        row = summarize(json.loads(path.read_text()))
        name = str(path.relative_to(args.results))
        lrs = "  ".join(f"{lr:g}: {score:.3f}" for lr, score in sorted(row["best_by_lr"].items()))
        print(f"{name:70s} {row['untrained']:9.3f}  {lrs}")
        if any(f"/{generator}/" in f"/{name}" for generator in args.generators) and row["best_by_lr"]:
            generator_runs += 1
            beaten += max(row["best_by_lr"].values()) > row["untrained"]
            top = max(row["best_by_lr"].values())
            for lr, score in row["best_by_lr"].items():
                wins[lr] += score == top
    print(f"generator runs in which a finetuned checkpoint beat the untrained model on validation: "
          f"{beaten} of {generator_runs}")
    if wins:
        print("generator runs whose best checkpoint came from each lr (ties count for each): "
              + ", ".join(f"{lr:g}: {count}" for lr, count in sorted(wins.items())))


if __name__ == "__main__":
    main()
