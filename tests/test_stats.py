"""weakstrong.stats against hand-computed values, and the seed-level columns of Table 1."""

from __future__ import annotations

import math

import pytest

from weakstrong.metrics import compare_sides
from weakstrong.stats import better, mean_interval, paired_difference, proportion_difference, t_quantile, verdict
from weakstrong.tables import table1, table1_rows


def test_t_quantiles():
    assert t_quantile(1) == pytest.approx(12.7062) and t_quantile(2) == pytest.approx(4.3027)
    assert t_quantile(30) == pytest.approx(2.0423) and t_quantile(200) == pytest.approx(1.96, abs=1e-3)
    with pytest.raises(ValueError):
        t_quantile(0)


def test_mean_interval_by_hand():
    # mean 0.6, sd 0.1, half-width t(0.975, 2) * 0.1 / sqrt(3) = 4.3027 * 0.057735 = 0.248417
    result = mean_interval([0.5, 0.6, 0.7])
    assert result["n"] == 3 and result["mean"] == pytest.approx(0.6)
    assert result["ci95"] == pytest.approx([0.6 - 0.248417, 0.6 + 0.248417], abs=1e-6)
    assert mean_interval([0.4]) == {"n": 1, "mean": 0.4, "ci95": None}
    assert mean_interval([]) == {"n": 0, "mean": None, "ci95": None}
    assert mean_interval([0.3, 0.3])["ci95"] == pytest.approx([0.3, 0.3])


def test_paired_difference_and_verdicts():
    # differences 0.1, 0.2, 0.3: mean 0.2, same half-width as above; the interval holds 0
    wide = paired_difference([0.6, 0.7, 0.8], [0.5, 0.5, 0.5])
    assert wide["mean"] == pytest.approx(0.2) and wide["ci95"][0] == pytest.approx(-0.048417, abs=1e-6)
    assert wide["verdict"] == "no difference at 95%"
    # differences 0.12, 0.13, 0.11: sd 0.01, half-width 0.024842
    narrow = paired_difference([0.62, 0.63, 0.61], [0.5, 0.5, 0.5])
    assert narrow["ci95"] == pytest.approx([0.12 - 0.024842, 0.12 + 0.024842], abs=1e-6)
    assert narrow["verdict"] == "WC higher" and better(narrow["verdict"]) == "WC better"
    assert better(paired_difference([0.1, 0.2], [0.5, 0.61])["verdict"]) == "SE better"
    assert better("SE higher", higher_is_better=False) == "WC better"
    assert paired_difference([0.3], [0.2])["verdict"] == "unresolved (one seed)"
    assert verdict(None, n=0) == "unresolved (no data)"
    with pytest.raises(ValueError, match="2 WC and 3 SE"):
        paired_difference([0.1, 0.2], [0.1, 0.2, 0.3])


def test_proportion_difference_matches_newcombe():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    result = proportion_difference(56, 70, 48, 80)
    assert result["mean"] == pytest.approx(0.2)
    assert result["ci95"] == pytest.approx([0.0524, 0.3339], abs=5e-4)
    assert result["verdict"] == "WC higher"
    assert proportion_difference(1, 0, 3, 10)["verdict"] == "unresolved (nothing to compare)"


def test_compare_sides_pairs_by_problem():
    problems = [{"id": str(i), "question": "q", "answer": "1"} for i in range(4)]

    def graded(correct_by_problem):
        return [{"problem_id": str(i), "sample_index": j, "correct": ok, "completion": f"#### {int(ok)} {i}{j}"}
                for i, row in enumerate(correct_by_problem) for j, ok in enumerate(row)]

    se = graded([[True], [False], [False], [True]])
    wc = graded([[True, False, False], [True, True, False], [False, False, True], [True, True, True]])
    comparison = compare_sides(se, wc, problems, k_se=1, ratio=3, style="gsm8k")
    # coverage: SE (1, 0, 0, 1), WC at 3 (1, 1, 1, 1): differences (0, 1, 1, 0), mean 0.5, sd 0.57735
    half = 3.1824 * 0.57735 / 2
    assert comparison["coverage"]["mean"] == pytest.approx(0.5)
    assert comparison["coverage"]["ci95"] == pytest.approx([0.5 - half, 0.5 + half], abs=1e-4)
    assert comparison["coverage"]["verdict"] == "no difference at 95%"
    # diversity: unique correct solutions (1, 0, 0, 1) vs (1, 2, 1, 3)
    assert comparison["diversity"]["mean"] == pytest.approx(1.25)
    assert comparison["false_positive_rate"]["verdict"].startswith("unresolved")  # nothing checkable


def _cell(source, accuracies, dataset="gsm8k"):
    return {"dataset": dataset, "pair": "toy", "budget": "low", "student": "s", "source": source,
            "setting": "knowledge distillation", "paths": {str(seed): f"{source}/{seed}" for seed in (1, 2, 3)}}


def test_table1_means_and_paired_verdict_over_seeds():
    wc, se = [0.62, 0.63, 0.61], [0.50, 0.52, 0.48]
    evaluations = {f"{source}/{seed}": {"pass@1": acc, "selection": {"step": 10}}
                   for source, values in (("wc", wc), ("se", se)) for seed, acc in zip((1, 2, 3), values)}
    [row] = table1_rows([_cell("se", se), _cell("wc", wc)], evaluations)
    assert row["wc"]["mean"] == pytest.approx(0.62) and row["se"]["mean"] == pytest.approx(0.50)
    # differences 0.12, 0.11, 0.13: mean 0.12, half-width 0.024842
    assert row["difference"]["ci95"] == pytest.approx([0.095158, 0.144842], abs=1e-6)
    assert row["difference"]["verdict"] == "WC better"
    tex, md = table1([row])
    se_half = 4.3027 * 0.02 / math.sqrt(3)  # sd of 0.50, 0.52, 0.48 is 0.02
    assert f"50.0 ± {100 * se_half:.1f}" in md and "$\\pm$" in tex
    assert "+12.0 [9.5, 14.5] & WC better" in tex

