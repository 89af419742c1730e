"""Figures: coverage over k and over cost, Figure 3 (data metrics), finetuning results and maj@k curves are
written as PDF and PNG, reproducibly."""

from __future__ import annotations

import pytest

from weakstrong.plots import plot_coverage_curves, plot_data_metrics, plot_graded_coverage
from weakstrong.stats import crossed_mean


def side(model: str, k: int, coverage: float, false_positive_rate: float | None) -> dict:
    return {"model": model, "k": k, "coverage": coverage, "diversity": 2 * coverage,
            "reasoning_diversity": 1.5 * coverage, "false_positive_rate": false_positive_rate,
            "false_positive_ci95": None if false_positive_rate is None else
            [max(0.0, false_positive_rate - 0.1), min(1.0, false_positive_rate + 0.1)]}


METRICS = {"low": {"se": side("toy-se", 1, 0.4, 0.1), "wc": side("toy-wc", 3, 0.6, 0.2)},
           "high": {"se": side("toy-se", 10, 0.7, None), "wc": side("toy-wc", 30, 0.9, 0.3)}}


def test_coverage_curves_write_pdf_and_png(tmp_path):
    written = plot_coverage_curves({"SE": [0.2, 0.3, 0.35], "WC": [0.1, 0.25, 0.4]},
                                   tmp_path / "figs" / "coverage.pdf", "toy")
    assert [p.name for p in written] == ["coverage.pdf", "coverage.png"]
    assert written[0].read_bytes().startswith(b"%PDF")
    assert written[1].read_bytes().startswith(b"\x89PNG")


