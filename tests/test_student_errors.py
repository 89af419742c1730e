"""The finetuned students' reasoning errors (weakstrong.student_errors): false positives among their correct test
solutions on fake evaluation files, paired over the problems both students solved; the table, the finding (holds,
does not hold, unresolved, not measured, not run), the judge and the blind audit form of the students, the targets
and a dry run."""

from __future__ import annotations

import dataclasses

import csv
import json
import re

import pytest
import yaml
from conftest import REPO, snakemake

from weakstrong import targets
from weakstrong.config import build
from weakstrong.study_config import Study
from weakstrong.findings import (FAILS, HOLDS, NOT_MEASURED_CELL, UNRESOLVED, findings_markdown, no_more_errors_status,
                                 student_findings)
from weakstrong.layout import Layout
from weakstrong.stats import Z95, paired_proportion_difference, proportion_difference, random_effects_mean
from weakstrong.student_errors import (combined_difference, correct_solutions, export_student_form,
                                       judge_student_solutions, problem_order,
                                       replicate_comparison, select_for_judging, student_errors_table, student_rows)
from weakstrong.tables import NOT_MEASURED

CLEAN, SLIP, BARE = "$9 + 8 = 17$.\nThe answer is $\\boxed{17}$.", "$9 + 8 = 14$.\nThe answer is $\\boxed{14}$.", \
    "The answer is $\\boxed{17}$."


def evaluation(completions: dict[str, str], step: int = 100) -> dict:
    """A fake evaluation file: the correct greedy completions by problem, the selected checkpoint's step."""
    return {"pass@1": len(completions) / 10, "selection": {"step": step, "checkpoint": "ckpt"},
            "correct_completions": [{"problem_id": pid, "completion": text} for pid, text in completions.items()]}


# WC: p1 slips, p2 and p3 clean, p4 has no checkable step; SE: p1 and p2 clean, p5 slips.
WC = evaluation({"p1": SLIP, "p2": CLEAN, "p3": CLEAN, "p4": BARE})
SE = evaluation({"p1": CLEAN, "p2": CLEAN, "p5": SLIP})


# --- statistics -------------------------------------------------------------------------------------------------

def test_paired_proportion_difference_by_hand():
    # Agresti-Min: 5 WC-only and 1 SE-only of 20 pairs; with 0.5 added to each cell, 5.5 and 1.5 of 22:
    # centre 4/22, variance ((7) - 16/22) / 22^2 = 0.0129602, half-width 1.959964 * 0.113843 = 0.223128
    result = paired_proportion_difference(5, 1, 20)
    assert result["n"] == 20 and result["mean"] == pytest.approx(0.2)
    assert result["ci95"] == pytest.approx([4 / 22 - 0.223128, 4 / 22 + 0.223128], abs=1e-5)
    assert result["verdict"] == "no difference at 95%"
    # no discordant pair still leaves an interval: 0 +- z * sqrt(1) / 12
    assert paired_proportion_difference(0, 0, 10)["ci95"] == pytest.approx([-Z95 / 12, Z95 / 12])
    assert paired_proportion_difference(30, 0, 30)["verdict"] == "WC higher"
    assert paired_proportion_difference(0, 0, 0) == {"n": 0, "mean": None, "ci95": None,
                                                     "verdict": "unresolved (nothing to compare)"}
    with pytest.raises(ValueError, match="within the 3 pairs"):
        paired_proportion_difference(2, 2, 3)


# --- one replicate ------------------------------------------------------------------------------------------------

def test_the_arithmetic_checker_on_correct_solutions_with_and_without_slips():
    result = replicate_comparison(WC, SE, "math")
    assert {k: result["wc"][k] for k in ("correct", "checkable", "flawed")} == {"correct": 4, "checkable": 3,
                                                                              "flawed": 1}
    assert {k: result["se"][k] for k in ("correct", "checkable", "flawed")} == {"correct": 3, "checkable": 3,
                                                                              "flawed": 1}
    assert result["wc"]["rate"] == pytest.approx(1 / 3) and result["wc"]["ci95"][0] < 1 / 3 < result["wc"]["ci95"][1]
    # paired over p1 and p2 (both solved, both checkable): p1 slips on the WC side alone
    assert result["paired"] == paired_proportion_difference(1, 0, 2)
    assert result["unpaired"] == proportion_difference(1, 3, 1, 3)
    assert result["examples"]["wc"] == [{"problem_id": "p1", "wrong_steps": ["9 + 8 = 14"]}]
    assert result["examples"]["se"] == [{"problem_id": "p5", "wrong_steps": ["9 + 8 = 14"]}]
    assert result["same_model"] is False


