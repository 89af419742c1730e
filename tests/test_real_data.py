"""The real-data loaders on the GSM8K and MATH500 copies in ../shared/data (skipped when absent).

The workflow reads the same layouts from the Hugging Face hub (``source: {hf: ...}``); here they come from
local JSON Lines (``source: {jsonl: ...}``), the path a user without hub access takes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weakstrong.arithmetic import check_solution
from weakstrong.data import prepare_splits
from weakstrong.grading import grade

DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA} (set WEAKSTRONG_SHARED_DATA)")


def gsm8k_config() -> dict:
    return {"style": "gsm8k", "few_shot": 8, "validation_size": 500,
            "source": {"jsonl": {"train": str(DATA / "gsm8k/train.jsonl"), "test": str(DATA / "gsm8k/test.jsonl")}}}


def test_gsm8k_splits_match_the_paper():
    splits = prepare_splits(gsm8k_config(), "gsm8k", seed=1234)
    assert (len(splits["train"]), len(splits["validation"]), len(splits["test"])) == (7473 - 500, 500, 1319)
    train_ids = {p["id"] for p in splits["train"]}
    assert not train_ids & {p["id"] for p in splits["validation"]}
    assert splits == prepare_splits(gsm8k_config(), "gsm8k", seed=1234)  # deterministic hold-out


def test_gsm8k_gold_solutions_grade_correct_and_check_out():
    test = prepare_splits(gsm8k_config(), "gsm8k", seed=0)["test"]
    assert all(grade(p["solution"], p["answer"], "gsm8k") for p in test)
    # Human solutions' calculator annotations are almost all right (a handful of known slips exist).
    wrong = sum(check_solution(p["solution"], "gsm8k")["flawed"] for p in test)
    assert wrong < 0.02 * len(test)


def test_math500_layout_loads_with_levels_and_answers():
    source = {"jsonl": {"train": str(DATA / "math500/test.jsonl"), "test": str(DATA / "math500/test.jsonl")}}
    splits = prepare_splits({"style": "math", "few_shot": 4, "validation_size": 100, "source": source},
                            "math", seed=1)
    assert len(splits["test"]) == 500 and len(splits["validation"]) == 100
    problem = splits["test"][0]
    assert problem["level"] in range(1, 6) and problem["subject"] and problem["id"].startswith("test/")
    # Every reference solution grades correct against its own answer, also the one that boxes its answer in
    # two forms, "\\boxed{15\\frac{39}{40}}, or \\boxed{\\frac{639}{40}}".
    misgraded = [p["answer"] for p in splits["test"] if not grade(p["solution"], p["answer"], "math")]
    assert misgraded == []
