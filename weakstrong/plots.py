"""Figures: coverage over k and over sampling cost, the data-quality comparison of Figure 3 (SE vs WC per
budget), finetuning results per setting (Figures 4 and 5) and maj@k curves.

Matplotlib is used through its object API with the Agg canvas (no pyplot, no display, no global backend
change).  Every figure is written as PDF and PNG next to each other: ``plot(..., "out/fig.pdf")`` writes
``out/fig.pdf`` and ``out/fig.png`` and returns both paths.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from weakstrong.metrics import level_order

#: Colours and hatches per data source: SE (strong, expensive) and WC (weak, cheap).
SOURCE_STYLE = {"se": {"color": "#3b6fb6", "hatch": ""}, "wc": {"color": "#e08a2e", "hatch": "//"}}
#: Other curves cycle through these.
PALETTE = ("#3b6fb6", "#e08a2e", "#3a9a5b", "#b8443f", "#7b5ea7", "#8c6d46", "#c45fa0", "#6b6b6b")
#: Panels of :func:`plot_data_metrics`: (key in measure_budget's side, title, scale, y label), then one
#: false-positive panel: the LLM judge's rate where there is one, else the arithmetic checker's.
PANELS = (
    ("coverage", "Coverage@k", 100, "% of problems"),
    ("diversity", "Diversity@k", 1, "unique correct solutions / problem"),
    ("reasoning_diversity", "Reasoning diversity@k", 1, "distinct step sequences / problem"),
)
#: (title, y label) of the false-positive panel by who measured it.
FALSE_POSITIVE_PANEL = {"judge": ("False-positive rate (LLM judge)", "% of judged kept solutions"),
                        "arithmetic": ("Arithmetic slips (checker)", "% of checkable kept solutions")}

_RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8, "hatch.color": "white",
       "hatch.linewidth": 0.8}


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _styled(function):
    """Run a plotting function under the module's rc settings (fonts are fixed when artists are made)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with rc_context(_RC):
            return function(*args, **kwargs)
    return wrapper


def _save(figure: Figure, path: str | Path) -> list[Path]:
    base = Path(path)
    base = base.with_suffix("") if base.suffix.lower() in (".pdf", ".png") else base
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, options in ((".pdf", {"metadata": {"CreationDate": None}}), (".png", {"dpi": 200})):
        target = base.with_name(base.name + suffix)
        figure.savefig(target, **options)  # no creation date: a rerun writes the same bytes
        written.append(target)
    return written


def _apply_style(axes) -> None:
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


@_styled
def plot_coverage_curves(curves: dict[str, list[float]], path: str | Path, title: str) -> list[Path]:
    """Coverage@k (as %) against k = 1..len(curve) for each labelled curve (e.g. from
    :func:`weakstrong.metrics.coverage_curve`); k on a log2 axis when curves reach k >= 8."""
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    empty = [label for label, values in curves.items() if not values]
    if empty:
        raise ValueError(f"curve(s) without values: {', '.join(map(str, empty))}")
    figure = _figure(5.0, 3.5)
    axes = figure.add_subplot()
    longest = max(len(values) for values in curves.values())
    for number, (label, values) in enumerate(curves.items()):
        ks = list(range(1, len(values) + 1))
        axes.plot(ks, [100 * v for v in values], label=str(label), color=PALETTE[number % len(PALETTE)],
                  marker="o" if len(values) <= 32 else None, markersize=3, linewidth=1.6)
    if longest >= 8:
        axes.set_xscale("log", base=2)
        axes.set_xlim(0.9, longest * 1.1)
    else:
        axes.set_xlim(0.5, longest + 0.5)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, 100)
    axes.set_xlabel("k (samples per problem)")
    axes.set_ylabel("Coverage@k (%)")
    axes.set_title(title)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    _apply_style(axes)
    axes.legend(frameon=False, loc="lower right")
    return _save(figure, path)


def _side_label(metrics_by_budget: dict, role: str) -> str:
    models = {m[role].get("model") for m in metrics_by_budget.values() if m[role].get("model")}
    name = {"se": "SE", "wc": "WC"}[role]
    return f"{name} ({', '.join(sorted(models))})" if models else name


