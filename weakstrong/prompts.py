"""Prompt formats shared by pre-training (toy world), few-shot sampling, finetuning and evaluation.

One plain format serves base models: ``Question: ...\\nAnswer: ...``; examples are separated by a blank line,
so generation stops at the blank line that would start the next example.
"""

from __future__ import annotations

import random

STOP = "\n\n"


def format_question(question: str) -> str:
    return f"Question: {question.strip()}\nAnswer:"


def format_example(question: str, solution: str) -> str:
    return f"{format_question(question)} {solution.strip()}"


def few_shot_prompt(question: str, exemplars: list[dict]) -> str:
    """Few-shot prompt: solved exemplars (dicts with question/solution), then the open question."""
    shots = [format_example(e["question"], e["solution"]) for e in exemplars]
    return STOP.join(shots + [format_question(question)])


def pick_exemplars(train: list[dict], shots: int, seed: int) -> list[dict]:
    """A fixed set of exemplars drawn from the train split (the same for every question, as in the paper)."""
    if shots > len(train):
        raise ValueError(f"few-shot count {shots} exceeds the {len(train)} train problems available")
    return random.Random(seed).sample(train, shots)


def sft_prompt(question: str) -> str:
    """Finetuned students see the bare question; the target is ' ' + solution."""
    return format_question(question)
