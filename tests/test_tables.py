"""weakstrong.tables: relative gain, formatting, booktabs LaTeX and Markdown for Tables 1 and 2."""

from __future__ import annotations

import math

import pytest

from weakstrong.stats import crossed_difference, detectable_difference, replicates_needed
from weakstrong.tables import (NOT_MEASURED, TABLE1_CAPTION, latex_escape, percent, relative_gain, signed_percent, table1,
                               table1_detail, table1_rows, table2, to_latex, to_markdown)


# --- numbers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("wc, se, expected", [(0.6, 0.5, 0.2), (0.45, 0.5, -0.1), (0.5, 0.5, 0.0), (0.3, 0.1, 2.0)])
def test_relative_gain(wc, se, expected):
    assert relative_gain(wc, se) == pytest.approx(expected)


@pytest.mark.parametrize("wc, se", [(0.5, 0.0), (None, 0.5), (0.5, None), (float("nan"), 0.5), (0.5, float("nan"))])
def test_relative_gain_undefined_is_nan(wc, se):
    assert math.isnan(relative_gain(wc, se))


@pytest.mark.parametrize("value, digits, text", [
    (0.1234, 1, "12.3"), (0.5, 1, "50.0"), (0.5, 0, "50"), (1.0, 2, "100.00"), (0.0, 1, "0.0"),
    (None, 1, "--"), (float("nan"), 1, "--"),
])
def test_percent(value, digits, text):
    assert percent(value, digits) == text


@pytest.mark.parametrize("value, text", [(0.2, "+20.0"), (-0.1, "-10.0"), (0.0, "+0.0"), (0.1234, "+12.3"),
                                         (None, "--"), (float("nan"), "--")])
def test_signed_percent(value, text):
    assert signed_percent(value) == text


def test_latex_escape():
    assert latex_escape("a_b%c&d#e") == "a\\_b\\%c\\&d\\#e"
    assert latex_escape("x\\y") == "x\\textbackslash{}y"
    assert latex_escape("me@home") == "me{@}home"
    assert latex_escape(12) == "12"


# --- generic tables ------------------------------------------------------------------------------------------

HEADERS = ["Dataset", "Model", "Acc"]
BODY = [["math", "gemma_7b", "12.5"], ["math", "x&y", "--"], ["gsm8k", "50%", "7.0"]]


def test_to_latex_booktabs_structure():
    tex = to_latex(HEADERS, BODY, "Results (%) for a_b", "tab:x")
    lines = tex.split("\n")
    assert lines[0] == "\\begin{table}[t]"
    assert "\\caption{Results (\\%) for a\\_b}" in lines
    assert "\\label{tab:x}" in lines
    # text columns left-aligned, numeric column right-aligned ("--" does not count)
    assert "\\begin{tabular}{llr}" in lines
    top, bottom = lines.index("\\toprule"), lines.index("\\bottomrule")
    assert top < bottom
    assert lines[top + 1] == "Dataset & Model & Acc \\\\"
    assert lines[top + 2] == "\\midrule"
    rows = lines[top + 3:bottom]
    # escaped cells; a midrule between datasets (math -> gsm8k) only
    assert rows == ["math & gemma\\_7b & 12.5 \\\\", "math & x\\&y & -- \\\\", "\\midrule",
                    "gsm8k & 50\\% & 7.0 \\\\"]
    assert lines[bottom + 1:bottom + 3] == ["\\end{tabular}", "\\end{table}"]
    assert tex.count("\\midrule") == 2


def test_to_markdown():
    md = to_markdown(HEADERS, BODY, "Caption")
    lines = md.strip().split("\n")
    assert lines[0] == "**Caption**"
    assert lines[1] == ""
    assert [c.strip() for c in lines[2].strip("|").split("|")] == HEADERS
    assert set(lines[3].replace("|", "").replace(":", "").strip()) <= {"-", " "}
    data = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines[4:]]
    assert data == BODY  # no LaTeX escaping in Markdown