def test_an_evaluation_without_its_correct_completions_is_an_error():
    with pytest.raises(ValueError, match="no correct_completions.*delete it and run the workflow again"):
        correct_solutions({"pass@1": 0.5}, "old.json")


def test_gsm8k_style_annotations_are_checked():
    wc = evaluation({"q1": "3*4 = <<3*4=13>>13 apples.\n#### 13", "q2": "2+2 = <<2+2=4>>4\n#### 4"})
    se = evaluation({"q1": "3*4 = <<3*4=12>>12 apples.\n#### 12"})
    result = replicate_comparison(wc, se, "gsm8k")
    assert (result["wc"]["flawed"], result["wc"]["checkable"], result["se"]["flawed"]) == (1, 2, 0)
    assert result["paired"]["n"] == 1 and result["paired"]["mean"] == 1.0


# --- over replicates --------------------------------------------------------------------------------------------

def cell(replicates=("1", "2"), judged=False, audit=None) -> dict:
    return {"dataset": "math", "pair": "toy", "budget": "low", "student": "toy-student", "style": "math",
            "settings": {"wc": "knowledge distillation", "se": "knowledge distillation"},
            "generators": {"wc": "toy-wc", "se": "toy-se"},
            "paths": {source: {r: f"{source}-{r}.json" for r in replicates} for source in ("wc", "se")},
            "judge": {source: f"judge-{source}.jsonl" for source in ("wc", "se")} if judged else None,
            "audit": audit}


def many(slips: int, clean: int, prefix: str = "p") -> dict[str, str]:
    """Correct solutions of problems p0.., the first ``slips`` with a slip."""
    return {f"{prefix}{i}": SLIP if i < slips else CLEAN for i in range(slips + clean)}


def test_rows_combine_replicates_by_random_effects_and_pair_over_problems():
    evaluations = {"wc-1.json": WC, "se-1.json": SE,
                   "wc-2.json": evaluation(many(2, 8)), "se-2.json": evaluation(many(1, 9))}
    [row] = student_rows([cell()], evaluations)
    first, second = replicate_comparison(WC, SE, "math"), replicate_comparison(*(evaluations[f"{s}-2.json"]
                                                                                 for s in ("wc", "se")), "math")
    arithmetic = row["arithmetic"]
    expected = random_effects_mean([{"mean": r["wc"]["rate"], "ci95": r["wc"]["ci95"]} for r in (first, second)])
    assert arithmetic["wc"]["rate"] == pytest.approx(expected["mean"])
    assert arithmetic["wc"]["ci95"] == pytest.approx(expected["ci95"])
    assert arithmetic["wc"]["correct"] == (4 + 10) / 2 and arithmetic["wc"]["checkable"] == (3 + 10) / 2
    difference = arithmetic["difference"]
    assert difference["method"] == "paired" and difference["pairs"] == 2 + 10
    assert difference["mean"] == pytest.approx(random_effects_mean([first["paired"], second["paired"]])["mean"])
    assert row["replicates"] == 2 and row["judge"] is None and row["human"] is None
    json.dumps(row)  # the rows are the table's JSON


def test_combined_rates_stay_within_what_is_possible():
    """Every solution slipped in both replicates: the random-effects interval, read as normal around 100%, is cut at
    100%; with nothing checkable on one side there is nothing to compare."""
    evaluations = {"wc-1.json": evaluation({"p1": SLIP}), "se-1.json": evaluation({"p1": CLEAN}),
                   "wc-2.json": evaluation({"p1": SLIP, "p2": SLIP}), "se-2.json": evaluation({"p2": CLEAN})}
    [row] = student_rows([cell()], evaluations)
    assert row["arithmetic"]["wc"]["rate"] == 1.0 and row["arithmetic"]["wc"]["ci95"][1] == 1.0
    assert row["arithmetic"]["difference"]["ci95"][1] <= 1.0
    evaluations = {"wc-1.json": evaluation({"p1": BARE}), "se-1.json": evaluation({"p1": CLEAN}),
                   "wc-2.json": evaluation({}), "se-2.json": evaluation({"p2": SLIP})}
    [row] = student_rows([cell()], evaluations)
    assert row["arithmetic"]["wc"]["rate"] is None and row["arithmetic"]["wc"]["correct"] == 0.5
    difference = row["arithmetic"]["difference"]
    assert difference["method"] is None and difference["verdict"] == "unresolved (nothing to compare)"


