"""Prompt formats per answer style, shared by pre-training (toy world), few-shot sampling, finetuning and
evaluation.

Each style's format is a file, ``prompts/<style>.yaml`` (keys ``question``, ``solution``, ``separator``,
``stop``, ``chat_instruction``), so that editing a prompt is editing a file, and the rules that format
prompts carry its digest (:func:`prompt_digest`) and rerun.  A completion prompt is the solved exemplars
and then the open question, joined by the separator; generation stops at :func:`stop_strings`, which match
the header of the next exemplar and never the inside of a solution.  Hosted chat models get the exemplars as
earlier turns of a conversation instead (:func:`chat_messages`), with no stop strings.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from weakstrong.styles import check_style

#: The templates shipped with the workflow (next to prompts/judge.txt).
PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
_KEYS = {"question": str, "solution": str, "separator": str, "stop": list, "chat_instruction": str}


@dataclass(frozen=True)
class PromptFormat:
    style: str
    question: str
    solution: str
    separator: str
    stop: tuple[str, ...]
    chat_instruction: str

    def format_question(self, question: str) -> str:
        return self.question.replace("{question}", question.strip())

    def format_solution(self, solution: str) -> str:
        return self.solution.replace("{solution}", solution.strip())

    def format_example(self, question: str, solution: str) -> str:
        return self.format_question(question) + self.format_solution(solution)


def template_path(style: str) -> Path:
    return PROMPTS_DIR / f"{check_style(style)}.yaml"


@functools.cache
def prompt_format(style: str) -> PromptFormat:
    """The format of ``style``, read from its file and checked: placeholders present, every stop string
    found where the next exemplar begins."""
    path = template_path(style)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected a mapping with keys {sorted(_KEYS)}")
    for key, kind in _KEYS.items():
        if not isinstance(spec.get(key), kind):
            raise ValueError(f"{path}: key {key!r} must be a {kind.__name__}")
    unknown = set(spec) - set(_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)}")
    for key in ("question", "solution"):
        if "{" + key + "}" not in spec[key]:
            raise ValueError(f"{path}: {key!r} lacks the placeholder {{{key}}}")
    fmt = PromptFormat(style=style, question=spec["question"], solution=spec["solution"],
                       separator=spec["separator"], stop=tuple(spec["stop"]),
                       chat_instruction=spec["chat_instruction"])
    next_header = fmt.separator + fmt.question.split("{question}")[0]
    if not fmt.stop or not all(stop and stop in next_header for stop in fmt.stop):
        raise ValueError(f"{path}: every stop string must occur in the separator plus the next question's "
                         f"header {next_header!r}, or generation would run into the next exemplar")
    return fmt


def prompt_digest(style: str) -> str:
    """The SHA-256 of a style's template file: a rule param, so editing the prompt reruns the rule."""
    return hashlib.sha256(template_path(style).read_bytes()).hexdigest()


def stop_strings(style: str, *, chat: bool = False) -> tuple[str, ...]:
    """Where sampling and evaluation stop: at the next exemplar's header (none for a chat model's turn)."""
    return () if chat else prompt_format(style).stop


def format_question(question: str, style: str) -> str:
    return prompt_format(style).format_question(question)


def format_example(question: str, solution: str, style: str) -> str:
    return prompt_format(style).format_example(question, solution)


def few_shot_prompt(question: str, exemplars: list[dict], style: str) -> str:
    """Solved exemplars (dicts with question/solution), then the open question."""
    fmt = prompt_format(style)
    shots = [fmt.format_example(e["question"], e["solution"]) for e in exemplars]
    return fmt.separator.join(shots + [fmt.format_question(question)])


def chat_messages(question: str, exemplars: list[dict], style: str) -> list[dict]:
    """The chat variant: the style's instruction, each exemplar as a user turn answered by the assistant,
    then the open question."""
    fmt = prompt_format(style)
    messages = [{"role": "system", "content": fmt.chat_instruction}]
    for exemplar in exemplars:
        messages += [{"role": "user", "content": exemplar["question"].strip()},
                     {"role": "assistant", "content": exemplar["solution"].strip()}]
    return messages + [{"role": "user", "content": question.strip()}]


def build_prompts(questions: list[str], exemplars: list[dict], style: str, *, chat: bool = False) -> list:
    """One prompt per question: text for base models (zero-shot without exemplars), messages for chat."""
    if chat:
        return [chat_messages(q, exemplars, style) for q in questions]
    return [few_shot_prompt(q, exemplars, style) for q in questions]


def sft_example(question: str, solution: str, style: str) -> tuple[str, str]:
    """A finetuning pair: the zero-shot prompt and its target (the solution as the format writes it)."""
    fmt = prompt_format(style)
    return fmt.format_question(question), fmt.format_solution(solution)


def pretraining_document(examples: list[dict], style: str) -> str:
    """Solved problems laid out as a few-shot prompt is (toy-world pre-training)."""
    fmt = prompt_format(style)
    return fmt.separator.join(fmt.format_example(e["question"], e["solution"]) for e in examples)