# --- Table 1 -----------------------------------------------------------------------------------------------

CELLS = [
    {"dataset": "math", "pair": "gemma2", "budget": "low", "student": "gemma-7b", "source": "se",
     "setting": "knowledge distillation", "paths": {"1": "m7/se"}, "bases": {"1": "base/math/gemma-7b"}},
    {"dataset": "math", "pair": "gemma2", "budget": "low", "student": "gemma-7b", "source": "wc",
     "setting": "knowledge distillation", "paths": {"1": "m7/wc"}, "bases": {"1": "base/math/gemma-7b"}},
    {"dataset": "gsm8k", "pair": "gemma2", "budget": "high", "student": "gemma2-9b", "source": "se",
     "setting": "knowledge distillation", "paths": {"1": "g9/se"}, "bases": {"1": "base/gsm8k/gemma2-9b"}},
    {"dataset": "gsm8k", "pair": "gemma2", "budget": "high", "student": "gemma2-9b", "source": "wc",
     "setting": "self-improvement", "paths": {"1": "g9/wc"}, "bases": {"1": "base/gsm8k/gemma2-9b"}},
]
ACCURACY = {"m7/se": 0.25, "m7/wc": 0.30, "g9/se": 0.50, "g9/wc": 0.45}


#: Test problems of every evaluation in these tests: an accuracy of a is its first 20 * a problems right.
PROBLEMS = 20


def per_problem(accuracy, problems=PROBLEMS):
    right = round(accuracy * problems)
    return {"problem_id": [f"p{i}" for i in range(problems)], "pass@1": [int(i < right) for i in range(problems)]}


def _evaluations(untrained=(), **extra):
    return {path: {"pass@1": acc, "maj@4": acc + 0.01, "per_problem": per_problem(acc),
                   "selection": {"step": 0 if path in untrained else 20, "lr": None if path in untrained else 1e-6,
                                 "validation_accuracy": acc - 0.05, "trained_on": 0 if path in untrained else 90}}
            for path, acc in {**ACCURACY, **extra}.items()}


BASES = {"base/math/gemma-7b": {"zero_shot": {"pass@1": 0.10}, "few_shot": {"pass@1": 0.15}}}


def test_table1_rows_by_hand():
    rows = table1_rows(CELLS, _evaluations(), BASES)
    assert len(rows) == 2
    math_row, gsm_row = rows
    assert (math_row["dataset"], math_row["student"], math_row["budget"]) == ("math", "gemma-7b", "low")
    # one replicate of 20 problems: 5 right (SE), 6 right (WC). Per-problem sd of SE sqrt(0.25 * 0.75 * 20 / 19)
    # = 0.44426, so its interval is 0.25 +- t(19) * 0.44426 / sqrt(20) = 0.25 +- 2.093 * 0.09934
    assert (math_row["se"]["n"], math_row["se"]["problems"], math_row["se"]["mean"]) == (1, 20, 0.25)
    assert math_row["se"]["ci95"] == pytest.approx([0.25 - 0.20792, 0.25 + 0.20792], abs=1e-4)
    assert math_row["wc"]["mean"] == 0.30 and math_row["se"]["per_replicate"] == {"1": 0.25}
    # WC - SE paired over problems: one +1 among 20, mean 0.05, sd sqrt(0.05), half-width 2.093 * 0.05
    assert math_row["difference"]["mean"] == pytest.approx(0.05)
    assert math_row["difference"]["ci95"] == pytest.approx([0.05 - 0.10465, 0.05 + 0.10465], abs=1e-4)
    assert math_row["difference"]["verdict"] == "no difference at 95%"
    # one replicate cannot show the replicates' variance: no power figures
    assert math_row["difference"]["detectable"] is None and math_row["difference"]["replicates_for_half"] is None
    assert math_row["gain"] == pytest.approx(0.2)          # (0.30 - 0.25) / 0.25
    assert (math_row["base"], math_row["base_few_shot"]) == (0.10, 0.15)
    assert math_row["settings"] == {"se": "knowledge distillation", "wc": "knowledge distillation"}
    assert gsm_row["gain"] == pytest.approx(-0.1)          # (0.45 - 0.50) / 0.50
    assert "base" not in gsm_row
    assert gsm_row["settings"] == {"se": "knowledge distillation", "wc": "self-improvement"}


