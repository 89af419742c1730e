"""weakstrong.metrics: pass@k, Wilson intervals, normalisation and the data-quality metrics, by hand."""

from __future__ import annotations

import json
import math

import pytest

from weakstrong.metrics import (COMPARED, coverage_curve, level_order, measure_budget, measure_side,
                                normalize_solution, pass_at_k, proportion, wilson_interval)

# --- pass@k ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, c, k, expected", [
    (5, 2, 1, 0.4),                      # c / n
    (5, 2, 2, 1 - 3 / 10),               # 1 - C(3,2)/C(5,2) = 0.7
    (5, 2, 3, 1 - 1 / 10),               # 1 - C(3,3)/C(5,3) = 0.9
    (5, 0, 1, 0.0),
    (5, 0, 5, 0.0),
    (5, 4, 2, 1.0),                      # n - c = 1 < k
    (5, 5, 1, 1.0),
    (10, 1, 1, 0.1),
    (10, 1, 5, 0.5),                     # 1 - C(9,5)/C(10,5) = 1 - 126/252
    (4, 1, 2, 0.5),                      # 1 - C(3,2)/C(4,2) = 1 - 3/6
    (1, 1, 1, 1.0),
])
def test_pass_at_k_by_hand(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_large_n_is_stable():
    # 1 - C(n-c, k)/C(n, k) with huge binomials: must stay a probability and match the product form
    n, c, k = 2000, 3, 100
    product = 1.0
    for i in range(k):
        product *= (n - c - i) / (n - i)
    assert pass_at_k(n, c, k) == pytest.approx(1 - product, rel=1e-12)
    assert 0 <= pass_at_k(n, c, k) <= 1


@pytest.mark.parametrize("n, c, k", [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6)])
def test_pass_at_k_rejects_bad_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


# --- Wilson -------------------------------------------------------------------------------------------------

def _wilson(s, n, z=1.959963984540054):
    p = s / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("s, n, low, high", [
    (5, 10, 0.2366, 0.7634),   # textbook values
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (1, 5, 0.0362, 0.6245),
])
def test_wilson_interval_known_values(s, n, low, high):
    lo, hi = wilson_interval(s, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)
    expected = _wilson(s, n)
    assert lo == pytest.approx(max(0.0, expected[0]), abs=1e-12)
    assert hi == pytest.approx(min(1.0, expected[1]), abs=1e-12)


def test_wilson_interval_contains_rate_and_narrows():
    lo1, hi1 = wilson_interval(20, 100)
    lo2, hi2 = wilson_interval(200, 1000)
    assert lo1 < 0.2 < hi1 and lo2 < 0.2 < hi2
    assert hi2 - lo2 < hi1 - lo1
    lo90, hi90 = wilson_interval(20, 100, z=1.6448536269514722)
    assert lo1 < lo90 and hi90 < hi1


@pytest.mark.parametrize("s, n", [(1, 0), (-1, 5), (6, 5)])
def test_wilson_interval_rejects_bad_arguments(s, n):
    with pytest.raises(ValueError):
        wilson_interval(s, n)


def test_proportion():
    assert proportion(0, 0) == {"n": 0, "successes": 0, "rate": None, "ci95": None}
    result = proportion(1, 4)
    assert result["rate"] == 0.25 and result["n"] == 4 and result["successes"] == 1
    assert result["ci95"] == pytest.approx(list(wilson_interval(1, 4)))


# --- normalisation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("  The  answer\n is 1,000.50 ", "The answer is 1000.5"),
    ("x = 3.0 and .5", "x = 3 and 0.5"),
    ("1{,}000 and 1\\,000 and 12,345,678", "1000 and 1000 and 12345678"),
    ("\u22123 + 2 = -1<eos>", "-3 + 2 = -1"),
    ("0.500", "0.5"),
    ("1.05", "1.05"),
    ("100", "100"),
    ("1,2", "1,2"),            # not a thousands separator
    ("ABC abc", "ABC abc"),    # case is kept
    ("3.10 apples\n\n\tok</s>", "3.1 apples ok"),
])
def test_normalize_solution(text, expected):
    assert normalize_solution(text) == expected


def test_normalize_solution_makes_formatting_variants_equal():
    a = "Step 1: 2.50 + 1,000 = 1002.5\n#### 1002.5"
    b = "Step 1:  2.5 + 1000 = 1002.50   \n####   1002.5<|endoftext|>"
    assert normalize_solution(a) == normalize_solution(b)
    assert normalize_solution(a) != normalize_solution(a.replace("1002.5", "1003.5"))


# --- coverage curve -------------------------------------------------------------------------------------------