def test_figures_are_byte_identical_on_rerun(tmp_path, monkeypatch):
    """No creation date in the PDF, so a rerun (or the same study on a cluster) writes the same file."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # the clock matplotlib would stamp the PDF with
    first = plot_data_metrics(METRICS, tmp_path / "a" / "metrics.pdf", "toy")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    second = plot_data_metrics(METRICS, tmp_path / "b" / "metrics.pdf", "toy")
    for one, other in zip(first, second):
        assert one.read_bytes() == other.read_bytes(), one.name


@pytest.mark.parametrize("curves, message", [({}, "curves is empty"), ({"SE": []}, "without values: SE")])
def test_coverage_curves_reject_empty_input(tmp_path, curves, message):
    with pytest.raises(ValueError, match=message):
        plot_coverage_curves(curves, tmp_path / "c.pdf", "toy")


def _false_positive_panel(monkeypatch, *args):
    """Title, y label and (bar heights, error bars) of the false-positive panel of plot_data_metrics."""
    import weakstrong.plots as plots

    seen = {}
    monkeypatch.setattr(plots, "_save", lambda figure, path: seen.setdefault("figure", figure) and [])
    plots.plot_data_metrics(*args)
    axes = seen["figure"].axes[len(plots.PANELS)]
    heights = sorted(round(bar.get_height(), 6) for bar in axes.patches)
    caps = sorted(round(y, 6) for line in axes.lines for y in line.get_ydata())  # error-bar cap ends
    return axes.get_title(), axes.get_ylabel(), heights, caps


JUDGE = {"low": {"se": {"rate": 0.05, "ci95": [0.02, 0.1]}, "wc": {"rate": 0.15, "ci95": [0.1, 0.2]}},
         "high": {"se": {"rate": None, "ci95": None}, "wc": {"rate": 0.25, "ci95": [0.2, 0.3]}}}


def test_data_metrics_false_positives_from_the_judge(tmp_path, monkeypatch):
    written = plot_data_metrics(METRICS, tmp_path / "j.pdf", "toy", JUDGE)
    assert [p.name for p in written] == ["j.pdf", "j.png"]
    title, unit, heights, caps = _false_positive_panel(monkeypatch, METRICS, tmp_path / "m.pdf", "toy", JUDGE)
    assert title == "False-positive rate (LLM judge)" and unit == "% of judged kept solutions"
    assert heights == [5.0, 15.0, 25.0]          # SE at high: no verdict, drawn as n/a
    assert caps == [2.0, 10.0, 10.0, 20.0, 20.0, 30.0]
    with pytest.raises(ValueError, match="judge summaries for budget 'high' lack se"):
        plot_data_metrics(METRICS, tmp_path / "j.pdf", "toy", {**JUDGE, "high": {"wc": JUDGE["high"]["wc"]}})


def test_data_metrics_false_positives_from_the_checker_without_a_judge(tmp_path, monkeypatch):
    title, unit, heights, caps = _false_positive_panel(monkeypatch, METRICS, tmp_path / "m.pdf", "toy")
    assert title == "Arithmetic slips (checker)" and unit == "% of checkable kept solutions"
    assert heights == [10.0, 20.0, 30.0]         # the checker's rates (SE at high: nothing checkable)
    assert caps == pytest.approx([0.0, 10.0, 20.0, 20.0, 30.0, 40.0])


def test_data_metrics_name_a_budget_without_both_sides(tmp_path):
    with pytest.raises(ValueError, match="'low' lack wc"):
        plot_data_metrics({"low": {"se": METRICS["low"]["se"]}}, tmp_path / "m.pdf", "toy")
    with pytest.raises(ValueError, match="empty"):
        plot_data_metrics({}, tmp_path / "m.pdf", "toy")


def test_graded_coverage_counts_unsampled_problems_as_uncovered(tmp_path, monkeypatch):
    import weakstrong.plots as plots

    seen = {}
    monkeypatch.setattr(plots, "plot_coverage_curves", lambda curves, path, title: seen.update(curves) or [])
    problems = [{"id": "p1"}, {"id": "p2"}]
    def sample(problem, index, correct):
        return {"problem_id": problem, "sample_index": index, "correct": correct}

    graded = {"SE": [sample("p1", 0, True), sample("p1", 1, False)],
              "WC": [sample("p1", 0, False), sample("p2", 0, True)]}
    plot_graded_coverage(graded, problems, tmp_path / "c.pdf", "toy")
    assert seen["SE"] == pytest.approx([0.25, 0.5])  # p1: 1 of 2 correct; p2 never sampled
    assert seen["WC"] == pytest.approx([0.5])
    with pytest.raises(ValueError, match="no graded samples for 'WC'"):
        plot_graded_coverage({"WC": []}, problems, tmp_path / "c.pdf", "toy")


# --- coverage against sampling cost -------------------------------------------------------------------------

def graded_sample(problem: str, index: int, correct: bool, tokens: int) -> dict:
    return {"problem_id": problem, "sample_index": index, "correct": correct, "completion_tokens": tokens}


def test_coverage_cost_curve_prices_k_samples_of_every_problem():
    from weakstrong.plots import coverage_cost_curve

    problems = [{"id": "p1"}, {"id": "p2"}, {"id": "p3"}]
    graded = [graded_sample("p1", 0, True, 10), graded_sample("p1", 1, False, 30),
              graded_sample("p2", 0, False, 20), graded_sample("p2", 1, False, 20)]
    curve = coverage_cost_curve(graded, problems, cost_per_token=2.0)
    assert curve["mean_tokens"] == 20
    assert curve["cost_per_sample"] == 3 * 20 * 2.0     # every problem, also p3 that has no sample yet
    assert curve["coverage"] == pytest.approx([1 / 6, 1 / 3])   # p1: 1 of 2 correct; p2, p3 never
    with pytest.raises(ValueError, match="1 of 1 graded samples lack completion_tokens"):
        coverage_cost_curve([{"problem_id": "p1", "sample_index": 0, "correct": True}], problems, 1.0)
    with pytest.raises(ValueError, match="positive"):
        coverage_cost_curve(graded, problems, 0.0)


def cost_curve(cost_per_sample: float, coverage: list[float]) -> dict:
    return {"cost_per_sample": cost_per_sample, "mean_tokens": 1.0, "coverage": coverage}


def test_overtake_cost_is_where_wc_first_lies_above_se():
    import math

    from weakstrong.plots import overtake_cost

    se = cost_curve(2.0, [0.4, 0.6])                 # at costs 2 and 4
    wc = cost_curve(1.0, [0.2, 0.35, 0.5, 0.7])      # at costs 1..4
    # Common range 2..4: WC is below at 2 (0.35 < 0.4) and 3 (0.5 < SE's 0.4 + 0.2 log(3/2)/log 2), above at 4;
    # both are linear in log cost between 3 and 4, so the gap crosses 0 where it interpolates to 0.
    se_at_3 = 0.4 + 0.2 * math.log(1.5) / math.log(2)
    gap_3, gap_4 = 0.5 - se_at_3, 0.7 - 0.6
    share = -gap_3 / (gap_4 - gap_3)
    assert overtake_cost(se, wc) == pytest.approx(3 * (4 / 3) ** share)
    assert overtake_cost(se, cost_curve(1.0, [0.1, 0.5, 0.7, 0.9])) == 2.0      # above from the start
    assert overtake_cost(se, cost_curve(1.0, [0.1, 0.3, 0.4, 0.5])) is None     # never above
    assert overtake_cost(se, cost_curve(10.0, [0.9])) is None                  # the ranges do not meet


def _drawn(monkeypatch, function, *args, **kwargs):
    """The figure a plotting function would save."""
    import weakstrong.plots as plots

    seen = {}
    monkeypatch.setattr(plots, "_save", lambda figure, path: seen.setdefault("figure", figure) and [])
    getattr(plots, function)(*args, **kwargs)
    return seen["figure"]


def test_coverage_cost_figure_marks_budgets_and_the_overtaking_cost(tmp_path, monkeypatch):
    from weakstrong.plots import plot_coverage_cost

    curves = {"se": cost_curve(2e9, [0.4, 0.6]), "wc": cost_curve(1e9, [0.2, 0.35, 0.5, 0.7])}
    written = plot_coverage_cost(curves, tmp_path / "cost.pdf", "toy", unit="FLOPs", budgets={"low": 1})
    assert [p.name for p in written] == ["cost.pdf", "cost.png"]
    figure = _drawn(monkeypatch, "plot_coverage_cost", curves, tmp_path / "c.pdf", "toy", unit="FLOPs",
                    labels={"se": "SE (big)", "wc": "WC (small)"}, budgets={"low": 1, "high": 2})
    axes = figure.axes[0]
    assert axes.get_xscale() == "log" and axes.get_xlabel() == "sampling cost (FLOPs)"
    curves_drawn = {line.get_label(): list(line.get_xdata()) for line in axes.lines if not line.get_label().startswith("_")}
    assert curves_drawn == {"SE (big)": [2e9, 4e9], "WC (small)": [1e9, 2e9, 3e9, 4e9]}
    vertical = sorted(line.get_xdata()[0] for line in axes.lines if line.get_label().startswith("_"))
    assert vertical == pytest.approx([2e9, 3.1279e9, 4e9], rel=1e-3)   # low, the overtaking cost, high
    texts = [text.get_text() for text in axes.texts]
    assert "WC first above SE at 3.13e+09 FLOPs" in texts and " low (SE k=1)" in texts
    never = _drawn(monkeypatch, "plot_coverage_cost", {**curves, "wc": cost_curve(1e9, [0.1, 0.2])},
                   tmp_path / "n.pdf", "toy", unit="USD")
    assert "WC never above SE at equal cost" in [text.get_text() for text in never.axes[0].texts]
    with pytest.raises(ValueError, match="curves lack wc"):
        plot_coverage_cost({"se": curves["se"]}, tmp_path / "c.pdf", "toy", unit="FLOPs")


# --- finetuning results, maj@k -----------------------------------------------------------------------------

PROBLEMS = 50


def _outcomes(accuracy: float) -> list[int]:
    return [int(i < round(accuracy * PROBLEMS)) for i in range(PROBLEMS)]


def training_cells() -> tuple[list[dict], dict, dict]:
    """Table 1 cells of one pair: two students, two budgets, SE/WC/gold data, two replicates of 50 problems."""
    cells, evaluations = [], {}
    accuracy = {"se": 0.30, "wc": 0.40, "gold": 0.20}
    for budget, shift in (("low", 0.0), ("high", 0.1)):
        for student, setting in (("toy-student", {"se": "knowledge distillation", "wc": "knowledge distillation"}),
                                 ("toy-wc", {"se": "knowledge distillation", "wc": "self-improvement"})):
            for source in ("se", "wc", "gold"):
                paths = {}
                for replicate, noise in (("1", -0.02), ("2", 0.02)):
                    path = f"{budget}/{student}/{source}/rep-{replicate}.json"
                    scores = {"pass@1": accuracy[source] + shift + noise, "maj@1": accuracy[source] + shift,
                              "maj@4": accuracy[source] + shift + 0.1 + noise}
                    evaluations[path] = {**scores, "selection": {"step": 3}, "per_problem": {
                        "problem_id": [f"q{i}" for i in range(PROBLEMS)],
                        **{metric: _outcomes(value) for metric, value in scores.items()}}}
                    paths[replicate] = path
                cells.append({"dataset": "math", "pair": "toy", "budget": budget, "student": student,
                              "source": source, "setting": "gold" if source == "gold" else setting[source],
                              "paths": paths, "bases": {"1": f"base/{student}.json"}})
    bases = {f"base/{student}.json": {"zero_shot": {"pass@1": 0.05, "maj@1": 0.05, "maj@4": 0.08},
                                      "few_shot": {"pass@1": 0.1}} for student in ("toy-student", "toy-wc")}
    return cells, evaluations, bases


def test_finetuning_figure_has_a_panel_per_student_with_intervals_and_the_base(tmp_path, monkeypatch):
    from weakstrong.plots import plot_finetuning
    from weakstrong.tables import table1_rows

    cells, evaluations, bases = training_cells()
    rows = table1_rows(cells, evaluations, bases)
    written = plot_finetuning(rows, tmp_path / "ft.pdf", "toy")
    assert [p.name for p in written] == ["ft.pdf", "ft.png"]
    figure = _drawn(monkeypatch, "plot_finetuning", rows, tmp_path / "f.pdf", "toy")
    panels = figure.axes
    assert [axes.get_title() for axes in panels] == [
        "toy-student\nknowledge distillation", "toy-wc\nWC data: self-improvement\nSE data: knowledge distillation"]
    for axes in panels:
        heights = sorted(round(bar.get_height(), 6) for bar in axes.patches)
        assert heights == [20.0, 30.0, 30.0, 40.0, 40.0, 50.0]   # gold, SE, WC at low; +10 at high
        assert [tick.get_text() for tick in axes.get_xticklabels()] == ["low", "high"]
        # each bar's interval over its two replicates x 50 problems (weakstrong.stats.crossed_mean)
        caps = sorted(y for line in axes.lines if line.get_linestyle() == "None" for y in line.get_ydata())
        expected = [100 * bound for h in heights
                    for bound in crossed_mean([_outcomes(h / 100 - 0.02), _outcomes(h / 100 + 0.02)])["ci95"]]
        assert caps == pytest.approx(sorted(expected))
        base = [line for line in axes.lines if line.get_label() == "before finetuning (zero-shot)"]
        assert len(base) == 1 and list(base[0].get_ydata()) == [5.0, 5.0]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["SE data", "WC data", "gold data", "before finetuning (zero-shot)"]
    with pytest.raises(ValueError, match="empty"):
        plot_finetuning([], tmp_path / "f.pdf", "toy")


def test_majority_curves_average_replicates_per_k():
    from weakstrong.plots import base_majority, majority_curves

    cells, evaluations, bases = training_cells()
    curves = majority_curves(cells, evaluations, [4, 1])
    line = curves["toy-wc"]["high", "wc"]
    assert line["k"] == [1, 4]
    assert line["mean"] == pytest.approx([0.5, 0.6])
    assert line["ci95"][0] == pytest.approx(crossed_mean([_outcomes(0.5), _outcomes(0.5)])["ci95"])
    assert line["ci95"][1] == pytest.approx(crossed_mean([_outcomes(0.58), _outcomes(0.62)])["ci95"])
    assert base_majority(cells, bases, [1, 4]) == {student: {"k": [1, 4], "mean": [0.05, 0.08]}
                                                   for student in ("toy-student", "toy-wc")}
    assert base_majority(cells, bases, [8]) == {}                             # no maj@8 before finetuning
    with pytest.raises(ValueError, match="no maj@8"):
        majority_curves(cells, evaluations, [8])
    with pytest.raises(ValueError, match="maj_k is empty"):
        majority_curves(cells, evaluations, [])


def test_majority_figure_draws_a_line_per_budget_and_source(tmp_path, monkeypatch):
    from weakstrong.plots import base_majority, majority_curves, plot_majority_curves

    cells, evaluations, bases = training_cells()
    curves, base = majority_curves(cells, evaluations, [1, 4]), base_majority(cells, bases, [1, 4])
    written = plot_majority_curves(curves, tmp_path / "maj.pdf", "toy", base)
    assert [p.name for p in written] == ["maj.pdf", "maj.png"]
    figure = _drawn(monkeypatch, "plot_majority_curves", curves, tmp_path / "m.pdf", "toy", base)
    axes = figure.axes[0]
    lines = {container.get_label(): container.lines[0] for container in axes.containers}   # errorbar's
    assert list(lines) == ["SE data, low", "WC data, low", "gold data, low", "SE data, high", "WC data, high",
                           "gold data, high"]
    base_line = [line for line in axes.lines if line.get_label() == "before finetuning (zero-shot)"]
    assert list(base_line[0].get_ydata()) == pytest.approx([5.0, 8.0])
    wc_high = lines["WC data, high"]
    assert list(wc_high.get_xdata()) == [1, 4] and list(wc_high.get_ydata()) == pytest.approx([50.0, 60.0])
    assert wc_high.get_linestyle() == "--"                                     # the second budget
    assert [t.get_text() for t in axes.get_xticklabels()] == ["1", "4"] and axes.get_xscale() == "linear"
    wide = {"s": {("low", "se"): {"k": [1, 8, 16], "mean": [0.1, 0.2, 0.3], "ci95": [None] * 3}}}
    assert _drawn(monkeypatch, "plot_majority_curves", wide, tmp_path / "w.pdf", "toy").axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="empty"):
        plot_majority_curves({}, tmp_path / "m.pdf", "toy")


def test_coverage_by_level_bars_and_a_dataset_without_levels(tmp_path, monkeypatch):
    from weakstrong import plots

    metrics = {"low": {"se": {"model": "se", "k": 1, "coverage_per_level": {"1": 0.5, "2": 0.25}},
                       "wc": {"model": "wc", "k": 3, "coverage_per_level": {"1": 0.75, "10": 0.5}}}}
    assert plots.coverage_by_level(metrics)[("low", "wc")] == {"1": 0.75, "10": 0.5}
    captured = []
    original = plots.Figure.savefig

    def spy(figure, *args, **kwargs):
        captured.append(figure)
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(plots.Figure, "savefig", spy)
    written = plots.plot_coverage_by_level(metrics, tmp_path / "level.pdf", "toy")
    assert [p.name for p in written] == ["level.pdf", "level.png"]
    [axes] = captured[0].axes
    # levels in numeric order; a level one side lacks has no bar height (NaN), not a zero
    assert [t.get_text() for t in axes.get_xticklabels()] == ["1", "2", "10"]
    heights = [bar.get_height() for bar in axes.patches]
    assert heights[:3] == pytest.approx([50.0, 25.0, float("nan")], nan_ok=True)
    assert heights[3:] == pytest.approx([75.0, float("nan"), 50.0], nan_ok=True)
    empty = {"low": {"se": {"k": 1, "coverage_per_level": {}}, "wc": {"k": 3, "coverage_per_level": {}}}}
    assert all(p.exists() for p in plots.plot_coverage_by_level(empty, tmp_path / "none.pdf", "gsm8k"))
