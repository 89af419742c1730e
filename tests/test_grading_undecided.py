"""Pairs the grader cannot decide come back *undecided*, never silently wrong; a worker's cold start is not
part of any pair's deadline.

The comparison and the worker start-up are replaced with slow, dying or sleeping versions by
monkeypatching the module before fresh workers are forked (workers are forked on Linux, so they run the
patched functions); each test starts and ends with an empty worker pool.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from weakstrong.grading import pool as grading  # the worker pool: what these tests patch
from weakstrong.grading import grade_many, is_equivalent, undecided_summary

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="patched workers need fork")

SLOW, DIES = r"\sqrt{8}", r"\sqrt{12}"  # need sympy: the in-process rules cannot prove them equal
SLOW_GOLD, DIES_GOLD = r"2\sqrt{2}", r"2\sqrt{3}"
PLAIN, PLAIN_GOLD = r"\sqrt{18}", r"3\sqrt{2}"  # also needs sympy, and is decided normally


@pytest.fixture(autouse=True)
def fresh_pool():
    grading._shutdown()  # idle workers were forked before the patch: drop them
    yield
    grading._shutdown()  # workers forked with the patch must not serve later tests


@pytest.fixture
def patched_comparison(monkeypatch):
    """SLOW sleeps far past any deadline; DIES kills its worker; the rest compare as usual."""
    original = grading._full_equal

    def compare(prediction, gold):
        if prediction == SLOW:
            time.sleep(60)
        if prediction == DIES:
            os._exit(3)
        return original(prediction, gold)

    grading._warm_sympy()  # warm the parent now, with the real comparison
    monkeypatch.setattr(grading, "_full_equal", compare)


def test_slow_pair_is_undecided_not_wrong(patched_comparison):
    completions = [rf"\boxed{{{SLOW}}}", rf"\boxed{{{PLAIN}}}", r"\boxed{7}", "no answer"]
    golds = [SLOW_GOLD, PLAIN_GOLD, "8", "1"]
    start = time.monotonic()
    out = grade_many(completions, golds, "math", timeout=1.0, workers=2)
    assert time.monotonic() - start < 30
    assert out[0] == {"extracted_answer": SLOW, "correct": False, "undecided": True, "reason": "timeout",
                      "timed_out": True}
    assert out[1] == {"extracted_answer": PLAIN, "correct": True, "undecided": False, "reason": None,
                      "timed_out": False}
    assert out[2]["correct"] is False and out[2]["undecided"] is False  # decided: wrong
    assert out[3]["correct"] is False and out[3]["undecided"] is False  # no answer: decided, not correct
    summary = undecided_summary(out)
    assert summary == {"items": 4, "decided": 3, "undecided": 1, "undecided_share": 0.25,
                       "by_reason": {"timeout": 1}}
    # the single-pair API cannot show it equal: False
    assert is_equivalent(SLOW, SLOW_GOLD, timeout=0.5) is False


def test_dying_worker_is_undecided_and_replaced(patched_comparison):
    completions = [rf"\boxed{{{DIES}}}", rf"\boxed{{{PLAIN}}}", rf"\boxed{{{DIES}}}"]
    out = grade_many(completions, [DIES_GOLD, PLAIN_GOLD, DIES_GOLD], "math", timeout=5.0, workers=1)
    assert [(r["correct"], r["undecided"], r["reason"]) for r in out] == [
        (False, True, "worker died"), (True, False, None), (False, True, "worker died")]
    assert not any(r["timed_out"] for r in out)
    assert undecided_summary(out)["by_reason"] == {"worker died": 2}
    # the pool still works afterwards
    assert is_equivalent(PLAIN, PLAIN_GOLD) is True


def test_undecided_alternatives(patched_comparison):
    # boxes joined by "or" are right when each equals the gold: one undecided box leaves the item
    # undecided, unless another box is certainly wrong
    out = grade_many([rf"$\boxed{{{SLOW}}}$ or $\boxed{{{SLOW_GOLD}}}$", rf"$\boxed{{{SLOW}}}$ or $\boxed{{5}}$"],
                     [SLOW_GOLD, SLOW_GOLD], "math", timeout=1.0, workers=2)
    assert [(r["correct"], r["undecided"], r["reason"]) for r in out] == [(False, True, "timeout"),
                                                                         (False, False, None)]


def test_cold_start_is_not_part_of_the_deadline(monkeypatch):
    # a loaded machine, simulated: every fresh worker needs 3 s to start, three times the deadline
    original = grading._warm_worker

    def slow_start():
        time.sleep(3.0)
        original()

    grading._warm_sympy()
    monkeypatch.setattr(grading, "_warm_worker", slow_start)
    preds = [rf"\boxed{{\frac{{{i}}}{{\sqrt{{2}}}}}}" for i in range(1, 7)]
    golds = [rf"\frac{{{i}\sqrt{{2}}}}{{2}}" for i in range(1, 7)]
    out = grade_many(preds, golds, "math", timeout=1.0, workers=2)
    assert all(r["correct"] for r in out), out
    assert undecided_summary(out)["undecided"] == 0
    # one worker (a 1-CPU job) starting slowly: the same
    grading._shutdown()
    assert is_equivalent(r"\frac{1}{\sqrt{3}}", r"\frac{\sqrt{3}}{3}", timeout=1.0) is True


def test_worker_that_never_starts_is_undecided(monkeypatch):
    grading._warm_sympy()
    monkeypatch.setattr(grading, "_warm_worker", lambda: time.sleep(60))
    monkeypatch.setattr(grading, "START_TIMEOUT", 1.0)
    out = grade_many([rf"\boxed{{{PLAIN}}}"], [PLAIN_GOLD], "math", timeout=5.0, workers=1)
    assert (out[0]["correct"], out[0]["undecided"], out[0]["reason"]) == (False, True, "worker did not start")


def test_numbers_too_large_to_compare_are_undecided():
    # 2^(2^30) has a billion bits: equal to 25 digits, but no exact comparison within the limits
    out = grade_many([r"\boxed{2^{2^{30}}+1}", r"\boxed{2^{2^{30}}}"], ["2^{2^{30}}", "2^{2^{30}}+5"], "math",
                     timeout=30.0, workers=2)
    assert [(r["correct"], r["undecided"], r["reason"]) for r in out] == [
        (False, True, "numbers too large to compare exactly")] * 2


def test_real_slow_pair_times_out_undecided():
    out = grade_many([r"\boxed{(100000!)!}", r"\boxed{\frac{1}{2}}"], ["5", "0.5"], "math", timeout=1.0, workers=2)
    assert (out[0]["correct"], out[0]["undecided"], out[0]["reason"]) == (False, True, "timeout")
    assert out[1]["correct"] is True and not out[1]["undecided"]


def test_undecided_summary_reads_graded_records():
    records = [{"correct": True, "grading_undecided": False},
               {"correct": False, "grading_undecided": True, "grading_undecided_reason": "timeout"},
               {"correct": False}]
    assert undecided_summary(records) == {"items": 3, "decided": 2, "undecided": 1, "undecided_share": 1 / 3,
                                          "by_reason": {"timeout": 1}}
    assert undecided_summary([])["undecided_share"] is None
