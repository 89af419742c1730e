"""Gold answers of MATH500 and GSM8K against themselves, their reformattings and each other.

Uses the read-only data in ``../shared/data`` (or ``$WEAKSTRONG_SHARED_DATA``) and
skips cleanly when it is absent.
"""

from __future__ import annotations

import json
import os
import re
from fractions import Fraction
from pathlib import Path

import pytest

from weakstrong.grading import extract_answer, grade, grade_many, is_equivalent

DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
MATH500 = DATA / "math500" / "test.jsonl"
GSM8K = [DATA / "gsm8k" / "test.jsonl", DATA / "gsm8k" / "train.jsonl"]
GSM8K_MODEL = DATA / "gsm8k" / "example_model_solutions.jsonl"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA} (set WEAKSTRONG_SHARED_DATA)")


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        pytest.skip(f"{path} not present")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def math_golds() -> list[str]:
    return [r["answer"] for r in _rows(MATH500)]


@pytest.fixture(scope="module")
def gsm8k_rows() -> list[dict]:
    return [r for p in GSM8K for r in _rows(p)]


def _gsm8k_gold(solution: str) -> str:
    return solution.split("#### ")[-1].strip()


def _canon(answer: str):
    """A grader-independent normal form: two golds with different forms are different answers."""
    s = re.sub(r"\\(?:left|right|!|,|\$)|\s|\^\\circ|\^\{\\circ\}", "", answer)
    s = re.sub(r"\\(?:text|mbox)\{([^{}]*)\}", r"\1", s).replace("\\dfrac", "\\frac")
    s = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"^[a-z]=", "", s)
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+", s):
        s = s.replace(",", "")
    m = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", s)
    if m:
        return Fraction(int(m.group(2)), int(m.group(3))) * (-1 if m.group(1) else 1)
    if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)", s):
        return Fraction(s)
    return s.lower()


def _math_variants(gold: str) -> list[str]:
    out = [gold, f"${gold}$", gold.replace("\\frac", "\\dfrac"), gold.replace("\\frac", "\\tfrac")]
    if re.fullmatch(r"\d{4,}", gold):
        n = int(gold)
        out += [f"{n:,}", f"{n:,}".replace(",", "{,}"), f"{n:,}".replace(",", ",\\!"), f"{n:,}".replace(",", "\\,")]
    if re.fullmatch(r"\d{1,3}(,\\!\s?\d{3})+|\d{1,3}(,\d{3})+", gold):
        out.append(re.sub(r"[^\d]", "", gold))
    if "," not in gold and re.fullmatch(r"-?\d+", gold):
        out.append(f"{gold}.0")
    return list(dict.fromkeys(out))


def _negatives(golds: list[str], offsets=(1, 7, 61, 173, 331)) -> list[tuple[str, str]]:
    """Each gold against a deterministic handful of other problems' answers with a different canonical form."""
    pairs = []
    for i, g in enumerate(golds):
        for d in offsets:
            h = golds[(i + d) % len(golds)]
            if _canon(h) != _canon(g):
                pairs.append((h, g))
    return pairs


def test_math500_gold_equals_itself_and_its_variants(math_golds):
    preds, golds = [], []
    for g in math_golds:
        for v in _math_variants(g):
            preds.append(rf"The answer is $\boxed{{{v}}}$.")
            golds.append(g)
    out = grade_many(preds, golds, "math", timeout=5.0, workers=2)
    failed = [(p, g) for p, g, r in zip(preds, golds, out) if not r["correct"]]
    assert not failed, failed[:10]
    assert not any(r["timed_out"] for r in out)
    # the single-call API agrees on the plain variants
    assert all(is_equivalent(g.replace("\\frac", "\\dfrac"), g) for g in math_golds)


def test_math500_gold_differs_from_other_answers(math_golds):
    pairs = _negatives(math_golds)
    assert len(pairs) > 4 * len(math_golds)
    out = grade_many([rf"\boxed{{{p}}}" for p, _ in pairs], [g for _, g in pairs], "math", timeout=5.0, workers=2)
    wrong = [pair for pair, r in zip(pairs, out) if r["correct"]]
    assert not wrong, wrong[:10]


def test_gsm8k_gold_equals_itself_and_its_variants(gsm8k_rows):
    failed = []
    for row in gsm8k_rows:
        gold = _gsm8k_gold(row["answer"])
        n = int(gold.replace(",", ""))
        variants = [gold, str(n), f"{n:,}", f"\\${n}.00", f"${n:,}.00", f"{n} dollars", f"{n}.0"]
        if not all(is_equivalent(v, gold) for v in variants):
            failed.append(gold)
        completions = [row["answer"], f"So the answer is ${n:,}.", f"#### {n:,}", f"She has {n} in total."]
        if not all(grade(c, gold, "gsm8k") for c in completions) or extract_answer(row["answer"], "gsm8k") != str(n):
            failed.append(row["answer"][-60:])
    assert not failed, failed[:10]


def test_gsm8k_gold_differs_from_other_answers(gsm8k_rows):
    golds = [_gsm8k_gold(r["answer"]) for r in gsm8k_rows]
    pairs = _negatives(golds, offsets=(1, 13, 977))
    assert len(pairs) > 2 * len(golds)
    wrong = [(p, g) for p, g in pairs if is_equivalent(p, g)]
    assert not wrong, wrong[:10]


def test_gsm8k_truncated_reference_is_not_credited(gsm8k_rows):
    # cut each reference solution inside its last line: before the final "=", or right after
    # the last number (a cut that could fall inside that number): no final answer.  A last
    # line that says "the answer is N" is a marker and is credited by design, so skipped.
    credited = []
    for row in gsm8k_rows:
        body = row["answer"].split("####")[0].rstrip().rstrip(".")
        if "answer" in body.rsplit("\n", 1)[-1].lower():
            continue
        last_number = list(re.finditer(r"\d+", body))[-1]
        for cut in (body[: body.rfind("=") + 1], body[: last_number.end()]):
            if extract_answer(cut, "gsm8k") is not None:
                credited.append(cut[-60:])
    assert not credited, credited[:10]


def test_gsm8k_model_solutions_match_published_labels():
    rows = _rows(GSM8K_MODEL)
    mismatches = []
    for row in rows:
        gold = row["ground_truth"].split("A: ")[-1].strip()
        for key, sol in row.items():
            if isinstance(sol, dict) and "solution" in sol:
                if grade(sol["solution"], gold, "gsm8k") != sol["is_correct"]:
                    mismatches.append((key, gold, sol["solution"][-80:]))
    assert not mismatches, mismatches[:10]
