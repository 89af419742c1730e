"""Figures: coverage curves over k, and the data-quality comparison of Figure 3 (SE vs WC per budget).

Matplotlib is used through its object API with the Agg canvas (no pyplot, no display, no global backend
change).  Every figure is written as PDF and PNG next to each other: ``plot(..., "out/fig.pdf")`` writes
``out/fig.pdf`` and ``out/fig.png`` and returns both paths.
"""

from __future__ import annotations

from pathlib import Path

import functools

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

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