def test_a_cell_whose_arms_both_kept_the_untrained_model_is_not_measured():
    # gemma2-9b kept its untrained model for both sources: the same model twice, no comparison
    evaluations = _evaluations(untrained={"g9/se", "g9/wc"}, **{"g9/se": 0.47, "g9/wc": 0.47})
    math_row, gsm_row = table1_rows(CELLS, evaluations)
    assert gsm_row["difference"] == {"n": 1, "mean": None, "ci95": None, "verdict": NOT_MEASURED}
    assert gsm_row["gain"] is None
    assert math_row["difference"]["verdict"] == "no difference at 95%"
    _, md = table1([math_row, gsm_row])
    gsm_line = next(line for line in md.splitlines() if line.startswith("| gsm8k"))
    cells = [cell.strip() for cell in gsm_line.strip("|").split("|")]
    assert cells[-3:] == ["--", "--", "not measured (base kept)"]
    # one arm trained: a real comparison, even where its difference happens to be zero
    one_side = table1_rows(CELLS, _evaluations(untrained={"g9/se"}, **{"g9/se": 0.47, "g9/wc": 0.47}))[1]
    assert one_side["difference"]["mean"] == 0.0 and one_side["difference"]["verdict"] == "no difference at 95%"


def test_a_cell_is_measured_when_some_seed_trained_either_arm():
    cells = [{**cell, "paths": {"1": cell["paths"]["1"], "2": cell["paths"]["1"] + "#2"}} for cell in CELLS[2:]]
    evaluations = _evaluations(untrained={"g9/se", "g9/wc", "g9/se#2"},
                               **{"g9/se": 0.47, "g9/wc": 0.47, "g9/se#2": 0.47, "g9/wc#2": 0.57})
    [row] = table1_rows(cells, evaluations)
    # seed 1 compares the untrained model with itself (0 points), seed 2 trained on WC data (+10): measured
    assert row["difference"]["n"] == 2 and row["difference"]["mean"] == pytest.approx(0.05)


def test_table1_pairs_over_replicates_and_problems():
    """Two replicates of the same 20 problems: each arm's mean is over both, the difference is paired by
    replicate and problem (the crossed interval of weakstrong.stats), and the power figures appear."""
    cells = [{**cell, "paths": {"1": cell["paths"]["1"], "2": cell["paths"]["1"] + "#2"},
              "bases": {"1": "base/a", "2": "base/b"}} for cell in CELLS[:2]]
    evaluations = _evaluations(**{"m7/se#2": 0.35, "m7/wc#2": 0.50})
    bases = {"base/a": {"zero_shot": {"pass@1": 0.1}, "few_shot": {"pass@1": 0.2}},
             "base/b": {"zero_shot": {"pass@1": 0.2}, "few_shot": {"pass@1": 0.3}}}
    [row] = table1_rows(cells, evaluations, bases)
    assert row["se"]["mean"] == pytest.approx(0.30) and row["se"]["per_replicate"] == {"1": 0.25, "2": 0.35}
    assert (row["base"], row["base_few_shot"]) == (pytest.approx(0.15), pytest.approx(0.25))
    difference = row["difference"]
    wc = [per_problem(0.30)["pass@1"], per_problem(0.50)["pass@1"]]
    se = [per_problem(0.25)["pass@1"], per_problem(0.35)["pass@1"]]
    expected = crossed_difference(wc, se)
    assert difference["mean"] == pytest.approx(0.10) and difference["ci95"] == pytest.approx(expected["ci95"])
    assert difference["n"] == 2 and difference["problems"] == 20
    assert difference["detectable"] == pytest.approx(detectable_difference(expected["components"], 2, 20))
    assert difference["replicates_for_half"] == replicates_needed(expected["components"], 20,
                                                                  difference["detectable"] / 2)
    _, md = table1([row])
    assert "over 2 replicates and the test problems" in md


