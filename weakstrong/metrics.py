r"""Quality of synthetic data at a sampling budget: coverage, diversity and false-positive rate (Section 3.2).

Definitions (``samples`` are graded records ``{"problem_id", "sample_index", "completion", "correct", ...}``;
the samples of a problem are i.i.d., so the *first k* — the k smallest ``sample_index`` values — are the
data a budget of k samples per problem buys):

* **coverage@k** (pass@k): the share of problems solved by at least one of k samples, estimated without
  bias from all ``n`` samples a problem has, ``c`` of them correct, as ``1 - C(n-c, k) / C(n, k)`` (Chen et
  al., 2021), averaged over problems.  A problem with fewer than k samples uses what it has (pass@n) and
  is counted in ``problems_short``; a problem without samples counts 0 and is counted in
  ``problems_without_samples``.  ``coverage_first_k`` is the plain share of problems with a correct
  solution among their first k samples: the coverage of the data itself.
* **diversity@k**: the number of *unique correct solutions* among a problem's first k samples, averaged
  over **all** problems (a problem without a correct solution counts 0, as in the paper's "average number of
  unique correct solutions per problem").  Two solutions are the same when their texts are equal after
  :func:`normalize_solution` (whitespace folded, numbers spelled one way).
* **reasoning diversity@k**: the same count where two correct solutions are the same when they reach the
  same ordered sequence of intermediate results (the claimed results of their arithmetic steps, from
  :func:`weakstrong.arithmetic.check_solution`; all solutions without a readable step share the empty
  sequence).
* **false-positive rate** (arithmetic checker): among *kept* solutions (correct final answer, first k
  samples), the share of *checkable* ones (at least one arithmetic step could be checked) with a wrong
  step, with its 95% Wilson interval; ``false_positive_share_of_kept`` divides by all kept solutions
  instead (a lower bound, since unreadable steps cannot be flagged).  None when nothing is checkable.
* **undecided**: samples among the first k whose final answer the grader could not decide
  (``grading_undecided``: a comparison past its deadline, a dead grading worker).  They count as not
  correct everywhere above (so coverage is a lower bound); ``undecided_share`` is their share of the
  first-k samples and ``coverage_if_undecided_correct`` the coverage were they all correct.
* **differences**: ``absolute = WC - SE`` and ``relative = (WC - SE) / SE`` (None when SE is 0 or None).

All results are JSON-ready (plain floats, ints, strings, lists, dicts; None rather than NaN).
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict

from weakstrong.arithmetic import check_solution
from weakstrong.stats import paired_difference, proportion_difference, wilson_interval
from weakstrong.styles import check_style

log = logging.getLogger(__name__)

#: Metrics compared between WC and SE.
COMPARED = ("coverage", "coverage_first_k", "diversity", "reasoning_diversity", "false_positive_rate")
#: How many example ids / flagged solutions a result lists.
EXAMPLES = 5


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct: ``1 - C(n-c, k) / C(n, k)``.

    Computed with exact integers (Python's int division rounds correctly), so it is stable for any n.
    """
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def proportion(successes: int, n: int) -> dict:
    """``{"n", "successes", "rate", "ci95"}`` with rate and interval None when n is 0."""
    if n == 0:
        return {"n": 0, "successes": successes, "rate": None, "ci95": None}
    return {"n": n, "successes": successes, "rate": successes / n, "ci95": list(wilson_interval(successes, n))}


_EOS_RE = re.compile(r"(?:</s>|<\|endoftext\|>|<\|eot_id\|>|<\|im_end\|>|<eos>|<end_of_turn>)\s*$")
_LATEX_THOUSANDS_RE = re.compile(r"(?<=[0-9])(?:\{,\}|,\\!|\\,)(?=[0-9]{3}(?![0-9]))")
_THOUSANDS_RE = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9]|,[0-9])")
_TRAILING_ZEROS_RE = re.compile(r"(?<![0-9])(?<![0-9]\.)([0-9]*)\.([0-9]*?)0+(?![0-9]|\.[0-9])")
_LEADING_DOT_RE = re.compile(r"(?<![0-9.])\.(?=[0-9])")
_SPACE_RE = re.compile(r"\s+")


