"""Intervals and verdicts for the study's comparisons, and the power they have.

* :func:`crossed_mean` / :func:`crossed_difference`: a test accuracy (or WC minus SE) over replicates x test
  problems. Every replicate is evaluated on the same problems, so the outcomes form a replicate x problem table;
  its mean varies with the replicate drawn (models, samples, finetuning), the problems drawn, and their
  interaction. The interval is the two-way crossed random-effects one: from the table's mean squares MS_rep,
  MS_prob and MS_res, the components s2_rep = (MS_rep - MS_res) / N and s2_prob = (MS_prob - MS_res) / R (each
  at least 0) and s2_res = MS_res give Var(mean) = s2_rep / R + s2_prob / N + s2_res / (R N), which is
  (MS_rep + MS_prob - MS_res) / (R N) when neither is clamped; Satterthwaite's degrees of freedom set the t
  quantile. With one replicate it is the paired t interval over problems, which
  leaves the replicate's own variation out (the verdict says so).
* :func:`random_effects_mean`: per-replicate estimates with intervals of their own (the false-positive rate's
  Newcombe differences), combined by DerSimonian and Laird's random-effects mean.
* :func:`detectable_difference` / :func:`replicates_needed`: from the crossed table's variance components, the
  smallest difference a design detects at 95% with 80% power, and the replicates it takes to detect a smaller one.
* :func:`mean_interval`, :func:`paired_difference`, :func:`proportion_difference`, :func:`wilson_interval`: t,
  Newcombe and Wilson intervals; :func:`paired_proportion_difference`: two rates measured on the same items
  (Agresti and Min's interval).

No SciPy: the two-sided 95% t quantiles are tabulated for up to 30 degrees of freedom, and the normal
quantile is used beyond (the error is below 1% there).
"""

from __future__ import annotations

import math

#: z for a two-sided 95% interval (the one constant of it: weakstrong.metrics takes it from here).
Z95 = 1.959963984540054
#: z of 80% power (one-sided): a difference of (Z95 + Z80) standard errors is detected 80% of the time.
Z80 = 0.8416212335729143
#: Two-sided 95% quantiles t(0.975, df) for df = 1..30.
T95 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
       2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
       2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile(df: float) -> float:
    """t(0.975, df); a fractional df (Satterthwaite's) takes the quantile of the whole df below it, which is
    larger, so the interval errs on the wide side."""
    if df < 1:
        raise ValueError(f"a t interval needs at least 1 degree of freedom, got {df}")
    df = int(math.floor(df))
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


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n`` (95% by default)."""
    if n <= 0:
        raise ValueError("a Wilson interval needs n > 0")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..{n}, got {successes}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_difference(wc_successes: int, wc_n: int, se_successes: int, se_n: int) -> dict:
    """WC minus SE rate of two independent samples (Newcombe's hybrid Wilson interval) and its verdict."""
    if not wc_n or not se_n:
        return {"mean": None, "ci95": None, "verdict": "unresolved (nothing to compare)"}
    p1, p2 = wc_successes / wc_n, se_successes / se_n
    l1, u1 = wilson_interval(wc_successes, wc_n)
    l2, u2 = wilson_interval(se_successes, se_n)
    d = p1 - p2
    interval = [d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)]
    return {"mean": d, "ci95": interval, "verdict": verdict(interval, n=2)}


def paired_proportion_difference(wc_only: int, se_only: int, n: int) -> dict:
    """WC minus SE rate of a property measured on the same ``n`` items on both sides (matched pairs), from the
    discordant pairs: ``wc_only`` items have it on the WC side alone, ``se_only`` on the SE side alone. The mean
    is (wc_only - se_only) / n; the 95% interval is Agresti and Min's (2005): the Wald interval of the table with
    0.5 added to each of its four cells, which never has zero width (no discordant pair still leaves the
    difference uncertain) and is clipped to [-1, 1]. None and 'unresolved (nothing to compare)' without items."""
    if wc_only < 0 or se_only < 0 or wc_only + se_only > n:
        raise ValueError(f"discordant pairs {wc_only} + {se_only} must be counts within the {n} pairs")
    if n == 0:
        return {"n": 0, "mean": None, "ci95": None, "verdict": "unresolved (nothing to compare)"}
    b, c, total = wc_only + 0.5, se_only + 0.5, n + 2
    centre = (b - c) / total
    half = Z95 * math.sqrt((b + c) - (b - c) ** 2 / total) / total
    interval = [max(-1.0, centre - half), min(1.0, centre + half)]
    return {"n": n, "mean": (wc_only - se_only) / n, "ci95": interval, "verdict": verdict(interval, n=2)}


