"""The paper's findings, stated for this run as holding, not holding or unresolved, with the numbers and 95%
intervals behind each, computed from the result files (``results/findings.md``).

Each finding is tested per cell by the verdict of a WC minus SE comparison at 95%:

* data quality, per (dataset, pair, budget), from each replicate's metrics ``comparison``
  (:func:`weakstrong.metrics.compare_sides`), combined by :func:`combined_comparison`: coverage and diversity
  paired over replicates x problems (:func:`weakstrong.stats.crossed_mean`), the arithmetic checker's
  false-positive rate as two proportions per replicate (random-effects mean over replicates); and the LLM
  judge's false-positive rate (the first replicate's data), where the config has a judge, as two proportions
  of its rated solutions.  The paper: WC data has higher coverage, higher diversity and a higher
  false-positive rate;
* finetuning, per Table 1 row (dataset, pair, budget, student; :func:`weakstrong.tables.table1_rows`):
  WC-trained minus SE-trained test pass@1, paired by replicate and test problem, with the smallest difference
  the design detects and the replicates it would take to detect half of it.  The paper: at equal sampling compute the
  WC-trained model beats the SE-trained one in each setting (knowledge distillation, self-improvement,
  weak-to-strong), and so it does at equal price;
* the reasoning errors of the finetuned students, per Table 1 row with both WC and SE data
  (:func:`weakstrong.student_errors.student_rows`, the student-errors table's ``.json``): WC minus SE share of
  flawed correct test solutions, by the arithmetic checker over the replicates (paired over the problems both
  students solved) and by the LLM judge where the config has one. The paper: models finetuned on WC data make no
  more reasoning errors; a cell holds when the interval lies below the non-inferiority margin
  (``student_errors.margin``), does not hold when it lies above 0
  (:func:`no_more_errors_status`);
* transfer, per row of a transfer dataset's table (:func:`weakstrong.tables.transfer_rows`, its ``.json``) and
  maj@k: WC-trained minus SE-trained on a dataset that varies the training dataset's test problems (Functional
  MATH), paired by replicate and problem, one finding per setting. The paper (Figure 6): WC ahead for Gemma-7B
  and Gemma2-9B, about equal for Gemma2-27B;
* the number-matched reversal, per row of the ``number_matched`` ablation's table
  (:func:`weakstrong.ablations.table_rows`, its ``.json``): WC data with as many samples per question as SE
  data, minus SE data, test pass@1 paired by replicate and problem.  The paper: at an equal number of samples
  SE data wins;
* without gold answers, per row of Table 1b (:func:`weakstrong.source_tables.nogold_rows`) of each filter
  configured (none, the LLM judge, the majority answer): WC-trained minus SE-trained as above; and the mixed
  pool, per row of Table 1c (:func:`weakstrong.source_tables.mixed_rows`), minus WC-only and minus SE-only.
  PAPER.md records that the ICLR version runs these experiments, not their numbers.

A cell *holds* when the interval lies on the paper's side of 0, *does not hold* when it lies on the other
side, and is *unresolved* otherwise (no difference at 95%, nothing to compare).  A finding holds
when every cell holds, does not hold when every cell does not, and is unresolved otherwise: mixed or
unresolved cells (the counts say which), or no cell because the configuration does not run it.
"""

from __future__ import annotations

from collections import Counter

from tabulate import tabulate

from weakstrong.stats import (CROSSED_METHOD, RANDOM_EFFECTS_METHOD, better, crossed_mean, proportion_difference,
                              random_effects_mean, verdict, with_power)
from weakstrong.tables import NOT_MEASURED, percent, replicate_means, replicate_table, signed_percent

HOLDS, FAILS, UNRESOLVED = "holds", "does not hold", "unresolved"
#: A cell whose two arms are the same untrained model (weakstrong.tables.NOT_MEASURED): no evidence either way.
NOT_MEASURED_CELL = "not measured"

