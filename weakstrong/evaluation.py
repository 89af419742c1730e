"""Accuracy of a model on problems: pass@1 (greedy) and maj@k (majority vote over k samples)."""

from __future__ import annotations

from collections import defaultdict

from weakstrong.grading import extract_answer, grade_many, is_equivalent
from weakstrong.prompts import STOP, few_shot_prompt, sft_prompt
from weakstrong.sampling import SamplingParams


def build_prompts(problems: list[dict], exemplars: list[dict] | None) -> list[str]:
    """Few-shot prompts for base models (exemplars given), bare questions for finetuned students."""
    if exemplars:
        return [few_shot_prompt(p["question"], exemplars) for p in problems]
    return [sft_prompt(p["question"]) for p in problems]


def majority_answer(answers: list[str | None]) -> str | None:
    """The most common answer, counting equivalent answers together; ties go to the earliest."""
    clusters: list[list[str]] = []
    for answer in answers:
        if answer is None:
            continue
        for cluster in clusters:
            if is_equivalent(answer, cluster[0]):
                cluster.append(answer)
                break
        else:
            clusters.append([answer])
    return max(clusters, key=len)[0] if clusters else None


def accuracy(problems: list[dict], greedy: list[str], style: str, *, voted: list[list[str]] | None = None,
             workers: int | None = None) -> dict:
    """pass@1 from one greedy completion per problem; maj@k from k sampled completions when given."""
    if len(greedy) != len(problems):
        raise ValueError(f"{len(greedy)} completions for {len(problems)} problems")
    graded = grade_many(greedy, [p["answer"] for p in problems], style, workers=workers)
    result = {"problems": len(problems), "pass@1": _mean([g["correct"] for g in graded]),
              "per_level": _per_level(problems, [g["correct"] for g in graded])}
    if voted:
        majority = [majority_answer([extract_answer(c, style) for c in completions]) for completions in voted]
        correct = [m is not None and is_equivalent(m, p["answer"]) for m, p in zip(majority, problems)]
        result[f"maj@{len(voted[0])}"] = _mean(correct)
    result["examples"] = [{"problem_id": p["id"], "completion": c, "correct": g["correct"]}
                          for p, c, g in list(zip(problems, greedy, graded))[:5]]
    return result


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _per_level(problems: list[dict], correct: list[bool]) -> dict:
    by_level = defaultdict(list)
    for problem, ok in zip(problems, correct):
        if problem.get("level") is not None:
            by_level[str(problem["level"])].append(ok)
    return {level: _mean(values) for level, values in sorted(by_level.items())}


def evaluate(generate_fn, problems: list[dict], style: str, *, exemplars: list[dict] | None, max_tokens: int,
             maj_k: int = 0, seed: int = 0, workers: int | None = None) -> dict:
    """Run ``generate_fn(prompts, SamplingParams)`` greedily (and with k samples at T=0.7 for maj@k)."""
    prompts = build_prompts(problems, exemplars)
    greedy = [s[0]["text"] for s in generate_fn(prompts, SamplingParams(
        n=1, temperature=0.0, max_tokens=max_tokens, seed=seed, stop=(STOP,)))]
    voted = None
    if maj_k > 0:
        samples = generate_fn(prompts, SamplingParams(n=maj_k, temperature=0.7, max_tokens=max_tokens,
                                                      seed=seed, stop=(STOP,)))
        voted = [[s["text"] for s in per_prompt] for per_prompt in samples]
    return accuracy(problems, greedy, style, voted=voted, workers=workers)
