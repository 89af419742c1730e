"""weakstrong.study: Equation 1 budgets, settings, experiments and the sampling ledger."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from weakstrong import study
from weakstrong.config import load
from weakstrong.models import count_toy_parameters

from helpers.studies import edit, pair_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny():
    return load(ROOT / "configs" / "test.yaml")


# --- Equation 1 ----------------------------------------------------------------------------------------------

def test_gemma2_27b_vs_9b_gives_3(paper):
    assert study.cost_ratio(paper, "gemma2") == pytest.approx(27.2e9 / 9.24e9)
    assert study.samples_ratio(paper, "gemma2") == 3


def test_price_matched_gemini_gives_35(paper):
    assert study.cost_ratio(paper, "gemini") == pytest.approx(10.5 / 0.3)
    assert study.samples_ratio(paper, "gemini") == 35


@pytest.mark.parametrize("strong, expected", [(3e9, 3), (3.4e9, 3), (3.6e9, 4), (2e9, 2), (1e9, 1), (0.5e9, 1)])
def test_samples_ratio_rounds_and_is_at_least_one(strong, expected):
    assert study.samples_ratio(pair_study(1e9, strong), "p") == expected


def test_price_match_uses_prices_not_parameters():
    config = pair_study(1e9, 100e9, match="price")
    assert study.cost_ratio(config, "p") == pytest.approx(4.4)
    assert study.samples_ratio(config, "p") == 4


def test_samples_per_question_low_and_high(paper):
    # Equation 1: samples_WC = round(P_SE / P_WC) * samples_SE
    assert study.samples_per_question(paper, "gemma2", "low", "se") == 1
    assert study.samples_per_question(paper, "gemma2", "low", "wc") == 3
    assert study.samples_per_question(paper, "gemma2", "high", "se") == 10
    assert study.samples_per_question(paper, "gemma2", "high", "wc") == 30
    assert study.samples_per_question(paper, "gemini", "low", "se") == 1
    assert study.samples_per_question(paper, "gemini", "low", "wc") == 35


def test_samples_per_question_rejects_gold(paper):
    with pytest.raises(ValueError, match="gold"):
        study.samples_per_question(paper, "gemma2", "low", "gold")


def test_max_samples(paper):
    # gemma2-9b is WC for both budgets: high needs 3 * 10
    assert study.max_samples(paper, "math", "gemma2-9b") == 30
    assert study.max_samples(paper, "gsm8k", "gemma2-9b") == 30
    assert study.max_samples(paper, "math", "gemma2-27b") == 10
    assert study.max_samples(paper, "math", "gemini-1.5-flash") == 35
    assert study.max_samples(paper, "math", "gemini-1.5-pro") == 1
    with pytest.raises(ValueError, match="gemini-1.5-flash"):
        study.max_samples(paper, "gsm8k", "gemini-1.5-flash")  # the Gemini pair covers MATH only
    with pytest.raises(ValueError):
        study.max_samples(paper, "math", "gemma-7b")  # a student only


def test_generator_of(paper):
    assert study.generator_of(paper, "gemma2", "se") == "gemma2-27b"
    assert study.generator_of(paper, "gemma2", "wc") == "gemma2-9b"
    assert study.generator_of(paper, "gemini", "wc") == "gemini-1.5-flash"


# --- settings ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("student, source, expected", [
    ("gemma2-9b", "wc", "self-improvement"),
    ("gemma2-9b", "se", "knowledge distillation"),
    ("gemma2-27b", "wc", "weak-to-strong"),
    ("gemma2-27b", "se", "self-improvement"),
    ("gemma-7b", "wc", "knowledge distillation"),
    ("gemma-7b", "se", "knowledge distillation"),
    ("gemma-7b", "gold", "gold"),
    ("gemma2-27b", "gold", "gold"),
])
def test_setting_for_every_case(paper, student, source, expected):
    assert study.setting(paper, "gemma2", student, source) == expected


def test_setting_with_price_pair(paper):
    # With the Gemini pair no student is a generator: every student is distilled into.
    for student in ("gemma-7b", "gemma2-9b", "gemma2-27b"):
        for source in ("wc", "se"):
            assert study.setting(paper, "gemini", student, source) == "knowledge distillation"


def test_toy_settings(toy):
    assert study.setting(toy, "toy", "toy-student", "wc") == "knowledge distillation"
    assert study.setting(toy, "toy", "toy-wc", "wc") == "self-improvement"
    assert study.setting(toy, "toy", "toy-se", "wc") == "weak-to-strong"
    assert set(study.SETTINGS) == {"knowledge distillation", "self-improvement", "weak-to-strong"}


# --- experiments -----------------------------------------------------------------------------------------------

def test_experiments(paper):
    E = study.Experiment
    assert study.experiments(paper) == [
        E("math", "gemma2", "low"), E("math", "gemma2", "high"),
        E("gsm8k", "gemma2", "low"), E("gsm8k", "gemma2", "high"),
        E("math", "gemini", "low"),
    ]


def test_experiments_toy(toy, tiny):
    assert len(study.experiments(toy)) == 4
    assert study.experiments(tiny) == [study.Experiment("math", "toy", "low"), study.Experiment("gsm8k", "toy", "low")]


def test_generators(paper):
    assert study.generators(paper) == [
        ("math", "gemma2-9b"), ("math", "gemma2-27b"), ("gsm8k", "gemma2-9b"), ("gsm8k", "gemma2-27b"),
        ("math", "gemini-1.5-flash"), ("math", "gemini-1.5-pro"),
    ]


def test_experiment_is_hashable_and_frozen():
    e = study.Experiment("math", "gemma2", "low")
    assert {e: 1}[study.Experiment("math", "gemma2", "low")] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.budget = "high"  # type: ignore[misc]


# --- labels, models ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lr, label", [(1e-6, "1e-06"), (5e-7, "5e-07"), (1e-7, "1e-07"), (3e-4, "0.0003"),
                                       (1e-3, "0.001"), (0.5, "0.5")])
def test_lr_label(lr, label):
    assert study.lr_label(lr) == label


def test_lr_labels_of_configs_are_distinct(paper, toy):
    for config in (paper, toy):
        labels = [study.lr_label(lr) for lr in config.finetune.lrs]
        assert len(set(labels)) == len(labels)
        assert all("/" not in label and " " not in label for label in labels)


def test_model_backend_and_toy_models(paper, toy):
    assert study.model_backend(paper, "gemini-1.5-pro", "vllm") == "openai_api"
    assert study.model_backend(paper, "gemma2-9b", "vllm") == "vllm"
    assert study.toy_models(paper) == []
    assert study.toy_models(toy) == ["toy-student", "toy-wc", "toy-se"]


def test_model_parameters_declared_and_missing(paper):
    assert study.model_parameters(paper, "gemma2-27b") == 27.2e9
    broken = edit(paper, "models/gemma2-9b/parameters", None)
    with pytest.raises(KeyError, match="models.gemma2-9b.parameters"):
        study.model_parameters(broken, "gemma2-9b")


# --- toy configs -----------------------------------------------------------------------------------------------

def test_toy_parameter_counts_by_hand(toy):
    # count = V*d + L*(4*d*d + 3*d*f + 2*d) + d   (tied embeddings, no biases, RMSNorm weights)
    # toy-wc: 527*64 + 2*(4*64*64 + 3*64*176 + 2*64) + 64 = 33728 + 2*50304 + 64 = 134400
    # toy-se: 527*96 + 3*(4*96*96 + 3*96*288 + 2*96) + 96 = 50592 + 3*120000 + 96 = 410688
    assert study.model_parameters(toy, "toy-wc") == 134400
    assert study.model_parameters(toy, "toy-se") == 410688
    assert count_toy_parameters(toy.models["toy-wc"].toy, 527) == 134400


def test_toy_se_wc_ratio_close_to_3(toy):
    ratio = study.cost_ratio(toy, "toy")
    assert ratio == pytest.approx(410688 / 134400)
    assert 2.9 <= ratio < 3.1
    assert study.samples_ratio(toy, "toy") == 3
    assert study.samples_per_question(toy, "toy", "low", "wc") == 3
    assert study.samples_per_question(toy, "toy", "high", "wc") == 9
    assert study.max_samples(toy, "math", "toy-wc") == 9
    assert study.max_samples(toy, "gsm8k", "toy-se") == 3


def test_test_config_numbers(tiny):
    ratio = study.cost_ratio(tiny, "toy")
    # test.yaml (vocab 500): wc 500*64 + 1*(4*64*64 + 3*64*128 + 2*64) + 64 = 32000 + 41088 + 64 = 73152
    assert study.model_parameters(tiny, "toy-wc") == 73152
    assert study.samples_per_question(tiny, "toy", "low", "wc") == round(ratio)
    assert study.max_samples(tiny, "math", "toy-wc") == round(ratio)


# --- ledger ----------------------------------------------------------------------------------------------------

def _samples(tokens_per_problem: dict[str, list[int]], prompt_tokens: int = 0) -> list[dict]:
    return [{"problem_id": pid, "sample_index": i, "completion_tokens": t, "prompt_tokens": prompt_tokens}
            for pid, tokens in tokens_per_problem.items() for i, t in enumerate(tokens)]


def test_sampling_ledger_by_hand():
    # SE draws 2 per problem, the budget uses k_se=1: tokens 100 + 50 = 150 (the 999s are beyond the budget)
    se = _samples({"a": [100, 999], "b": [50, 999]})
    # WC at ratio 3 uses the first 3 per problem: (10+20+30) + (40+50+60) = 210 (index 3 is beyond)
    wc = _samples({"a": [10, 20, 30, 999], "b": [40, 50, 60, 999]})
    ledger = study.sampling_ledger(se, wc, k_se=1, ratio=3, cost_ratio=3.0, match="compute")
    assert ledger["se_tokens"] == 150
    assert ledger["wc_tokens"] == 210
    assert ledger["samples_ratio"] == 3
    assert ledger["cost_ratio"] == 3.0
    assert ledger["match"] == "compute"
    # WC cost relative to SE: 210 / (150 * 3) = 0.4666...
    assert ledger["wc_cost_relative_to_se"] == pytest.approx(210 / 450)
    assert ledger["planned_wc_cost_relative_to_se"] == pytest.approx(1.0)
    assert ledger["se_samples"] == 2 and ledger["wc_samples"] == 6


def test_sampling_ledger_counts_each_question_prompt_once_per_side():
    # prompts of 1000 tokens: SE processes 2 (one per question), WC 2 as well, however many samples it draws
    se = _samples({"a": [100, 999], "b": [50, 999]}, prompt_tokens=1000)
    wc = _samples({"a": [10, 20, 30, 999], "b": [40, 50, 60, 999]}, prompt_tokens=1000)
    ledger = study.sampling_ledger(se, wc, k_se=1, ratio=3, cost_ratio=3.0, match="compute")
    assert ledger["se_prompt_tokens"] == ledger["wc_prompt_tokens"] == 2000
    assert ledger["se_questions"] == ledger["wc_questions"] == 2
    # realized cost compares generated tokens only; the ledger table prices the prompts
    # (tests/test_ablations.py::test_ledger_costs_by_hand)
    assert ledger["wc_cost_relative_to_se"] == pytest.approx(210 / 450)


def test_sampling_ledger_without_se_tokens_is_nan():
    ledger = study.sampling_ledger([], _samples({"a": [5]}), k_se=1, ratio=3, cost_ratio=3.0, match="price")
    assert ledger["se_tokens"] == 0 and ledger["wc_tokens"] == 5
    assert math.isnan(ledger["wc_cost_relative_to_se"])


def test_each_replicate_has_its_own_seed():
    assert [study.replicate_seed(7, r) for r in (1, 2, 3)] == [7, 1007, 2007]
    assert study.replicates(dataclasses.replace(pair_study(), replicates=3)) == [1, 2, 3]
    with pytest.raises(ValueError, match="numbered from 1"):
        study.replicate_seed(7, 0)
