"""The paper's findings on hand-made results where each verdict is known: per cell, over cells, in Markdown."""

from __future__ import annotations

import json

import pytest

from weakstrong.ablations import table_rows
from weakstrong.findings import (FAILS, HOLDS, NOT_MEASURED_CELL, UNRESOLVED, cell_status, data_findings, findings_markdown,
                                 overall_status, training_findings)
from weakstrong.tables import NOT_MEASURED, table1_rows


def test_a_cell_holds_only_on_the_papers_side_of_zero():
    assert cell_status("WC higher", "WC higher", "SE higher") == HOLDS
    assert cell_status("SE higher", "WC higher", "SE higher") == FAILS
    for verdict in ("no difference at 95%", "unresolved (one seed)", "unresolved (nothing to compare)"):
        assert cell_status(verdict, "WC higher", "SE higher") == UNRESOLVED
    assert cell_status("WC better", "WC better", "SE better") == HOLDS


def test_a_cell_of_the_untrained_model_against_itself_is_not_measured_and_never_no_difference():
    assert cell_status(NOT_MEASURED, "WC better", "SE better") == NOT_MEASURED_CELL
    assert overall_status([NOT_MEASURED_CELL, NOT_MEASURED_CELL]) == (
        UNRESOLVED, "not measured in any of its 2 cells: selection kept the untrained model for both sources")
    assert overall_status([HOLDS, NOT_MEASURED_CELL]) == (
        UNRESOLVED, "of 2 cells, 1 hold, 0 do not, 0 unresolved, 1 not measured (base kept)")


def test_a_finding_holds_when_every_cell_does():
    assert overall_status([HOLDS, HOLDS]) == (HOLDS, "holds in all 2 cells")
    assert overall_status([FAILS]) == (FAILS, "does not hold in any of 1 cells")
    assert overall_status([HOLDS, FAILS, UNRESOLVED, HOLDS]) == (
        UNRESOLVED, "of 4 cells, 2 hold, 1 do not, 1 unresolved")
    assert overall_status([HOLDS, UNRESOLVED])[0] == UNRESOLVED
    assert overall_status([], "no such experiment") == (UNRESOLVED, "no such experiment")


def difference(mean: float, low: float, high: float, verdict: str) -> dict:
    return {"mean": mean, "ci95": [low, high], "verdict": verdict}


def side(k: int, coverage: float, diversity: float, fpr: float) -> dict:
    return {"k": k, "coverage": coverage, "diversity": diversity, "false_positive_rate": fpr,
            "false_positive_ci95": [fpr - 0.05, fpr + 0.05]}


# Low budget: WC covers more (holds), as diverse (unresolved), fewer false positives (does not hold).
# High budget: WC covers more (holds), more diverse (holds), fewer false positives (does not hold).
METRICS = {
    "low.json": {"se": side(1, 0.40, 0.5, 0.20), "wc": side(3, 0.50, 0.6, 0.10),
                 "comparison": {"coverage": difference(0.10, 0.05, 0.15, "WC higher"),
                                "diversity": difference(0.10, -0.05, 0.25, "no difference at 95%"),
                                "false_positive_rate": difference(-0.10, -0.15, -0.05, "SE higher")}},
    "high.json": {"se": side(10, 0.60, 2.0, 0.25), "wc": side(30, 0.70, 4.5, 0.15),
                  "comparison": {"coverage": difference(0.10, 0.02, 0.18, "WC higher"),
                                 "diversity": difference(2.5, 2.0, 3.0, "WC higher"),
                                 "false_positive_rate": difference(-0.10, -0.18, -0.02, "SE higher")}},
}


def metric_cells(judged: bool) -> list[dict]:
    return [{"dataset": "math", "pair": "toy", "match": "compute", "budget": budget, "paths": {"1": f"{budget}.json"},
             "judge": {source: f"judge/{budget}/{source}.json" for source in ("se", "wc")} if judged else None}
            for budget in ("low", "high")]


def judged(flawed: int, rated: int) -> dict:
    return {"n": rated + 5, "n_rated": rated, "n_flawed": flawed, "rate": flawed / rated, "ci95": [0.0, 1.0]}


def test_data_findings_follow_the_metrics_comparisons():
    findings = data_findings(metric_cells(False), METRICS)
    assert [f["status"] for f in findings] == [HOLDS, UNRESOLVED, FAILS]   # coverage, diversity, FPR; no judge
    assert findings[1]["reason"] == "of 2 cells, 1 hold, 0 do not, 1 unresolved"
    low = findings[0]["cells"][0]
    assert (low["budget"], low["k"], low["se"], low["wc"]) == ("low", {"se": 1, "wc": 3}, (0.40, None), (0.50, None))
    assert findings[2]["cells"][1]["se"] == (0.25, [0.2, 0.25 + 0.05])      # the checker's Wilson interval


