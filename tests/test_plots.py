"""Figures: coverage curves and Figure 3 (data metrics) are written as PDF and PNG, reproducibly."""

from __future__ import annotations

import pytest

from weakstrong.plots import plot_coverage_curves, plot_data_metrics, plot_graded_coverage


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