def _false_positives(metrics_by_budget: dict, judge_by_budget: dict | None) -> dict:
    """(value, 95% interval) of the false-positive panel per (budget, role): the judge's flawed rate when
    ``judge_by_budget`` is given, else the arithmetic checker's rate."""
    if judge_by_budget is None:
        return {(budget, role): (m[role].get("false_positive_rate"), m[role].get("false_positive_ci95"))
                for budget, m in metrics_by_budget.items() for role in ("se", "wc")}
    values = {}
    for budget in metrics_by_budget:
        missing = [role for role in ("se", "wc") if role not in judge_by_budget.get(budget, {})]
        if missing:
            raise ValueError(f"judge summaries for budget {budget!r} lack {', '.join(missing)}")
        for role in ("se", "wc"):
            summary = judge_by_budget[budget][role]
            values[budget, role] = (summary.get("rate"), summary.get("ci95"))
    return values


@_styled
def plot_data_metrics(metrics_by_budget: dict, path: str | Path, title: str,
                      judge_by_budget: dict | None = None) -> list[Path]:
    """Figure 3 of the paper: SE vs WC bars per budget for coverage, diversity, reasoning diversity and
    the false-positive rate (with 95% Wilson intervals).

    ``metrics_by_budget`` maps a budget label (e.g. ``"low"``) to :func:`weakstrong.metrics.measure_budget`
    output; each group is labelled with the budget and the k of each side.  ``judge_by_budget`` maps each
    budget to ``{"se": summary, "wc": summary}`` of the LLM judge (:func:`weakstrong.judge.judge_solutions`);
    the false-positive panel shows the judge's flawed rate when it is given, else the arithmetic checker's
    rate, titled as such.  A rate that is undefined (nothing rated or checkable) is marked ``n/a``.
    """
    if not metrics_by_budget:
        raise ValueError("metrics_by_budget is empty: nothing to plot")
    for budget, metrics in metrics_by_budget.items():
        missing = [role for role in ("se", "wc") if role not in metrics]
        if missing:
            raise ValueError(f"metrics for budget {budget!r} lack {', '.join(missing)}")
    budgets = list(metrics_by_budget)
    fp_title, fp_unit = FALSE_POSITIVE_PANEL["arithmetic" if judge_by_budget is None else "judge"]
    panels = [(name, scale, unit, {(b, role): (m[role].get(key), None) for b, m in metrics_by_budget.items()
                                   for role in ("se", "wc")})
              for key, name, scale, unit in PANELS]
    panels.append((fp_title, 100, fp_unit, _false_positives(metrics_by_budget, judge_by_budget)))
    figure = _figure(3.0 * len(panels), 3.3)
    axes_row = figure.subplots(1, len(panels))
    width = 0.38
    for axes, (panel_title, scale, unit, values) in zip(axes_row, panels):
        top = 0.0
        for offset, role in ((-width / 2, "se"), (width / 2, "wc")):
            style = SOURCE_STYLE[role]
            for position, budget in enumerate(budgets):
                value, interval = values[budget, role]
                x = position + offset
                if value is None:
                    axes.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, color="#555555")
                    continue
                error = None
                if interval:
                    low, high = interval
                    error = [[scale * (value - low)], [scale * (high - value)]]
                    top = max(top, scale * high)
                axes.bar(x, scale * value, width, color=style["color"], hatch=style["hatch"], edgecolor="white",
                         linewidth=0.6, yerr=error, capsize=2.5, error_kw={"elinewidth": 0.8},
                         label=_side_label(metrics_by_budget, role) if position == 0 else None)
                axes.text(x, scale * value, f"{scale * value:.1f}" if scale == 100 else f"{value:.2f}",
                          ha="center", va="bottom", fontsize=7)
                top = max(top, scale * value)
        axes.set_xticks(range(len(budgets)))
        axes.set_xlim(-0.6, len(budgets) - 0.4)  # fixed, so a panel of n/a only keeps its groups
        axes.set_xticklabels([f"{b}\nk={metrics_by_budget[b]['se']['k']} vs {metrics_by_budget[b]['wc']['k']}"
                              for b in budgets])
        axes.set_title(panel_title)
        axes.set_ylabel(unit)
        axes.set_ylim(0, top * 1.15 if top > 0 else 1)
        _apply_style(axes)
    handles, labels = axes_row[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    figure.suptitle(title)
    return _save(figure, path)


def coverage_by_level(metrics_by_budget: dict) -> dict:
    """``{(budget, role): {level: coverage}}`` from measure_budget output; empty when no problem has a level."""
    return {(budget, role): m[role].get("coverage_per_level", {})
            for budget, m in metrics_by_budget.items() for role in ("se", "wc")}


@_styled
def plot_coverage_by_level(metrics_by_budget: dict, path: str | Path, title: str) -> list[Path]:
    """Coverage of SE and WC data by difficulty level (MATH's 1-5; the toy world's step count), one panel
    per budget. A dataset without levels (GSM8K) gets a figure that says so, so the rule's outputs exist."""
    values = coverage_by_level(metrics_by_budget)
    budgets = list(metrics_by_budget)
    levels = sorted({level for per_level in values.values() for level in per_level}, key=level_order)
    figure = _figure(max(3.2, 1.0 + 0.6 * len(levels)) * len(budgets), 3.3)
    axes_row = figure.subplots(1, len(budgets), squeeze=False)[0]
    width = 0.38
    for axes, budget in zip(axes_row, budgets):
        if not levels:
            axes.text(0.5, 0.5, "no difficulty levels in this dataset", ha="center", va="center",
                      transform=axes.transAxes)
            axes.set_axis_off()
            continue
        for offset, role in ((-width / 2, "se"), (width / 2, "wc")):
            style = SOURCE_STYLE[role]
            side = metrics_by_budget[budget][role]
            heights = [100 * values[budget, role].get(level, float("nan")) for level in levels]
            axes.bar([i + offset for i in range(len(levels))], heights, width, color=style["color"],
                     hatch=style["hatch"], edgecolor="white", linewidth=0.6,
                     label=f"{role.upper()} ({side.get('model', role)}, k={side['k']})")
        axes.set_xticks(range(len(levels)))
        axes.set_xticklabels(levels)
        axes.set_xlabel("level")
        axes.set_ylabel("coverage@k (% of problems)")
        axes.set_ylim(0, 105)
        axes.set_title(budget)
        axes.legend(frameon=False)
        _apply_style(axes)
    figure.suptitle(title)
    return _save(figure, path)


def plot_graded_coverage(graded_by_label: dict[str, list[dict]], problems: list[dict], path: str | Path,
                         title: str) -> list[Path]:
    """:func:`plot_coverage_curves` of graded samples: each label's coverage@k for k = 1 up to the most
    samples any problem has (:func:`weakstrong.metrics.coverage_curve`, averaged over ``problems``)."""
    from weakstrong.metrics import coverage_curve

    curves = {}
    for label, graded in graded_by_label.items():
        if not graded:
            raise ValueError(f"no graded samples for {label!r}")
        per_problem: dict = {}
        for record in graded:
            per_problem[record["problem_id"]] = per_problem.get(record["problem_id"], 0) + 1
        curves[label] = coverage_curve(graded, max(per_problem.values()), problems=problems)
    return plot_coverage_curves(curves, path, title)


# --- coverage against sampling cost -----------------------------------------------------------------------

#: The cost axis by how a pair is matched: FLOPs (2·P per generated token) or USD (price per token).
COST_UNITS = {"compute": "FLOPs", "price": "USD"}


def coverage_cost_curve(graded: list[dict], problems: list[dict], cost_per_token: float) -> dict:
    """Coverage@k of a generator's graded samples against what k samples per problem cost.

    One sample per problem costs ``len(problems) * mean completion tokens * cost_per_token`` (2·P FLOPs per
    token for a compute-matched pair, the price per token for a price-matched one; prompt tokens are left
    out, as in Equation 1).  Returns ``{"cost_per_sample", "mean_tokens", "coverage"}``, ``coverage[k-1]``
    being coverage@k (:func:`weakstrong.metrics.coverage_curve` over ``problems``); k samples cost
    ``k * cost_per_sample``.
    """
    from weakstrong.metrics import coverage_curve

    if not graded:
        raise ValueError("no graded samples")
    if not cost_per_token > 0:
        raise ValueError(f"cost_per_token must be positive, got {cost_per_token!r}")
    missing = sum("completion_tokens" not in record for record in graded)
    if missing:
        raise ValueError(f"{missing} of {len(graded)} graded samples lack completion_tokens")
    per_problem = Counter(record["problem_id"] for record in graded)
    mean_tokens = sum(record["completion_tokens"] for record in graded) / len(graded)
    return {"cost_per_sample": len(problems) * mean_tokens * cost_per_token, "mean_tokens": mean_tokens,
            "coverage": coverage_curve(graded, max(per_problem.values()), problems=problems)}


def _cost_points(curve: dict) -> tuple[list[float], list[float]]:
    return [k * curve["cost_per_sample"] for k in range(1, len(curve["coverage"]) + 1)], list(curve["coverage"])


def _at(costs: list[float], values: list[float], cost: float) -> float:
    """A curve's value at ``cost`` within its range, linear in log cost between its points."""
    for index in range(len(costs) - 1):
        low, high = costs[index], costs[index + 1]
        if low <= cost <= high:
            share = (math.log(cost) - math.log(low)) / (math.log(high) - math.log(low))
            return values[index] + share * (values[index + 1] - values[index])
    return values[0] if cost == costs[0] else values[-1]


def overtake_cost(se: dict, wc: dict) -> float | None:
    """The lowest cost, within the range both curves span, at which WC's coverage is above SE's (curves as
    from :func:`coverage_cost_curve`, linear in log cost between points); None when WC is never above there
    or the ranges do not meet."""
    se_costs, se_values = _cost_points(se)
    wc_costs, wc_values = _cost_points(wc)
    low, high = max(se_costs[0], wc_costs[0]), min(se_costs[-1], wc_costs[-1])
    if low > high:
        return None
    grid = sorted({low, high, *(c for c in se_costs + wc_costs if low <= c <= high)})
    gaps = [_at(wc_costs, wc_values, c) - _at(se_costs, se_values, c) for c in grid]
    for index, gap in enumerate(gaps):
        if gap > 0:
            if index == 0:
                return grid[0]
            # both curves are linear in log cost between grid points, so is their gap: cross it exactly
            previous = gaps[index - 1]
            share = -previous / (gap - previous)
            return math.exp(math.log(grid[index - 1]) + share * (math.log(grid[index]) - math.log(grid[index - 1])))
    return None


@_styled
def plot_coverage_cost(curves: dict[str, dict], path: str | Path, title: str, *, unit: str,
                       labels: dict[str, str] | None = None, budgets: dict[str, int] | None = None) -> list[Path]:
    """Coverage against sampling cost, one curve per generator, on a log cost axis in ``unit``.

    ``curves`` maps ``"se"`` and ``"wc"`` to :func:`coverage_cost_curve` output, ``labels`` them to legend
    labels; ``budgets`` maps a budget label to SE's samples per problem there, drawn as a dashed line at its
    cost.  The cost at which WC first lies above SE (:func:`overtake_cost`) is a dotted line, and stated.
    """
    missing = [source for source in ("se", "wc") if source not in curves]
    if missing:
        raise ValueError(f"curves lack {', '.join(missing)}")
    labels = labels or {}
    figure = _figure(5.2, 3.6)
    axes = figure.add_subplot()
    for source in ("se", "wc"):
        costs, values = _cost_points(curves[source])
        axes.plot(costs, [100 * v for v in values], label=labels.get(source, source.upper()),
                  color=SOURCE_STYLE[source]["color"], marker="o" if len(values) <= 32 else None, markersize=3,
                  linewidth=1.6)
    for budget, k in (budgets or {}).items():
        cost = k * curves["se"]["cost_per_sample"]
        axes.axvline(cost, color="#888888", linestyle="--", linewidth=0.8)
        axes.text(cost, 1, f" {budget} (SE k={k})", rotation=90, ha="right", va="bottom", fontsize=7,
                  color="#555555")
    overtake = overtake_cost(curves["se"], curves["wc"])
    if overtake is None:
        note = "WC never above SE at equal cost"
    else:
        axes.axvline(overtake, color=SOURCE_STYLE["wc"]["color"], linestyle=":", linewidth=1.4)
        note = f"WC first above SE at {overtake:.3g} {unit}"
    axes.text(0.02, 0.97, note, transform=axes.transAxes, ha="left", va="top", fontsize=8)
    axes.set_xscale("log")
    axes.set_ylim(0, 100)
    axes.set_xlabel(f"sampling cost ({unit})")
    axes.set_ylabel("Coverage (%)")
    axes.set_title(title)
    _apply_style(axes)
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=2, frameon=False)
    return _save(figure, path)