#: Data-quality findings: (key, statement, the paper's numbers, how values print).  The key names the
#: metrics' comparison, or "judge" for the LLM judge's false-positive rate.
DATA_FINDINGS = (
    ("coverage", "WC data covers more problems than SE data at equal sampling cost (coverage@k)",
     "WC above SE by 11% (MATH low budget), 6% (MATH high), 8% and 1% (GSM8K); Figure 3", "percent"),
    ("diversity", "WC data has more unique correct solutions per problem than SE data (diversity@k)",
     "WC above SE by 86% and 125% (MATH), 134% and 158% (GSM8K); Figure 3", "count"),
    ("false_positive_rate", "WC data has a higher false-positive rate than SE data (arithmetic checker: "
     "kept solutions with a wrong written calculation)",
     "24% vs 17% on MATH, 2 points higher on GSM8K (human audit; the LLM judge agrees)", "percent"),
    ("judge", "WC data has a higher false-positive rate than SE data (LLM judge: kept solutions whose "
     "reasoning it rates flawed)", "24% vs 17% on MATH, 2 points higher on GSM8K (human audit; the LLM judge "
     "agrees)", "percent"),
)

#: Finetuning findings per setting (the setting of the WC-trained model), at compute-matched budgets.
SETTING_FINDINGS = (
    ("knowledge distillation", "A student distilled from WC data beats one distilled from SE data",
     "Gemma-7B: +6% and +5.8% (MATH low, high), +4.2% and +1.3% (GSM8K); Figures 4 and 5"),
    ("self-improvement", "The WC model improves more on its own data than distilled from SE data",
     "Gemma2-9B: +3.8% and +2% (MATH), +1.5% and no win (GSM8K high); Figures 4 and 5"),
    ("weak-to-strong", "The SE model trained on WC data (weak-to-strong) beats it trained on its own data",
     "Gemma2-27B: +5.8% and +4.3% (MATH), +1.2% and +1.5% (GSM8K); Figures 4 and 5"),
)
PRICE_FINDING = ("At equal price, models trained on WC data beat those trained on SE data",
                 "Gemini Flash vs Pro (35 vs 1 per problem), MATH: +31.6% (Gemma-7B), +14.4% (Gemma2-9B), "
                 "+10.9% (Gemma2-27B); Figure 10")
#: The finetuned students' reasoning errors: (key of the student-errors rows, statement).
STUDENT_FINDINGS = (
    ("arithmetic", "Students finetuned on WC data make no more reasoning errors than those finetuned on SE data "
     "(arithmetic checker: correct test solutions with a wrong written calculation)"),
    ("judge", "Students finetuned on WC data make no more reasoning errors than those finetuned on SE data "
     "(LLM judge: correct test solutions whose reasoning it rates flawed)"),
)
STUDENT_PAPER = ("models finetuned on WC data make no more reasoning errors than those finetuned on SE data (the "
                 "submission's Figure 7, as its ICLR reviews report it; its numbers are not available)")
#: Transfer findings per setting (of the WC-trained model), at compute-matched pairs: the paper's Figure 6, the
#: MATH-trained students on Functional MATH, maj@k for k = 1, 4, 8, 16 (high budget, PAPER.md: unverified).
TRANSFER_FINDINGS = (
    ("knowledge distillation", "A student distilled from WC data does better on {dataset} than one distilled from "
     "SE data", "Gemma-7B: WC ahead by 5.8% to 6.5% at k = 1, 4, 8 and 16; Figure 6"),
    ("self-improvement", "The WC model trained on its own data does better on {dataset} than distilled from SE data",
     "Gemma2-9B: WC ahead by 2.5% to 4.5%; Figure 6"),
    ("weak-to-strong", "The SE model trained on WC data (weak-to-strong) does better on {dataset} than trained on "
     "its own data", "Gemma2-27B: about equal, WC 2% higher at k = 8; Figure 6"),
)
#: Findings without gold answers, per filter (weakstrong.sources): (filter, statement, the paper's).
_NOGOLD_PAPER = ("the ICLR version learns without gold answers by no filtering and by LM-as-a-judge filtering (a "
                 "Gemini judge) [card]; PAPER.md (sections 5 and 10) records neither its numbers nor which data won. "
                 "With gold answers the paper's WC-trained models beat the SE-trained ones in every setting (section 1)")