def _graded(spec: dict[str, list[bool]]) -> list[dict]:
    return [{"problem_id": pid, "sample_index": i, "correct": ok, "completion": "x"}
            for pid, oks in spec.items() for i, ok in enumerate(oks)]


def test_coverage_curve_by_hand():
    graded = _graded({"a": [False, True, False, False], "b": [False] * 4, "c": [True] * 4})
    curve = coverage_curve(graded, 3)
    # k=1: (1/4 + 0 + 1)/3; k=2: a = 1 - C(3,2)/C(4,2) = 1/2; k=3: a = 1 - C(3,3)/C(4,3) = 3/4
    assert curve == pytest.approx([(0.25 + 1) / 3, (0.5 + 1) / 3, (0.75 + 1) / 3])


def test_coverage_curve_over_given_problems():
    graded = _graded({"a": [True, False], "b": [False, False]})
    problems = [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]  # c and d have no samples: they count 0
    assert coverage_curve(graded, 2, problems=problems) == pytest.approx([0.5 / 4, 1 / 4])
    # Short problems (1 sample, max_k 2) use pass@n
    assert coverage_curve(_graded({"a": [True], "b": [False, True]}), 2) == pytest.approx([0.75, 1.0])


def test_coverage_curve_is_order_independent():
    graded = _graded({"a": [False, True, False], "b": [True, True, False]})
    assert coverage_curve(graded, 3) == coverage_curve(list(reversed(graded)), 3)


def test_coverage_curve_errors():
    with pytest.raises(ValueError, match="max_k"):
        coverage_curve(_graded({"a": [True]}), 0)
    with pytest.raises(ValueError, match="empty"):
        coverage_curve([], 1)
    with pytest.raises(ValueError, match="not in problems"):
        coverage_curve(_graded({"zz": [True]}), 1, problems=[{"id": "a"}])
    with pytest.raises(ValueError, match=r"graded\[0\] lacks correct"):
        coverage_curve([{"problem_id": "a", "sample_index": 0}], 1)
    with pytest.raises(ValueError, match="sample_index 0 more than once"):
        coverage_curve([{"problem_id": "a", "sample_index": 0, "correct": True}] * 2, 1)


# --- measure_side / measure_budget on a hand-built set ------------------------------------------------------

SAME = "3 + 4 = <<3+4=7>>7\n#### 7"
SAME_SPACED = "3 + 4 = <<3+4=7>>7\n####   7  "      # equal to SAME after normalisation
TWO_STEPS = "2 + 1 = <<2+1=3>>3\n3 + 4 = <<3+4=7>>7\n#### 7"   # other text, other reasoning (3, 7)
FLAWED = "3 * 2 = <<3*2=7>>7\n#### 7"               # right answer, wrong step (3*2 is 6); reasoning (7)
NO_STEP = "The total is 7.\n#### 7"                  # nothing checkable; reasoning ()

PROBLEMS = [
    {"id": "p1", "level": 1, "answer": "7"},
    {"id": "p2", "level": 2, "answer": "5"},
    {"id": "p3", "level": 1, "answer": "1"},
    {"id": "p4", "level": 2, "answer": "9"},   # never sampled by WC
]


def _records(spec):
    return [{"problem_id": pid, "sample_index": i, "completion": text, "correct": ok, "generator": "g"}
            for pid, samples in spec.items() for i, (text, ok) in enumerate(samples)]


WC = _records({
    "p1": [(SAME, True), (SAME_SPACED, True), (TWO_STEPS, True), (FLAWED, True), (NO_STEP, True),
           ("#### 8", False)],
    "p2": [("#### 4", False), ("10 / 2 = <<10/2=5>>5\n#### 5", True), ("#### 6", False)],
    "p3": [("#### 2", False), ("#### 3", False)],
})
SE = _records({
    "p1": [(SAME, True), (SAME, True)],
    "p2": [("#### 4", False), ("#### 3", False)],
    "p3": [("0 + 1 = <<0+1=1>>1\n#### 1", True), ("#### 0", False)],
    "p4": [("#### 1", False)],
})


