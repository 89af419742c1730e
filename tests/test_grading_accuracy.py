"""Grader accuracy on four kinds of answer: large exact numbers, units, clock times, Minerva's final-answer line.

Rows are (prediction, gold, expected), many in both directions.  Rules: docs/grading.md and the
``grader_settings()`` record.
"""

from __future__ import annotations

import pytest

from weakstrong.grading import extract_answer, grade, grade_many, is_equivalent

T, F = True, False

# --- large exact integers and powers: exact, no relative tolerance between two exact values ---
LARGE = [
    ("10^{20}+1", "10^{20}", F),
    ("10^{20}", "10^{20}+1", F),
    ("100000000000000000001", "100000000000000000000", F),
    ("100000000000000000000", "10^{20}", T),
    ("10^{20}", "100000000000000000000", T),
    ("2^{64}", "18446744073709551616", T),
    ("18446744073709551616", "2^{64}", T),
    ("2^{64}", "18446744073709551617", F),
    ("2^{64}+1", "18446744073709551617", T),
    ("123456789012", "123456789013", F),
    ("123456789013", "123456789012", F),
    ("10^{30}", "10^{30}+1", F),
    ("10^{30}+1", "10^{30}", F),
    ("3^{40}", "12157665459056928801", T),
    ("3^{40}", "12157665459056928802", F),
    ("2^{100}-1", "1267650600228229401496703205375", T),
    ("2^{100}", "1267650600228229401496703205375", F),
    (r"\frac{10^{20}+1}{10^{20}}", "1", F),
    ("1.5\\times10^{20}", "150000000000000000000", T),
    ("1.5\\times10^{20}", "150000000000000000001", F),
    ("1.8446744073709552e19", "2^{64}", F),  # a rounded float is not the exact integer
    ("-10^{18}", "-1000000000000000000", T),
    ("10^{-20}", "10^{-21}", F),
    # closed forms that are not rational: still no tolerance, the difference is what counts
    (r"10^{30}+\sqrt{2}", r"10^{30}+\sqrt{3}", F),
    (r"10^{30}+\sqrt{2}", r"\sqrt{2}+10^{30}", T),
    (r"\sqrt{10^{40}+1}", "10^{20}", F),
    (r"\sqrt{10^{40}}", "10^{20}", T),
    (r"\frac{1}{2004!}", r"\frac{1}{2005!}", F),
    # decimals: the tolerance stays where one side is inexact (a rounded decimal)
    ("0.333333", r"\frac{1}{3}", T),
    ("0.333", r"\frac{1}{3}", F),
    (r"\frac{7}{3}", "2.33", T),
    ("10000", "10000.0", T),
    ("9999.99999999", "10000", F),
    ("0.1+0.2", "0.3", T),
]

# --- units: different units differ; the same unit, or a unit-less side, matches ---
UNITS = [
    ("5 inches", "5 feet", F),
    ("5 feet", "5 inches", F),
    ("3 cm", "3 m", F),
    (r"3\text{ cm}", r"3\text{ m}", F),
    (r"3\text{ m}", r"3\text{ cm}", F),
    ("5 inches", "5", T),
    ("5", "5 inches", T),
    ("5 inches", "5 inches", T),
    ("5 inches", r"5\text{ inches}", T),
    (r"5\mbox{ in.}", "5 inches", T),
    (r"3\text{ m}", "3", T),  # one letter inside \text{} after a number is a unit
    ("5m", "5", F),  # bare, it is a variable
    (r"10\text{ cm}^2", r"10\text{ cm}", F),
    (r"10\text{ cm}^2", r"10\text{ square centimeters}", T),
    (r"864 \text{ square inches}", r"864 \mbox{ inches}^2", T),
    ("5 dollars", "5 cents", F),
    (r"\$5", "5 dollars", T),
    (r"\$5", "5 cents", F),
    (r"5.4", r"5.4 \text{ cents}", T),
    ("2 hours", "2 minutes", F),
    ("2 hours", "2 hrs", T),
    ("60 miles per hour", "60 mph", T),
    ("60 miles per hour", "60", T),
    ("60 mph", "60 km", F),
    ("1 foot", "12 inches", F),  # no conversion between units
    ("5 km", "5000 meters", F),
    (r"30^\circ", "30 radians", F),
    (r"30^\circ", r"30\text{ degrees}", T),
    (r"50\%", "50 percent", T),
    (r"50\%", "50 dollars", F),
    ("12 apples", "12", T),  # count words are labels, not units
    ("12 apples", "12 eggs", T),
    ("13 inches", "12 inches", F),
]