def test_without_a_problem_both_solved_the_rates_are_compared_unpaired():
    wc, se = evaluation({"a": SLIP, "b": CLEAN}), evaluation({"c": CLEAN, "d": SLIP})
    difference = combined_difference([replicate_comparison(wc, se, "math")])
    assert difference["method"] == "unpaired" and difference["pairs"] == 0
    assert difference["mean"] == pytest.approx(0.0) and difference["ci95"] == proportion_difference(1, 2, 1, 2)["ci95"]


def test_a_replicate_of_the_untrained_student_on_both_sides_is_left_out_and_alone_is_not_measured():
    untrained = evaluation({"p1": SLIP, "p2": CLEAN}, step=0)
    evaluations = {"wc-1.json": untrained, "se-1.json": untrained,
                   "wc-2.json": evaluation(many(3, 7)), "se-2.json": evaluation(many(0, 10))}
    [row] = student_rows([cell()], evaluations)
    assert row["arithmetic"]["difference"]["pairs"] == 10            # replicate 2 only
    [alone] = student_rows([cell(replicates=("1",))], evaluations)
    assert alone["arithmetic"]["difference"]["verdict"] == NOT_MEASURED
    assert no_more_errors_status(alone["arithmetic"]["difference"], 0.05) == NOT_MEASURED_CELL


# --- the finding ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ci95, status", [([-0.04, 0.03], HOLDS), ([-0.2, -0.1], HOLDS), ([0.01, 0.04], FAILS),
                                          ([-0.03, 0.08], UNRESOLVED), (None, UNRESOLVED)])
def test_no_more_errors_is_non_inferiority_within_the_margin(ci95, status):
    assert no_more_errors_status({"mean": 0.0, "ci95": ci95, "verdict": "x"}, margin=0.05) == status


def finding_rows(wc_slips: int, se_slips: int, problems: int = 200) -> list[dict]:
    evaluations = {"wc-1.json": evaluation(many(wc_slips, problems - wc_slips)),
                   "se-1.json": evaluation(many(se_slips, problems - se_slips))}
    return student_rows([cell(replicates=("1",))], evaluations)


def test_the_finding_holds_does_not_hold_or_is_unresolved():
    matches = {"toy": "compute"}
    # the same solutions on both sides, 200 pairs: WC - SE is 0 within +-1.4 points, below the 5-point margin
    [same] = student_findings(finding_rows(10, 10), matches, margin=0.05)
    assert same["status"] == HOLDS and same["cells"][0]["difference"]["method"] == "paired"
    # WC slips on 60 problems, SE on none: more errors on WC data
    [worse] = student_findings(finding_rows(60, 0), matches, margin=0.05)
    assert worse["status"] == FAILS and worse["cells"][0]["verdict"] == "WC higher"
    # 4 WC-only slips of 40 pairs: 10 points [-0.5, 19.6], from below 0 to past the margin
    [unclear] = student_findings(finding_rows(4, 0, problems=40), matches, margin=0.05)
    assert unclear["status"] == UNRESOLVED and unclear["cells"][0]["status"] == UNRESOLVED
    text = findings_markdown([unclear], "Findings")
    assert "Reasoning errors of the finetuned students" in text and "paired (40 problems)" in text
    assert "+5.0 points" in text and "no more reasoning errors" in text


def test_the_finding_not_measured_and_not_run():
    untrained = evaluation(many(1, 9), step=0)
    rows = student_rows([cell(replicates=("1",))], {"wc-1.json": untrained, "se-1.json": untrained})
    [finding] = student_findings(rows, {"toy": "compute"}, margin=0.05)
    assert finding["status"] == UNRESOLVED and finding["cells"][0]["status"] == NOT_MEASURED_CELL
    assert finding["reason"].startswith("not measured in any of its 1 cells")
    [off] = student_findings(None, {"toy": "compute"}, margin=0.05)
    assert off["status"] == UNRESOLVED and off["reason"].startswith("not run in this configuration")
    assert off["cells"] == []


# --- the table ---------------------------------------------------------------------------------------------------

def judged_records(source: str, verdicts: dict[str, str | None]) -> list[dict]:
    return [{"problem_id": pid, "sample_index": 0, "source": source, "verdict": verdict}
            for pid, verdict in verdicts.items()]