def test_measure_side_first_k_by_hand():
    m = measure_side(WC, PROBLEMS, 4, "gsm8k")
    # p1: n=6, c=5, k=4 -> coverage 1 (n-c < k); first 4 kept: SAME, SAME_SPACED, TWO_STEPS, FLAWED
    #     unique texts 3, unique reasonings 2 ((7) and (3, 7)), 4 checkable, 1 flagged
    # p2: n=3 < k: pass@3 with c=1 -> 1; kept 1 (unique 1, reasoning 1, checkable 1)
    # p3: n=2, c=0 -> 0;  p4: no samples -> 0
    assert m["k"] == 4
    assert m["problems"] == 4
    assert m["coverage"] == pytest.approx((1 + 1 + 0 + 0) / 4)
    assert m["coverage_first_k"] == pytest.approx(2 / 4)
    assert m["diversity"] == pytest.approx((3 + 1) / 4)
    assert m["reasoning_diversity"] == pytest.approx((2 + 1) / 4)
    assert m["kept"] == 5
    assert m["checkable"] == 5
    assert m["false_positives"] == 1
    assert m["false_positive_rate"] == pytest.approx(1 / 5)
    assert m["false_positive_ci95"] == pytest.approx(list(wilson_interval(1, 5)))
    assert m["false_positive_share_of_kept"] == pytest.approx(1 / 5)
    assert m["samples"] == 4 + 3 + 2 + 0
    assert m["problems_short"] == 2
    assert m["problems_without_samples"] == 1
    assert m["short_problem_ids"] == ["p2", "p3", "p4"]
    assert m["false_positive_examples"] == [{"problem_id": "p1", "sample_index": 3, "wrong_steps": ["<<3*2=7>>"]}]
    # per level: level 1 = p1, p3; level 2 = p2, p4
    assert list(m["per_level"]) == ["1", "2"]
    one, two = m["per_level"]["1"], m["per_level"]["2"]
    assert one["problems"] == 2 and one["coverage"] == pytest.approx(0.5)
    assert one["diversity"] == pytest.approx(1.5) and one["reasoning_diversity"] == pytest.approx(1.0)
    assert one["kept"] == 4 and one["checkable"] == 4 and one["false_positive_rate"] == pytest.approx(0.25)
    assert two["coverage"] == pytest.approx(0.5) and two["diversity"] == pytest.approx(0.5)
    assert two["kept"] == 1 and two["false_positive_rate"] == 0.0
    assert m["coverage_per_level"] == {"1": pytest.approx(0.5), "2": pytest.approx(0.5)}
    json.dumps(m)  # JSON-ready


def test_measure_side_k1_and_all_samples():
    m1 = measure_side(WC, PROBLEMS, 1, "gsm8k")
    # k=1: p1 coverage 5/6 (pass@1), p2 1/3, p3 0, p4 0; only p1's first sample is kept
    assert m1["coverage"] == pytest.approx((5 / 6 + 1 / 3) / 4)
    assert m1["coverage_first_k"] == pytest.approx(1 / 4)
    assert m1["diversity"] == pytest.approx(1 / 4)
    assert m1["kept"] == 1 and m1["false_positives"] == 0
    m6 = measure_side(WC, PROBLEMS, 6, "gsm8k")
    # k=6: p1 keeps 5 (NO_STEP too): unique texts 4, reasonings 3 ((7), (3, 7), ()), checkable 4
    assert m6["diversity"] == pytest.approx((4 + 1) / 4)
    assert m6["reasoning_diversity"] == pytest.approx((3 + 1) / 4)
    assert m6["kept"] == 6 and m6["checkable"] == 5 and m6["false_positives"] == 1
    assert m6["false_positive_rate"] == pytest.approx(1 / 5)
    assert m6["false_positive_share_of_kept"] == pytest.approx(1 / 6)


def test_measure_side_ignores_record_order():
    assert measure_side(list(reversed(WC)), PROBLEMS, 4, "gsm8k") == measure_side(WC, PROBLEMS, 4, "gsm8k")


def test_measure_side_without_checkable_steps():
    graded = _records({"p1": [(NO_STEP, True)]})
    m = measure_side(graded, PROBLEMS[:1], 1, "gsm8k")
    assert m["kept"] == 1 and m["checkable"] == 0
    assert m["false_positive_rate"] is None and m["false_positive_ci95"] is None
    assert m["false_positive_share_of_kept"] == 0.0


def test_measure_side_without_levels():
    graded = _records({"a": [(SAME, True)]})
    m = measure_side(graded, [{"id": "a", "level": None}], 1, "gsm8k")
    assert m["per_level"] == {} and m["coverage_per_level"] == {}


def test_measure_side_math_style_flags_latex_step():
    graded = _records({"a": [("$2 \\times 3 = 6$.\nThe answer is $\\boxed{6}$.", True),
                             ("$2 \\times 3 = 7$, so $\\boxed{6}$.", True)]})
    m = measure_side(graded, [{"id": "a", "level": 3}], 2, "math")
    assert m["checkable"] == 2 and m["false_positives"] == 1
    assert m["false_positive_examples"][0]["sample_index"] == 1


