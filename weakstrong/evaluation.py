"""Accuracy of a model on problems: pass@1 (greedy) and maj@k (majority vote over k samples)."""

from __future__ import annotations

from collections import defaultdict

from weakstrong.grading import extract_answer, grade_many, is_equivalent
from weakstrong.prompts import build_prompts, stop_strings
from weakstrong.sampling import SamplingParams

#: What an evaluation file holds, a param of the evaluate rule, so that a change of it reruns the evaluations (the
#: model jobs are not versioned by their code). 2: the text of every correct greedy completion
#: (``correct_completions``), which the reasoning errors of the finetuned students are measured on.
EVALUATION_FORMAT = 2


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
             maj_k: list[int] = (), workers: int | None = None) -> dict:
    """pass@1 from one greedy completion per problem; maj@k for each k in ``maj_k`` from the first k of the
    sampled completions ``voted`` (at least max(maj_k) per problem). ``per_problem`` keeps each problem's
    outcome beside the means, as columns (``problem_id``, ``pass@1``, ``maj@k``: 1 right, 0 not), so that two
    models evaluated on the same problems can be compared problem by problem. ``correct_completions`` keeps the
    text of each greedy completion graded correct (``problem_id``, ``completion``), in the problems' order, for
    the false-positive checks of :mod:`weakstrong.student_errors`; the wrong ones are left out, to keep the file
    small (the first five of all are in ``examples``)."""
    if len(greedy) != len(problems):
        raise ValueError(f"{len(greedy)} completions for {len(problems)} problems")
    graded = grade_many(greedy, [p["answer"] for p in problems], style, workers=workers)
    correct = [bool(g["correct"]) for g in graded]
    result = {"problems": len(problems), "pass@1": _mean(correct),
              "per_level": _per_level(problems, correct),
              "grading_undecided": sum(g["undecided"] for g in graded)}  # counted in pass@1 as not correct
    per_problem = {"problem_id": [p["id"] for p in problems], "pass@1": [int(c) for c in correct]}
    if maj_k:
        if voted is None or any(len(completions) < max(maj_k) for completions in voted):
            raise ValueError(f"maj@k for k in {list(maj_k)} needs {max(maj_k)} sampled completions per problem")
        answers = [[extract_answer(c, style) for c in completions] for completions in voted]
        for k in sorted(maj_k):
            majority = [majority_answer(a[:k]) for a in answers]
            right = [int(m is not None and is_equivalent(m, p["answer"])) for m, p in zip(majority, problems)]
            result[f"maj@{k}"] = _mean(right)
            per_problem[f"maj@{k}"] = right
    result["examples"] = [{"problem_id": p["id"], "completion": c, "correct": g["correct"]}
                          for p, c, g in list(zip(problems, greedy, graded))[:5]]
    result["per_problem"] = per_problem
    result["correct_completions"] = [{"problem_id": p["id"], "completion": c}
                                     for p, c, ok in zip(problems, greedy, correct) if ok]
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
             maj_k: list[int] = (), temperature: float | None = None, seed: int = 0, workers: int | None = None,
             chat: bool = False) -> dict:
    """Run ``generate_fn(prompts, SamplingParams)`` greedily for pass@1, and with max(maj_k) samples at
    ``temperature`` (``evaluation.maj_temperature``; required with maj_k) for maj@k.  Zero-shot (the
    finetuned students' format) unless exemplars are given."""
    if maj_k and temperature is None:
        raise ValueError("maj@k needs its sampling temperature (config key 'evaluation.maj_temperature')")
    prompts = build_prompts([p["question"] for p in problems], exemplars or [], style, chat=chat)
    stop = stop_strings(style, chat=chat)
    greedy = [s[0]["text"] for s in generate_fn(prompts, SamplingParams(
        n=1, temperature=0.0, max_tokens=max_tokens, seed=seed, stop=stop))]
    voted = None
    if maj_k:
        samples = generate_fn(prompts, SamplingParams(n=max(maj_k), temperature=temperature,
                                                      max_tokens=max_tokens, seed=seed, stop=stop))
        voted = [[s["text"] for s in per_prompt] for per_prompt in samples]
    return accuracy(problems, greedy, style, voted=voted, maj_k=maj_k, workers=workers)


def evaluation_settings(*, backend: str, max_tokens: int, maj_k, temperature: float, seed: int,
                        chat: bool) -> dict:
    """What decides a zero-shot test evaluation besides the model and the problems.  The seed and the
    temperature only draw the maj@k votes, so without maj@k they are left out: greedy decoding ignores them."""
    return {"backend": backend, "max_tokens": max_tokens, "maj_k": sorted(maj_k),
            "maj_temperature": temperature if maj_k else None, "seed": seed if maj_k else None, "chat": chat}


def reuse_base_evaluation(selection: dict, base: dict, settings: dict) -> dict | None:
    """The base model's zero-shot test result (``evaluate_base``'s ``zero_shot``) when checkpoint selection kept
    the untrained model and the base evaluation ran with the same ``settings`` (:func:`evaluation_settings`):
    the same model decoding the same prompts the same way, so evaluating it again would only repeat the work.
    None otherwise (a finetuned checkpoint won, the settings differ, or the base evaluation was written before
    evaluations kept their correct completions), and the checkpoint is evaluated."""
    if selection.get("run") is not None or selection.get("checkpoint") != base.get("model"):
        return None
    zero_shot = base.get("zero_shot") or {}
    if base.get("settings") != settings or "correct_completions" not in zero_shot:
        return None
    return zero_shot