def test_replicates_evaluated_on_other_problems_are_an_error():
    cells = [{**cell, "paths": {"1": cell["paths"]["1"], "2": cell["paths"]["1"] + "#2"}} for cell in CELLS[:2]]
    evaluations = _evaluations(**{"m7/se#2": 0.35, "m7/wc#2": 0.50})
    evaluations["m7/wc#2"]["per_problem"] = per_problem(0.5, problems=10)
    with pytest.raises(ValueError, match="replicate 2 of arm 1 was evaluated on other problems"):
        table1_rows(cells, evaluations)
    del evaluations["m7/wc#2"]["per_problem"]
    with pytest.raises(ValueError, match="m7/wc#2 has no per-problem pass@1"):
        table1_rows(cells, evaluations)


def test_table1_rows_without_base_and_with_one_side():
    rows = table1_rows(CELLS[:1], _evaluations())
    assert "base" not in rows[0]
    assert math.isnan(rows[0]["gain"])  # no WC result yet


def test_table1_marks_cells_where_the_untrained_student_was_selected():
    tex, md = table1(table1_rows(CELLS, _evaluations(untrained={"g9/wc"})))
    assert "& 50.0 $\\pm$ 24.0 & 45.0 $\\pm$ 23.9* & -10.0 & -5.0 [-15.5, 5.5] & no difference at 95\\% \\\\" in tex
    assert "The untrained student was selected" in tex and "The untrained student was selected" in md
    gsm_line = next(line for line in md.splitlines() if line.startswith("| gsm8k"))
    assert "45.0 ± 23.9* |" in gsm_line and " 50.0 ± 24.0 |" in gsm_line
    plain_tex, _ = table1(table1_rows(CELLS, _evaluations()))
    assert "*" not in plain_tex and "untrained student was selected" not in plain_tex


def test_table1_gold_column_shared_by_rows():
    gold = [{**CELLS[0], "source": "gold", "setting": "gold", "paths": {"1": "gold/m7"}},
            {**CELLS[2], "source": "gold", "setting": "gold", "paths": {"1": "gold/g9"}}]
    tex, md = table1(table1_rows(CELLS + gold, _evaluations(**{"gold/m7": 0.4, "gold/g9": 0.6}), BASES))
    assert "SE data & WC data & Rel. gain & WC - SE [95\\%] & Verdict & Gold \\\\" in tex
    assert ("& 10.0 & 15.0 & 25.0 $\\pm$ 20.8 & 30.0 $\\pm$ 22.0 & +20.0 & +5.0 [-5.5, 15.5] & no difference at "
            "95\\% & 40.0 $\\pm$ 23.5 \\\\") in tex
    assert "Gold: trained on the datasets' own solutions." in md
    _, without_gold = table1(table1_rows(CELLS, _evaluations(), BASES))
    assert "Gold" not in without_gold  # neither a column nor a caption note


def test_table1_detail_lists_each_run_once_with_maj_k():
    gold = [{**CELLS[0], "source": "gold", "setting": "gold", "paths": {"1": "gold/m7"}},
            {**CELLS[0], "pair": "gemini", "source": "gold", "setting": "gold", "paths": {"1": "gold/m7"}}]
    tex, md = table1_detail(CELLS + gold, _evaluations(untrained={"m7/wc"}, **{"gold/m7": 0.4}), [4, 1])
    assert "maj{@}1 & maj{@}4" in tex and "maj@1" in md and "\\label{tab:finetuning-detail}" in tex
    assert "math & gemma2 & low & gemma-7b & se & 1 & 90 & 1e-06 & 20 & 20.0 & -- & 25.0 & -- & 26.0 \\\\" in tex
    assert "math & gemma2 & low & gemma-7b & wc & 1 & 0 & -- & 0 & 25.0 & -- & 30.0 & -- & 31.0 \\\\" in tex
    assert tex.count("& gold &") == 1 and "math & all pairs & low & gemma-7b & gold" in tex
    # the untrained model's validation score beside the selected checkpoint's, where selection recorded it
    evaluations = _evaluations()
    evaluations["m7/se"]["selection"]["untrained"] = {"checkpoint": "models/s", "validation_accuracy": 0.125,
                                                      "candidate": False}
    tex, _ = table1_detail(CELLS, evaluations, [])
    assert "math & gemma2 & low & gemma-7b & se & 1 & 90 & 1e-06 & 20 & 20.0 & 12.5 & 25.0 \\\\" in tex
    assert md.count("| gold ") == 1


