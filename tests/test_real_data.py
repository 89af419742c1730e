"""The real-data loaders on the GSM8K and MATH500 copies in ../shared/data (skipped when absent).

The workflow reads the same layouts from the Hugging Face hub (``source: {hf: ...}``); here they come from
local JSON Lines (``source: {jsonl: ...}``), the path a user without hub access takes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weakstrong.arithmetic import check_solution
from weakstrong.data import normalize, prepare_splits, read_jsonl, write_jsonl
from weakstrong.grading import grade

DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA} (set WEAKSTRONG_SHARED_DATA)")


def gsm8k_config(validation_from: str = "test") -> dict:
    return {"style": "gsm8k", "few_shot": 8, "validation": {"from": validation_from, "size": 500},
            "exemplars": {"from": "train"},
            "source": {"jsonl": {"train": str(DATA / "gsm8k/train.jsonl"), "test": str(DATA / "gsm8k/test.jsonl")}}}


def test_gsm8k_splits_as_configured():
    """config.yaml: the train set whole but for the 8 exemplars, validation held out of test."""
    splits, report = prepare_splits(gsm8k_config(), "gsm8k", seed=1234)
    sizes = {split: len(problems) for split, problems in splits.items()}
    assert sizes == {"train": 7473 - 8, "validation": 500, "test": 1319 - 500, "exemplars": 8}
    assert {split: r["problems"] for split, r in report["splits"].items()} == sizes
    ids = [p["id"] for problems in splits.values() for p in problems]
    assert len(ids) == len(set(ids)) == 7473 + 1319
    assert (splits, report) == prepare_splits(gsm8k_config(), "gsm8k", seed=1234)  # deterministic
    # the alternative keeps the whole test set and holds validation out of train
    sizes = {k: len(v) for k, v in prepare_splits(gsm8k_config("train"), "gsm8k", seed=1234)[0].items()}
    assert sizes == {"train": 7473 - 508, "validation": 500, "test": 1319, "exemplars": 8}


def test_gsm8k_gold_solutions_grade_correct_and_check_out():
    test = prepare_splits(gsm8k_config("train"), "gsm8k", seed=0)[0]["test"]
    assert all(grade(p["solution"], p["answer"], "gsm8k") for p in test)
    # Human solutions' calculator annotations are almost all right (a handful of known slips exist).
    wrong = sum(check_solution(p["solution"], "gsm8k")["flawed"] for p in test)
    assert wrong < 0.02 * len(test)


def test_math500_layout_loads_with_levels_and_answers(tmp_path):
    """config.yaml's MATH layout on MATH500 rows: a test split (rows 0-299) holding the test set (rows 0-99),
    validation and exemplars from the rest of it, a disjoint train split (rows 300-499)."""
    rows = read_jsonl(DATA / "math500/test.jsonl")
    for name, part in (("train", rows[300:]), ("test_split", rows[:300]), ("test_set", rows[:100])):
        write_jsonl(tmp_path / f"{name}.jsonl", part)
    dataset = {"style": "math", "few_shot": 4, "validation": {"from": "test", "size": 100}, "exemplars": {"from": "test"},
               "source": {"jsonl": {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "test_split.jsonl")}},
               "test_source": {"jsonl": {"test": str(tmp_path / "test_set.jsonl")}}}
    splits, report = prepare_splits(dataset, "math", seed=1)
    assert {k: len(v) for k, v in splits.items()} == {"train": 200, "validation": 100, "test": 100, "exemplars": 4}
    assert not {p["id"] for p in splits["test"]} & {p["id"] for p in splits["validation"] + splits["exemplars"]}
    # a train split that overlaps the validation source is refused
    write_jsonl(tmp_path / "train.jsonl", rows[200:])
    with pytest.raises(ValueError, match="appears in train and"):
        prepare_splits(dataset, "math", seed=1)
    splits["test"] = [normalize(r, "math", "x") for r in rows]
    problem = splits["test"][0]
    assert problem["level"] in range(1, 6) and problem["subject"] and problem["id"].startswith("test/")
    # Every reference solution grades correct against its own answer, also the one that boxes its answer in
    # two forms, "\\boxed{15\\frac{39}{40}}, or \\boxed{\\frac{639}{40}}".
    misgraded = [p["answer"] for p in splits["test"] if not grade(p["solution"], p["answer"], "math")]
    assert misgraded == []