def normalize_solution(text: str) -> str:
    """A solution's text with formatting differences removed, for counting unique solutions.

    In order: a trailing end-of-sequence token is dropped; ``−`` becomes ``-``; thousands separators go
    (``1,000``, ``1{,}000``, ``1\\,000`` -> ``1000``); a bare leading dot gets a zero (``.5`` -> ``0.5``);
    trailing decimal zeros go (``2.50`` -> ``2.5``, ``3.0`` -> ``3``); every run of whitespace becomes one
    space and the ends are stripped.  Letter case and everything else are kept.
    """
    text = _EOS_RE.sub("", text).replace("−", "-")
    text = _LATEX_THOUSANDS_RE.sub("", text)
    text = _THOUSANDS_RE.sub(lambda m: m.group().replace(",", ""), text)
    text = _LEADING_DOT_RE.sub("0.", text)
    text = _TRAILING_ZEROS_RE.sub(lambda m: m.group(1) + ("." + m.group(2) if m.group(2) else ""), text)
    return _SPACE_RE.sub(" ", text).strip()


# --- grouping -------------------------------------------------------------------------------------------

def _by_problem(graded: list[dict], name: str) -> dict[str, list[dict]]:
    """Samples per problem id, ordered by sample_index; errors name ``name`` and the bad record."""
    if not graded:
        raise ValueError(f"{name} is empty: no graded samples")
    groups: dict[str, list[dict]] = defaultdict(list)
    for position, record in enumerate(graded):
        missing = [key for key in ("problem_id", "sample_index", "correct") if key not in record]
        if missing:
            raise ValueError(f"{name}[{position}] lacks {', '.join(missing)}")
        groups[record["problem_id"]].append(record)
    for problem_id, records in groups.items():
        records.sort(key=lambda r: r["sample_index"])
        indices = [r["sample_index"] for r in records]
        if len(set(indices)) != len(indices):
            duplicate = next(i for i in indices if indices.count(i) > 1)
            raise ValueError(f"{name}: problem {problem_id!r} has sample_index {duplicate} more than once")
    return dict(groups)


def _check_problems(problems: list[dict], groups: dict[str, list[dict]], name: str) -> None:
    if not problems:
        raise ValueError("problems is empty: nothing to measure")
    known = {p["id"] for p in problems}
    unknown = sorted(set(groups) - known)
    if unknown:
        raise ValueError(f"{name} has samples of {len(unknown)} problem ids not in problems, e.g. {unknown[:3]}")


def _level(problem: dict) -> str | None:
    return None if problem.get("level") is None else str(problem["level"])


def coverage_curve(graded: list[dict], max_k: int, *, problems: list[dict] | None = None) -> list[float]:
    """Coverage@k for k = 1..max_k (element ``k-1``), estimated from all samples of each problem.

    Averaged over the problems that have samples, or over ``problems`` when given (those without samples
    count 0).  A problem with fewer than k samples uses what it has (pass@n), which is logged.
    """
    if max_k < 1:
        raise ValueError(f"max_k must be at least 1, got {max_k}")
    groups = _by_problem(graded, "graded")
    if problems is not None:
        _check_problems(problems, groups, "graded")
    ids = [p["id"] for p in problems] if problems is not None else sorted(groups)
    counts = [(len(groups.get(i, [])), sum(bool(r["correct"]) for r in groups.get(i, []))) for i in ids]
    short = sum(1 for n, _ in counts if 0 < n < max_k)
    if short:
        log.warning("coverage_curve: %d of %d problems have fewer than %d samples; they use what they have",
                    short, len(ids), max_k)
    return [sum(pass_at_k(n, c, min(k, n)) for n, c in counts if n) / len(ids) for k in range(1, max_k + 1)]


# --- one side of a budget ---------------------------------------------------------------------------------

