"""Answer extraction and equivalence grading for MATH- and GSM8K-style completions.

Public API (stable, other code calls exactly this):

* ``extract_answer(completion, style)`` -> final answer string or ``None``;
* ``is_equivalent(prediction, gold)`` -> bool;
* ``grade(completion, gold, style)`` -> bool (extract, then compare);
* ``grade_many(completions, golds, style, *, timeout, workers, progress)`` -> per-item dicts
  ``{"extracted_answer", "correct", "undecided", "reason", "timed_out"}``;
* ``undecided_summary(verdicts)`` -> how many items the grader could not decide;
* ``GRADER_VERSION`` and ``grader_settings()`` (written beside every graded file).

Design: every answer is first cleaned (LaTeX noise, units, separators) and parsed
into a small tree (number, text, choice letter, clock time, ratio, tuple/interval,
set, union, relation, matrix, expression) by plain string code whose cost is linear
in the answer length.  Two trees are compared exactly where that is decidable without
sympy (numbers are exact ``Fraction`` values; an expression that floating point with
error bounds shows to differ is rejected in-process); only what is left goes to sympy
(through Math-Verify's ``latex2sympy2_extended`` converter), and that always runs in a
worker process under a deadline that starts when the worker begins the pair: a worker
that overruns is killed and replaced and the pair is *undecided* (``correct`` False,
``undecided`` True, with a reason), never silently wrong.  Exact values are compared
exactly: no tolerance between two integers, however large.  See ``docs/grading.md``
for the rules and their reasons.

Layout: the modules of this package, bottom to top (``LAYERS``).  A module imports only modules listed
before it, never this ``__init__`` (``tests/test_grading_layers.py`` checks it):

1. ``text``: brace matching, delimiter stripping, cleaning and units of one answer string, its key;
2. ``exact``: exact numbers (``Fraction``) and the rules comparing two of them;
3. ``extraction``: the final answer of a completion (boxes, Minerva lines, GSM8K markers);
4. ``trees``: a cleaned answer parsed into a small tree; clock times and ratios;
5. ``quick``: in-process rejection in floating point with error bounds;
6. ``symbolic``: sympy, only ever run inside a worker process;
7. ``compare``: two trees compared (``_compare``), calling ``quick`` and ``symbolic`` downward;
8. ``pool``: the worker processes and their deadlines;

and this ``__init__`` on top: the public API.  Names other code reads from ``weakstrong.grading`` (the
private ones tests and ``bench/`` use included) are imported here.  To monkeypatch the grader's behaviour,
patch the module that defines the name (e.g. ``weakstrong.grading.pool._full_equal``): rebinding the
name here changes nothing below.
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata

from weakstrong.grading import pool
from weakstrong.grading.compare import _all3, _compare
from weakstrong.grading.exact import MIN_SIG_DIGITS
from weakstrong.grading.extraction import _alternatives, extract_answer
from weakstrong.grading.pool import NOT_STARTED, TIMEOUT, WORKER_DIED, _available_cpus, _context, _run_bounded
from weakstrong.grading.symbolic import _REL_TOL, EXACT_BITS, ZERO_TEST_DIGITS
from weakstrong.grading.text import MAX_ANSWER_CHARS, _units_differ
from weakstrong.grading.trees import _node
from weakstrong.styles import check_style

# Re-exported for code that reads them here (tests, bench/grading_throughput.py); patch them where defined.
from weakstrong.grading.pool import START_TIMEOUT as START_TIMEOUT
from weakstrong.grading.pool import _idle as _idle
from weakstrong.grading.pool import _shutdown as _shutdown
from weakstrong.grading.quick import _quick_value as _quick_value
from weakstrong.grading.text import _clean as _clean

#: The package's modules, bottom to top: each imports only modules before it (and never this __init__).
LAYERS = ("text", "exact", "extraction", "trees", "quick", "symbolic", "compare", "pool")

GRADER_VERSION = "1.2.2"
DEFAULT_TIMEOUT = 5.0

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _fast(prediction: str | None, gold: str) -> bool | None:
    if prediction is None or gold is None:
        return False
    try:
        if _units_differ(prediction, gold):
            return False
        return _compare(_node(prediction), _node(gold), deep=False)
    except Exception:  # noqa: BLE001 - e.g. RecursionError on absurd nesting: a bounded worker decides
        log.debug("fast path failed on %r vs %r", prediction[:80], gold[:80], exc_info=True)
        return None


def is_equivalent(prediction: str, gold: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Is ``prediction`` the same final answer as ``gold``?

    Exact string/number rules decide most pairs in-process; the rest are settled by
    sympy in a worker process within ``timeout`` seconds of comparison.  An undecided
    pair (see ``grade_many``) is not shown equal: False.
    """
    r = _fast(prediction, gold)
    if r is not None:
        return r
    return bool(_run_bounded([(0, prediction, gold)], timeout, 1)[0][0])