#: The method names the tables' captions use.
CROSSED_METHOD = ("two-way crossed random-effects interval over replicates x test problems (t with Satterthwaite "
                  "df; with one replicate, the paired t interval over problems)")
RANDOM_EFFECTS_METHOD = "DerSimonian-Laird random-effects mean of the replicates' Newcombe intervals"
PAIRED_RATES_METHOD = ("Agresti-Min interval of the problems both students solved (matched pairs), combined over "
                       "replicates by the DerSimonian-Laird random-effects mean")


def _mean_squares(table: list[list[float]]) -> tuple[float, float, float, float]:
    """Grand mean and the mean squares of replicates, problems and residual of a full R x N table."""
    r, n = len(table), len(table[0])
    grand = sum(map(sum, table)) / (r * n)
    rows = [sum(row) / n for row in table]
    cols = [sum(row[j] for row in table) / r for j in range(n)]
    ms_rep = n * sum((m - grand) ** 2 for m in rows) / (r - 1) if r > 1 else 0.0
    ms_prob = r * sum((m - grand) ** 2 for m in cols) / (n - 1) if n > 1 else 0.0
    if r > 1 and n > 1:
        residual = sum((table[i][j] - rows[i] - cols[j] + grand) ** 2 for i in range(r) for j in range(n))
        ms_res = residual / ((r - 1) * (n - 1))
    else:
        ms_res = 0.0
    return grand, ms_rep, ms_prob, ms_res


def _check_table(table: list[list[float]]) -> list[list[float]]:
    table = [[float(v) for v in row] for row in table]
    if not table or not table[0]:
        raise ValueError("a crossed interval needs at least one replicate and one problem")
    widths = {len(row) for row in table}
    if len(widths) > 1:
        raise ValueError(f"every replicate needs the same problems: rows of {sorted(widths)} values")
    return table


def crossed_mean(table: list[list[float]]) -> dict:
    """The mean of a replicate x problem table (rows: replicates; columns: the same problems in every row) with
    its 95% interval (:data:`CROSSED_METHOD`) and the variance components it rests on.

    Returns ``{"n", "problems", "mean", "ci95", "se", "df", "components"}``: ``n`` replicates; ``components``
    holds the variances of the replicate, problem and residual effects (``replicate`` None with one replicate,
    as one replicate cannot show it). ``ci95`` is None where no variance can be estimated (one replicate of
    one problem)."""
    table = _check_table(table)
    r, n = len(table), len(table[0])
    grand, ms_rep, ms_prob, ms_res = _mean_squares(table)
    components = {"replicate": max(0.0, (ms_rep - ms_res) / n) if r > 1 else None,
                  "problem": max(0.0, (ms_prob - ms_res) / r) if n > 1 else None,
                  "residual": ms_res if r > 1 and n > 1 else None}
    result = {"n": r, "problems": n, "mean": grand, "ci95": None, "se": None, "df": None, "components": components}
    if r == 1 and n == 1:
        return result
    if r == 1:  # paired over problems: MS_prob / N
        variance, df = ms_prob / n, n - 1
    elif n == 1:  # one value per replicate: the t interval over replicates
        variance, df = ms_rep / r, r - 1
    else:
        # sum of the clamped components' shares, as a combination of mean squares: each of the replicate and
        # problem effects counts where its mean square exceeds the residual's (else its estimate is 0)
        coefficients = {"rep": 0.0, "prob": 0.0, "res": 1.0}
        for key, ms in (("rep", ms_rep), ("prob", ms_prob)):
            if ms > ms_res:
                coefficients[key] += 1.0
                coefficients["res"] -= 1.0
        terms = [(coefficients["rep"] * ms_rep, r - 1), (coefficients["prob"] * ms_prob, n - 1),
                 (coefficients["res"] * ms_res, (r - 1) * (n - 1))]
        total = sum(value for value, _ in terms)
        variance = total / (r * n)
        denominator = sum(value * value / dof for value, dof in terms)
        df = max(1.0, total * total / denominator) if denominator > 0 else float(r * n - 1)
    se = math.sqrt(variance)
    half = t_quantile(df) * se
    return {**result, "ci95": [grand - half, grand + half], "se": se, "df": df}