def test_table1_numbers_in_place():
    tex, md = table1(table1_rows(CELLS, _evaluations(), BASES))
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "\\label{tab:finetuning}" in tex
    assert "(\\%)" in tex  # caption escaped
    assert ("math & gemma2 & low & gemma-7b & knowledge distillation / knowledge distillation & 10.0 & 15.0 & "
            "25.0 $\\pm$ 20.8 & 30.0 $\\pm$ 22.0 & +20.0 & +5.0 [-5.5, 15.5] & no difference at 95\\% \\\\") in tex
    assert ("gsm8k & gemma2 & high & gemma2-9b & self-improvement / knowledge distillation & -- & -- & 50.0 $\\pm$ "
            "24.0 & 45.0 $\\pm$ 23.9 & -10.0 & -5.0 [-15.5, 5.5] & no difference at 95\\% \\\\") in tex
    assert ("Setting (WC data / SE data) & Base & Base few-shot & SE data & WC data & Rel. gain & WC - SE [95\\%] & "
            "Verdict \\\\") in tex
    assert "\\begin{tabular}{lllllrrrrrll}" in tex  # the interval column is text
    assert "Gold" not in tex.split("\\toprule")[1]
    one = "one replicate (its intervals leave out the variation between replicates)"
    assert md.startswith(f"**{TABLE1_CAPTION.format(replicates=one)}")
    md_rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in md.split("\n")
               if line.startswith("|")]
    assert md_rows[0][-7:] == ["Base", "Base few-shot", "SE data", "WC data", "Rel. gain", "WC - SE [95%]", "Verdict"]
    # the same numbers (compared as numbers; exact spelling: test_markdown_keeps_cell_text)
    row = next(r for r in md_rows if r[0] == "math")
    assert row[:5] == ["math", "gemma2", "low", "gemma-7b", "knowledge distillation / knowledge distillation"]
    assert row[5:12] == ["10.0", "15.0", "25.0 ± 20.8", "30.0 ± 22.0", "+20.0", "+5.0 [-5.5, 15.5]",
                         "no difference at 95%"]
    row = next(r for r in md_rows if r[0] == "gsm8k")
    assert row[5:7] == ["--", "--"] and row[7:11] == ["50.0 ± 24.0", "45.0 ± 23.9", "-10.0", "-5.0 [-15.5, 5.5]"]


# --- Table 2 -----------------------------------------------------------------------------------------------

def _side(model, k, coverage, diversity, reasoning, fp, kept):
    return {"model": model, "k": k, "coverage": coverage, "diversity": diversity, "reasoning_diversity": reasoning,
            "false_positive_rate": fp, "kept": kept}


def _md_rows(md: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in md.split("\n")
            if line.startswith("|")]


TABLE2_CELLS = [{"dataset": "math", "pair": "gemma2", "budget": "low", "paths": {"1": "q/math"}},
                {"dataset": "gsm8k", "pair": "gemma2", "budget": "low", "paths": {"1": "q/gsm8k"}}]
