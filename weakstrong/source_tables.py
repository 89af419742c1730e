"""Tables 1b and 1c: finetuning on the sources beyond the main study's (:mod:`weakstrong.sources`).

* Table 1b (``nogold``): per dataset, pair, budget, student and filter, test pass@1 after training on SE's and
  on WC's samples kept by that filter (the gold answer, as the main study's reference; none; the LLM judge; the
  majority answer), WC minus SE paired by replicate and test problem, and the data: examples kept per side and
  the share of them whose final answer is right by the gold answer (measured after filtering).
* Table 1c (``mixed``): per dataset, pair, budget and student, SE-only, WC-only and the mixed pool, and the
  mixed pool minus each, paired by replicate and test problem.

Both use the main tables' statistics (:func:`weakstrong.tables.arm_accuracy`, :func:`weakstrong.tables.arm_difference`:
the crossed replicate x problem intervals of :mod:`weakstrong.stats`).
"""

from __future__ import annotations

import statistics

from weakstrong.sources import FILTER_LABELS, SIDES
from weakstrong.stats import CROSSED_METHOD, better
from weakstrong.tables import (NOT_MEASURED, UNTRAINED_NOTE, _accuracy_cell, _interval_cell, arm_accuracy,
                               arm_difference, outcomes, percent, relative_gain, replicates_phrase, to_latex,
                               to_markdown)

#: Filters in table order: the main study's (by the gold answer) first.
FILTER_ORDER = ("answer", "unfiltered", "judged", "majority")


def _untrained(cell: dict, evaluations: dict[str, dict]) -> set[str]:
    """The replicates in which selection kept the untrained student."""
    return {replicate for replicate, path in cell["paths"].items() if evaluations[path]["selection"]["step"] == 0}


def data_summary(cell: dict, data: dict[str, list[dict]]) -> dict:
    """A cell's finetuning data: ``examples`` (mean over the replicates) and ``right``, the share of the kept
    examples whose final answer is right (pooled over the replicates; None where nothing was kept).  Examples
    without a ``correct`` field are the main study's answer-filtered ones: right."""
    parts = [data[path] for path in cell["sft"].values()]
    kept = sum(map(len, parts))
    right = sum(bool(e.get("correct", True)) for part in parts for e in part)
    return {"examples": statistics.mean(map(len, parts)), "right": right / kept if kept else None}


def named_verdict(verdict: str, first: str, second: str) -> str:
    """A verdict of ``first`` minus ``second`` (:func:`weakstrong.stats.verdict`'s 'WC higher' / 'SE higher')
    named by the arms: 'mix better', 'WC better'."""
    return {"WC higher": f"{first} better", "SE higher": f"{second} better"}.get(verdict, verdict)


def _arm(cell: dict, evaluations: dict[str, dict]) -> dict:
    return {"outcomes": outcomes(cell["paths"], evaluations), "untrained": _untrained(cell, evaluations)}


def _difference(mine: dict, other: dict) -> dict:
    return arm_difference(mine["outcomes"], other["outcomes"], mine["untrained"], other["untrained"])


