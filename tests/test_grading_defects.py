"""Two grader defects mended in 1.2.2 (issue 26), each with the cases it changes and the cases it must not.

(a) An exact value followed by ``\\approx`` (or ``\\simeq``, ``≈``) and a rounded decimal was graded by the
    decimal alone, so wrong against the exact gold: it is graded by the exact value.
(b) A ``\\boxed{}`` that is an operand inside an equation (``\\boxed{x} = 3``, ``\\boxed{2x} + 1 = 7``) was taken
    as the answer when it was the last box: the answer is the last box that stands alone.
"""

from __future__ import annotations

import pytest

from weakstrong.grading import GRADER_VERSION, extract_answer, grade, grade_many, is_equivalent

# --- (a) exact value \approx rounded decimal ------------------------------------------------------------------

APPROX = [
    # (prediction, gold, expected); the first rows were False before the fix
    (r"\frac{\sqrt{2}}{2} \approx 0.71", r"\frac{\sqrt{2}}{2}", True),
    (r"$\pi/4 \approx 0.785$", r"\frac{\pi}{4}", True),
    (r"\frac{\sqrt{2}}{2} \simeq 0.71", r"\frac{\sqrt{2}}{2}", True),
    (r"\frac{\sqrt{2}}{2} ≈ 0.71", r"\frac{\sqrt{2}}{2}", True),
    (r"\frac{1}{3} \approx 0.33", r"\frac{1}{3}", True),
    (r"x = \frac{\sqrt{2}}{2} \approx 0.71", r"\frac{\sqrt{2}}{2}", True),
    (r"\sqrt{2} \approx 1.41, -\sqrt{2} \approx -1.41", r"\pm\sqrt{2}", True),
    # the exact value is what is graded: a wrong one is wrong, whatever its rounding
    (r"\frac{\sqrt{3}}{2} \approx 0.71", r"\frac{\sqrt{2}}{2}", False),
    (r"\frac{2}{3} \approx 0.33", r"\frac{1}{3}", False),
    # a decimal gold asks for rounding: the exact value rounds to it (or not)
    (r"\frac{\sqrt{2}}{2} \approx 0.71", "0.71", True),
    (r"\frac{\sqrt{2}}{2} \approx 0.72", "0.72", False),
    # unchanged: only a name before the sign, so the decimal is all the answer there is
    (r"x \approx 0.71", "0.71", True),
    (r"x \approx 0.71", r"\frac{\sqrt{2}}{2}", False),
    (r"\pi \approx 3.14", r"\pi", True),
]


@pytest.mark.parametrize("prediction, gold, expected", APPROX)
def test_exact_value_before_approx_is_graded(prediction, gold, expected):
    assert is_equivalent(prediction, gold) is expected


def test_boxed_exact_value_with_its_rounding_grades_correct():
    completion = r"The probability is $\boxed{\frac{\sqrt{2}}{2} \approx 0.71}$."
    assert extract_answer(completion, "math") == r"\frac{\sqrt{2}}{2} \approx 0.71"
    assert grade(completion, r"\frac{\sqrt{2}}{2}", "math") is True
    assert grade(completion, r"\frac{1}{\sqrt{2}}", "math") is True  # needs sympy: a worker decides
    assert grade(r"so the area is $\boxed{\pi/4 \approx 0.785}$", r"\frac{\pi}{4}", "math") is True


# --- (b) a box that is an operand inside an equation is not the answer -----------------------------------------

BOXES = [
    # (completion, extracted answer); the first rows changed with the fix (the old answer in the comment)
    (r"The answer is $\boxed{5}$. Check: $\boxed{x} = 5$.", "5"),  # was "x"
    (r"$\boxed{2x} + 1 = 7$, so the answer is 3", None),  # was "2x": no box stands alone, as with no box
    (r"$\boxed{2x} + 1 = 7$, so $x = \boxed{3}$.", "3"),
    (r"We get $\boxed{5}$; indeed $\boxed{a}\cdot 2 = 10$.", "5"),  # was "a"
    (r"so $\boxed{x} = 3$ ... the answer is $\boxed{5}$", "5"),  # the last box already won
    # unchanged: boxes that stand alone, or a value restated by an equation
    (r"$x = \boxed{5}$", "5"),
    (r"$36 - 7 - 2 - 10 = \boxed{17} = x$.", "17"),  # a MATH500 reference solution: the result of a chain
    (r"$\boxed{\frac12} = 0.5$", r"\frac12"),
    (r"\begin{align*} x &= 36 - 19 \\ &= \boxed{17} \\ \end{align*}", "17"),
    (r"**Answer:** \boxed{x+1}**", "x+1"),  # Markdown bold, not a product
    (r"\boxed{x^2}<|eot_id|>", "x^2"),  # an end-of-sequence token, not "<"
    (r"$\boxed{30}^\circ$", "30"),
    (r"$\boxed{3} \pmod{7}$", "3"),
    (r"$\boxed{1}$, $\boxed{2}$", "1, 2"),
    (r"\boxed{5} - 3 = 2", None),  # an operand even without "$"
]


@pytest.mark.parametrize("completion, expected", BOXES)
def test_the_final_box_is_the_last_that_stands_alone(completion, expected):
    assert extract_answer(completion, "math") == expected


def test_operand_boxes_in_grading():
    completions = [r"The answer is $\boxed{5}$. Check: $\boxed{x} = 5$.", r"$\boxed{2x} + 1 = 7$, so the answer is 3",
                   r"$\boxed{2x} + 1 = 7$, so the answer is 3"]
    golds = ["5", "2x", "3"]
    out = grade_many(completions, golds, "math", workers=1)
    assert [(r["extracted_answer"], r["correct"]) for r in out] == [("5", True), (None, False), (None, False)]
    # gsm8k's boxed fallback reads the same box
    assert extract_answer(r"She has \boxed{8} eggs. Check: \boxed{n} + 0 = 8", "gsm8k") == "8"


def test_version_says_verdicts_changed():
    assert GRADER_VERSION == "1.2.2"