def test_measure_side_errors():
    with pytest.raises(ValueError, match="style"):
        measure_side(WC, PROBLEMS, 1, "aime")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        measure_side(WC, PROBLEMS, 0, "gsm8k")
    with pytest.raises(ValueError, match="not in problems"):
        measure_side(WC, PROBLEMS[:1], 1, "gsm8k")
    with pytest.raises(ValueError, match="problems is empty"):
        measure_side(WC, [], 1, "gsm8k")


def test_measure_budget_by_hand():
    result = measure_budget(SE, WC, PROBLEMS, k_se=2, ratio=3, style="gsm8k")
    assert (result["style"], result["k_se"], result["ratio"], result["problems"]) == ("gsm8k", 2, 3, 4)
    se, wc = result["se"], result["wc"]
    assert se["k"] == 2 and wc["k"] == 6
    # SE @2: p1 (1, unique 1), p2 0, p3 (n=2, c=1, k=2 -> 1), p4 (n=1, c=0) 0
    assert se["coverage"] == pytest.approx(0.5)
    assert se["diversity"] == pytest.approx(0.5)
    assert se["reasoning_diversity"] == pytest.approx(0.5)
    assert se["kept"] == 3 and se["checkable"] == 3 and se["false_positive_rate"] == 0.0
    # WC @6: as test_measure_side_k1_and_all_samples
    assert wc["coverage"] == pytest.approx(0.5)
    assert wc["diversity"] == pytest.approx(1.25)
    assert wc["reasoning_diversity"] == pytest.approx(1.0)
    assert wc["false_positive_rate"] == pytest.approx(0.2)
    absolute, relative = result["difference"]["absolute"], result["difference"]["relative"]
    assert set(absolute) == set(relative) == set(COMPARED)
    assert absolute["coverage"] == pytest.approx(0.0) and relative["coverage"] == pytest.approx(0.0)
    assert absolute["coverage_first_k"] == pytest.approx(0.0)
    assert absolute["diversity"] == pytest.approx(0.75) and relative["diversity"] == pytest.approx(1.5)
    assert absolute["reasoning_diversity"] == pytest.approx(0.5)
    assert relative["reasoning_diversity"] == pytest.approx(1.0)
    assert absolute["false_positive_rate"] == pytest.approx(0.2)
    assert relative["false_positive_rate"] is None  # SE rate is 0
    # coverage per level: SE level 1 = (1 + 1)/2, level 2 = 0; WC level 1 = (1 + 0)/2, level 2 = (1 + 0)/2
    per_level = result["difference"]["coverage_per_level"]
    assert per_level["1"]["absolute"] == pytest.approx(-0.5) and per_level["1"]["relative"] == pytest.approx(-0.5)
    assert per_level["2"]["absolute"] == pytest.approx(0.5) and per_level["2"]["relative"] is None
    json.dumps(result)


@pytest.mark.parametrize("k_se, ratio", [(0, 3), (1, 0), (True, 3), (1, True), (1, 2.0)])
def test_measure_budget_rejects_bad_counts(k_se, ratio):
    with pytest.raises(ValueError):
        measure_budget(SE, WC, PROBLEMS, k_se=k_se, ratio=ratio, style="gsm8k")


def test_measure_budget_names_the_bad_side():
    broken = SE + [{"problem_id": "p1", "sample_index": 0, "correct": True}]
    with pytest.raises(ValueError, match="se_graded"):
        measure_budget(broken, WC, PROBLEMS, k_se=1, ratio=3, style="gsm8k")


def test_level_order():
    assert sorted(["10", "2", "none", "1", "-1"], key=level_order) == ["-1", "1", "2", "10", "none"]


def test_measure_side_counts_undecided_samples():
    records = _records({"p1": [(SAME, True), ("#### 8", False), ("#### 7", False)], "p2": [("#### 4", False)]})
    records[2]["grading_undecided"] = True  # p1's third sample: the grader could not decide
    m = measure_side(records, PROBLEMS, 2, "gsm8k")
    assert m["undecided"] == 0 and m["undecided_share"] == 0  # not among the first 2
    m = measure_side(records, PROBLEMS, 3, "gsm8k")
    assert m["undecided"] == 1 and m["undecided_share"] == 1 / 4  # 4 first-k samples in all
    assert m["coverage"] == 0.25  # p1 solved; undecided counts as not correct
    assert m["coverage_if_undecided_correct"] == 0.25
    records[0]["correct"] = False
    m = measure_side(records, PROBLEMS, 3, "gsm8k")
    assert m["coverage"] == 0 and m["coverage_if_undecided_correct"] == 0.25
    assert m["per_level"]["1"]["undecided"] == 1
