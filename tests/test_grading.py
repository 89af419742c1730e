"""Hard cases for weakstrong.grading: equal pairs and pairs that must not be equal.

Each row of EQUIV is (prediction, gold, expected).  Rows are grouped by the failure
they guard against; many come in both directions.
"""

from __future__ import annotations

import os
import time

import pytest

from weakstrong import grading
from weakstrong.grading import GRADER_VERSION, extract_answer, grade, grade_many, grader_settings, is_equivalent

T, F = True, False

EQUIV = [
    # --- thousands separators (Math-Verify reads 1\,000 as 1*0) ---
    ("1000", r"1\,000", T),
    (r"1\,000", "1000", T),
    ("0", r"1\,000", F),
    (r"1\,000", "0", F),
    ("1{,}000", "1000", T),
    (r"10,\!080", "10080", T),
    ("10080", r"10,\!080", T),
    ("58,500", "58500", T),
    ("58500", "58,500", T),
    (r"11,\! 111,\! 111,\! 100", "11111111100", T),
    ("1,000,000", r"10^6", T),
    ("1,2", "12", F),
    ("(1,100)", "1100", F),
    # --- scientific notation (Math-Verify reads 3.54e-07 with Euler's e) ---
    ("3.54e-07", "0.000000354", T),
    ("0.000000354", "3.54e-07", T),
    ("3.54e-07", r"3.54\times 10^{-7}", T),
    ("3.54E-7", "3.54e-07", T),
    ("3.54e-07", "3.54", F),
    (r"2.5 \cdot 10^{3}", "2500", T),
    ("6.72e-5", ".0000672", T),
    ("6.72e-6", ".0000672", F),
    # --- tiny values and tolerances ---
    (r"\frac{1}{2006!}", r"\frac{1}{2004!}", F),
    (r"\frac{1}{2004!}", r"\frac{1}{2004!}", T),
    ("0", r"\frac{1}{2004!}", F),
    (r"10^{-20}", r"10^{-21}", F),
    ("1.0000001", "1", F),
    ("0.333333", r"\frac13", T),
    ("0.333", r"\frac{1}{3}", F),
    ("0.3", r"\frac{1}{3}", F),
    ("0.666667", r"\frac23", T),
    ("0.577", r"\frac{\sqrt{3}}{3}", F),
    ("0.577350", r"\frac{\sqrt{3}}{3}", T),
    ("3.14", r"\pi", F),
    ("3.141593", r"\pi", T),
    (r"\frac{321}{100}", "3.21", T),
    (r"\frac{1}{3}", "0.33", T),
    (r"\frac{1}{3}", "0.34", F),
    ("0.33", "0.3", F),
    # --- integers are exact: no relative tolerance ---
    ("10001", "10000", F),
    ("10000", "10001", F),
    ("100000001", "100000000", F),
    ("10000", "10000.0", T),
    ("9999.9", "10000", F),
    ("9999.99999999", "10000", F),
    # --- percent: the sign is a unit, no x100 leniency ---
    ("0.5", "50", F),
    ("50", "0.5", F),
    (r"50\%", "50", T),
    ("50", r"50\%", T),
    ("50%", "50", T),
    ("0.5", r"50\%", F),
    # --- open and closed interval ends ---
    ("(1,2]", "(1,2)", F),
    ("(1,2)", "(1,2]", F),
    ("[1,2)", "[1,2]", F),
    ("[1,2]", "(1,2)", F),
    (r"\left[ 1, 2 \right)", "[1,2)", T),
    (r"(2, \infty)", r"(2,\infty)", T),
    (r"[2,\infty)", r"(2,\infty)", F),
    (r"(-\infty,0]", r"(-\infty, 0]", T),
    (r"(-\infty,0)", r"(-\infty, 0]", F),
    (r"\left(\frac35,\frac83\right]", r"\left(\frac{3}{5},\frac{8}{3}\right]", T),
    (r"\left(\frac35,\frac83\right)", r"\left(\frac{3}{5},\frac{8}{3}\right]", F),
    (r"[-2,7]", r"x \in [-2,7]", T),
    (r"x \in [-2,7]", r"[-2,7]", T),
    (r"(-2,7)", r"x \in [-2,7]", F),
    # --- inequalities vs intervals ---
    ("x>2", r"(2,\infty)", T),
    (r"x \ge 2", r"(2,\infty)", F),
    (r"(-\infty,0]", r"x \le 0", T),
    # --- unions and set differences ---
    (r"(3,\infty)\cup(-\infty,2)", r"(-\infty, 2) \cup (3, \infty)", T),
    (r"(-\infty, 2] \cup (3, \infty)", r"(-\infty, 2) \cup (3, \infty)", F),
    (r"(0,36)", r"(0,9) \cup (9,36)", F),
    (r"(1,2)\cup[2,3)", "(1,3)", T),
    (r"\mathbb{R}\setminus\{2\}", r"(-\infty,2)\cup(2,\infty)", T),
    (r"(-\infty,2)\cup(2,\infty)", r"\mathbb{R}\setminus\{2\}", T),
    (r"\mathbb{R}\setminus\{3\}", r"(-\infty,2)\cup(2,\infty)", F),
    (r"(-\infty,\infty)", r"\mathbb{R}", T),
    # --- single letters are variables, never units ---
    ("a+b", "b+a", T),
    ("b+a", "a+b", T),
    ("b", "a", F),
    ("a+b", "a", F),
    ("2a", "2", F),
    ("5m", "5", F),
    ("p-q", "p - q", T),
    ("q-p", "p - q", F),
    # --- degrees ---
    ("30", r"30^\circ", T),
    (r"30^{\circ}", "30", T),
    ("30°", r"30^\circ", T),
    (r"30 \text{ degrees}", r"30^\circ", T),
    ("31", r"30^\circ", F),
    (r"\frac{270}{7}", r"\frac{270}7\text{ degrees}", T),
    (r"\frac{\pi}{6}", r"30^\circ", F),
    # --- dollars, units in words ---
    (r"\$18.90", "18.9", T),
    ("18.90", r"\$18.90", T),
    ("36", r"\$36", T),
    ("36.00", "36", T),
    ("36.01", "36", F),
    ("32348", r"\$32,\!348", T),
    ("5.4", r"5.4 \text{ cents}", T),
    ("15", r"15\mbox{ cm}^2", T),
    ("864", r"864 \mbox{ inches}^2", T),
    (r"864 \text{ square inches}", r"864 \mbox{ inches}^2", T),
    ("12 inches", "12", T),
    ("13 inches", "12", F),
    # --- \dfrac, \tfrac, braces-free fractions ---
    (r"\dfrac{17}{50}", r"\frac{17}{50}", T),
    (r"\tfrac{17}{50}", "0.34", T),
    (r"\frac{17}{50}", r"\dfrac{17}{51}", F),
    (r"\frac{5}{9}", r"\frac 59", T),
    (r"\frac{4}{3}", r"\frac43", T),
    (r"\frac{9}{19}", r"\frac9{19}", T),
    ("9/19", r"\frac9{19}", T),
    (r"-\frac{3}{8}", r"\frac{-3}{8}", T),
    (r"\frac{3}{8}", r"-\frac{3}{8}", F),
    # --- mixed numbers ---
    (r"\frac95", r"1\frac{4}{5}", T),
    ("1.8", r"1\frac{4}{5}", T),
    ("137.5", r"137 \frac{1}{2}", T),
    ("-1.5", r"-1\frac{1}{2}", T),
    (r"\frac45", r"1\frac{4}{5}", F),
    (r"\frac{2\sqrt3}{3}", r"2\frac{\sqrt3}{3}", T),
    # --- \left/\right, \text, tuples ---
    (r"(3, \frac{\pi}{2})", r"\left( 3, \frac{\pi}{2} \right)", T),
    (r"(3, \pi/2)", r"\left( 3, \frac{\pi}{2} \right)", T),
    (r"(3, \pi)", r"\left( 3, \frac{\pi}{2} \right)", F),
    (r"(1.5,-13)", r"\left( \frac{3}{2}, -13 \right)", T),
    (r"(-13, \frac32)", r"\left( \frac{3}{2}, -13 \right)", F),
    ("(3,4)", "(4,3)", F),
    ("1,-16,-4,43", "(1,-16,-4,43)", T),
    ("(-16,1,-4,43)", "(1,-16,-4,43)", F),
    (r"\{1,2\}", "(1,2)", F),
    (r"\langle 1, 2 \rangle", "(1,2)", T),
    # --- x= prefixes ---
    ("x=5", "5", T),
    ("5", "x=5", T),
    ("x = 6", "x=5", F),
    ("y=5", "x=5", F),
    ("2x+3", "y = 2x + 3", T),
    # --- equations (flipped sides, scaled) ---
    ("y=2x+3", "y = 2x + 3", T),
    ("2x+3=y", "y = 2x + 3", T),
    ("y=3+2x", "y = 2x + 3", T),
    ("y=2x-3", "y = 2x + 3", F),
    ("-5x + 7y - 11z - 4 = 0", "5x - 7y + 11z + 4 = 0", T),
    ("10x - 14y + 22z + 8 = 0", "5x - 7y + 11z + 4 = 0", T),
    ("5x - 7y + 11z - 4 = 0", "5x - 7y + 11z + 4 = 0", F),
    # --- inequalities (flipped sides) ---
    ("2<x", "x>2", T),
    ("x<2", "x>2", F),
    (r"x \geq 2", r"x \ge 2", T),
    (r"2 \le x", r"x \ge 2", T),
    ("x>2", r"x \ge 2", F),
    ("-x < -2", "x > 2", T),
    # --- \pm, unordered roots, ordered tuples ---
    (r"3+2\sqrt2, 3-2\sqrt2", r"3 \pm 2 \sqrt{2}", T),
    (r"3-2\sqrt{2}, 3+2\sqrt{2}", r"3 \pm 2 \sqrt{2}", T),
    (r"3+2\sqrt{2}", r"3 \pm 2 \sqrt{2}", F),
    (r"1\pm\sqrt{19}", r"1 \pm \sqrt{19}", T),
    (r"\{-2, 1+\sqrt5, 1-\sqrt5\}", r"\{1\pm\sqrt{5},-2\}", T),
    (r"-2, 1+\sqrt5", r"\{1\pm\sqrt{5},-2\}", F),
    ("7, 5, 3", "3, 5, 7", T),
    ("3, 5", "3, 5, 7", F),
    ("1, -2", "-2,1", T),
    ("x=1, x=-2", "1,-2", T),
    (r"x=1 \text{ or } x=-2", "1,-2", T),
    ("1, 2", "1,-2", F),
    # --- matrices ---
    (r"\begin{bmatrix}-1&0\\0&-1\end{bmatrix}", r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", T),
    (r"\begin{pmatrix}1&0\\0&1\end{pmatrix}", r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", F),
    (r"\begin{bmatrix} \frac{16}{49} \\ \frac{48}{49} \\ \frac{24}{49} \end{bmatrix}",
     r"\begin{pmatrix} 16/49 \\ 48/49 \\ 24/49 \end{pmatrix}", T),
    (r"\begin{pmatrix} 16/49 & 48/49 & 24/49 \end{pmatrix}", r"\begin{pmatrix} 16/49 \\ 48/49 \\ 24/49 \end{pmatrix}", F),
    (r"\begin{pmatrix} -7 \\ 16 \\ 6 \end{pmatrix}", r"\begin{pmatrix} -7 \\ 16 \\ 5 \end{pmatrix}", F),
    (r"\begin{pmatrix} 0.2 \\ -3.6 \end{pmatrix}", r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}", T),
    # --- base subscripts ---
    ("52_{8}", "52_8", T),
    ("52", "52_8", T),
    ("42", "52_8", F),
    ("52_{10}", "52_8", F),
    ("4343_6", "4343_{6}", T),
    ("1011_2", "11", F),
    # --- text answers and multiple-choice letters ---
    ("Navin", r"\text{Navin}", T),
    ("navin", r"\text{Navin}", T),
    ("Evelyn", r"\text{Navin}", F),
    (r"\text{even}", "even", T),
    ("odd", r"\text{even}", F),
    ("west", r"\text{east}", F),
    ("C", r"\text{(C)}", T),
    ("(C)", r"\text{(C)}", T),
    (r"\textbf{(C)}", r"\text{(C)}", T),
    ("C)", r"\text{(C)}", T),
    ("D", r"\text{(C)}", F),
    ("(B)", r"\text{(E)}", F),
    # --- radicals, symbolic expressions, complex numbers ---
    (r"11\sqrt{2}", r"11\sqrt2", T),
    (r"2\sqrt{2}", r"\sqrt{8}", T),
    (r"2\sqrt{3}", r"\sqrt{8}", F),
    (r"\frac{1}{\sqrt{3}}", r"\frac{\sqrt{3}}{3}", T),
    ("3x + x^3 - 6", "x^3+3x-6", T),
    ("8n^2 + 4n + 2", "8n^2 + 4n + 1", F),
    (r"\frac{\cos x}{\sin x}", r"\cot x", T),
    (r"\tan x", r"\cot x", F),
    ("ab+2a+5b+10", "(a+5)(b+2)", T),
    ("ab+2a+5b+11", "(a+5)(b+2)", F),
    ("9i+6", "6+9i", T),
    ("6+5i", "6 - 5i", F),
    (r"\frac{20000}{\pi}", r"\frac{20000}{\pi}", T),
    (r"\frac{2\cdot 10^4}{\pi}", r"\frac{20000}{\pi}", T),
    ("2^{10}", "1024", T),
    ("2^{10}", "1023", F),
    ("i", r"\sqrt{-1}", T),
    ("i^2", "-1", T),
    ("(x,y)=(2,3)", "(2,3)", T),
    ("(2,3)", "x=2, y=3", T),
    ("(3,2)", "x=2, y=3", F),
    (r"-2 \le x \le 7", r"x \in [-2,7]", T),
    ("2x + y = 0", "y = -2x", T),
    ("x + y = 0", "y = -2x", F),
    (r"\emptyset", r"\{\}", T),
    (r"-\infty", r"\infty", F),
    (r"\binom{5}{2}", "10", T),
    ("5!", "120", T),
    (r"\log_2 8", "3", T),
    ("(" * 400 + "1" + ")" * 400, "1", T),
    # --- GSM8K-style numbers ---
    ("1000", "1,000", T),
    (r"\$1,000.00", "1000", T),
    ("1000 dollars", "1,000", T),
    ("72", "72", T),
    ("72.5", "72", F),
    ("1 000", "1000", T),
    (r"\frac{7}{3}", "2.33", T),
    ("2.33", r"\frac{7}{3}", F),
    ("2.333333", r"\frac{7}{3}", T),
    ("-72", "72", F),
]


@pytest.mark.parametrize(("prediction", "gold", "expected"), EQUIV, ids=[f"{i:03d}" for i in range(len(EQUIV))])
def test_equivalence(prediction, gold, expected):
    assert is_equivalent(prediction, gold) is expected


def test_enough_hard_cases():
    assert len(EQUIV) + len(EXTRACT) >= 150


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------

EXTRACT = [
    # math: last \boxed{} or \fbox{}, never a merge of all boxes
    ("math", r"First $\boxed{1}$. Wait, that is wrong: the answer is $\boxed{2}$.", "2"),
    ("math", r"So the answer is \fbox{42}.", "42"),
    ("math", r"We get $\boxed{\frac{1}{2}}$", r"\frac{1}{2}"),
    ("math", r"The set is \boxed{\{1,2\}}.", r"\{1,2\}"),
    ("math", r"Hence \boxed 5.", "5."),
    ("math", r"The roots are $\boxed{1}$ and $\boxed{-2}$", "1, -2"),
    ("math", r"\boxed{\text{(C)}}", r"\text{(C)}"),
    ("math", r"The answer is 42.", None),
    ("math", r"Thus the answer is $\boxed{\frac{1}{", None),
    ("math", r"\boxed{}", None),
    ("math", "", None),
    ("math", r"x = \boxed{(3, \frac{\pi}{2})}", r"(3, \frac{\pi}{2})"),
    # gsm8k: markers, finished text, truncation
    ("gsm8k", "She sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\nShe makes 9 * 2 = $<<9*2=18>>18.\n#### 18", "18"),
    ("gsm8k", "#### $1,000.00", "1000"),
    ("gsm8k", "The answer is 18", "18"),
    ("gsm8k", "So the answer is $1,250.", "1250"),
    ("gsm8k", "He pays 4 + 5 = 9 dollars. The answer is -5.", "-5"),
    ("gsm8k", "A: 72", "72"),
    ("gsm8k", "Answer: 3.50", "3.5"),
    ("gsm8k", "In total she makes 18 dollars per day.", "18"),
    ("gsm8k", "So 4-3=1.", "1"),
    ("gsm8k", "She has 5 apples and then she buys 3", None),
    ("gsm8k", "He computes 48/2 = <<48/2=24", None),
    ("gsm8k", "The total is 18 apples<|endoftext|>", "18"),
    ("gsm8k", "#### 18\n\nQuestion: Tom has 3 cats.\nAnswer: 3 + 4 = 7\n#### 7", "18"),
    ("gsm8k", "The final answer is $\\boxed{24}$.", "24"),
    ("gsm8k", "It costs $3.50 in total.", "3.5"),
    ("gsm8k", "There are 1,234,567 people.", "1234567"),
    ("gsm8k", "No numbers here.", None),
    ("gsm8k", "####", None),
]


@pytest.mark.parametrize(("style", "completion", "expected"), EXTRACT, ids=[f"{i:03d}" for i in range(len(EXTRACT))])
def test_extract_answer(style, completion, expected):
    assert extract_answer(completion, style) == expected


@pytest.mark.parametrize(
    ("completion", "gold", "style", "expected"),
    [
        (r"... so it is $\boxed{1\,000}$.", "1000", "math", T),
        (r"I think $\boxed{2}$. No wait, $\boxed{3}$.", "2", "math", F),
        (r"I think $\boxed{2}$. No wait, $\boxed{3}$.", "3", "math", T),
        ("The answer is 2, 3 and the last number is 72", "72", "math", F),
        ("Half of 48 is <<48/2=24>>24 so #### 24", "24", "gsm8k", T),
        ("She earns 72 dollars per month and then", "72", "gsm8k", F),
        ("She earns $1,000.00 in total.", "1,000", "gsm8k", T),
        ("The answer is 7\\frac{1}{3}", r"\frac{22}{3}", "math", F),
        (r"So $x = \boxed{-\frac{7}{3}}$", r"-\frac{7}{3}", "math", T),
    ],
)
def test_grade(completion, gold, style, expected):
    assert grade(completion, gold, style) is expected


# Final boxes joined by "or": one answer in several forms when every box equals the gold; otherwise a list.
ALTERNATIVES = [
    (r"$\boxed{15\frac{39}{40}}$, or $\boxed{\frac{639}{40}}$", r"\frac{639}{40}", T),  # a MATH500 solution
    (r"$\boxed{\sqrt{8}}$ or $\boxed{2\sqrt{2}}$", r"2\sqrt{2}", T),                # needs sympy
    (r"$\boxed{0.5}$ \text{ or } $\boxed{\frac{1}{2}}$", r"\frac{1}{2}", T),
    (r"$x = \boxed{2}$ or $x = \boxed{3}$", "2", F),      # a hedge is not an answer
    (r"$\boxed{2}$ or $\boxed{3}$", "2, 3", T),            # roots, read as a list as before
    (r"$\boxed{2}$ and $\boxed{2.0}$", "2", F),            # "and" makes a list, never alternatives
    (r"$\boxed{\sqrt{8}}$, $\boxed{2\sqrt{2}}$", r"2\sqrt{2}", F),  # a comma alone makes a list
    (r"It is $\boxed{3}$. Or is it? $\boxed{4}$", "3", F),  # words between: the last box counts
]


@pytest.mark.parametrize(("completion", "gold", "expected"), ALTERNATIVES,
                         ids=[f"or{i}" for i in range(len(ALTERNATIVES))])
def test_boxes_joined_by_or_count_when_each_equals_the_gold(completion, gold, expected):
    assert grade(completion, gold, "math") is expected


def test_grade_many_agrees_with_grade_on_alternatives():
    completions, golds, expected = zip(*ALTERNATIVES)
    results = grade_many(list(completions), list(golds), "math", workers=2, progress=True)
    assert [r["correct"] for r in results] == list(expected)
    assert not any(r["timed_out"] for r in results)
    assert results[0]["extracted_answer"] == r"15\frac{39}{40}, \frac{639}{40}"  # extraction is unchanged


def test_bad_style_is_named():
    for call in (lambda: extract_answer("x", "mathematics"), lambda: grade("x", "1", "mathematics"),
                 lambda: grade_many(["x"], ["1"], "mathematics")):
        with pytest.raises(ValueError, match="mathematics"):
            call()


def test_grade_many_rejects_length_mismatch():
    with pytest.raises(ValueError):
        grade_many(["#### 1"], ["1", "2"], "gsm8k")


# ---------------------------------------------------------------------------
# Never hang
# ---------------------------------------------------------------------------

LIMIT = 2.0
BOUND = 10.0  # generous: includes starting a worker on a loaded machine

HEAVY = [
    r"2^{2^{2^{2^{2^{100}}}}}",
    r"100000!",
    r"(100000!)!",
    r"\frac{" * 20000 + "1",
    "x+" * 50000 + "1",
    "(" * 30000 + "1" + ")" * 30000,
    "9" * 100000,
]


@pytest.mark.parametrize("answer", HEAVY, ids=[f"heavy{i}" for i in range(len(HEAVY))])
def test_heavy_is_equivalent_returns_false_in_time(answer):
    for pred, gold in ((answer, "5"), ("5", answer)):
        start = time.monotonic()
        assert is_equivalent(pred, gold, timeout=LIMIT) is False
        assert time.monotonic() - start < BOUND


def test_heavy_grade_many_in_time_and_marks_timeouts():
    completions = [rf"\boxed{{{a}}}" for a in HEAVY] + [r"\boxed{\frac{1}{2}}", r"\boxed{x+1}"]
    golds = ["5"] * len(HEAVY) + ["0.5", "1+x"]
    start = time.monotonic()
    out = grade_many(completions, golds, "math", timeout=LIMIT, workers=2)
    assert time.monotonic() - start < BOUND * 2
    assert [r["correct"] for r in out] == [False] * len(HEAVY) + [True, True]
    # (100000!)! cannot be decided in 2 s: it must be cut off and flagged undecided, not wrong
    slow = out[HEAVY.index(r"(100000!)!")]
    assert slow["timed_out"] is True and slow["undecided"] is True and slow["reason"] == "timeout"
    assert not out[-1]["timed_out"] and not out[-1]["undecided"]


def test_adversarial_extraction_is_linear():
    # thousands of unclosed boxes, braces and separators: extraction and the in-process
    # fast path stay linear in the text length
    texts = [r"\boxed{" * 30000, "{" * 100_000 + r"\boxed{1}", " " * 100_000 + "x", ("1 cm" * 25_000),
             (r"\boxed{1} and " * 20_000), "." + "*" * 100_000]
    start = time.monotonic()
    for text in texts:
        for style in ("math", "gsm8k"):
            answer = extract_answer(text, style)
            if answer is not None:
                grading._fast(answer, "5")
    assert time.monotonic() - start < 2.0


def test_garbage_completion():
    junk = "".join(chr(33 + (i * 7919) % 90) for i in range(100_000))
    start = time.monotonic()
    for style in ("math", "gsm8k"):
        assert grade(junk, "5", style, timeout=LIMIT) is False
        assert grade_many([junk, r"\boxed{" + junk + "}"], ["5", "5"], style, timeout=LIMIT)[1]["correct"] is False
    assert time.monotonic() - start < BOUND


# ---------------------------------------------------------------------------
# grade_many: order, parallelism, records
# ---------------------------------------------------------------------------


def test_grade_many_order_and_fields():
    golds = [str(i) for i in range(40)]
    completions = [f"#### {i if i % 3 else i + 1}" for i in range(40)]
    out = grade_many(completions, golds, "gsm8k", workers=2)
    assert [r["correct"] for r in out] == [i % 3 != 0 for i in range(40)]
    assert [r["extracted_answer"] for r in out] == [str(i if i % 3 else i + 1) for i in range(40)]
    assert all(set(r) == {"extracted_answer", "correct", "undecided", "reason", "timed_out"} for r in out)
    assert not any(r["undecided"] or r["reason"] or r["timed_out"] for r in out)
    assert grade_many([], [], "math") == []


def test_grade_many_sympy_items_keep_order():
    # each of these needs sympy, so they go through the worker pool
    preds = [rf"\boxed{{\frac{{{i}}}{{\sqrt{{2}}}}}}" for i in range(1, 25)]
    golds = [rf"\frac{{{i}\sqrt{{2}}}}{{2}}" if i % 2 else rf"\frac{{{i + 1}\sqrt{{2}}}}{{2}}" for i in range(1, 25)]
    out = grade_many(preds, golds, "math", workers=3)
    assert [r["correct"] for r in out] == [i % 2 == 1 for i in range(1, 25)]


def test_grade_many_runs_in_parallel():
    # two slow items (each about to time out at 1.5 s) on two workers finish together
    slow = r"\boxed{(100000!)!}"
    start = time.monotonic()
    out = grade_many([slow, slow], ["5", "5"], "math", timeout=1.5, workers=2)
    elapsed = time.monotonic() - start
    assert all(r["timed_out"] for r in out)
    assert elapsed < 2 * 1.5 + 0.5


def test_timeout_leaves_pool_usable():
    assert grade_many([r"\boxed{(100000!)!}"], ["1"], "math", timeout=1.0)[0]["timed_out"]
    assert is_equivalent(r"\frac{\sqrt2}{2}", r"\frac{1}{\sqrt2}") is True


def test_settings_record():
    s = grader_settings(timeout=3.0, workers=2)
    assert s["grader_version"] == GRADER_VERSION
    assert s["timeout_seconds"] == 3.0 and s["workers"] == 2
    assert s["math_verify_version"] and s["sympy_version"]
    # default: the CPUs this process may use (a 1-CPU Slurm job gets one worker, not one per machine core)
    assert grader_settings()["workers"] == grading._available_cpus() <= (os.cpu_count() or 1)


def test_fast_path_needs_no_worker():
    # plain numbers and strings never start a process
    before = len(grading._idle)
    assert is_equivalent("1,000", "1000") and not is_equivalent("0.5", "50")
    assert grading._fast("1,000", "1000") is True
    assert len(grading._idle) == before


def test_single_calls_from_many_threads():
    # workers are forked from the caller: concurrent callers must neither deadlock nor time out
    from concurrent.futures import ThreadPoolExecutor

    pairs = [(rf"\frac{{{i}}}{{\sqrt2}}", rf"\frac{{{i}\sqrt2}}{{2}}") for i in range(1, 40)]
    start = time.monotonic()
    with ThreadPoolExecutor(8) as ex:
        verdicts = list(ex.map(lambda pair: is_equivalent(*pair, timeout=LIMIT), pairs))
    assert all(verdicts)
    assert time.monotonic() - start < BOUND
    assert len(grading._idle) <= (os.cpu_count() or 1)
