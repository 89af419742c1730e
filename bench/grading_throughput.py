"""Grading throughput: weakstrong.grading against plain Math-Verify on the same answer pairs.

Pairs come from the MATH500 and GSM8K gold answers in ../shared/data (or
$WEAKSTRONG_SHARED_DATA): each gold against itself, reformatted variants of itself
(expected equal) and other problems' answers (expected different).  Both graders
see the same (prediction, gold) strings:

* ours, one core: ``is_equivalent(pred, gold)`` in a loop (the exact fast path in
  this process, sympy in one bounded worker process);
* ours, all cores: ``grade_many`` over ``\\boxed{pred}`` completions (with its count of undecided pairs);
* Math-Verify: ``verify(parse(gold), parse(pred))`` with its defaults, both strings
  wrapped in ``$...$`` (its parser reads LaTeX only inside a math environment).

Usage: python bench/grading_throughput.py [--timeout 5] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or ROOT.parent / "shared" / "data")


def load_pairs() -> list[tuple[str, str, bool, str]]:
    """(prediction, gold, expected, data set) in a fixed order."""
    with (DATA / "math500" / "test.jsonl").open(encoding="utf-8") as fh:
        math = [json.loads(line)["answer"] for line in fh]
    with (DATA / "gsm8k" / "test.jsonl").open(encoding="utf-8") as fh:
        gsm = [json.loads(line)["answer"].split("#### ")[-1].strip() for line in fh]
    pairs: list[tuple[str, str, bool, str]] = []
    for name, golds in (("MATH500", math), ("GSM8K", gsm)):
        for i, gold in enumerate(golds):
            same = {gold, gold.replace("\\frac", "\\dfrac")}
            if re.fullmatch(r"\d{4,}", gold):
                same.add(f"{int(gold):,}")
            if name == "GSM8K":
                same.add(f"\\${gold}.00")
            pairs += [(v, gold, True, name) for v in sorted(same)]
            other = golds[(i + 7) % len(golds)]
            if other.replace(" ", "") != gold.replace(" ", ""):
                pairs.append((other, gold, False, name))
    return pairs


def load_completions() -> list[tuple[str, str, bool]]:
    """GSM8K model solutions (GPT-3 6B/175B) with their published correctness labels."""
    path = DATA / "gsm8k" / "example_model_solutions.jsonl"
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            gold = row["ground_truth"].split("A: ")[-1].strip()
            out += [(v["solution"], gold, v["is_correct"]) for v in row.values() if isinstance(v, dict)]
    return out


def timed(fn, pairs) -> dict:
    verdicts, seconds = [], []
    for pred, gold, *_ in pairs:
        t = time.perf_counter()
        verdicts.append(bool(fn(pred, gold)))
        seconds.append(time.perf_counter() - t)
    return {"verdicts": verdicts, "seconds": seconds}


def report(title: str, rows: list[tuple[str, dict]], expected: list[bool], limit: float, keep=None) -> None:
    """One line per grader: pairs/s on one core, accuracy, slowest call, calls at the limit."""
    idx = [i for i in range(len(expected)) if keep is None or keep(i)]
    print(f"\n{title}: {len(idx)} pairs ({sum(expected[i] for i in idx)} expected equal)")
    if not idx:  # e.g. --limit cut this data set out
        return
    print(f"  {'grader':<36}{'pairs/s/core':>13}{'accuracy':>10}{'slowest (s)':>13}{'at limit':>10}")
    rates = []
    for name, res in rows:
        secs = [res["seconds"][i] for i in idx]
        rate = len(idx) / sum(secs)
        rates.append(rate)
        accuracy = sum(res["verdicts"][i] == expected[i] for i in idx) / len(idx)
        at_limit = sum(t >= limit * 0.98 for t in secs)
        print(f"  {name:<36}{rate:>13.0f}{accuracy:>10.4f}{max(secs):>13.3f}{at_limit:>10}")
    print(f"  throughput ratio ours / math-verify: {rates[0] / rates[1]:.1f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=5.0, help="per-pair limit for our grader (s)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N pairs (0: all)")
    args = ap.parse_args()
    if not (DATA / "math500" / "test.jsonl").is_file() or not (DATA / "gsm8k" / "test.jsonl").is_file():
        print(f"grading_throughput: shared data not found under {DATA}; nothing to measure.")
        return 0

    import logging

    logging.disable(logging.WARNING)  # Math-Verify logs every parse failure
    from math_verify import parse, verify

    from weakstrong import grading
    from weakstrong.grading import GRADER_VERSION, grade, grade_many, grader_settings, is_equivalent

    pairs = load_pairs()
    if args.limit:
        pairs = pairs[: args.limit]
    expected = [e for _, _, e, _ in pairs]
    cores = os.cpu_count() or 1
    settings = grader_settings(timeout=args.timeout)
    print(f"weakstrong.grading {GRADER_VERSION}; math-verify {settings['math_verify_version']}; "
          f"sympy {settings['sympy_version']}; cores: {cores}; our limit {args.timeout:g} s, Math-Verify's 5 s")

    ours = timed(lambda p, g: is_equivalent(p, g, timeout=args.timeout), pairs)
    # Math-Verify reads LaTeX only inside a math environment, so both sides get "$...$"
    mv = timed(lambda p, g: verify(parse(f"${g}$"), parse(f"${p}$")), pairs)
    rows = [("ours: is_equivalent", ours), ("math-verify: verify(parse, parse)", mv)]
    report("Gold answers, variants and other problems' answers", rows, expected, args.timeout)
    in_process = sum(grading._fast(p, g) is not None for p, g, *_ in pairs)
    print(f"  decided in-process (no sympy worker): {in_process} of {len(pairs)} pairs")
    for name in ("MATH500", "GSM8K"):
        report(f"  of which {name}", rows, expected, args.timeout, keep=lambda i, n=name: pairs[i][3] == n)

    grading._shutdown()  # cold start: fresh workers and empty caches, as in a new workflow job
    grading._node.cache_clear()
    grading._clean.cache_clear()
    grading._quick_value.cache_clear()
    start = time.perf_counter()
    many = grade_many([rf"\boxed{{{p}}}" for p, *_ in pairs], [g for _, g, *_ in pairs], "math", timeout=args.timeout)
    wall = time.perf_counter() - start
    undecided = grading.undecided_summary(many)
    print(f"\ngrade_many on the same pairs, {cores} workers: {len(pairs) / wall:.0f} pairs/s wall "
          f"({len(pairs) / wall / cores:.0f} per core), {undecided['undecided']} undecided"
          f"{' ' + str(undecided['by_reason']) if undecided['by_reason'] else ''}, "
          f"accuracy {sum(r['correct'] == e for r, e in zip(many, expected)) / len(pairs):.4f}")

    sols = load_completions()
    if args.limit:
        sols = sols[: args.limit]
    labels = [e for _, _, e in sols]
    ours_c = timed(lambda c, g: grade(c, g, "gsm8k", timeout=args.timeout), sols)
    mv_c = timed(lambda c, g: verify(parse(g), parse(c)), sols)
    report("GSM8K model solutions (whole completions) vs published labels",
           [("ours: grade(..., 'gsm8k')", ours_c), ("math-verify: verify(parse, parse)", mv_c)], labels, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