def test_the_judge_finding_compares_its_flawed_rates_as_two_proportions():
    judge = {"judge/low/wc.json": judged(30, 100), "judge/low/se.json": judged(10, 100),     # 30% vs 10%
             "judge/high/wc.json": judged(10, 100), "judge/high/se.json": judged(10, 100)}   # 10% vs 10%
    findings = data_findings(metric_cells(True), METRICS, judge)
    assert len(findings) == 4
    verdicts = [cell["verdict"] for cell in findings[3]["cells"]]
    assert verdicts == ["WC higher", "no difference at 95%"]
    assert findings[3]["cells"][0]["difference"]["mean"] == pytest.approx(0.2)
    assert findings[3]["status"] == UNRESOLVED


PROBLEMS = 100


def evaluation(value: float) -> dict:
    """A finetuned model's evaluation on PROBLEMS test problems: the first PROBLEMS * value right."""
    right = round(value * PROBLEMS)
    return {"pass@1": value, "selection": {"step": 2},
            "per_problem": {"problem_id": [f"q{i}" for i in range(PROBLEMS)],
                            "pass@1": [int(i < right) for i in range(PROBLEMS)]}}


def evaluation_cells(matches: dict[str, str], accuracies: dict[tuple[str, str, str], list[float]]) -> tuple:
    """Table 1 cells and evaluations: accuracies[(pair, student, source)] per replicate."""
    settings = {"student": {"wc": "knowledge distillation", "se": "knowledge distillation"},
                "weak": {"wc": "self-improvement", "se": "knowledge distillation"},
                "strong": {"wc": "weak-to-strong", "se": "self-improvement"}}
    cells, evaluations = [], {}
    for (pair, student, source), values in accuracies.items():
        paths = {}
        for replicate, value in enumerate(values, 1):
            path = f"{pair}/{student}/{source}/rep-{replicate}.json"
            evaluations[path] = evaluation(value)
            paths[str(replicate)] = path
        cells.append({"dataset": "math", "pair": pair, "budget": "low", "student": student, "source": source,
                      "setting": settings[student][source], "paths": paths})
    return table1_rows(cells, evaluations), matches


def test_training_findings_per_setting_and_at_equal_price():
    rows, matches = evaluation_cells({"toy": "compute", "api": "price"}, {
        # distillation: WC-trained ahead by 5 to 7 points in every replicate: holds
        ("toy", "student", "se"): [0.30, 0.32, 0.31], ("toy", "student", "wc"): [0.35, 0.39, 0.37],
        # self-improvement: SE-trained ahead in every replicate: does not hold
        ("toy", "weak", "se"): [0.50, 0.52, 0.51], ("toy", "weak", "wc"): [0.40, 0.43, 0.41],
        # weak-to-strong: the same in every replicate: no difference, unresolved
        ("toy", "strong", "se"): [0.60, 0.61, 0.62], ("toy", "strong", "wc"): [0.60, 0.61, 0.62],
        # price-matched, one replicate, 2 points apart on 100 problems: no difference at 95%, unresolved
        ("api", "student", "se"): [0.2], ("api", "student", "wc"): [0.22],
    })
    findings = training_findings(rows, matches)
    by_statement = {f["statement"]: f for f in findings}
    assert [f["status"] for f in findings] == [HOLDS, FAILS, UNRESOLVED, UNRESOLVED, UNRESOLVED]
    distillation = findings[0]
    assert [c["student"] for c in distillation["cells"]] == ["student"]          # not the price-matched row
    assert distillation["cells"][0]["difference"]["mean"] == pytest.approx(0.06)
    assert findings[2]["cells"][0]["verdict"] == "no difference at 95%"
    price = findings[3]
    assert [c["pair"] for c in price["cells"]] == ["api"] and price["cells"][0]["verdict"] == "no difference at 95%"
    number = by_statement[findings[4]["statement"]]
    assert number["cells"] == [] and number["reason"].startswith("not run")