def test_the_table_has_a_row_per_student_and_data_in_table_2s_style():
    evaluations = {"wc-1.json": WC, "se-1.json": SE}
    [row] = student_rows([cell(replicates=("1",))], evaluations)
    latex, markdown = student_errors_table([row])
    assert "\\toprule" in latex and "tab:student-errors" in latex
    lines = [line for line in markdown.splitlines() if line.startswith("| math")]
    assert len(lines) == 2 and "SE (toy-se)" in lines[0] and "WC (toy-wc)" in lines[1]
    cells = [c.strip() for c in lines[1].strip("|").split("|")]
    assert cells[-4:] == ["4", "--", "33.3 [6.1, 79.2]", "3"]   # 1 of 3 checkable, with its Wilson interval
    assert "No LLM judge is configured" in markdown and "Judge unparsable" not in markdown


def test_the_judge_columns_and_the_judges_paired_comparison():
    judge = {"judge-wc.jsonl": judged_records("wc", {"p1": "flawed", "p2": "correct", "p3": None}),
             "judge-se.jsonl": judged_records("se", {"p1": "correct", "p2": "correct", "p5": "flawed"})}
    audit = {"audit.json": {"by_source": {"wc": {"rate": 0.5, "ci95": [0.1, 0.9]}, "se": {"rate": 0.0, "ci95": [0, 0.6]}}}}
    [row] = student_rows([cell(replicates=("1",), judged=True, audit="audit.json")], {"wc-1.json": WC, "se-1.json": SE},
                         judge, audit)
    assert row["judge"]["wc"]["n_flawed"] == 1 and row["judge"]["wc"]["n_unparsable"] == 1
    # p1 and p2 rated on both sides: p1 flawed on the WC side alone
    assert row["judge"]["difference"] == {**paired_proportion_difference(1, 0, 2), "method": "paired", "pairs": 2}
    _, markdown = student_errors_table([row], judge_model="toy-se")
    assert "1/3" in markdown and "50.0 [10.0, 90.0]" in markdown and "Human FP" in markdown
    findings = student_findings([row], {"toy": "compute"}, margin=0.05)
    assert [f["statement"].split("(")[1].split(":")[0] for f in findings] == ["arithmetic checker", "LLM judge"]


# --- the judge and the audit form of the students -------------------------------------------------------------------

PROBLEMS = [{"id": f"p{i}", "question": f"What is {i} + {i}?", "solution": f"{i} + {i} = {2 * i}",
             "answer": str(2 * i), "level": 1 + i % 2} for i in range(12)]


def test_both_arms_are_drawn_in_one_order_of_the_problems():
    wc = correct_solutions(evaluation({f"p{i}": CLEAN for i in range(12)}))
    se = correct_solutions(evaluation({f"p{i}": CLEAN for i in range(0, 12, 2)}))
    assert problem_order(["b", "a", "c"], 3) == problem_order(["c", "a", "b"], 3)
    drawn_wc, drawn_se = select_for_judging(wc, 6, seed=3), select_for_judging(se, 3, seed=3)
    order = problem_order([f"p{i}" for i in range(12)], 3)
    assert [r["problem_id"] for r in drawn_wc] == order[:6]
    assert [r["problem_id"] for r in drawn_se] == [pid for pid in order if int(pid[1:]) % 2 == 0][:3]
    assert len(select_for_judging(se, 100, seed=3)) == 6


def test_judge_student_solutions_with_a_fake_judge():
    calls = []

    def judge_fn(prompts, params):
        calls.append((prompts, params))
        return [[{"text": "VERDICT: FLAWED" if "9 + 8 = 14" in p else "VERDICT: CORRECT", "prompt_tokens": 10,
                  "completion_tokens": 3, "finish_reason": "stop"}] for p in prompts]

    template = "Q: {question}\nRef: {gold_solution}\nCandidate: {candidate_solution}\nVERDICT?"
    records, summary = judge_student_solutions(judge_fn, evaluation({"p1": SLIP, "p2": CLEAN, "p3": CLEAN}), PROBLEMS,
                                               template, source="wc", generator="toy-wc", n=2, seed=0,
                                               max_tokens=64)
    assert summary["correct"] == 3 and summary["n"] == 2 and summary["selected"] == 2
    assert [r["problem_id"] for r in records] == problem_order(["p1", "p2", "p3"], 0)[:2]
    assert all(r["source"] == "wc" and r["generator"] == "toy-wc" and r["level"] in (1, 2) for r in records)
    assert {r["problem_id"]: r["verdict"] for r in records} == {r["problem_id"]: "flawed" if r["problem_id"] == "p1"
                                                               else "correct" for r in records}
    assert calls[0][1].temperature == 0.0
    none, empty = judge_student_solutions(judge_fn, evaluation({}), PROBLEMS, template, source="se", generator="g",
                                       n=2, seed=0, max_tokens=64)
    assert none == [] and empty["n"] == 0 and empty["correct"] == 0


