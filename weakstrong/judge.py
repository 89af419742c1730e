"""False positives judged by an LLM: which kept solutions to judge, the prompts, and reading the verdicts.

The rule that sends the prompts to a sampling backend lives in the workflow; this module is the logic
around it:

1. :func:`select_for_judging` draws ``n`` of a budget's kept solutions (:func:`kept_solutions`: correct
   final answer, among the first ``per_question`` samples of each problem), stratified by MATH level with
   proportional allocation, so the plain flawed share of the sample estimates the false-positive rate of
   all of that budget's kept solutions;
2. :func:`build_judge_prompts` fills ``prompts/judge.txt`` (placeholders ``{question}``,
   ``{gold_solution}``, ``{candidate_solution}`` and optionally ``{gold_answer}``);
3. :func:`parse_verdict` reads the judge's final ``VERDICT: CORRECT`` / ``VERDICT: FLAWED`` line;
4. :func:`summarize_judgements` gives the flawed rate with its 95% Wilson interval; unparsable replies are
   counted apart and left out of the rate.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

from weakstrong.metrics import level_order, proportion

#: The template shipped with the workflow.
TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "prompts" / "judge.txt"
VERDICTS = ("correct", "flawed")
REQUIRED_PLACEHOLDERS = ("question", "gold_solution", "candidate_solution")
OPTIONAL_PLACEHOLDERS = ("gold_answer",)
#: Stratum of problems without a level.
NO_LEVEL = "none"

_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(REQUIRED_PLACEHOLDERS + OPTIONAL_PLACEHOLDERS) + r")\}")
# A whole line: optional markdown decoration, "VERDICT:" (or "Final verdict:"), one verdict word.
_VERDICT_RE = re.compile(r"^[ \t*_#>`-]*(?:final[ \t]+)?verdict[ \t*_`]*:[ \t*_`]*(correct|flawed)\b[ \t*_`.!]*$",
                         re.IGNORECASE | re.MULTILINE)


def load_template(path: str | Path = TEMPLATE_PATH) -> str:
    """The judge prompt template, checked for its placeholders."""
    text = Path(path).read_text(encoding="utf-8")
    _check_template(text, str(path))
    return text


def _check_template(text: str, where: str) -> None:
    missing = [p for p in REQUIRED_PLACEHOLDERS if "{" + p + "}" not in text]
    if missing:
        raise ValueError(f"judge template {where} lacks placeholder(s) "
                         + ", ".join("{" + p + "}" for p in missing))


def _level_key(level) -> str:
    return NO_LEVEL if level is None else str(level)


def _record_key(record: dict) -> tuple:
    return (str(record["problem_id"]), int(record["sample_index"]), str(record.get("generator", "")))


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` draws over strata of ``sizes`` (largest remainders, exact).

    Each stratum gets ``floor(n * size / total)``; the draws left go one at a time to the strata with the
    largest remaining shortfall (ties: stratum order).  Never more than a stratum holds; all of every
    stratum when ``n >= total``.
    """
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    quota = {s: Fraction(n * size, total) for s, size in sizes.items()}
    taken = {s: int(q) for s, q in quota.items()}
    order = sorted(sizes, key=level_order)
    for _ in range(n - sum(taken.values())):
        open_strata = [s for s in order if taken[s] < sizes[s]]
        best = max(open_strata, key=lambda s: (quota[s] - taken[s], -order.index(s)))
        taken[best] += 1
    return taken


def kept_solutions(graded_records: list[dict], per_question: int | None = None) -> list[dict]:
    """The kept solutions of a budget's data: records with ``correct`` true among the first
    ``per_question`` samples of each problem (``sample_index < per_question``, as the budget's SFT data and
    metrics take them); all kept solutions when ``per_question`` is None."""
    if per_question is not None and per_question < 1:
        raise ValueError(f"per_question must be at least 1, got {per_question}")
    return [r for r in graded_records
            if r.get("correct") and (per_question is None or int(r["sample_index"]) < per_question)]