def crossed_difference(wc: list[list[float]], se: list[list[float]]) -> dict:
    """WC minus SE over replicates x problems, paired by replicate and problem: :func:`crossed_mean` of the
    differences with its :func:`verdict` (unit: replicate, so one replicate reads as such)."""
    wc, se = _check_table(wc), _check_table(se)
    if len(wc) != len(se) or len(wc[0]) != len(se[0]):
        raise ValueError(f"paired difference of {len(wc)}x{len(wc[0])} WC and {len(se)}x{len(se[0])} SE values")
    result = crossed_mean([[a - b for a, b in zip(x, y)] for x, y in zip(wc, se)])
    return {**result, "verdict": verdict(result["ci95"], n=result["n"], unit="replicate")}


def random_effects_mean(estimates: list[dict]) -> dict:
    """DerSimonian-Laird random-effects mean of per-replicate estimates (``{"mean", "ci95"}``, each interval a
    95% one read as normal: se = width / (2 * Z95)), with its normal 95% interval and verdict. Estimates
    without a mean or interval (nothing measured in that replicate) are left out; ``n`` counts those kept."""
    kept = [e for e in estimates if e.get("mean") is not None and e.get("ci95") is not None]
    if not kept:
        return {"n": 0, "mean": None, "ci95": None, "tau2": None, "verdict": "unresolved (nothing to compare)"}
    if len(kept) == 1:
        only = kept[0]
        return {"n": 1, "mean": only["mean"], "ci95": list(only["ci95"]), "tau2": None,
                "verdict": verdict(only["ci95"], n=2)}
    means = [e["mean"] for e in kept]
    variances = [max(((e["ci95"][1] - e["ci95"][0]) / (2 * Z95)) ** 2, 1e-12) for e in kept]
    weights = [1 / v for v in variances]
    fixed = sum(w * m for w, m in zip(weights, means)) / sum(weights)
    q = sum(w * (m - fixed) ** 2 for w, m in zip(weights, means))
    scale = sum(weights) - sum(w * w for w in weights) / sum(weights)
    tau2 = max(0.0, (q - (len(kept) - 1)) / scale)
    random_weights = [1 / (v + tau2) for v in variances]
    mean = sum(w * m for w, m in zip(random_weights, means)) / sum(random_weights)
    half = Z95 * math.sqrt(1 / sum(random_weights))
    interval = [mean - half, mean + half]
    return {"n": len(kept), "mean": mean, "ci95": interval, "tau2": tau2, "verdict": verdict(interval, n=2)}


def design_variance(components: dict, replicates: int, problems: int) -> float | None:
    """Var(mean) of a crossed design with ``replicates`` x ``problems`` from the variance components of
    :func:`crossed_mean`; None where a component is unknown (one replicate cannot show the replicate effect)."""
    if any(components.get(key) is None for key in ("replicate", "problem", "residual")):
        return None
    return (components["replicate"] / replicates + components["problem"] / problems
            + components["residual"] / (replicates * problems))


def detectable_difference(components: dict, replicates: int, problems: int) -> float | None:
    """The smallest true difference a design detects at 95% (two-sided) with 80% power, normal approximation:
    (z_0.975 + z_0.80) * sqrt(Var(mean)); None where the components are unknown."""
    variance = design_variance(components, replicates, problems)
    return None if variance is None else (Z95 + Z80) * math.sqrt(variance)


def replicates_needed(components: dict, problems: int, target: float) -> int | None:
    """The fewest replicates with which the design detects ``target`` (:func:`detectable_difference` at most
    ``target``) on the same ``problems``; None where no number of replicates can (the problems' own variance
    alone is too large for the test set) or the components are unknown."""
    if design_variance(components, 1, problems) is None or target <= 0:
        return None
    allowed = (target / (Z95 + Z80)) ** 2 - components["problem"] / problems
    if allowed <= 0:
        return None
    per_replicate = components["replicate"] + components["residual"] / problems
    return max(1, math.ceil(per_replicate / allowed - 1e-12))


def with_power(result: dict) -> dict:
    """A :func:`crossed_mean` result with ``detectable``, the smallest difference its design (replicates and
    problems) detects at 95% with 80% power, and ``replicates_for_half``, the replicates it would take to detect
    half of that on the same problems; each None where it cannot be said (one replicate, or a test set too small
    for any number of replicates)."""
    detectable = detectable_difference(result["components"], result["n"], result["problems"])
    needed = None if detectable is None else replicates_needed(result["components"], result["problems"], detectable / 2)
    return {**result, "detectable": detectable, "replicates_for_half": needed}


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