def test_data_findings_combine_replicates_over_problems():
    """Two replicates of the same problems: coverage and diversity pair over replicates x problems, the
    false-positive rate combines the replicates' own comparisons (random effects), values are means."""
    from weakstrong.stats import crossed_mean, random_effects_mean

    def replicate(coverage, diversity, fp):
        return {"se": side(1, 0.40, 0.5, 0.20), "wc": side(3, 0.40 + sum(coverage) / 4, 0.6, 0.10),
                "comparison": {"per_problem": {"problem_id": ["a", "b", "c", "d"], "coverage": coverage,
                                               "diversity": diversity},
                               "coverage": None, "diversity": None, "false_positive_rate": fp}}
    metrics = {"r1.json": replicate([1, 0, 1, 1], [1, 2, 0, 1], difference(-0.1, -0.15, -0.05, "SE higher")),
               "r2.json": {**replicate([0, 0, 1, 1], [2, 1, 1, 0], difference(-0.2, -0.3, -0.1, "SE higher"))}}
    # the second replicate lists its problems in another order: they pair by id
    metrics["r2.json"]["comparison"]["per_problem"] = {"problem_id": ["d", "c", "b", "a"], "coverage": [1, 1, 0, 0],
                                                       "diversity": [0, 1, 1, 2]}
    cells = [{"dataset": "math", "pair": "toy", "match": "compute", "budget": "low",
              "paths": {"1": "r1.json", "2": "r2.json"}, "judge": None}]
    coverage, diversity, fpr = data_findings(cells, metrics)
    expected = crossed_mean([[1, 0, 1, 1], [0, 0, 1, 1]])
    assert coverage["cells"][0]["difference"]["ci95"] == pytest.approx(expected["ci95"])
    assert coverage["cells"][0]["difference"]["mean"] == pytest.approx(0.625)
    assert coverage["cells"][0]["replicates"] == 2
    assert diversity["cells"][0]["difference"]["mean"] == pytest.approx(crossed_mean([[1, 2, 0, 1], [2, 1, 1, 0]])["mean"])
    combined = random_effects_mean([difference(-0.1, -0.15, -0.05, "SE higher"), difference(-0.2, -0.3, -0.1, "")])
    assert fpr["cells"][0]["difference"]["ci95"] == pytest.approx(combined["ci95"])
    assert fpr["cells"][0]["verdict"] == "SE higher" and fpr["cells"][0]["status"] == FAILS
    # values: means over the replicates, without the single replicate's interval
    assert coverage["cells"][0]["wc"] == (pytest.approx(0.40 + 0.625), None)
    # the design's power, from the same components, and in the finding's table
    from weakstrong.stats import detectable_difference
    assert coverage["cells"][0]["difference"]["detectable"] == pytest.approx(
        detectable_difference(expected["components"], 2, 4))
    text = findings_markdown([coverage], "Findings")
    assert "| Detectable (points) | Replicates for half |" in " ".join(text.split())


def test_training_findings_without_a_price_matched_pair_say_so():
    rows, matches = evaluation_cells({"toy": "compute"}, {("toy", "student", "se"): [0.3],
                                                           ("toy", "student", "wc"): [0.4]})
    price = training_findings(rows, matches)[3]
    assert price["status"] == UNRESOLVED and "no generator pair is matched on price" in price["reason"]


def test_findings_markdown_states_each_finding_with_its_numbers():
    rows, matches = evaluation_cells({"toy": "compute"}, {("toy", "student", "se"): [0.30, 0.32, 0.31],
                                                           ("toy", "student", "wc"): [0.35, 0.39, 0.37]})
    text = findings_markdown(data_findings(metric_cells(False), METRICS) + training_findings(rows, matches),
                             "Findings of results/test")
    assert text.startswith("# Findings of results/test\n")
    assert ("- **holds**: WC data covers more problems than SE data at equal sampling cost (coverage@k) "
            "(holds in all 2 cells)") in text
    assert "### A student distilled from WC data beats one distilled from SE data: holds" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]   # table cells without their padding
    coverage_low = next(line for line in lines if line.startswith("| math") and "| 1 vs 3 |" in line)
    assert "| 40.0 | 50.0 | +10.0 [5.0, 15.0] | WC higher | holds |" in coverage_low
    diversity_high = [line for line in lines if "| 10 vs 30 |" in line][1]
    assert "| 2.00 | 4.50 | +2.50 [2.00, 3.00] | WC higher | holds |" in diversity_high
    fpr_low = [line for line in lines if "| 1 vs 3 |" in line][2]
    assert "| 20.0 [15.0, 25.0] | 10.0 [5.0, 15.0] | -10.0 [-15.0, -5.0] | SE higher | does not hold |" in fpr_low
    # replicates 0.30, 0.32, 0.31 against 0.35, 0.39, 0.37 of 100 problems: means 31.0 and 37.0, WC - SE 6.0,
    # with the crossed intervals (weakstrong.stats), the detectable difference, and no number of replicates
    # that detects half of it on 100 problems (the problems' own variance alone is too large)
    student = next(line for line in lines if "| student |" in line)
    assert ("| 31.0 [22.0, 40.0] | 37.0 [27.5, 46.5] | +6.0 [1.9, 10.1] | WC better | holds | 5.8 | not reachable "
            "(test set too small) |") in student