NOGOLD_FINDINGS = (
    ("unfiltered", "Without gold answers and without filtering (every sample kept), models trained on WC data beat "
     "those trained on SE data", _NOGOLD_PAPER),
    ("judged", "Without gold answers, filtered by the LLM judge (question and solution only), models trained on WC "
     "data beat those trained on SE data", _NOGOLD_PAPER),
    ("majority", "Without gold answers, filtered by the majority answer (a label-free filter), models trained on WC "
     "data beat those trained on SE data",
     "not one of the paper's filters: a label-free filter this workflow adds where no judge can run (the toy world); "
     "the paper's own without gold answers are none and an LM judge (PAPER.md section 5). With gold answers the "
     "paper's WC-trained models beat the SE-trained ones in every setting (section 1)"),
)
_MIXED_PAPER = ("the ICLR version mixes WC and SE data [card]; PAPER.md (section 10) records neither its numbers nor "
                "which data won")
#: Findings of the mixed pool: (the arm it is compared with, statement, the paper's).
MIXED_FINDINGS = (
    ("wc", "Models trained on the mixed WC+SE pool beat those trained on WC data alone", _MIXED_PAPER),
    ("se", "Models trained on the mixed WC+SE pool beat those trained on SE data alone", _MIXED_PAPER),
)
NUMBER_FINDING = ("At an equal number of samples, SE data beats WC data (the WC advantage comes from compute "
                  "matching)", "the number-matched ablation (Figure 8)")


def cell_status(verdict: str, paper: str, opposite: str) -> str:
    """A cell's status from a comparison's verdict: ``paper`` is the verdict the paper's finding predicts,
    ``opposite`` its reverse; a comparison of the untrained model with itself is not measured; any other
    verdict (no difference, nothing to compare, no data) is unresolved."""
    if verdict == NOT_MEASURED:
        return NOT_MEASURED_CELL
    if verdict == paper:
        return HOLDS
    if verdict == opposite:
        return FAILS
    return UNRESOLVED


def overall_status(statuses: list[str], missing: str = "not run in this configuration") -> tuple[str, str]:
    """A finding's status over its cells and why: holds (every cell holds), does not hold (every cell
    does not), else unresolved; ``missing`` says why when there is no cell."""
    if not statuses:
        return UNRESOLVED, missing
    counts = Counter(statuses)
    if counts[HOLDS] == len(statuses):
        return HOLDS, f"holds in all {len(statuses)} cells"
    if counts[FAILS] == len(statuses):
        return FAILS, f"does not hold in any of {len(statuses)} cells"
    if counts[NOT_MEASURED_CELL] == len(statuses):
        return UNRESOLVED, (f"not measured in any of its {len(statuses)} cells: selection kept the untrained model "
                            f"for both sources")
    return UNRESOLVED, (f"of {len(statuses)} cells, {counts[HOLDS]} hold, {counts[FAILS]} do not, "
                        f"{counts[UNRESOLVED]} unresolved"
                        + (f", {counts[NOT_MEASURED_CELL]} not measured (base kept)" if counts[NOT_MEASURED_CELL]
                           else ""))


def _finding(statement: str, paper: str, section: str, cells: list[dict], missing: str | None = None) -> dict:
    status, reason = overall_status([cell["status"] for cell in cells], *([missing] if missing else []))
    return {"section": section, "statement": statement, "paper": paper, "status": status, "reason": reason,
            "cells": cells}


def _judge_comparison(summaries: dict) -> dict:
    """WC minus SE flawed rate of the judge's rated solutions, as two independent proportions."""
    return proportion_difference(summaries["wc"]["n_flawed"], summaries["wc"]["n_rated"],
                                 summaries["se"]["n_flawed"], summaries["se"]["n_rated"])


