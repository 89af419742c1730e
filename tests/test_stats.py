"""weakstrong.stats against hand-computed values, and the replicate-level columns of Table 1."""

from __future__ import annotations

import math

import pytest

from weakstrong.metrics import compare_sides
from weakstrong.stats import (better, crossed_difference, crossed_mean, detectable_difference, mean_interval,
                              paired_difference, proportion_difference, random_effects_mean, replicates_needed,
                              t_quantile, verdict)
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


def test_crossed_mean_by_hand():
    # R = 2 replicates x N = 3 problems. Grand mean 0.5; replicate means 2/3, 1/3; problem means 0.5, 0, 1.
    # MS_rep = 3 * 2 * (1/6)^2 / 1 = 1/6; MS_prob = 2 * (0 + 0.25 + 0.25) / 2 = 0.5; residuals +-1/3 (twice) and
    # +-1/6 (four times): SS 1/3 over (1)(2) df, MS_res = 1/6. MS_rep = MS_res, so the replicate component is 0
    # and Var(mean) = MS_prob / (R N) = 0.5 / 6 = 1/12, with Satterthwaite df = N - 1 = 2: t(0.975, 2) = 4.3027.
    result = crossed_mean([[1, 0, 1], [0, 0, 1]])
    assert result["mean"] == pytest.approx(0.5) and result["se"] == pytest.approx(math.sqrt(1 / 12))
    assert result["df"] == pytest.approx(2)
    half = 4.3027 * math.sqrt(1 / 12)
    assert result["ci95"] == pytest.approx([0.5 - half, 0.5 + half])
    # components: replicate (MS_rep - MS_res) / N = 0, problem (MS_prob - MS_res) / R = 1/6, residual 1/6
    assert result["components"] == pytest.approx({"replicate": 0.0, "problem": 1 / 6, "residual": 1 / 6})


def test_crossed_mean_edge_shapes():
    # one replicate: the paired t interval over problems (sd 0.57735, N 3, t(2) 4.3027), no replicate component
    one = crossed_mean([[1, 0, 1]])
    half = 4.3027 * math.sqrt(1 / 3) / math.sqrt(3)
    assert one["ci95"] == pytest.approx([2 / 3 - half, 2 / 3 + half], abs=1e-6)
    assert one["components"]["replicate"] is None and one["df"] == 2
    # one problem per replicate: the t interval over replicates, as mean_interval
    assert crossed_mean([[0.5], [0.6], [0.7]])["ci95"] == pytest.approx(mean_interval([0.5, 0.6, 0.7])["ci95"])
    assert crossed_mean([[1]])["ci95"] is None
    with pytest.raises(ValueError, match="same problems"):
        crossed_mean([[1, 0], [1]])


def test_crossed_difference_pairs_by_replicate_and_problem():
    wc = [[1, 1, 1, 0], [1, 1, 0, 1]]
    se = [[0, 1, 1, 0], [1, 0, 0, 1]]
    result = crossed_difference(wc, se)
    assert result == {**crossed_mean([[1, 0, 0, 0], [0, 1, 0, 0]]), "verdict": result["verdict"]}
    # differences [[1, 0, 0, 0], [0, 1, 0, 0]]: MS_rep 0 and MS_prob 1/6 fall below MS_res 1/3, so both components
    # are 0 and Var(mean) = MS_res / (R N) = 1/24 on (R-1)(N-1) = 3 df: 0.25 +- 3.1824 * 0.204124
    assert result["mean"] == pytest.approx(0.25) and result["df"] == pytest.approx(3)
    assert result["ci95"] == pytest.approx([0.25 - 0.649605, 0.25 + 0.649605], abs=1e-5)
    assert result["verdict"] == "no difference at 95%"
    # a constant gain in every replicate and problem has no variance: resolved
    assert crossed_difference([[1, 1], [1, 1]], [[0, 0], [0, 0]])["verdict"] == "WC higher"
    with pytest.raises(ValueError, match="2x4 WC and 1x4 SE"):
        crossed_difference(wc, se[:1])