def select_for_judging(graded_records: list[dict], problems: list[dict], n: int = 500, seed: int = 0, *,
                       per_question: int | None = None) -> list[dict]:
    """``n`` kept solutions (:func:`kept_solutions` of ``per_question``) to judge, stratified by the
    problem's level.

    Allocation is proportional to the number of kept solutions per level (:func:`allocate`; problems
    without a level form the stratum ``"none"``); within a level, solutions are drawn uniformly at random
    with a generator seeded by ``(seed, level)`` from the solutions sorted by (problem_id, sample_index,
    generator), so the result depends only on the set of records and the seed, not on their order.  Fewer
    than ``n`` kept solutions: all of them.

    Returns copies of the chosen records with ``level`` (the problem's) and ``stratum`` added, in order of
    (stratum, problem_id, sample_index).
    """
    if not graded_records:
        raise ValueError("graded_records is empty: nothing to select for judging")
    if not problems:
        raise ValueError("problems is empty: levels are unknown")
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    levels = {p["id"]: p.get("level") for p in problems}
    strata: dict[str, list[dict]] = defaultdict(list)
    for record in kept_solutions(graded_records, per_question):
        if record["problem_id"] not in levels:
            raise ValueError(f"graded record of unknown problem {record['problem_id']!r}")
        level = levels[record["problem_id"]]
        strata[_level_key(level)].append({**record, "level": level, "stratum": _level_key(level)})
    quotas = allocate({s: len(records) for s, records in strata.items()}, n)
    selected = []
    for stratum in sorted(strata, key=level_order):
        records = sorted(strata[stratum], key=_record_key)
        chosen = random.Random(f"{seed}/{stratum}").sample(records, quotas[stratum])
        selected += sorted(chosen, key=_record_key)
    return selected


def build_judge_prompts(selected: list[dict], problems: list[dict], template_text: str) -> list[str]:
    """One prompt per selected solution: the template with the question, the gold solution (and gold
    answer) of its problem and the candidate's completion filled in.

    Placeholders are replaced in one pass, so braces in the texts (LaTeX) are left alone and a text that
    happens to contain ``{question}`` is not filled again.
    """
    _check_template(template_text, "text")
    by_id = {p["id"]: p for p in problems}
    prompts = []
    for position, record in enumerate(selected):
        problem = by_id.get(record["problem_id"])
        if problem is None:
            raise ValueError(f"selected[{position}] refers to unknown problem {record['problem_id']!r}")
        values = {"question": problem["question"].strip(), "gold_solution": problem["solution"].strip(),
                  "gold_answer": str(problem.get("answer", "")).strip(),
                  "candidate_solution": (record.get("completion") or "").strip()}
        prompts.append(_PLACEHOLDER_RE.sub(lambda m, values=values: values[m.group(1)], template_text))
    return prompts


def parse_verdict(text: str | None) -> str | None:
    """``"correct"`` or ``"flawed"`` from a judge's reply, or None when it has no verdict line.

    A verdict line holds only ``VERDICT: CORRECT`` or ``VERDICT: FLAWED`` (any case; ``Final verdict:``;
    markdown such as ``**VERDICT:** FLAWED`` and a closing full stop are fine).  The last such line counts,
    as the prompt asks for the verdict on the final line.  A line naming both verdicts (an echoed
    instruction), another word (``INCORRECT``) or no such line gives None.
    """
    if not text:
        return None
    matches = _VERDICT_RE.findall(text)
    return matches[-1].lower() if matches else None


def summarize_judgements(records: list[dict]) -> dict:
    """The LLM judge's false-positive rate over judged kept solutions.

    Each record carries ``verdict`` (``"correct"``, ``"flawed"`` or None, as from :func:`parse_verdict`).
    Returns ``{"n"`` (all records), ``"n_rated"`` (with a verdict), ``"n_correct", "n_flawed",
    "n_unparsable"`` (no verdict: counted apart, not in the rate), ``"rate"`` (n_flawed / n_rated),
    ``"ci95"`` (its 95% Wilson interval)``}``, rate and interval None when nothing was rated; plus
    ``"by_level"`` with the same numbers per ``level`` when the records have one.
    """
    if not records:
        raise ValueError("records is empty: no judgements to summarise")
    for position, record in enumerate(records):
        if "verdict" not in record:
            raise ValueError(f"records[{position}] has no 'verdict' (store parse_verdict(reply) there)")
        if record["verdict"] is not None and record["verdict"] not in VERDICTS:
            raise ValueError(f"records[{position}] has verdict {record['verdict']!r}; "
                             f"expected one of {VERDICTS} or None")
    result = _counts(records)
    levels: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record.get("level") is not None:
            levels[str(record["level"])].append(record)
    if levels:
        result["by_level"] = {level: _counts(levels[level]) for level in sorted(levels, key=level_order)}
    return result