def nogold_rows(cells: list[dict], evaluations: dict[str, dict], data: dict[str, list[dict]]) -> list[dict]:
    """Table 1b's rows: one per (dataset, pair, budget, student, filter) of ``cells``
    (:func:`weakstrong.targets.source_cells` of ``nogold``), in filter order; each with both sides' pass@1,
    data (:func:`data_summary`) and settings, and WC minus SE where both sides ran (verdict 'WC better',
    'SE better', no difference, or :data:`weakstrong.tables.NOT_MEASURED` where both kept the untrained
    student).  ``evaluations`` and ``data`` map the cells' paths to the files' contents."""
    groups: dict[tuple, dict[str, dict]] = {}
    for cell in cells:
        key = (cell["dataset"], cell["pair"], cell["budget"], cell["student"], cell["filter"])
        groups.setdefault(key, {})[cell["side"]] = cell
    first: dict[tuple, int] = {}  # each (dataset, pair, budget, student) where it first appears
    for index, key in enumerate(groups):
        first.setdefault(key[:4], index)
    rows = []
    for key in sorted(groups, key=lambda k: (first[k[:4]], FILTER_ORDER.index(k[4]))):
        sides = groups[key]
        arms = {side: _arm(cell, evaluations) for side, cell in sides.items()}
        row = {"dataset": key[0], "pair": key[1], "budget": key[2], "student": key[3], "filter": key[4],
               "label": FILTER_LABELS[key[4]], "sources": {side: cell["source"] for side, cell in sides.items()},
               "settings": {side: cell["setting"] for side, cell in sides.items()},
               "untrained": sorted(side for side, arm in arms.items() if arm["untrained"]),
               **{side: arm_accuracy(arm["outcomes"]) for side, arm in arms.items()},
               "data": {side: data_summary(cell, data) for side, cell in sides.items()}}
        if set(arms) == set(SIDES):
            difference = _difference(arms["wc"], arms["se"])
            row["difference"] = {**difference, "verdict": better(difference["verdict"])}
            row["gain"] = (None if difference["verdict"] == NOT_MEASURED
                           else relative_gain(row["wc"]["mean"], row["se"]["mean"]))
        rows.append(row)
    return rows


def mixed_rows(cells: list[dict], evaluations: dict[str, dict], data: dict[str, list[dict]]) -> list[dict]:
    """Table 1c's rows: one per (dataset, pair, budget, student) of ``cells``
    (:func:`weakstrong.targets.source_cells` of ``mixed``), with the pass@1 and data of SE-only, WC-only and the
    mixed pool, and the mixed pool minus each (``against``: {"wc": ..., "se": ...}; verdicts 'mix better',
    'WC better' / 'SE better', no difference, or not measured)."""
    groups: dict[tuple, dict[str, dict]] = {}
    for cell in cells:
        groups.setdefault((cell["dataset"], cell["pair"], cell["budget"], cell["student"]), {})[cell["source"]] = cell
    rows = []
    for key, arms_cells in groups.items():
        arms = {source: _arm(cell, evaluations) for source, cell in arms_cells.items()}
        row = {"dataset": key[0], "pair": key[1], "budget": key[2], "student": key[3],
               "settings": {side: arms_cells[side]["setting"] for side in SIDES if side in arms_cells},
               "untrained": sorted(source for source, arm in arms.items() if arm["untrained"]),
               **{source: arm_accuracy(arm["outcomes"]) for source, arm in arms.items()},
               "data": {source: data_summary(cell, data) for source, cell in arms_cells.items()}, "against": {}}
        for side in SIDES:
            if "mix" in arms and side in arms:
                difference = _difference(arms["mix"], arms[side])
                row["against"][side] = {**difference,
                                        "verdict": named_verdict(difference["verdict"], "mix", side.upper())}
        rows.append(row)
    return rows


NOGOLD_CAPTION = ("Finetuning without gold answers (Table 1b): zero-shot test pass@1 (%) of each student after "
                  "training on SE's and on WC's samples of the budget kept by each filter (the mean over {replicates} "
                  "and the test problems, ± the half-width of its 95% interval): gold answer, the main study's data "
                  "(Table 1), for reference; none, every sample, right or wrong; LLM judge, those {judge} rates "
                  "correct from the question and the solution alone (prompts/judge-nogold.txt shows no gold answer); "
                  "majority answer, those whose final answer is the strict majority among the question's samples of "
                  "the budget (a label-free filter; with one sample per question it keeps every finished sample). "
                  "Kept: examples (mean over the replicates); Right: the share (%) of them whose final answer matches "
                  "the gold answer, measured after filtering (only the gold-answer filter reads it). WC minus SE in "
                  f"points paired by replicate and test problem, with its 95% interval and verdict. Intervals: "
                  f"{CROSSED_METHOD}.")
