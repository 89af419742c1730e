"""The paper's tables as booktabs LaTeX and as Markdown (for reading in a terminal).

Table 1: finetuning results.  For each dataset, pair and budget, each student and the setting it is in, the
test accuracy after training on SE data and on WC data, and the relative gain of WC over SE.
Table 2: data quality.  Coverage, diversity (answer- and reasoning-level) and false-positive rate of the SE
data at k against the WC data at ratio*k, per dataset and budget.
"""

from __future__ import annotations

import math

from tabulate import tabulate


def relative_gain(wc: float, se: float) -> float:
    """(WC - SE) / SE: the paper's 'relative gain' of training on WC data."""
    if se is None or wc is None or se == 0 or math.isnan(se) or math.isnan(wc):
        return float("nan")
    return (wc - se) / se


def percent(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    return f"{100 * value:.{digits}f}"


def fraction(value) -> str:
    """A rate for a log line: three decimals, or 'n/a' where nothing could be measured."""
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def signed_percent(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    return f"{100 * value:+.1f}"


def table1_rows(cells: list[dict], accuracy: dict[str, float], base: dict[tuple, float] | None = None,
                untrained: frozenset[str] = frozenset()) -> list[dict]:
    """One row per (dataset, pair, budget, student): accuracy on SE data, on WC data, relative gain.

    ``cells`` carry dataset, pair, budget, student, source, setting and the evaluation ``path``;
    ``accuracy`` maps that path to pass@1; ``base`` maps (dataset, model) to pre-finetuning accuracy;
    ``untrained`` holds the paths whose student had no example to train on (the base model was kept).
    """
    rows: dict[tuple, dict] = {}
    for cell in cells:
        key = (cell["dataset"], cell["pair"], cell["budget"], cell["student"])
        row = rows.setdefault(key, {"dataset": cell["dataset"], "pair": cell["pair"], "budget": cell["budget"],
                                    "student": cell["student"], "settings": {}})
        row[cell["source"]] = accuracy[cell["path"]]
        if cell["path"] in untrained:
            row.setdefault("untrained", set()).add(cell["source"])
        row["settings"][cell["source"]] = cell["setting"]
        if base is not None:
            row["base"] = base.get((cell["dataset"], cell["student"]))
    for row in rows.values():
        row["gain"] = relative_gain(row.get("wc"), row.get("se"))
    return list(rows.values())


def _table1_records(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    has_gold = any("gold" in r for r in rows)
    has_base = any(r.get("base") is not None for r in rows)
    headers = ["Dataset", "Pair", "Budget", "Student", "Setting (WC data / SE data)"]
    headers += ["Base"] if has_base else []
    headers += ["SE data", "WC data", "Rel. gain"] + (["Gold"] if has_gold else [])
    body = []
    for r in rows:
        settings = f"{r['settings'].get('wc', '--')} / {r['settings'].get('se', '--')}"
        line = [r["dataset"], r["pair"], r["budget"], r["student"], settings]
        line += [percent(r.get("base"))] if has_base else []
        line += [_accuracy_cell(r, "se"), _accuracy_cell(r, "wc"), signed_percent(r["gain"])]
        line += [_accuracy_cell(r, "gold")] if has_gold else []
        body.append(line)
    return headers, body


UNTRAINED_MARK = "*"
UNTRAINED_NOTE = f" {UNTRAINED_MARK} No correct solution to train on: the student as it was before finetuning."


def _accuracy_cell(row: dict, source: str) -> str:
    return percent(row.get(source)) + (UNTRAINED_MARK if source in row.get("untrained", ()) else "")


def latex_escape(text: str) -> str:
    return (str(text).replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("%", "\\%")
            .replace("&", "\\&").replace("#", "\\#").replace("@", "{@}"))


def to_latex(headers: list[str], body: list[list[str]], caption: str, label: str) -> str:
    """A booktabs table, numbers right-aligned; a midrule between datasets."""
    align = "".join("r" if _numeric_column(body, i) else "l" for i in range(len(headers)))
    lines = ["\\begin{table}[t]", "\\centering", "\\small", f"\\caption{{{latex_escape(caption)}}}",
             f"\\label{{{label}}}", f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_escape(h) for h in headers) + " \\\\", "\\midrule"]
    previous = None
    for row in body:
        if previous is not None and row[0] != previous:
            lines.append("\\midrule")
        previous = row[0]
        lines.append(" & ".join(latex_escape(c) for c in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def _numeric_column(body: list[list[str]], index: int) -> bool:
    values = [row[index] for row in body if row[index] != "--"]
    return bool(values) and all(_is_number(v) for v in values)


def _is_number(text: str) -> bool:
    try:
        float(text.removesuffix(UNTRAINED_MARK))
        return True
    except ValueError:
        return False


def to_markdown(headers: list[str], body: list[list[str]], caption: str) -> str:
    # Cells are already formatted text: tabulate must not re-read them as numbers (it would drop '+' signs
    # and trailing zeros), but numeric columns still align right.
    align = ["right" if _numeric_column(body, i) else "left" for i in range(len(headers))]
    return (f"**{caption}**\n\n" + tabulate(body, headers=headers, tablefmt="github", disable_numparse=True,
                                              colalign=align) + "\n")


TABLE1_CAPTION = ("Finetuning on compute-matched synthetic data: test accuracy (%) of each student after "
                  "training on SE data and on WC data, and the relative gain (%) of WC over SE.")
TABLE2_CAPTION = ("Quality of compute-matched synthetic data: coverage@k (%), diversity@k (unique correct "
                  "solutions per problem; answer- and reasoning-level) and false-positive rate (%) of kept "
                  "solutions, SE at k against WC at ratio times k.")


def table1(rows: list[dict]) -> tuple[str, str]:
    headers, body = _table1_records(rows)
    caption = TABLE1_CAPTION + (UNTRAINED_NOTE if any(r.get("untrained") for r in rows) else "")
    return to_latex(headers, body, caption, "tab:finetuning"), to_markdown(headers, body, caption)


def table2(cells: list[dict], metrics: dict[str, dict]) -> tuple[str, str]:
    """``cells`` carry dataset, pair, budget and ``path``; ``metrics`` maps path to measure_budget output."""
    headers = ["Dataset", "Pair", "Budget", "Model", "k", "Coverage", "Diversity", "Reasoning div.",
               "False pos.", "Kept"]
    body = []
    for cell in cells:
        m = metrics[cell["path"]]
        for role in ("se", "wc"):
            side = m[role]
            body.append([cell["dataset"], cell["pair"], cell["budget"], f"{role.upper()} ({side['model']})",
                         str(side["k"]), percent(side["coverage"]), f"{side['diversity']:.2f}",
                         f"{side['reasoning_diversity']:.2f}", percent(side["false_positive_rate"]),
                         str(side["kept"])])
    return (to_latex(headers, body, TABLE2_CAPTION, "tab:data-quality"),
            to_markdown(headers, body, TABLE2_CAPTION))