# --- finetuning results ------------------------------------------------------------------------------------

#: Finetuning data sources: SE and WC samples as in SOURCE_STYLE, and gold (the datasets' own solutions).
TRAINING_STYLE = {**SOURCE_STYLE, "gold": {"color": "#3a9a5b", "hatch": ".."}}
TRAINING_LABELS = {"se": "SE data", "wc": "WC data", "gold": "gold data"}
BASE_LABEL = "before finetuning (zero-shot)"
#: Line styles of budgets in order, in :func:`plot_majority_curves`.
BUDGET_LINES = ("-", "--", ":", "-.")


def _student_title(student: str, settings: dict) -> str:
    wc, se = settings.get("wc", "--"), settings.get("se", "--")
    return f"{student}\n{wc}" if wc == se else f"{student}\nWC data: {wc}\nSE data: {se}"


def _figure_legend(figure: Figure, axes_row) -> None:
    """One legend below the panels, each label once, the student before finetuning last."""
    entries = {}
    for axes in axes_row:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if BASE_LABEL in entries:
        entries[BASE_LABEL] = entries.pop(BASE_LABEL)
    figure.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=min(4, len(entries)),
                  frameon=False)


@_styled
def plot_finetuning(rows: list[dict], path: str | Path, title: str) -> list[Path]:
    """Figures 4 and 5 of the paper: test pass@1 (%) after finetuning on SE, WC and gold data.

    ``rows`` are :func:`weakstrong.tables.table1_rows` of one dataset and pair: one panel per student,
    titled with its setting on WC and on SE data; bars per budget, with the 95% interval over the replicates
    and test problems; the student before finetuning (zero-shot, ``base``) as a dashed line.
    """
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    students = list(dict.fromkeys(row["student"] for row in rows))
    budgets = list(dict.fromkeys(row["budget"] for row in rows))
    sources = [source for source in TRAINING_STYLE if any(row.get(source) for row in rows)]
    if not sources:
        raise ValueError("no row has a finetuning result")
    figure = _figure(max(3.2 * len(students), 4.5), 3.9)
    axes_row = figure.subplots(1, len(students), squeeze=False)[0]
    width = 0.8 / len(sources)
    for axes, student in zip(axes_row, students):
        by_budget = {row["budget"]: row for row in rows if row["student"] == student}
        top = 0.0
        for number, source in enumerate(sources):
            style = TRAINING_STYLE[source]
            for position, budget in enumerate(budgets):
                summary = by_budget.get(budget, {}).get(source)
                if not summary or summary.get("mean") is None:
                    continue
                x, value = position + (number - (len(sources) - 1) / 2) * width, 100 * summary["mean"]
                error = None
                if summary.get("ci95"):
                    low, high = (100 * bound for bound in summary["ci95"])
                    error = [[value - low], [high - value]]
                    top = max(top, high)
                axes.bar(x, value, width, color=style["color"], hatch=style["hatch"], edgecolor="white",
                         linewidth=0.6, yerr=error, capsize=2.5, error_kw={"elinewidth": 0.8},
                         label=TRAINING_LABELS[source])
                axes.text(x, value, f"{value:.1f}", ha="center", va="bottom", fontsize=6)
                top = max(top, value)
        base = next((row["base"] for row in by_budget.values() if row.get("base") is not None), None)
        if base is not None:
            axes.axhline(100 * base, color="#555555", linestyle="--", linewidth=1.0, label=BASE_LABEL)
            top = max(top, 100 * base)
        axes.set_xticks(range(len(budgets)))
        axes.set_xlim(-0.6, len(budgets) - 0.4)
        axes.set_xticklabels(budgets)
        axes.set_title(_student_title(student, next(iter(by_budget.values()))["settings"]), fontsize=9)
        axes.set_ylabel("test pass@1 (%)")
        axes.set_ylim(0, top * 1.15 if top > 0 else 1)
        _apply_style(axes)
    _figure_legend(figure, axes_row)
    figure.suptitle(title)
    return _save(figure, path)