def _problem_stats(samples: list[dict], k: int, style: str) -> dict:
    """Per-problem numbers: coverage (estimated from all samples) and the first-k data's quality."""
    n, c = len(samples), sum(bool(s["correct"]) for s in samples)
    u = sum(bool(s.get("grading_undecided")) for s in samples)
    kept = [s for s in samples[:k] if s["correct"] and not s.get("grading_undecided")]
    checks = [(s, check_solution(s.get("completion") or "", style)) for s in kept]
    flagged = [(s, check) for s, check in checks if check["flawed"]]
    return {
        "n": n,
        "first_k": min(n, k),
        "undecided": sum(bool(s.get("grading_undecided")) for s in samples[:k]),
        "coverage": pass_at_k(n, c, min(k, n)) if n else 0.0,
        "coverage_if_undecided_correct": pass_at_k(n, c + u, min(k, n)) if n else 0.0,
        "solved": bool(kept),
        "unique": len({normalize_solution(s.get("completion") or "") for s in kept}),
        "unique_reasoning": len({tuple(check["results"]) for _, check in checks}),
        "kept": len(kept),
        "checkable": sum(1 for _, check in checks if check["checkable"]),
        "flagged": flagged,
    }


def _summarise(stats: list[dict]) -> dict:
    count = len(stats)
    checkable = sum(s["checkable"] for s in stats)
    kept = sum(s["kept"] for s in stats)
    flagged = sum(len(s["flagged"]) for s in stats)
    fp = proportion(flagged, checkable)
    first_k = sum(s["first_k"] for s in stats)
    undecided = sum(s["undecided"] for s in stats)
    return {
        "problems": count,
        "coverage": sum(s["coverage"] for s in stats) / count,
        "coverage_if_undecided_correct": sum(s["coverage_if_undecided_correct"] for s in stats) / count,
        "undecided": undecided,
        "undecided_share": undecided / first_k if first_k else None,
        "coverage_first_k": sum(s["solved"] for s in stats) / count,
        "diversity": sum(s["unique"] for s in stats) / count,
        "reasoning_diversity": sum(s["unique_reasoning"] for s in stats) / count,
        "kept": kept,
        "checkable": checkable,
        "false_positives": flagged,
        "false_positive_rate": fp["rate"],
        "false_positive_ci95": fp["ci95"],
        "false_positive_share_of_kept": flagged / kept if kept else None,
    }


def _side_stats(graded: list[dict], problems: list[dict], k: int, style: str, name: str) -> dict[str, dict]:
    groups = _by_problem(graded, name)
    _check_problems(problems, groups, name)
    return {p["id"]: _problem_stats(groups.get(p["id"], []), k, style) for p in problems}


def measure_side(graded: list[dict], problems: list[dict], k: int, style: str, *, name: str = "graded") -> dict:
    """Coverage@k, diversity@k and the false-positive rate of one generator's first ``k`` samples.

    Returns (definitions in the module docstring)::

        {"k", "problems", "coverage", "coverage_if_undecided_correct", "undecided", "undecided_share",
         "coverage_first_k", "diversity", "reasoning_diversity",
         "kept", "checkable", "false_positives", "false_positive_rate", "false_positive_ci95",
         "false_positive_share_of_kept",
         "samples",                      # samples in the first-k data (sum over problems of min(n, k))
         "problems_short", "problems_without_samples", "short_problem_ids",   # up to five ids
         "per_level": {level: {the metrics above from "problems" to "false_positive_share_of_kept"}},
         "coverage_per_level": {level: coverage},      # both {} when no problem has a level
         "false_positive_examples": [{"problem_id", "sample_index", "wrong_steps"}]}   # up to five

    Levels are keys ``str(level)``, in numeric order.
    """
    check_style(style)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    stats = _side_stats(graded, problems, k, style, name)
    result = {"k": k, **_summarise(list(stats.values()))}
    short = sorted(i for i, s in stats.items() if 0 < s["n"] < k)
    empty = sorted(i for i, s in stats.items() if s["n"] == 0)
    if short or empty:
        log.warning("%s: %d problems have fewer than %d samples and %d have none; they use what exists",
                    name, len(short), k, len(empty))
    result.update(samples=sum(min(s["n"], k) for s in stats.values()), problems_short=len(short),
                  problems_without_samples=len(empty), short_problem_ids=(short + empty)[:EXAMPLES])
    levels: dict[str, list[dict]] = defaultdict(list)
    for problem in problems:
        if _level(problem) is not None:
            levels[_level(problem)].append(stats[problem["id"]])
    result["per_level"] = {level: _summarise(levels[level]) for level in sorted(levels, key=level_order)}
    result["coverage_per_level"] = {level: values["coverage"] for level, values in result["per_level"].items()}
    result["false_positive_examples"] = [
        {"problem_id": sample["problem_id"], "sample_index": sample["sample_index"],
         "wrong_steps": [step["text"] for step in check["wrong_steps"]]}
        for s in stats.values() for sample, check in s["flagged"]][:EXAMPLES]
    return result