TABLE2_METRICS = {
    "q/math": {"se": _side("gemma2-27b", 1, 0.45, 0.5, 0.5, 0.1, 40),
               "wc": _side("gemma2-9b", 3, 0.6, 1.25, 1.0, 0.125, 90)},
    "q/gsm8k": {"se": _side("gemma2-27b", 1, 0.8, 0.8, 0.8, None, 80),
                "wc": _side("gemma2-9b", 3, 0.9, 2.0, 1.5, 0.05, 200)},
}


def _judged(rate, low, high, n=30, unparsable=0):
    return {"n": n, "n_unparsable": unparsable, "rate": rate, "ci95": None if rate is None else [low, high]}


def test_table2_without_a_judge():
    """No judge in the config: the false-positive column says so, the arithmetic checker has its own."""
    tex, md = table2(TABLE2_CELLS, TABLE2_METRICS)
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\label{tab:data-quality}" in tex
    assert ("Dataset & Pair & Budget & Model & k & Coverage & Diversity & Reasoning div. & False pos. & "
            "Arith. slips (checkable) & Kept \\\\") in tex
    assert "math & gemma2 & low & SE (gemma2-27b) & 1 & 45.0 & 0.50 & 0.50 & -- & 10.0 & 40 \\\\" in tex
    assert "math & gemma2 & low & WC (gemma2-9b) & 3 & 60.0 & 1.25 & 1.00 & -- & 12.5 & 90 \\\\" in tex
    assert "gsm8k & gemma2 & low & SE (gemma2-27b) & 1 & 80.0 & 0.80 & 0.80 & -- & -- & 80 \\\\" in tex
    assert "no LLM judge" in tex and "Human FP" not in md and "Judge unparsable" not in md
    # midrule between the two datasets
    lines = tex.split("\n")
    first_gsm = next(i for i, line in enumerate(lines) if line.startswith("gsm8k"))
    assert lines[first_gsm - 1] == "\\midrule"
    md_rows = _md_rows(md)
    row = next(r for r in md_rows if r[:4] == ["gsm8k", "gemma2", "low", "WC (gemma2-9b)"])
    assert row[4:] == ["3", "90.0", "2.00", "1.50", "--", "5.0", "200"]
    assert len(md_rows) == 2 + 4  # header, separator, 4 rows


def test_table2_false_positives_from_the_judge():
    cells = [{**cell, "judge": {role: f"j/{cell['dataset']}/{role}" for role in ("se", "wc")}, "audit": None}
             for cell in TABLE2_CELLS]
    judge = {"j/math/se": _judged(0.12, 0.081, 0.174, n=500, unparsable=3),
             "j/math/wc": _judged(0.2, 0.15, 0.26, n=500),
             "j/gsm8k/se": _judged(None, None, None, n=30, unparsable=30),   # a judge that never answered
             "j/gsm8k/wc": {"n": 0, "n_unparsable": 0, "rate": None, "ci95": None}}   # nothing kept
    tex, md = table2(cells, TABLE2_METRICS, judge, {}, judge_model="gemini-1.5-pro")
    rows = {tuple(r[:4]): r[4:] for r in _md_rows(md)}
    header = _md_rows(md)[0]
    assert header[8:] == ["False pos.", "Judge unparsable", "Arith. slips (checkable)", "Kept"]
    assert rows["math", "gemma2", "low", "SE (gemma2-27b)"][4:] == ["12.0 [8.1, 17.4]", "3/500", "10.0", "40"]
    assert rows["math", "gemma2", "low", "WC (gemma2-9b)"][4:] == ["20.0 [15.0, 26.0]", "0/500", "12.5", "90"]
    assert rows["gsm8k", "gemma2", "low", "SE (gemma2-27b)"][4:] == ["--", "30/30", "--", "80"]
    assert rows["gsm8k", "gemma2", "low", "WC (gemma2-9b)"][4:] == ["--", "--", "5.0", "200"]
    assert "LLM judge gemini-1.5-pro" in md and "LLM judge gemini-1.5-pro" in tex
    assert "12.0 [8.1, 17.4] & 3/500 & 10.0 & 40 \\\\" in tex