def test_random_effects_mean_by_hand():
    # two replicates, 0.1 [0.0, 0.2] and 0.3 [0.2, 0.4]: within variance v = (0.2 / 3.919928)^2 = 0.00260317,
    # weights 384.146; fixed mean 0.2, Q = 2 * 384.146 * 0.01 = 7.68292, tau^2 = (Q - 1) / 384.146 = 0.0173967;
    # random weights 1 / (v + tau^2) = 1 / 0.02 each: mean 0.2, se sqrt(1 / 100) = 0.1
    result = random_effects_mean([{"mean": 0.1, "ci95": [0.0, 0.2]}, {"mean": 0.3, "ci95": [0.2, 0.4]}])
    assert result["mean"] == pytest.approx(0.2) and result["tau2"] == pytest.approx(0.0173967, abs=1e-6)
    assert result["ci95"] == pytest.approx([0.2 - 0.19600, 0.2 + 0.19600], abs=1e-5)
    assert result["verdict"] == "WC higher"
    # agreeing replicates: tau^2 0, the fixed-effect mean with a narrower interval
    agree = random_effects_mean([{"mean": 0.1, "ci95": [0.0, 0.2]}, {"mean": 0.1, "ci95": [0.0, 0.2]}])
    assert agree["tau2"] == 0 and agree["ci95"] == pytest.approx([0.1 - 0.1 / math.sqrt(2), 0.1 + 0.1 / math.sqrt(2)])
    assert random_effects_mean([{"mean": None, "ci95": None}])["verdict"] == "unresolved (nothing to compare)"


def test_detectable_difference_and_replicates_needed_by_hand():
    components = {"replicate": 0.0, "problem": 1 / 6, "residual": 1 / 6}
    # (1.959964 + 0.841621) * sqrt(0 / 2 + (1/6) / 3 + (1/6) / 6) = 2.801585 * sqrt(1/12) = 0.808748
    assert detectable_difference(components, 2, 3) == pytest.approx(0.808748, abs=1e-6)
    # to detect 0.8: (0.8 / 2.801585)^2 - (1/6) / 3 = 0.025982 left for (0 + (1/6) / 3) / R: R = ceil(2.138) = 3
    assert replicates_needed(components, 3, 0.8) == 3
    assert detectable_difference(components, 3, 3) <= 0.8 < detectable_difference(components, 2, 3)
    # below the problems' own floor (1.9604 * sqrt((1/6) / 3) = 0.66) no number of replicates is enough
    assert replicates_needed(components, 3, 0.6) is None
    assert detectable_difference({"replicate": None, "problem": 0.1, "residual": None}, 1, 3) is None


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


def _cell(source, dataset="gsm8k"):
    return {"dataset": dataset, "pair": "toy", "budget": "low", "student": "s", "source": source,
            "setting": "knowledge distillation",
            "paths": {str(replicate): f"{source}/{replicate}" for replicate in (1, 2, 3)}}


def _outcomes(accuracy, problems=100):
    right = round(accuracy * problems)
    return [int(i < right) for i in range(problems)]


def test_table1_means_and_paired_verdict_over_replicates():
    """Table 1 takes its intervals from the crossed replicate x problem tables (checked by hand above)."""
    wc, se = [0.62, 0.63, 0.61], [0.50, 0.52, 0.48]
    evaluations = {f"{source}/{replicate}": {
        "pass@1": acc, "selection": {"step": 10},
        "per_problem": {"problem_id": [f"q{i}" for i in range(100)], "pass@1": _outcomes(acc)}}
        for source, values in (("wc", wc), ("se", se)) for replicate, acc in zip((1, 2, 3), values)}
    [row] = table1_rows([_cell("se"), _cell("wc")], evaluations)
    assert row["wc"]["mean"] == pytest.approx(0.62) and row["se"]["mean"] == pytest.approx(0.50)
    expected = crossed_difference([_outcomes(a) for a in wc], [_outcomes(a) for a in se])
    assert row["difference"]["ci95"] == pytest.approx(expected["ci95"]) and row["difference"]["n"] == 3
    assert row["difference"]["verdict"] == "WC better"
    se_summary = crossed_mean([_outcomes(a) for a in se])
    assert row["se"]["ci95"] == pytest.approx(se_summary["ci95"])
    tex, md = table1([row])
    assert f"50.0 ± {100 * (se_summary['ci95'][1] - 0.5):.1f}" in md and "$\\pm$" in tex
    low, high = (100 * bound for bound in expected["ci95"])
    assert f"+12.0 [{low:.1f}, {high:.1f}] & WC better" in tex
    assert "over 3 replicates and the test problems" in md

