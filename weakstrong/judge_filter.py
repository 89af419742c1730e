"""The LLM judge as a filter without gold answers: a verdict on every sample of a generator, from the question
and the solution alone, for the ``<side>.judged`` sources (:mod:`weakstrong.sources`).

The judge of Table 2's false positives (:mod:`weakstrong.judge`, ``prompts/judge.txt``) is shown the reference
solution and told that the final answer matches it: it measures the reasoning of kept solutions.  Filtering
without gold answers must not see either, so this judge reads ``prompts/judge-nogold.txt``, whose only
placeholders are ``{question}`` and ``{candidate_solution}`` (a template with ``{gold_solution}`` or
``{gold_answer}`` is refused), and rates every sample, right or wrong.  The verdict line and its parsing are
the same as that judge's (:func:`weakstrong.judge.parse_verdict`); an unparsable reply keeps nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

from weakstrong.judge import parse_verdict
from weakstrong.metrics import proportion

#: The template shipped with the workflow.
TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "prompts" / "judge-nogold.txt"
PLACEHOLDERS = ("question", "candidate_solution")
#: What a filter without gold answers must not be shown.
FORBIDDEN = ("gold_solution", "gold_answer")

_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def check_template(text: str, where: str = "text") -> str:
    """``text`` if it has both placeholders and none that would show the gold answer; a ValueError otherwise."""
    missing = [p for p in PLACEHOLDERS if "{" + p + "}" not in text]
    if missing:
        raise ValueError(f"judge template {where} lacks placeholder(s) " + ", ".join("{" + p + "}" for p in missing))
    shown = [p for p in FORBIDDEN if "{" + p + "}" in text]
    if shown:
        raise ValueError(f"judge template {where} shows the gold answer through " + ", ".join("{" + p + "}" for p in shown)
                         + ": a filter without gold answers must not see it (prompts/judge-nogold.txt)")
    return text


def load_template(path: str | Path = TEMPLATE_PATH) -> str:
    return check_template(Path(path).read_text(encoding="utf-8"), str(path))


def build_prompts(samples: list[dict], problems: list[dict], template: str) -> list[str]:
    """One prompt per sample: the template with its problem's question and its completion (in one pass, so
    braces in the texts stay as they are).  Nothing of the problem but its question is read."""
    check_template(template)
    questions = {p["id"]: p["question"].strip() for p in problems}
    prompts = []
    for sample in samples:
        if sample["problem_id"] not in questions:
            raise ValueError(f"sample of unknown problem {sample['problem_id']!r}")
        values = {"question": questions[sample["problem_id"]], "candidate_solution": (sample.get("completion") or "").strip()}
        prompts.append(_PLACEHOLDER_RE.sub(lambda m, values=values: values[m.group(1)], template))
    return prompts


def judge_samples(generate_fn, graded: list[dict], problems: list[dict], template: str, *, per_question: int,
                  seed: int, max_tokens: int) -> tuple[list[dict], dict]:
    """The judge's verdict on each of the first ``per_question`` samples of every question, greedy, with
    ``generate_fn(prompts, SamplingParams)`` (:func:`weakstrong.sampling.make_generator`).

    Returns ``(records, summary)``: per sample its identity, ``verdict`` (``"correct"``, ``"flawed"`` or None
    when unparsable), the raw ``reply`` and its token counts; and the counts of verdicts with the judge's
    agreement with the gold grade (``correct`` of the graded samples; read only here, after judging, to measure
    the filter: ``precision``, the share of the samples rated correct whose final answer is right, and
    ``recall``, the share of the right ones rated correct, each with its 95% Wilson interval)."""
    from weakstrong.sampling import SamplingParams

    samples = [g for g in graded if g["sample_index"] < per_question]
    drawn = 1 + max((g["sample_index"] for g in graded), default=-1)
    if graded and drawn < per_question:
        raise ValueError(f"{drawn} samples per question were drawn, the judge is to rate {per_question}")
    replies = generate_fn(build_prompts(samples, problems, template),
                          SamplingParams(n=1, temperature=0.0, max_tokens=max_tokens, seed=seed)) if samples else []
    if len(replies) != len(samples):
        raise ValueError(f"{len(replies)} judge replies for {len(samples)} prompts")
    records = [{"problem_id": s["problem_id"], "sample_index": s["sample_index"], "generator": s.get("generator"),
                "verdict": parse_verdict(reply[0]["text"]), "reply": reply[0]["text"],
                "reply_tokens": reply[0]["completion_tokens"], "prompt_tokens": reply[0]["prompt_tokens"],
                "finish_reason": reply[0]["finish_reason"]}
               for s, reply in zip(samples, replies)]
    return records, summarize(records, samples)


def summarize(records: list[dict], samples: list[dict]) -> dict:
    """Counts of the verdicts, and their agreement with the gold grade of the same ``samples``."""
    right = [bool(s.get("correct")) for s in samples]
    passed = [r["verdict"] == "correct" for r in records]
    return {"n": len(records), "n_correct": sum(passed), "n_flawed": sum(r["verdict"] == "flawed" for r in records),
            "n_unparsable": sum(r["verdict"] is None for r in records),
            "n_truncated": sum(r["finish_reason"] == "length" for r in records),
            "precision": proportion(sum(p and c for p, c in zip(passed, right)), sum(passed)),
            "recall": proportion(sum(p and c for p, c in zip(passed, right)), sum(right))}