def level_order(level: str):
    """Sort key for level keys: numeric levels in order, then any others by name."""
    return (0, int(level), "") if level.lstrip("-").isdigit() else (1, 0, level)


def _relative(wc, se):
    if wc is None or se is None or se == 0:
        return None
    return (wc - se) / se


def _difference(wc, se):
    return None if wc is None or se is None else wc - se


def measure_budget(se_graded: list[dict], wc_graded: list[dict], problems: list[dict], *, k_se: int, ratio: int,
                   style: str) -> dict:
    """SE data at ``k_se`` samples per problem against WC data at ``ratio * k_se`` (the compute-matched pair).

    ``se_graded`` / ``wc_graded`` are the graded samples of the strong-expensive and weak-cheap generators
    (all samples drawn; each side takes its first k per problem), ``problems`` the problems they answer and
    ``style`` the dataset style (``gsm8k`` or ``math``, for the arithmetic checker).  Returns::

        {"style", "k_se", "ratio", "problems",
         "se": measure_side(...), "wc": measure_side(...),
         "difference": {"absolute": {metric: WC - SE}, "relative": {metric: (WC - SE) / SE},
                        "coverage_per_level": {level: {"absolute", "relative"}}}}

    for the metrics in :data:`COMPARED` (definitions in the module docstring).
    """
    if not isinstance(ratio, int) or isinstance(ratio, bool) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer, got {ratio!r}")
    if not isinstance(k_se, int) or isinstance(k_se, bool) or k_se < 1:
        raise ValueError(f"k_se must be a positive integer, got {k_se!r}")
    se = measure_side(se_graded, problems, k_se, style, name="se_graded")
    wc = measure_side(wc_graded, problems, ratio * k_se, style, name="wc_graded")
    difference = {"absolute": {m: _difference(wc[m], se[m]) for m in COMPARED},
                  "relative": {m: _relative(wc[m], se[m]) for m in COMPARED},
                  "coverage_per_level": {
                      level: {"absolute": _difference(wc["coverage_per_level"].get(level), value),
                              "relative": _relative(wc["coverage_per_level"].get(level), value)}
                      for level, value in se["coverage_per_level"].items()}}
    return {"style": style, "k_se": k_se, "ratio": ratio, "problems": len(problems), "se": se, "wc": wc,
            "difference": difference,
            "comparison": compare_sides(se_graded, wc_graded, problems, k_se=k_se, ratio=ratio, style=style)}


def compare_sides(se_graded: list[dict], wc_graded: list[dict], problems: list[dict], *, k_se: int, ratio: int,
                  style: str) -> dict:
    """WC minus SE with 95% intervals and a verdict: coverage and diversity paired over problems (the same
    problems on both sides), the false-positive rate as two independent proportions (arithmetic checker).
    Verdicts read 'WC higher', 'SE higher' or 'no difference at 95%'. ``per_problem`` keeps each problem's WC
    minus SE coverage and diversity, so that replicates of the same problems combine
    (:func:`weakstrong.findings.combined_comparison`)."""
    se = _side_stats(se_graded, problems, k_se, style, "se_graded")
    wc = _side_stats(wc_graded, problems, ratio * k_se, style, "wc_graded")
    ids = [p["id"] for p in problems]
    comparison = {"per_problem": {"problem_id": ids}}
    for metric, key in (("coverage", "coverage"), ("diversity", "unique")):
        comparison[metric] = paired_difference([wc[i][key] for i in ids], [se[i][key] for i in ids], unit="problem")
        comparison["per_problem"][metric] = [wc[i][key] - se[i][key] for i in ids]
    fp = proportion_difference(sum(len(wc[i]["flagged"]) for i in ids), sum(wc[i]["checkable"] for i in ids),
                               sum(len(se[i]["flagged"]) for i in ids), sum(se[i]["checkable"] for i in ids))
    comparison["false_positive_rate"] = fp
    return comparison