def combined_comparison(replicates: list[dict], key: str) -> dict:
    """WC minus SE of the data metric ``key`` over the replicates' metrics (each a
    :func:`weakstrong.metrics.measure_budget` output with its ``comparison``): coverage and diversity over
    replicates x problems (:func:`weakstrong.stats.crossed_mean` of the per-problem differences), the
    false-positive rate as the random-effects mean of the replicates' Newcombe differences; each with its
    verdict, and for coverage and diversity the power of the design (:func:`weakstrong.stats.with_power`). One
    replicate gives that replicate's comparison."""
    if len(replicates) == 1:
        return replicates[0]["comparison"][key]
    if key == "false_positive_rate":
        return random_effects_mean([m["comparison"][key] for m in replicates])
    arms = []
    for number, m in enumerate(replicates):
        per_problem = m["comparison"].get("per_problem")
        if per_problem is None:
            raise ValueError(f"replicate {number + 1}'s data metrics have no per-problem differences: they were "
                             f"written before replicates were combined; delete them and run the workflow again")
        arms.append(dict(zip(per_problem["problem_id"], per_problem[key])))
    labels = [str(number) for number in range(len(arms))]
    (table,) = replicate_table(dict(zip(labels, arms)), replicates=labels)
    result = with_power(crossed_mean(table))
    return {**result, "verdict": verdict(result["ci95"], n=result["n"], unit="replicate")}


def data_findings(cells: list[dict], metrics: dict[str, dict], judge: dict[str, dict] | None = None) -> list[dict]:
    """Coverage, diversity and false-positive findings over the experiments.

    ``cells`` carry dataset, pair, match, budget, ``paths`` (replicate -> :func:`weakstrong.metrics.measure_budget`
    output with its ``comparison``) and ``judge`` (``{"se": path, "wc": path}`` of the judge summaries, or
    None); ``metrics`` and ``judge`` map those paths to the files' contents.  Values are means over the
    replicates (with the interval of a single replicate's rate); the judge finding is left out when no cell
    has a judge.
    """
    judge = judge or {}
    judged = any(cell.get("judge") for cell in cells)
    findings = []
    for key, statement, paper, kind in DATA_FINDINGS:
        if key == "judge" and not judged:
            continue
        rows = []
        for cell in cells:
            replicates = [metrics[path] for path in cell["paths"].values()]
            first = replicates[0]
            if key == "judge":
                if not cell.get("judge"):
                    continue
                summaries = {source: judge[path] for source, path in cell["judge"].items()}
                values = {source: (summaries[source]["rate"], summaries[source]["ci95"]) for source in ("se", "wc")}
                comparison = _judge_comparison(summaries)
            else:
                single = len(replicates) == 1 and key == "false_positive_rate"
                means = replicate_means(replicates)
                values = {source: (means[source][key], first[source]["false_positive_ci95"] if single else None)
                          for source in ("se", "wc")}
                comparison = combined_comparison(replicates, key)
            rows.append({"dataset": cell["dataset"], "pair": cell["pair"], "match": cell["match"],
                         "budget": cell["budget"], "k": {source: first[source]["k"] for source in ("se", "wc")},
                         "replicates": len(replicates), "kind": kind, "se": values["se"], "wc": values["wc"],
                         "difference": comparison, "verdict": comparison["verdict"],
                         "status": cell_status(comparison["verdict"], "WC higher", "SE higher")})
        findings.append(_finding(statement, paper, "data", rows))
    return findings


def number_matched_cells(rows: list[dict], matches: dict[str, str]) -> list[dict]:
    """The number-matched finding's cells: per (dataset, pair, budget, student) of the ablation's table
    ``rows`` (:func:`weakstrong.ablations.table_rows`), the arm of WC data with SE's samples per question
    against the SE arm.  The paper's side is SE better."""
    def key(row: dict) -> tuple:
        return row["dataset"], row["pair"], row["budget"], row["student"]

    se = {key(row): row for row in rows if row["source"] == "se"}
    cells = []
    for row in rows:
        reference = se.get(key(row))
        if (reference is None or row["against"] != "se" or not row["source"].startswith("wc")
                or row["per_question"] != reference["per_question"]):
            continue  # the SE arm itself, or the cost-matched WC arm
        verdict = better(row["difference"]["verdict"])
        cells.append({"dataset": row["dataset"], "pair": row["pair"], "match": matches[row["pair"]],
                      "budget": row["budget"], "student": row["student"],
                      "settings": {"wc": row["setting"], "se": reference["setting"]},
                      "se": reference["pass@1"], "wc": row["pass@1"], "difference": row["difference"],
                      "verdict": verdict, "status": cell_status(verdict, "SE better", "WC better")})
    return cells


