"""Synthetic solutions: draw them (one shard per job), grade them, and keep the correct ones for SFT."""

from __future__ import annotations

import zlib

from weakstrong.prompts import build_prompts, stop_strings
from weakstrong.sampling import SamplingParams


def shard_of(problems: list[dict], shard: int, shards: int) -> list[dict]:
    """Problems of one shard: every ``shards``-th problem, so shards have equal size and mixed difficulty."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} outside 0..{shards - 1}")
    return problems[shard::shards]


def shard_seed(seed: int, generator: str, dataset: str, shard: int) -> int:
    """Distinct, reproducible random streams per (generator, dataset, shard)."""
    return (seed * 1_000_003 + zlib.crc32(f"{generator}/{dataset}".encode()) + shard) % (2**31 - 1)


def draw_samples(generate_fn, problems: list[dict], exemplars: list[dict], *, style: str, generator: str,
                 backend: str, samples_per_question: int, temperature: float, top_k: int, top_p: float,
                 max_tokens: int, seed: int, chat: bool = False) -> list[dict]:
    """``samples_per_question`` few-shot completions per problem, each recorded with how it was drawn.
    The exemplars are never sampled: their reference solutions would be copied into the finetuning data."""
    exemplar_ids = {e["id"] for e in exemplars}
    sampled_exemplars = sorted(exemplar_ids & {p["id"] for p in problems})
    if sampled_exemplars:
        raise ValueError(f"the few-shot exemplars {sampled_exemplars} are among the problems to sample")
    prompts = build_prompts([p["question"] for p in problems], exemplars, style, chat=chat)
    params = SamplingParams(n=samples_per_question, temperature=temperature, top_k=top_k, top_p=top_p,
                            max_tokens=max_tokens, seed=seed, stop=stop_strings(style, chat=chat))
    outputs = generate_fn(prompts, params)
    records = []
    for problem, samples in zip(problems, outputs):
        for index, sample in enumerate(samples):
            records.append({
                "problem_id": problem["id"], "sample_index": index, "generator": generator, "backend": backend,
                "completion": sample["text"], "prompt_tokens": sample["prompt_tokens"],
                "completion_tokens": sample["completion_tokens"], "finish_reason": sample["finish_reason"],
                "few_shot_ids": sorted(exemplar_ids), **params.record()})
    return records


def grade_samples(samples: list[dict], problems: list[dict], style: str, *, workers: int | None = None,
                  timeout: float = 5.0) -> list[dict]:
    """Add the extracted answer and verdict to each sample.  A completion cut off by the token limit is
    never credited: its final answer was not produced by the model.  A pair the grader could not decide
    (a comparison past its deadline, a dead grading worker) is ``grading_undecided`` with its
    ``grading_undecided_reason``: not correct, never kept for finetuning, and counted apart from the wrong
    ones (:func:`weakstrong.grading.undecided_summary`)."""
    from weakstrong.grading import grade_many

    gold = {p["id"]: p["answer"] for p in problems}
    missing = {s["problem_id"] for s in samples} - set(gold)
    if missing:
        raise ValueError(f"samples refer to {len(missing)} unknown problem ids, e.g. {sorted(missing)[:3]}")
    verdicts = grade_many([s["completion"] for s in samples], [gold[s["problem_id"]] for s in samples], style,
                          timeout=timeout, workers=workers, progress=True)
    graded = []
    for sample, verdict in zip(samples, verdicts):
        cut_off = sample.get("finish_reason") == "length"  # never credited: decided whatever the grader says
        undecided = verdict["undecided"] and not cut_off
        graded.append({**sample, "extracted_answer": verdict["extracted_answer"],
                       "gold_answer": gold[sample["problem_id"]], "correct": verdict["correct"] and not cut_off,
                       "grading_undecided": undecided,
                       "grading_undecided_reason": verdict["reason"] if undecided else None,
                       "grading_timed_out": verdict["timed_out"]})
    return graded


def sft_examples(graded: list[dict], problems: list[dict], per_question: int) -> list[dict]:
    """Correct solutions among the first ``per_question`` samples of each problem (the budget's share).
    Samples the grader could not decide are left out."""
    questions = {p["id"]: p["question"] for p in problems}
    return [{"problem_id": g["problem_id"], "sample_index": g["sample_index"],
             "question": questions[g["problem_id"]], "solution": g["completion"].strip()}
            for g in graded
            if g["sample_index"] < per_question and g["correct"] and not g.get("grading_undecided")]


def gold_examples(problems: list[dict]) -> list[dict]:
    """The human-written solutions: the paper's baseline, free to 'sample'."""
    return [{"problem_id": p["id"], "sample_index": 0, "question": p["question"], "solution": p["solution"]}
            for p in problems]
