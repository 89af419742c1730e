"""Intervals and verdicts for the study's comparisons: means across seeds (Student t), paired WC minus SE
differences, and a verdict that says which side is better at 95%, or that the data cannot tell.

No SciPy: the two-sided 95% t quantiles are tabulated for up to 30 degrees of freedom, and the normal
quantile is used beyond (the error is below 1% there).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
#: Two-sided 95% quantiles t(0.975, df) for df = 1..30.
T95 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
       2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
       2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile(df: int) -> float:
    if df < 1:
        raise ValueError(f"a t interval needs at least 1 degree of freedom, got {df}")
    return T95[df - 1] if df <= len(T95) else Z95


def mean_interval(values: list[float]) -> dict:
    """``{"n", "mean", "ci95"}``: the mean and its 95% t interval; ``ci95`` is None below two values."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "ci95": None}
    mean = sum(values) / n
    if n < 2:
        return {"n": 1, "mean": mean, "ci95": None}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "ci95": [mean - half, mean + half]}


def paired_difference(wc: list[float], se: list[float], *, unit: str = "seed") -> dict:
    """WC minus SE, paired (by seed, or by problem): mean, 95% t interval and :func:`verdict`."""
    if len(wc) != len(se):
        raise ValueError(f"paired difference of {len(wc)} WC and {len(se)} SE values")
    result = mean_interval([a - b for a, b in zip(wc, se)])
    return {**result, "verdict": verdict(result["ci95"], n=result["n"], unit=unit)}


def proportion_difference(wc_successes: int, wc_n: int, se_successes: int, se_n: int) -> dict:
    """WC minus SE rate of two independent samples (Newcombe's hybrid Wilson interval) and its verdict."""
    from weakstrong.metrics import wilson_interval

    if not wc_n or not se_n:
        return {"mean": None, "ci95": None, "verdict": "unresolved (nothing to compare)"}
    p1, p2 = wc_successes / wc_n, se_successes / se_n
    l1, u1 = wilson_interval(wc_successes, wc_n)
    l2, u2 = wilson_interval(se_successes, se_n)
    d = p1 - p2
    interval = [d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)]
    return {"mean": d, "ci95": interval, "verdict": verdict(interval, n=2)}


def verdict(ci95: list[float] | None, *, n: int, unit: str = "seed") -> str:
    """'WC higher' / 'SE higher' when the 95% interval of WC minus SE excludes 0, else 'no difference at 95%'.
    Which of higher or lower is better depends on the metric, so the caller words it."""
    if ci95 is None:
        return f"unresolved (one {unit})" if n == 1 else "unresolved (no data)"
    low, high = ci95
    if low > 0:
        return "WC higher"
    if high < 0:
        return "SE higher"
    return "no difference at 95%"


def better(verdict_text: str, higher_is_better: bool = True) -> str:
    """A 'higher' verdict as 'better' (accuracy, coverage) or 'worse' (false positives)."""
    if verdict_text == "WC higher":
        return "WC better" if higher_is_better else "SE better"
    if verdict_text == "SE higher":
        return "SE better" if higher_is_better else "WC better"
    return verdict_text