def training_findings(rows: list[dict], matches: dict[str, str], number_matched: list[dict] | None = None) -> list[dict]:
    """WC-trained against SE-trained findings: one per setting at compute-matched pairs, one at
    price-matched pairs, and the number-matched reversal.

    ``rows`` are :func:`weakstrong.tables.table1_rows`; ``matches`` maps each pair to its match
    (``compute`` or ``price``).  A row's setting is the WC-trained model's (``settings["wc"]``).
    ``number_matched`` are the rows of the number-matched ablation's table, None where it is off.
    """
    cells = [{"dataset": row["dataset"], "pair": row["pair"], "match": matches[row["pair"]],
              "budget": row["budget"], "student": row["student"], "settings": row["settings"],
              "se": row.get("se"), "wc": row.get("wc"), "difference": row["difference"],
              "verdict": row["difference"]["verdict"],
              "status": cell_status(row["difference"]["verdict"], "WC better", "SE better")}
             for row in rows if row.get("difference")]
    findings = [_finding(statement, paper, "training",
                         [c for c in cells if c["match"] == "compute" and c["settings"].get("wc") == setting])
                for setting, statement, paper in SETTING_FINDINGS]
    findings.append(_finding(*PRICE_FINDING, "training", [c for c in cells if c["match"] == "price"],
                             "not run in this configuration: no generator pair is matched on price"))
    if number_matched is None:
        findings.append(_finding(*NUMBER_FINDING, "training", [], "not run in this configuration: the "
                                 "number_matched ablation is off (config key 'ablations.number_matched')"))
    else:
        findings.append(_finding(*NUMBER_FINDING, "training", number_matched_cells(number_matched, matches),
                                 "the number_matched ablation's table has no WC arm at SE's count"))
    return findings


def no_more_errors_status(difference: dict, margin: float) -> str:
    """The finding "WC-data students make no more reasoning errors than SE-data students" in one cell, from WC
    minus SE's 95% interval: *does not hold* when it lies above 0 (more errors on WC data); *holds* when it lies
    below ``margin`` (non-inferiority: WC's rate is at most ``margin`` above SE's, config key
    ``student_errors.margin``); *unresolved* otherwise or without an interval; *not measured* where both arms
    are the untrained student."""
    if difference.get("verdict") == NOT_MEASURED:
        return NOT_MEASURED_CELL
    if difference.get("ci95") is None:
        return UNRESOLVED
    low, high = difference["ci95"]
    if low > 0:
        return FAILS
    return HOLDS if high < margin else UNRESOLVED


def student_findings(rows: list[dict] | None, matches: dict[str, str], margin: float) -> list[dict]:
    """The finetuned students' reasoning-error findings: by the arithmetic checker, and by the LLM judge where
    some row has its verdicts. ``rows`` are :func:`weakstrong.student_errors.student_rows` (the student-errors
    table's ``.json``), None where the configuration has no student finetuned on both WC and SE data; ``margin``
    is the non-inferiority margin of :func:`no_more_errors_status`."""
    note = (f"A cell holds when the 95% interval of WC minus SE lies below +{percent(margin)} points (the "
            f"non-inferiority margin, config key 'student_errors.margin'), does not hold when it lies above 0, and "
            f"is unresolved otherwise.")
    if rows is None:
        return [{**_finding(STUDENT_FINDINGS[0][1], STUDENT_PAPER, "students", [], "not run in this configuration: "
                            "no student is finetuned on both WC and SE data (config key 'sources')"), "note": note}]
    findings = []
    for key, statement in STUDENT_FINDINGS:
        if key == "judge" and not any(row.get("judge") for row in rows):
            continue
        cells = []
        for row in rows:
            measured = row.get(key)
            if not measured:
                continue
            difference = measured["difference"]
            cells.append(_row_cell(row, matches, difference, no_more_errors_status(difference, margin),
                                   **{source: (measured[source]["rate"], measured[source]["ci95"])
                                      for source in ("se", "wc")}))
        findings.append({**_finding(statement, STUDENT_PAPER, "students", cells), "note": note})
    return findings