def grade(completion: str, gold: str, style: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Extract the final answer of ``completion`` and compare it with ``gold``; no answer is False.

    Final boxes joined by "or" also count when every one of them equals ``gold`` (see ``_alternatives``).
    Undecided is False here; ``grade_many`` reports it.
    """
    answer = extract_answer(completion, style)
    if answer is None:
        return False
    if is_equivalent(answer, gold, timeout=timeout):
        return True
    alternatives = _alternatives(completion, style)
    return bool(alternatives) and all(is_equivalent(a, gold, timeout=timeout) for a in alternatives)


def _resolve_workers(workers: int | None) -> int:
    return max(1, int(workers) if workers else _available_cpus())


def _or3(values) -> bool | None:
    """Three-valued OR: True if any is True, else None if any is None, else False."""
    values = list(values)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def grade_many(completions: list[str], golds: list[str], style: str, *, timeout: float = DEFAULT_TIMEOUT,
               workers: int | None = None, progress: bool = False) -> list[dict]:
    """Grade many completions; per item, in input order::

        {"extracted_answer": str | None, "correct": bool,
         "undecided": bool,      # the grader could not decide: a comparison timed out, its worker
                                 # died or never started, or the numbers were too large to compare
         "reason": str | None,   # why undecided: "timeout", "worker died", "worker did not start",
                                 # "numbers too large to compare exactly"; None when decided
         "timed_out": bool}      # reason == "timeout" (kept for older readers)

    An undecided item has ``correct`` False: it must be counted as undecided, not as wrong (see
    ``undecided_summary``).  Pairs the exact rules decide are graded in this process; the others go
    to ``workers`` processes (default: the CPUs this process may use), each pair under a deadline of
    ``timeout`` seconds that starts when its worker begins it.
    """
    check_style(style)
    if len(completions) != len(golds):
        raise ValueError(f"grade_many: {len(completions)} completions but {len(golds)} gold answers")
    if timeout <= 0:
        raise ValueError(f"grade_many: timeout must be positive, got {timeout}")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(completions), desc=f"grading ({style})", unit="pair")
    # Each item's candidates: its answer and, unless that is already right, its "or" alternatives
    # (all of which must equal the gold).  Exact rules decide most here; sympy settles the rest.
    out: list[dict] = []
    candidates: list[list[str]] = []
    verdicts: dict[tuple[int, int], bool | None] = {}
    reasons: dict[tuple[int, int], str | None] = {}
    for i, (completion, gold) in enumerate(zip(completions, golds)):
        answer = extract_answer(completion, style)
        out.append({"extracted_answer": answer, "correct": False, "undecided": False, "reason": None,
                    "timed_out": False})
        candidates.append([] if answer is None else [answer])
        if answer is None:
            continue
        verdicts[i, 0] = _fast(answer, gold)
        if verdicts[i, 0] is not True:
            candidates[i] += _alternatives(completion, style)
            verdicts.update({(i, j): _fast(candidates[i][j], gold) for j in range(1, len(candidates[i]))})
    jobs = [(key, candidates[key[0]][key[1]], golds[key[0]]) for key, verdict in verdicts.items() if verdict is None]
    if bar:  # one comparison per item (none without an answer), plus one per alternative
        bar.total = len(completions) + sum(max(0, len(c) - 1) for c in candidates)
        bar.update(bar.total - len(jobs))
    done = _run_bounded(jobs, timeout, _resolve_workers(workers), on_done=bar.update if bar else None)
    for key, (verdict, reason) in done.items():
        verdicts[key], reasons[key] = verdict, reason
    for i, item in enumerate(out):
        if not candidates[i]:
            continue  # no answer: decided, not correct
        keys = [(i, j) for j in range(len(candidates[i]))]
        alternatives = [verdicts[k] for k in keys[1:]]
        verdict = _or3([verdicts[keys[0]], _all3(alternatives) if alternatives else False])
        item["correct"] = verdict is True
        if verdict is None:
            item["undecided"] = True
            item["reason"] = next(reasons[k] for k in keys if verdicts[k] is None)
            item["timed_out"] = item["reason"] == TIMEOUT
    if bar:
        bar.close()
    return out


def undecided_summary(verdicts) -> dict:
    """How many graded items the grader could not decide, for the record beside each graded file.

    ``verdicts`` are ``grade_many`` items, or graded records carrying the same fields (``undecided`` /
    ``reason``, or ``grading_undecided`` / ``grading_undecided_reason``).  Returns
    ``{"items", "decided", "undecided", "undecided_share", "by_reason": {reason: count}}``, with
    ``undecided_share`` None when there are no items."""
    items = undecided = 0
    by_reason: dict[str, int] = {}
    for v in verdicts:
        items += 1
        if v.get("undecided", v.get("grading_undecided", False)):
            undecided += 1
            reason = v.get("reason", v.get("grading_undecided_reason")) or "unknown"
            by_reason[reason] = by_reason.get(reason, 0) + 1
    return {"items": items, "decided": items - undecided, "undecided": undecided,
            "undecided_share": undecided / items if items else None, "by_reason": dict(sorted(by_reason.items()))}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def grader_settings(*, timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> dict:
    """Everything that determines a grading verdict, for the record beside each graded file."""
    return {
        "grader_version": GRADER_VERSION,
        "timeout_seconds": float(timeout),
        "workers": _resolve_workers(workers),
        "start_method": _context().get_start_method(),
        "max_answer_chars": MAX_ANSWER_CHARS,
        "min_sig_digits_for_rounded_decimals": MIN_SIG_DIGITS,
        "start_timeout_seconds": pool.START_TIMEOUT,
        "deadline": "per pair, from the moment its worker reports that it began the pair (a worker's "
                    "start-up is not counted); undecided when exceeded",
        "undecided_reasons": [TIMEOUT, WORKER_DIED, NOT_STARTED, "numbers too large to compare exactly"],
        "exact_rational_bits": EXACT_BITS,
        "closed_form_zero_test_digits": ZERO_TEST_DIGITS,
        "closed_form_prefilter_relative_tolerance": _REL_TOL,
        "units": "answers naming different units of measure differ (no conversion); a unit-less side matches",
        "clock_times": "h:mm[:ss] (or an hour with am/pm) read as a time of day, never a ratio or fraction; "
                       "am/pm on one side only: equal to the 24-hour form or the same 12-hour reading; a whole "
                       "number 0-23 against a time reads as that hour without am/pm",
        "math_verify_version": _version("math-verify"),
        "latex2sympy2_extended_version": _version("latex2sympy2_extended"),
        "sympy_version": _version("sympy"),
        "python_version": sys.version.split()[0],
        "math_extraction": "the first Minerva line 'Final Answer: The final answer is X. I hope it is correct.' "
                           "(X, or the boxes in X); else the last \\boxed{}/\\fbox{} that stands alone (side-by-side "
                           "boxes joined); a box followed by an arithmetic operator, or holding an unknown and "
                           "followed by a relation with none before it, is an operand of an equation, never the "
                           "answer; none -> None; boxes joined by 'or' also count when each equals the gold",
        "approximations": "'exact \\approx decimal' (also \\simeq, ≈) is graded by the exact value before the sign "
                          "when that writes a value; 'x \\approx 0.71' by the decimal",
        "gsm8k_extraction": "first '#### N'; else last 'answer is N'/'Answer: N'/'A: N'; else last boxed number; "
                            "else last number only if the text ends finished (. ! ? or EOS token)",
    }


__all__ = ["GRADER_VERSION", "extract_answer", "is_equivalent", "grade", "grade_many", "grader_settings",
           "undecided_summary"]