# --- maj@k ---------------------------------------------------------------------------------------------

def majority_curves(cells: list[dict], evaluations: dict[str, dict], maj_k: list[int]) -> dict:
    """maj@k of each finetuning cell over the replicates and test problems, for the k in ``maj_k`` in
    increasing order.

    ``cells`` and ``evaluations`` as for :func:`weakstrong.tables.table1_rows`.  Returns ``{student:
    {(budget, source): {"k": [...], "mean": [...], "ci95": [[low, high] or None, ...]}}}``, the mean and its
    95% interval (:func:`weakstrong.tables.arm_accuracy`).
    """
    from weakstrong.tables import arm_accuracy, outcomes

    ks = sorted(maj_k)
    if not ks:
        raise ValueError("maj_k is empty: no maj@k to plot")
    curves: dict = {}
    for cell in cells:
        summaries = []
        for k in ks:
            lacking = [path for path in cell["paths"].values() if f"maj@{k}" not in evaluations[path]]
            if lacking:
                raise ValueError(f"evaluation {lacking[0]} has no maj@{k}")
            summaries.append(arm_accuracy(outcomes(cell["paths"], evaluations, f"maj@{k}")))
        curves.setdefault(cell["student"], {})[cell["budget"], cell["source"]] = {
            "k": ks, "mean": [s["mean"] for s in summaries], "ci95": [s["ci95"] for s in summaries]}
    return curves