def transfer_findings(rows: list[dict]) -> list[dict]:
    """WC-trained against SE-trained on each transfer dataset, one finding per setting at compute-matched pairs
    (:data:`TRANSFER_FINDINGS`), its cells the rows (:func:`weakstrong.tables.transfer_rows`) of each maj@k, or
    of pass@1 where the dataset has no maj@k; the paper's side is WC better."""
    findings = []
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        mine = [row for row in rows if row["dataset"] == dataset and row.get("difference")]
        voted = any(row["metric"].startswith("maj@") for row in mine)
        cells = [{"dataset": row["dataset"], "pair": row["pair"], "match": row["match"], "budget": row["budget"],
                  "student": row["student"], "settings": row["settings"], "metric": row["metric"],
                  "se": row.get("se"), "wc": row.get("wc"), "difference": row["difference"],
                  "verdict": row["difference"]["verdict"],
                  "status": cell_status(row["difference"]["verdict"], "WC better", "SE better")}
                 for row in mine if row["metric"].startswith("maj@") == voted]
        for setting, statement, paper in TRANSFER_FINDINGS:
            findings.append(_finding(statement.format(dataset=dataset), paper, "transfer",
                                     [c for c in cells if c["match"] == "compute" and c["settings"].get("wc") == setting],
                                     f"no compute-matched pair has a {setting} student"))
    return findings


def _row_cell(row: dict, matches: dict[str, str], difference: dict, status: str, **values) -> dict:
    """A finding's cell from a table row of one finetuned (dataset, pair, budget, student): the row's keys, its
    pair's match, the compared ``values``, the difference, its verdict and the finding's status."""
    return {"dataset": row["dataset"], "pair": row["pair"], "match": matches[row["pair"]], "budget": row["budget"],
            "student": row["student"], "settings": row["settings"], **values, "difference": difference,
            "verdict": difference["verdict"], "status": status}


def source_findings(nogold: list[dict], mixed: list[dict], matches: dict[str, str]) -> list[dict]:
    """The findings of the sources beyond the main study's: WC against SE without gold answers, one per filter
    that Table 1b has (``nogold``: :func:`weakstrong.source_tables.nogold_rows`), and the mixed pool against
    WC-only and SE-only where Table 1c has rows (``mixed``: :func:`weakstrong.source_tables.mixed_rows`).  None
    where the config has no such source."""
    findings = []
    for name, statement, paper in NOGOLD_FINDINGS:
        rows = [row for row in nogold if row["filter"] == name]
        if not rows:
            continue
        cells = [_row_cell(row, matches, row["difference"],
                           cell_status(row["difference"]["verdict"], "WC better", "SE better"),
                           se=row.get("se"), wc=row.get("wc"))
                 for row in rows if row.get("difference")]
        findings.append(_finding(statement, paper, "sources", cells,
                                 f"no cell has {name} data of both sides (config key 'sources')"))
    for side, statement, paper in MIXED_FINDINGS if mixed else ():
        cells = [_row_cell(row, matches, row["against"][side],
                           cell_status(row["against"][side]["verdict"], "mix better", f"{side.upper()} better"),
                           against=side.upper(), mix=row.get("mix"), other=row.get(side))
                 for row in mixed if side in row["against"]]
        findings.append({**_finding(statement, paper, "sources", cells), "kind": "mixed"})
    return findings


# --- Markdown --------------------------------------------------------------------------------------------

def _value(value, kind: str) -> str:
    return "--" if value is None else (percent(value) if kind == "percent" else f"{value:.2f}")


def _with_interval(pair, kind: str) -> str:
    value, interval = pair
    text = _value(value, kind)
    return text if not interval or value is None else f"{text} [{_value(interval[0], kind)}, {_value(interval[1], kind)}]"


