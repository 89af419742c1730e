"""weakstrong.prompts: the per-style formats in prompts/<style>.yaml, their stop strings, and (on the real data
in ../shared/data, skipped when absent) that no reference solution is cut while generation still stops at
the next exemplar."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weakstrong import prompts
from weakstrong.data import read_jsonl
from weakstrong.grading import grade
from weakstrong.prompts import (build_prompts, chat_messages, few_shot_prompt, format_question, prompt_digest,
                                prompt_format, sft_example, stop_strings)
from weakstrong.sampling import truncate_at_stop
from weakstrong.styles import STYLES

DATA = Path(os.environ.get("WEAKSTRONG_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA} (set WEAKSTRONG_SHARED_DATA)")

EXEMPLARS = [{"question": "What is $1+1$?", "solution": "$1+1=2$, so $\\boxed{2}$."},
             {"question": "What is $2+2$?", "solution": "We add.\n\nSo $\\boxed{4}$."}]


def test_math_prompt_is_minerva_style():
    assert format_question(" What is $3+3$?\n", "math") == "Problem:\nWhat is $3+3$?\n\nSolution:"
    assert few_shot_prompt("What is $3+3$?", EXEMPLARS, "math") == (
        "Problem:\nWhat is $1+1$?\n\nSolution:\n$1+1=2$, so $\\boxed{2}$.\n\n"
        "Problem:\nWhat is $2+2$?\n\nSolution:\nWe add.\n\nSo $\\boxed{4}$.\n\n"
        "Problem:\nWhat is $3+3$?\n\nSolution:")
    assert few_shot_prompt("Q", [], "math") == format_question("Q", "math")
    assert stop_strings("math") == ("\nProblem:",)


def test_gsm8k_prompt_and_sft_example():
    assert few_shot_prompt("3+3?", [{"question": "1+1?", "solution": "2\n#### 2"}], "gsm8k") == (
        "Question: 1+1?\nAnswer: 2\n#### 2\n\nQuestion: 3+3?\nAnswer:")
    assert sft_example(" 3+3? ", " 6\n#### 6 ", "gsm8k") == ("Question: 3+3?\nAnswer:", " 6\n#### 6")
    assert stop_strings("gsm8k") == ("\nQuestion:",)
    assert build_prompts(["a", "b"], [], "gsm8k") == ["Question: a\nAnswer:", "Question: b\nAnswer:"]


def test_chat_variant_has_turns_and_no_stop_strings():
    messages = chat_messages("What is $3+3$?", EXEMPLARS, "math")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "\\boxed{}" in messages[0]["content"]
    assert messages[2]["content"] == EXEMPLARS[0]["solution"] and messages[-1]["content"] == "What is $3+3$?"
    assert stop_strings("math", chat=True) == ()
    assert build_prompts(["Q"], EXEMPLARS, "math", chat=True) == [chat_messages("Q", EXEMPLARS, "math")]


def test_generation_stops_at_the_next_exemplar():
    for style in STYLES:
        fmt = prompt_format(style)
        solution = "Step one.\n\nStep two, with a blank line before it: \\boxed{5}\n#### 5"
        generated = fmt.format_solution(solution) + fmt.separator + fmt.format_example("Next?", "More.")
        cut, stopped = truncate_at_stop(generated, stop_strings(style))
        assert stopped and cut.rstrip() == fmt.format_solution(solution).rstrip(), style


@pytest.fixture
def prompt_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(prompts, "PROMPTS_DIR", tmp_path)
    prompts.prompt_format.cache_clear()
    yield tmp_path
    prompts.prompt_format.cache_clear()


def _write(directory: Path, text: str) -> Path:
    path = directory / "math.yaml"
    path.write_text(text)
    return path


GOOD = ('question: "Problem:\\n{question}\\n\\nSolution:"\nsolution: "\\n{solution}"\nseparator: "\\n\\n"\n'
        'stop: ["\\nProblem:"]\nchat_instruction: "Solve."\n')


def test_template_files_are_checked(prompt_dir):
    _write(prompt_dir, GOOD)
    assert prompt_format("math").stop == ("\nProblem:",)
    for text, message in [
        (GOOD.replace("{solution}", "{answer}"), "'solution' lacks the placeholder {solution}"),
        (GOOD.replace('chat_instruction: "Solve."\n', ""), "key 'chat_instruction' must be a str"),
        (GOOD + "extra: 1\n", "unknown key"),
        # "\n\n" would stop inside multi-paragraph solutions and does not mark the next exemplar alone
        (GOOD.replace('["\\nProblem:"]', '["\\nSolution:"]'), "every stop string must occur"),
        (GOOD.replace('["\\nProblem:"]', "[]"), "every stop string must occur"),
    ]:
        prompts.prompt_format.cache_clear()
        path = _write(prompt_dir, text)
        with pytest.raises(ValueError, match=str(path).replace("\\", "\\\\")) as info:
            prompt_format("math")
        assert message in str(info.value)
    with pytest.raises(ValueError, match="unknown answer style 'code'"):
        prompt_format("code")


def test_digest_follows_the_file(prompt_dir):
    _write(prompt_dir, GOOD)
    before = prompt_digest("math")
    _write(prompt_dir, GOOD.replace("Solve.", "Solve it."))
    assert prompt_digest("math") != before


# --- the real reference solutions ------------------------------------------------------------------------------

def _reference_solutions():
    math500 = [(r["solution"], r["answer"]) for r in read_jsonl(DATA / "math500/test.jsonl")]
    gsm8k = [(r["answer"], r["answer"].split("####")[-1].strip().replace(",", ""))
             for split in ("train", "test") for r in read_jsonl(DATA / f"gsm8k/{split}.jsonl")]
    return {"math": math500, "gsm8k": gsm8k}


@needs_data
def test_no_reference_solution_is_cut_and_generation_stops_at_the_next_exemplar():
    """Every MATH500 and GSM8K (train and test) reference solution, generated after its few-shot prompt and
    followed by the next exemplar, is kept whole, and the cut falls exactly where the next exemplar begins."""
    references = _reference_solutions()
    assert (len(references["math"]), len(references["gsm8k"])) == (500, 7473 + 1319)
    blank_line = sum("\n\n" in solution for solution, _ in references["math"])
    assert blank_line > 100  # a blank-line stop (the old format) would have cut these
    for style, solutions in references.items():
        fmt = prompt_format(style)
        next_exemplar = fmt.separator + fmt.format_example("Another question?", "Another solution.")
        cut_short = []
        for index, (solution, _) in enumerate(solutions):
            target = fmt.format_solution(solution)
            text, stopped = truncate_at_stop(target + next_exemplar, stop_strings(style))
            if not stopped or text.rstrip() != target.rstrip():
                cut_short.append(index)
        assert cut_short == [], f"{style}: {len(cut_short)} reference solutions cut, e.g. #{cut_short[:3]}"


@needs_data
def test_stopped_reference_solutions_still_grade_correct():
    """What sampling keeps of a reference solution still holds its final answer (MATH500, GSM8K test)."""
    references = _reference_solutions()
    for style, solutions in (("math", references["math"]), ("gsm8k", references["gsm8k"][-1319:])):
        fmt = prompt_format(style)
        next_exemplar = fmt.separator + fmt.format_example("Another question?", "Another solution.")
        wrong = [i for i, (solution, answer) in enumerate(solutions)
                 if not grade(truncate_at_stop(fmt.format_solution(solution) + next_exemplar,
                                               stop_strings(style))[0], answer, style)]
        assert wrong == [], f"{style}: {len(wrong)} cut reference solutions grade wrong, e.g. #{wrong[:3]}"
