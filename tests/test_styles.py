"""weakstrong.styles: the one list of answer styles, and every part that dispatches on a style covers it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from weakstrong import toy
from weakstrong.arithmetic import check_solution
from weakstrong.config import ConfigError, validate
from weakstrong.grading import extract_answer
from weakstrong.metrics import measure_side
from weakstrong.prompts import PROMPTS_DIR, prompt_format
from weakstrong.styles import STYLES, check_style

ROOT = Path(__file__).resolve().parents[1]


def test_every_style_has_a_prompt_file_and_no_file_lacks_a_style():
    assert {path.stem for path in PROMPTS_DIR.glob("*.yaml")} == set(STYLES)
    for style in STYLES:
        assert prompt_format(style).style == style


def test_every_style_has_toy_problems_that_its_grader_reads():
    assert set(toy.GENERATORS) == set(STYLES)
    for style in STYLES:
        problem = toy.GENERATORS[style](1, "train", 0)
        assert extract_answer(problem["solution"], style) == problem["answer"]
        assert check_solution(problem["solution"], style)["wrong"] == 0


@pytest.mark.parametrize("use", [
    lambda style: check_style(style), lambda style: prompt_format(style), lambda style: extract_answer("1", style),
    lambda style: check_solution("1 + 1 = 2", style), lambda style: measure_side([], [], 1, style),
], ids=["check_style", "prompts", "grading", "arithmetic", "metrics"])
def test_unknown_style_is_rejected_with_the_known_ones(use):
    with pytest.raises(ValueError, match="unknown answer style 'code'; expected one of math, gsm8k"):
        use("code")


def test_config_names_the_dataset_of_an_unknown_style():
    config = yaml.safe_load((ROOT / "configs" / "toy.yaml").read_text())
    config["datasets"]["gsm8k"]["style"] = "code"
    with pytest.raises(ConfigError) as info:
        validate(copy.deepcopy(config))
    assert "config key 'datasets.gsm8k.style': unknown answer style 'code'; expected one of math, gsm8k" in str(
        info.value
    )