def number_matched_rows(accuracies: dict[tuple[str, str], list[float]]) -> list[dict]:
    """The number_matched ablation's table rows as make_ablation_table writes them (its .json): per budget,
    SE at 1 (low) or 10 (high) per question, WC at SE's count and WC cost-matched at 3 times it, each WC arm
    against SE; accuracies[(budget, source)] per run seed."""
    cells, evaluations = [], {}
    for (budget, source), values in accuracies.items():
        k = {"low": 1, "high": 10}[budget]
        per_question = 3 * k if source == "wc" else k
        paths = {}
        for replicate, value in enumerate(values, 1):
            paths[str(replicate)] = f"{budget}/{source}/rep-{replicate}.json"
            evaluations[paths[str(replicate)]] = evaluation(value)
        cells.append({"dataset": "math", "pair": "toy", "budget": budget, "student": "student",
                      "setting": "knowledge distillation", "source": source, "label": source, "per_question": per_question,
                      "relative_cost": per_question / k / (3 if source != "se" else 1),
                      "against": None if source == "se" else "se", "sft": {"1": f"{budget}/{source}.jsonl"},
                      "paths": paths})
    data = {path: [{"problem_id": "p1"}] for cell in cells for path in cell["sft"].values()}
    return json.loads(json.dumps(table_rows(cells, evaluations, data)))   # as write_findings reads them


def test_the_number_matched_finding_reads_the_ablations_rows():
    rows = number_matched_rows({
        # low: SE ahead of WC at SE's count on every seed (holds), the cost-matched WC ahead of SE (not this finding)
        ("low", "se"): [0.40, 0.42, 0.41], ("low", "wc.k1"): [0.30, 0.33, 0.31], ("low", "wc"): [0.50, 0.52, 0.51],
        # high: the same on every seed: no difference, unresolved
        ("high", "se"): [0.60, 0.61, 0.62], ("high", "wc.k10"): [0.60, 0.61, 0.62], ("high", "wc"): [0.7, 0.7, 0.8],
    })
    number = training_findings([], {"toy": "compute"}, rows)[4]
    assert number["statement"].startswith("At an equal number of samples, SE data beats WC data")
    assert [(c["budget"], c["verdict"], c["status"]) for c in number["cells"]] == [
        ("low", "SE better", HOLDS), ("high", "no difference at 95%", UNRESOLVED)]
    low = number["cells"][0]
    assert low["difference"]["mean"] == pytest.approx(-0.0967, abs=1e-4)       # WC at SE's count minus SE
    assert (low["se"]["mean"], low["wc"]["mean"]) == (pytest.approx(0.41), pytest.approx(0.3133, abs=1e-4))
    assert (number["status"], number["reason"]) == (UNRESOLVED, "of 2 cells, 1 hold, 0 do not, 1 unresolved")

    held = training_findings([], {"toy": "compute"}, [r for r in rows if r["budget"] == "low"])[4]
    assert (held["status"], held["reason"]) == (HOLDS, "holds in all 1 cells")
    reversed_rows = number_matched_rows({("low", "se"): [0.30, 0.33, 0.31], ("low", "wc.k1"): [0.40, 0.42, 0.41]})
    assert training_findings([], {"toy": "compute"}, reversed_rows)[4]["status"] == FAILS
    text = findings_markdown(training_findings([], {"toy": "compute"}, rows), "Findings")
    assert "### At an equal number of samples, SE data beats WC data" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert any("| 41.0 [31.4, 50.6] | 31.3 [" in line and "| SE better | holds |" in line for line in lines)


def test_the_number_matched_finding_is_not_run_only_when_the_ablation_is_off():
    off = training_findings([], {"toy": "compute"})[4]
    assert off["cells"] == [] and off["reason"].startswith("not run in this configuration")
    assert "ablations.number_matched" in off["reason"]
    empty = training_findings([], {"toy": "compute"}, [])[4]
    assert empty["status"] == UNRESOLVED and not empty["reason"].startswith("not run")
