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