# --- clock times: h:mm is a time of day, never a ratio or a fraction ---
TIMES = [
    ("3:45", "3:45", T),
    ("03:45", "3:45", T),
    ("3:45", "3.45", F),
    ("3.45", "3:45", F),
    ("3:45", r"\frac{3}{45}", F),
    (r"\frac{1}{15}", "3:45", F),
    ("3:45", "1:15", F),  # not the ratio 3:45 = 1:15
    ("1:15", "3:45", F),
    ("3:45", "345", F),
    ("3:45 PM", "15:45", T),
    ("15:45", "3:45 PM", T),
    ("3:45 p.m.", "3:45 PM", T),
    (r"3:45\text{ p.m.}", "15:45", T),
    (r"\text{3:45 PM}", "3:45 pm", T),
    ("3:45 PM", "3:45 AM", F),
    ("3:45 AM", "15:45", F),
    ("3:45", "3:45 PM", T),  # am/pm on one side only: the same 12-hour reading counts
    ("3:45 PM", "3:45", T),
    ("3:45", "15:45", F),  # both without am/pm: as written
    ("12:00 AM", "0:00", T),
    ("12:30 PM", "12:30", T),
    ("12:00", "0:00", F),
    ("3:45:00", "3:45", T),
    ("3:45:30", "3:45", F),
    ("3:05", "3:5", F),  # 3:5 is a ratio, 3:05 a time
    # a whole hour written as a number reads as a time without am/pm
    (r"9\text{ a.m.}", "9", T),
    ("9 p.m.", "21", T),
    ("9 p.m.", "9 a.m.", F),
    ("3:00", "3", T),
    ("3:45", "3", F),
    # ratios that are not times: proportions
    ("1:2", "2:4", T),
    ("2:1", "1:2", F),
    ("1:2", r"\frac{1}{2}", T),
    ("1:2:3", "2:4:6", T),
    ("1:2:3", "1:2:4", F),
    ("25:30", "5:6", T),  # 25 is no hour: a ratio
]


def _ids(prefix, rows):
    return [f"{prefix}{i:02d}" for i in range(len(rows))]


@pytest.mark.parametrize(("prediction", "gold", "expected"), LARGE, ids=_ids("large", LARGE))
def test_large_exact_numbers(prediction, gold, expected):
    assert is_equivalent(prediction, gold) is expected


@pytest.mark.parametrize(("prediction", "gold", "expected"), UNITS, ids=_ids("unit", UNITS))
def test_units(prediction, gold, expected):
    assert is_equivalent(prediction, gold) is expected


@pytest.mark.parametrize(("prediction", "gold", "expected"), TIMES, ids=_ids("time", TIMES))
def test_clock_times_and_ratios(prediction, gold, expected):
    assert is_equivalent(prediction, gold) is expected


def test_grade_many_agrees_on_the_tables():
    rows = LARGE + UNITS + TIMES
    out = grade_many([rf"\boxed{{{p}}}" for p, _, _ in rows], [g for _, g, _ in rows], "math", workers=2)
    assert [r["correct"] for r in out] == [e for _, _, e in rows]
    assert not any(r["undecided"] for r in out)