def _difference(summary: dict, kind: str) -> str:
    """WC minus SE: percentage points for rates, plain for counts, with its 95% interval."""
    if summary.get("mean") is None:
        return "--"
    if kind == "percent":
        text = signed_percent(summary["mean"])
        return text if summary.get("ci95") is None else f"{text} [{percent(summary['ci95'][0])}, {percent(summary['ci95'][1])}]"
    text = f"{summary['mean']:+.2f}"
    return text if summary.get("ci95") is None else f"{text} [{summary['ci95'][0]:.2f}, {summary['ci95'][1]:.2f}]"


def _accuracy(summary: dict | None) -> str:
    """Mean test pass@1 (%), with its 95% interval."""
    if not summary or summary.get("mean") is None:
        return "--"
    return _with_interval((summary["mean"], summary.get("ci95")), "percent")


def _data_table(finding: dict) -> str:
    kind = finding["cells"][0]["kind"]
    unit = "(%)" if kind == "percent" else "(per problem)"
    if any(c[source][1] for c in finding["cells"] for source in ("se", "wc")):
        unit += " [95%]"
    headers = ["Dataset", "Pair (match)", "Budget", "k SE vs WC", f"SE {unit}", f"WC {unit}",
               "WC - SE [95%]" + (" (points)" if kind == "percent" else ""), "Verdict", "Finding"]
    powered = any("detectable" in c["difference"] for c in finding["cells"])
    headers += ["Detectable" + (" (points)" if kind == "percent" else ""), "Replicates for half"] if powered else []
    body = []
    for c in finding["cells"]:
        line = [c["dataset"], f"{c['pair']} ({c['match']})", c["budget"], f"{c['k']['se']} vs {c['k']['wc']}",
                _with_interval(c["se"], kind), _with_interval(c["wc"], kind), _difference(c["difference"], kind),
                c["verdict"], c["status"]]
        if powered:
            line += [_value(c["difference"].get("detectable"), kind), _replicates_for_half(c["difference"])]
        body.append(line)
    return _markdown(headers, body)


def _training_table(finding: dict) -> str:
    """Finetuning (test pass@1) or transfer cells (their metric, in a column of its own)."""
    metric = "metric" in finding["cells"][0]
    measure = "(%)" if metric else "pass@1 (%)"
    headers = (["Dataset", "Pair (match)", "Budget", "Student", "Setting (WC data / SE data)"]
               + (["Metric"] if metric else [])
               + [f"SE-trained {measure} [95%]", f"WC-trained {measure} [95%]", "WC - SE (points) [95%]", "Verdict",
                  "Finding"])
    powered = any("detectable" in c["difference"] for c in finding["cells"])
    headers += ["Detectable (points)", "Replicates for half"] if powered else []
    body = []
    for c in finding["cells"]:
        line = [c["dataset"], f"{c['pair']} ({c['match']})", c["budget"], c["student"],
                f"{c['settings'].get('wc', '--')} / {c['settings'].get('se', '--')}",
                *([c["metric"]] if metric else []), _accuracy(c["se"]),
                _accuracy(c["wc"]), _difference(c["difference"], "percent"), c["verdict"], c["status"]]
        if powered:
            line += [percent(c["difference"].get("detectable")), _replicates_for_half(c["difference"])]
        body.append(line)
    return _markdown(headers, body)


def _compared(difference: dict) -> str:
    if difference.get("method") == "paired":
        return f"paired ({difference['pairs']} problem{'s' if difference['pairs'] != 1 else ''})"
    return difference.get("method") or "--"


def _student_table(finding: dict) -> str:
    headers = ["Dataset", "Pair (match)", "Budget", "Student", "Setting (WC data / SE data)", "SE-trained (%) [95%]",
               "WC-trained (%) [95%]", "WC - SE (points) [95%]", "Compared", "Verdict", "Finding"]
    body = [[c["dataset"], f"{c['pair']} ({c['match']})", c["budget"], c["student"],
             f"{c['settings'].get('wc', '--')} / {c['settings'].get('se', '--')}", _with_interval(c["se"], "percent"),
             _with_interval(c["wc"], "percent"), _difference(c["difference"], "percent"), _compared(c["difference"]),
             c["verdict"], c["status"]] for c in finding["cells"]]
    return _markdown(headers, body)