MIXED_CAPTION = ("Finetuning on mixed data (Table 1c): zero-shot test pass@1 (%) of each student after training on "
                 "SE data, on WC data and on the mixed pool, the union of the two (every answer-filtered sample of "
                 "both generators at the budget, each once), the mean over {replicates} and the test problems, ± the "
                 "half-width of its 95% interval; Kept: examples (mean over the replicates); the mixed pool minus "
                 "WC-only and minus SE-only in points, paired by replicate and test problem, with 95% intervals and "
                 f"verdicts. Intervals: {CROSSED_METHOD}.")


def _kept(summary: dict | None) -> str:
    """Examples kept: a count, or the mean of counts over the replicates with one decimal."""
    if summary is None:
        return "--"
    return str(int(summary["examples"])) if float(summary["examples"]).is_integer() else f"{summary['examples']:.1f}"


def _settings(row: dict) -> str:
    return f"{row['settings'].get('wc', '--')} / {row['settings'].get('se', '--')}"


def _caption(template: str, rows: list[dict], machines: str, **values) -> str:
    return (template.format(replicates=replicates_phrase(rows), **values)
            + (UNTRAINED_NOTE if any(r["untrained"] for r in rows) else "") + (f" {machines}" if machines else ""))


def nogold_table(rows: list[dict], machines: str = "", judge_model: str | None = None) -> tuple[str, str]:
    """Table 1b from :func:`nogold_rows`; ``judge_model`` names the judge in the caption, ``machines`` (the
    provenance sentence) closes it."""
    headers = ["Dataset", "Pair", "Budget", "Student", "Setting (WC data / SE data)", "Filter", "Kept SE", "Kept WC",
               "Right SE (%)", "Right WC (%)", "SE data", "WC data", "WC - SE [95%]", "Verdict"]
    body = []
    for r in rows:
        difference = r.get("difference") or {}
        body.append([r["dataset"], r["pair"], r["budget"], r["student"], _settings(r), r["label"],
                     _kept(r["data"].get("se")), _kept(r["data"].get("wc")),
                     *(percent((r["data"].get(side) or {}).get("right")) for side in ("se", "wc")),
                     _accuracy_cell(r, "se"), _accuracy_cell(r, "wc"), _interval_cell(difference),
                     difference.get("verdict", "--")])
    caption = _caption(NOGOLD_CAPTION, rows, machines, judge=judge_model or "the configured judge")
    return to_latex(headers, body, caption, "tab:finetuning-nogold"), to_markdown(headers, body, caption)


def mixed_table(rows: list[dict], machines: str = "") -> tuple[str, str]:
    """Table 1c from :func:`mixed_rows`."""
    headers = ["Dataset", "Pair", "Budget", "Student", "Setting (WC data / SE data)", "Kept SE", "Kept WC",
               "Kept mix", "SE data", "WC data", "Mixed data", "Mix - WC [95%]", "Verdict vs WC", "Mix - SE [95%]",
               "Verdict vs SE"]
    body = []
    for r in rows:
        line = [r["dataset"], r["pair"], r["budget"], r["student"], _settings(r),
                *(_kept(r["data"].get(source)) for source in ("se", "wc", "mix")),
                *(_accuracy_cell(r, source) for source in ("se", "wc", "mix"))]
        for side in SIDES:
            against = r["against"].get(side) or {}
            line += [_interval_cell(against), against.get("verdict", "--")]
        body.append(line)
    caption = _caption(MIXED_CAPTION, rows, machines)
    return to_latex(headers, body, caption, "tab:finetuning-mixed"), to_markdown(headers, body, caption)


def source_rows(table: str, cells: list[dict], evaluations: dict[str, dict], data: dict[str, list[dict]]) -> list[dict]:
    """The rows of source table ``table`` (``nogold`` or ``mixed``)."""
    return (nogold_rows if table == "nogold" else mixed_rows)(cells, evaluations, data)


def source_table(table: str, rows: list[dict], machines: str = "", judge_model: str | None = None) -> tuple[str, str]:
    """The LaTeX and Markdown of source table ``table`` from its rows."""
    return nogold_table(rows, machines, judge_model) if table == "nogold" else mixed_table(rows, machines)