def test_the_students_audit_form_is_blind_and_pairs_the_arms(tmp_path):
    evaluations = {"wc": evaluation({f"p{i}": CLEAN for i in range(10)}),
                   "se": evaluation({f"p{i}": SLIP for i in range(0, 10, 2)})}
    files = [tmp_path / name for name in ("form.html", "template.csv", "key.csv")]
    items = export_student_form(evaluations, PROBLEMS, *files, generators={"wc": "gen-weak", "se": "gen-strong"},
                                per_source=3, judge_n=6, seed=4)
    assert sorted(i["source"] for i in items) == ["se", "se", "se", "wc", "wc", "wc"]
    page, template = files[0].read_text(), files[1].read_text()
    assert "Audit of correct test solutions" in page
    assert "gen-weak" not in page + template and "gen-strong" not in page + template
    key = list(csv.DictReader(files[2].open()))
    assert {row["source"] for row in key} == {"wc", "se"}
    # every audited item is a judged one, and the arms share problems: SE's solved problems in the common order
    judged = {source: [r["problem_id"] for r in select_for_judging(correct_solutions(evaluations[source]), 6, 4)]
              for source in ("wc", "se")}
    for source in ("wc", "se"):
        assert [i["problem_id"] for i in items if i["source"] == source] != []
        assert {i["problem_id"] for i in items if i["source"] == source} == set(judged[source][:3])
    empty = export_student_form({"wc": evaluation({}), "se": evaluation({})}, PROBLEMS, *files,
                                generators={"wc": "a", "se": "b"})
    assert empty == [] and "Nothing to audit" in files[0].read_text()


# --- targets and the workflow ----------------------------------------------------------------------------------

def load(path: str) -> Study:
    return build(yaml.safe_load((REPO / path).read_text()))


def test_targets_of_the_toy_and_the_paper_config():
    toy = load("configs/toy.yaml")
    layout = Layout.from_config(toy)
    cells = targets.student_error_cells(toy, layout)
    assert len(cells) == 2 * 3 and all(c["judge"] is None and c["audit"] is None for c in cells)   # no judge
    assert cells[0]["paths"]["wc"] == {"1": "results/toy/rep-1/evaluation/math/toy/low/toy-student/wc.json"}
    assert targets.student_error_files(toy, layout) == [f"results/toy/student-errors.{ext}" for ext in ("tex", "md", "json")]
    assert targets.student_judge_files(toy, layout) == []
    assert toy.student_errors.margin == 0.05
    paper = load("config.yaml")
    files = targets.student_judge_files(paper, Layout.from_config(paper))
    assert "results/rep-1/student_judge/math/gemma2/high/gemma2-27b/wc.json" in files
    assert "results/rep-1/student_audit/gsm8k/gemma2/low/gemma-7b/form.html" in files
    assert len(files) == len(targets.student_cells(paper)) * 3 == 15 * 3
    ratings = targets.student_audit_ratings_file(paper, "math", "gemma2", "low", "gemma-7b")
    assert ratings == "audit/students/math/gemma2/low/gemma-7b/ratings.csv"
    cells = targets.student_error_cells(paper, Layout.from_config(paper), exists=lambda path: path == ratings)
    assert [c["audit"] for c in cells if c["audit"]] == ["results/rep-1/student_audit/math/gemma2/low/gemma-7b/summary.json"]
    # without WC or SE data there is nothing to compare
    no_se = dataclasses.replace(toy, sources=["wc", "gold"])
    assert targets.student_cells(no_se) == [] and targets.student_error_files(no_se, layout) == []


def job_counts(text: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", text, re.MULTILINE)}


def test_dry_runs_list_the_student_targets(tmp_path):
    paper = snakemake("-n", "--configfile", str(REPO / "config.yaml"), "--directory", str(tmp_path / "paper"),
                      "student_errors")
    assert paper.returncode == 0, paper.stdout[-3000:]
    counts = job_counts(paper.stdout)
    assert counts["judge_student_solutions"] == 30 and counts["export_student_audit_form"] == 15
    assert counts["make_student_errors_table"] == 1
    toy = snakemake("-n", "--configfile", str(REPO / "configs" / "toy.yaml"), "--directory", str(tmp_path / "toy"))
    assert toy.returncode == 0, toy.stdout[-3000:]
    counts = job_counts(toy.stdout)
    assert counts["make_student_errors_table"] == 1 and "judge_student_solutions" not in counts