def _mixed_table(finding: dict) -> str:
    """The cells of a mixed-pool finding: the mixed pool against the one-generator data it is compared with."""
    against = finding["cells"][0]["against"]
    headers = ["Dataset", "Pair (match)", "Budget", "Student", "Setting (WC data / SE data)",
               f"{against}-trained pass@1 (%) [95%]", "Mix-trained pass@1 (%) [95%]",
               f"Mix - {against} (points) [95%]", "Verdict", "Finding"]
    body = [[c["dataset"], f"{c['pair']} ({c['match']})", c["budget"], c["student"],
             f"{c['settings'].get('wc', '--')} / {c['settings'].get('se', '--')}", _accuracy(c["other"]),
             _accuracy(c["mix"]), _difference(c["difference"], "percent"), c["verdict"], c["status"]]
            for c in finding["cells"]]
    return _markdown(headers, body)


def _replicates_for_half(difference: dict) -> str:
    """The replicates it takes to detect half the detectable difference (:func:`weakstrong.stats.with_power`);
    '--' where the design cannot say."""
    if difference.get("detectable") is None:
        return "--"
    needed = difference.get("replicates_for_half")
    return str(needed) if needed is not None else "not reachable (test set too small)"


def _markdown(headers: list[str], body: list[list[str]]) -> str:
    # cells are formatted text: tabulate must not re-read them as numbers (it would drop '+' signs)
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


SECTIONS = {"data": "Data quality at equal sampling cost (the paper's Figure 3)",
            "training": "Finetuning on WC data against SE data (Figures 4, 5 and 10; Table 1)",
            "students": "Reasoning errors of the finetuned students (the submission's Figure 7)",
            "transfer": "Transfer to datasets the students never trained on (Figure 6: Functional MATH)",
            "sources": "Without gold answers, and mixed WC+SE data (the ICLR version's extra experiments; Tables 1b "
                       "and 1c)"}
TABLES = {"data": _data_table, "training": _training_table, "students": _student_table,
          "transfer": _training_table, "sources": _training_table}
INTRO = ("Each of the paper's findings, tested on this run's result files by `weakstrong.findings` (written by "
         "the workflow, not by hand). A cell holds when the 95% interval of WC minus SE lies on the paper's side "
         "of zero, does not hold when it lies on the other side, and is unresolved otherwise (no difference at "
         "95%, nothing to compare). A finding holds when every cell holds, does not hold "
         "when no cell does, and is unresolved otherwise. Data metrics are paired over replicates x problems "
         "(coverage, diversity) or compared as two proportions per replicate (false-positive rates, combined by "
         f"the {RANDOM_EFFECTS_METHOD}); finetuning results are paired by replicate and test problem. Intervals "
         f"over replicates x problems: {CROSSED_METHOD}, which leaves the replicates' own variation out with one "
         "replicate. Detectable: the smallest WC - SE difference this design detects at 95% with 80% power, from "
         "the measured variance components (needs two replicates or more); Replicates for half: how many it would "
         "take to detect half of that on the same test set.")


def findings_markdown(findings: list[dict], title: str = "Findings", machines: str = "") -> str:
    """``findings.md``: a summary list of every finding's status, then each with its cells' numbers;
    ``machines`` (the provenance sentence) follows the introduction."""
    lines = [f"# {title}", "", INTRO, *(["", machines] if machines else []), "", "## Summary", ""]
    lines += [f"- **{f['status']}**: {f['statement']} ({f['reason']})" for f in findings]
    for section, heading in SECTIONS.items():
        if not any(f["section"] == section for f in findings):
            continue  # transfer and sources: only where the config has them
        lines += ["", f"## {heading}"]
        for finding in (f for f in findings if f["section"] == section):
            lines += ["", f"### {finding['statement']}: {finding['status']}", "",
                      f"Paper: {finding['paper']}. This run: {finding['reason']}."
                      + (f" {finding['note']}" if finding.get("note") else "")]
            if finding["cells"]:
                render = _mixed_table if finding.get("kind") == "mixed" else TABLES[section]
                lines += ["", render(finding)]
    return "\n".join(lines) + "\n"