def base_majority(cells: list[dict], bases: dict[str, dict], maj_k: list[int]) -> dict:
    """Each student's zero-shot maj@k before finetuning, the mean over replicates, ``{student: {"k": [...],
    "mean": [...]}}``, from the base evaluations (``bases``: path -> rule evaluate_base's output) that have it."""
    ks = sorted(maj_k)
    curves = {}
    for cell in cells:
        zero_shots = [bases[path].get("zero_shot", {}) for path in cell.get("bases", {}).values() if path in bases]
        if zero_shots and all(f"maj@{k}" in zero_shot for zero_shot in zero_shots for k in ks):
            curves[cell["student"]] = {"k": ks, "mean": [sum(z[f"maj@{k}"] for z in zero_shots) / len(zero_shots)
                                                         for k in ks]}
    return curves


@_styled
def plot_majority_curves(curves: dict, path: str | Path, title: str, base: dict | None = None,
                         ylabel: str = "test maj@k (%)") -> list[Path]:
    """maj@k (%) against k, one panel per student: a line per (budget, source) of :func:`majority_curves`,
    coloured by source and dashed by budget, with their 95% intervals; the
    student before finetuning (:func:`base_majority`) as a grey dotted line. The transfer figure (the paper's
    Figure 6) is the same plot of a transfer dataset's evaluations, with its own ``ylabel``."""
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    budgets = list(dict.fromkeys(budget for lines in curves.values() for budget, _ in lines))
    figure = _figure(max(3.2 * len(curves), 4.5), 3.6)
    axes_row = figure.subplots(1, len(curves), squeeze=False)[0]
    for axes, (student, lines) in zip(axes_row, curves.items()):
        for (budget, source), line in lines.items():
            ks, means = line["k"], [100 * m for m in line["mean"]]
            errors = [[m - 100 * ci[0] if ci else 0 for m, ci in zip(means, line["ci95"])],
                      [100 * ci[1] - m if ci else 0 for m, ci in zip(means, line["ci95"])]]
            axes.errorbar(ks, means, yerr=errors if any(line["ci95"]) else None, capsize=2.5,
                          color=TRAINING_STYLE[source]["color"], linestyle=BUDGET_LINES[budgets.index(budget) % 4],
                          marker="o", markersize=3, linewidth=1.4, label=f"{TRAINING_LABELS[source]}, {budget}")
        if base and student in base:
            axes.plot(base[student]["k"], [100 * m for m in base[student]["mean"]], color="#777777",
                      linestyle=":", marker="s", markersize=3, linewidth=1.2, label=BASE_LABEL)
        ks = sorted({k for line in lines.values() for k in line["k"]})
        if ks[-1] >= 8:
            axes.set_xscale("log", base=2)
        axes.set_xticks(ks)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.set_xlabel("k (votes per problem)")
        axes.set_ylabel(ylabel)
        axes.set_ylim(bottom=0)
        axes.set_title(student, fontsize=9)
        _apply_style(axes)
    _figure_legend(figure, axes_row)
    figure.suptitle(title)
    return _save(figure, path)