def _counts(records: list[dict]) -> dict:
    flawed = sum(r["verdict"] == "flawed" for r in records)
    correct = sum(r["verdict"] == "correct" for r in records)
    share = proportion(flawed, flawed + correct)
    return {"n": len(records), "n_rated": flawed + correct, "n_correct": correct, "n_flawed": flawed,
            "n_unparsable": len(records) - flawed - correct, "rate": share["rate"], "ci95": share["ci95"]}


def _empty_summary() -> dict:
    return {"n": 0, "n_rated": 0, "n_correct": 0, "n_flawed": 0, "n_unparsable": 0, "rate": None, "ci95": None}


def judge_solutions(generate_fn, graded_records: list[dict], problems: list[dict], template_text: str, *,
                    n: int, seed: int, max_tokens: int, per_question: int | None = None) -> tuple[list[dict], dict]:
    """Judge ``n`` kept solutions of one generator's data at a budget (its first ``per_question`` samples
    per problem; all when None): select (:func:`select_for_judging`), prompt
    (:func:`build_judge_prompts`), generate greedily with ``generate_fn(prompts, SamplingParams)`` (as from
    :func:`weakstrong.sampling.make_generator`) and read the verdicts (:func:`parse_verdict`).

    Returns ``(records, summary)``: one record per judged solution (the graded record's identity, level,
    completion and answers, plus ``verdict`` (None when unparsable), the judge's raw ``reply``,
    ``reply_tokens``, ``prompt_tokens`` and ``finish_reason``), and :func:`summarize_judgements` of them
    with ``kept`` (the budget's kept solutions), ``selected`` and ``n_truncated`` (replies cut at
    ``max_tokens``).  Nothing kept: no records and a summary with zero counts and rate None.
    """
    selected = select_for_judging(graded_records, problems, n, seed, per_question=per_question)
    kept = len(kept_solutions(graded_records, per_question))
    records, summary = judge_selected(generate_fn, selected, problems, template_text, seed=seed,
                                      max_tokens=max_tokens)
    return records, {**summary, "kept": kept}


#: What a judged record keeps of the solution it judges.
RECORD_KEYS = ("problem_id", "sample_index", "generator", "level", "stratum", "completion", "extracted_answer",
               "gold_answer")


def judge_selected(generate_fn, selected: list[dict], problems: list[dict], template_text: str, *, seed: int,
                   max_tokens: int, keys: tuple[str, ...] = RECORD_KEYS) -> tuple[list[dict], dict]:
    """Judge the ``selected`` solutions (records with ``problem_id`` and ``completion``): prompt
    (:func:`build_judge_prompts`), generate greedily with ``generate_fn``, read the verdicts
    (:func:`parse_verdict`). Returns ``(records, summary)`` as :func:`judge_solutions` does (each record keeps
    ``keys`` of its solution), the summary with ``selected`` and ``n_truncated``; nothing selected gives no
    records and zero counts."""
    from weakstrong.sampling import SamplingParams

    if not selected:
        return [], {**_empty_summary(), "selected": 0, "n_truncated": 0}
    prompts = build_judge_prompts(selected, problems, template_text)
    replies = generate_fn(prompts, SamplingParams(n=1, temperature=0.0, max_tokens=max_tokens, seed=seed))
    if len(replies) != len(selected):
        raise ValueError(f"{len(replies)} judge replies for {len(selected)} prompts")
    records = []
    for record, reply in zip(selected, replies):
        reply = reply[0]
        records.append({key: record.get(key) for key in keys}
                       | {"verdict": parse_verdict(reply["text"]), "reply": reply["text"],
                          "reply_tokens": reply["completion_tokens"], "prompt_tokens": reply["prompt_tokens"],
                          "finish_reason": reply["finish_reason"]})
    summary = summarize_judgements(records)
    summary.update(selected=len(selected), n_truncated=sum(r["finish_reason"] == "length" for r in records))
    return records, summary