def test_table2_human_audit_where_rated():
    """A Human FP column once some budget has an audit summary; -- for budgets or sources not rated."""
    cells = [{**TABLE2_CELLS[0], "judge": {"se": "j/se", "wc": "j/wc"}, "audit": "a/math"},
             {**TABLE2_CELLS[1], "judge": {"se": "j/se", "wc": "j/wc"}, "audit": None}]
    judge = {"j/se": _judged(0.1, 0.05, 0.2), "j/wc": _judged(0.3, 0.2, 0.4)}
    audit = {"a/math": {"rate": 0.2, "ci95": [0.1, 0.3],
                        "by_source": {"gemma2-9b": {"rate": 0.25, "ci95": [0.112, 0.469]}}}}
    tex, md = table2(cells, TABLE2_METRICS, judge, audit, judge_model="toy-se")
    header = _md_rows(md)[0]
    assert header[8:] == ["False pos.", "Judge unparsable", "Human FP", "Arith. slips (checkable)", "Kept"]
    rows = {tuple(r[:4]): r[8:] for r in _md_rows(md)}
    assert rows["math", "gemma2", "low", "WC (gemma2-9b)"] == ["30.0 [20.0, 40.0]", "0/30", "25.0 [11.2, 46.9]",
                                                               "12.5", "90"]
    assert rows["math", "gemma2", "low", "SE (gemma2-27b)"][2] == "--"       # no SE item rated
    assert rows["gsm8k", "gemma2", "low", "WC (gemma2-9b)"][2] == "--"       # no ratings for that budget
    assert "Human FP: the same from a blind human audit" in md


def test_markdown_keeps_cell_text():
    md = to_markdown(["Model", "Acc", "Rel. gain", "Diversity"],
                     [["a", "25.0", "+20.0", "0.50"], ["b", "45.0", "-10.0", "1.25"]], "c")
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in md.split("\n")
            if line.startswith("|")]
    assert rows[2:] == [["a", "25.0", "+20.0", "0.50"], ["b", "45.0", "-10.0", "1.25"]]


def test_table2_undecided_column_only_when_some_sample_is_undecided():
    metrics = {path: {role: dict(side) for role, side in sides.items()} for path, sides in TABLE2_METRICS.items()}
    metrics["q/math"]["wc"].update(undecided=3, undecided_share=0.01)
    tex, md = table2(TABLE2_CELLS, metrics)
    header = _md_rows(md)[0]
    assert header[-1] == "Undecided"
    row = next(r for r in _md_rows(md) if r[:4] == ["math", "gemma2", "low", "WC (gemma2-9b)"])
    assert row[-1] == "3 (1.0)"
    assert "could not decide" in tex
    _, md = table2(TABLE2_CELLS, TABLE2_METRICS)
    assert "Undecided" not in md


def test_table2_averages_the_replicates():
    cells = [{**TABLE2_CELLS[0], "paths": {"1": "q/math", "2": "q/math#2"}}]
    metrics = {**TABLE2_METRICS, "q/math#2": {"se": _side("gemma2-27b", 1, 0.55, 0.7, 0.6, 0.2, 45),
                                              "wc": _side("gemma2-9b", 3, 0.7, 1.25, 1.0, None, 90)}}
    tex, md = table2(cells, metrics)
    rows = {tuple(r[:4]): r[4:] for r in _md_rows(md)}
    # SE: coverage (45 + 55) / 2, diversity (0.5 + 0.7) / 2, FP (10 + 20) / 2, kept (40 + 45) / 2
    assert rows["math", "gemma2", "low", "SE (gemma2-27b)"] == ["1", "50.0", "0.60", "0.55", "--", "15.0", "42.5"]
    # WC: a replicate without a false-positive rate (nothing checkable) is left out of its mean
    assert rows["math", "gemma2", "low", "WC (gemma2-9b)"][5:] == ["12.5", "90"]
    assert "mean over the 2 replicates' data" in md