# --- Minerva's format: "Final Answer: The final answer is X. I hope it is correct." ---
MINERVA = [
    ("Final Answer: The final answer is $5$. I hope it is correct.", "5"),
    ("Final Answer: The final answer is 3.5. I hope it is correct.", "3.5"),
    ("Final Answer: The final answer is $(1,2)$. I hope it is correct.", "(1,2)"),
    (r"Final Answer: The final answer is $\frac{1}{2}$. I hope it is correct.", r"\frac{1}{2}"),
    (r"Final Answer: The final answer is $\boxed{7}$. I hope it is correct.", "7"),
    (r"Final Answer: The final answer is \boxed{\frac{1}{2}}. I hope it is correct.", r"\frac{1}{2}"),
    # the final answer line wins over a box earlier in the text
    ("We get $\\boxed{4}$ at first.\nChecking again, it is 5.\n"
     "Final Answer: The final answer is $5$. I hope it is correct.", "5"),
    # the first line counts: what follows belongs to a new problem
    ("So $x=5$.\nFinal Answer: The final answer is $5$. I hope it is correct.\n\n"
     "Problem:\nWhat is $3+4$?\nSolution: $\\boxed{7}$", "5"),
    ("The final answer is $8$. I hope it is correct.", "8"),  # without the label
    ("Final Answer: The final answer is $\\frac{1}{2}$.\n", r"\frac{1}{2}"),  # without "I hope ..."
    ("Final Answer: The final answer is $\\frac{1}{2}$", r"\frac{1}{2}"),  # closed math: complete
    ("Final Answer: The final answer is 12", None),  # the text stops inside the answer: cut off
    ("Final Answer: The final answer is $\\frac{1}{", None),
    ("Final Answer: The final answer is . I hope it is correct.", None),
    ("final answer: the final answer is $-2$. i hope it is correct.", "-2"),
    # no Minerva line: boxes as before
    (r"So the answer is $\boxed{3}$. The final answer is 3.", "3"),
    (r"The roots are $\boxed{1}$ and $\boxed{-2}$", "1, -2"),
]


@pytest.mark.parametrize(("completion", "expected"), MINERVA, ids=_ids("minerva", MINERVA))
def test_minerva_final_answer_line(completion, expected):
    assert extract_answer(completion, "math") == expected


@pytest.mark.parametrize(
    ("completion", "gold", "expected"),
    [
        ("We get $\\boxed{4}$.\nFinal Answer: The final answer is $5$. I hope it is correct.", "5", T),
        ("We get $\\boxed{4}$.\nFinal Answer: The final answer is $5$. I hope it is correct.", "4", F),
        ("Final Answer: The final answer is $\\boxed{2}$ or $\\boxed{2.0}$. I hope it is correct.", "2", T),
        ("Final Answer: The final answer is $3:45$ PM. I hope it is correct.", "15:45", T),
        ("Final Answer: The final answer is 5 inches. I hope it is correct.", "5 feet", F),
    ],
)
def test_grade_with_minerva_line(completion, gold, expected):
    assert grade(completion, gold, "math") is expected
    assert grade_many([completion], [gold], "math", workers=1)[0]["correct"] is expected


def test_gsm8k_style_reads_the_minerva_line_as_an_answer():
    assert extract_answer("Final Answer: The final answer is 18. I hope it is correct.", "gsm8k") == "18"


def test_minerva_search_is_linear():
    import time

    texts = ["The final answer is " * 20_000, "Final Answer: The final answer is x" * 10_000,
             "The final answer is 5\n" * 20_000 + "I hope it is correct.", "a" * 200_000 + "I hope it is correct",
             "x\n" * 100_000 + "Final Answer: The final answer is $3$. I hope it is correct."]
    start = time.monotonic()
    answers = [extract_answer(t, "math") for t in texts]
    assert time.monotonic() - start < 2.0
    assert answers == [None, None, "5", None, "3"]


def test_gsm8k_answer_markers_are_linear():
    import time

    texts = ["a:" * 50_000, "xa:" * 100_000, "answer " * 30_000, " a: 5\n" * 20_000]
    start = time.monotonic()
    answers = [extract_answer(t, "gsm8k") for t in texts]
    assert time.monotonic() - start < 2.0
    assert answers[-1] == "5"


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{{7}}", "7"),
    ("\\boxed{" + "{" * 30 + "7" + "}" * 30 + "}", "7"),
    ("\\boxed{{\\frac{1}{2}}}", "\\frac12"),
])
def test_grouping_braces_around_an_answer_are_only_grouping(completion, gold):
    assert grade(completion, gold, "math")


def test_grouping_braces_do_not_merge_a_set():
    assert not grade("\\boxed{\\{1,2\\}}", "3", "math")
    assert grade("\\boxed{\\{1,2\\}}", "\\{1,2\\}", "math")
