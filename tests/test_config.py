"""weakstrong.config: the shipped configurations validate; every error names its key path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from weakstrong.config import SCHEMA, ConfigError, build, check_references, key_path, load, validate
from weakstrong.study_config import Study

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "config.yaml", ROOT / "configs" / "toy.yaml", ROOT / "configs" / "test.yaml"]


def _error(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate(config)
    return str(info.value)


def _edit(config: dict, change) -> dict:
    config = copy.deepcopy(config)
    change(config)
    return config


def _given_keys_kept(given, filled, where="config"):
    """Every key of ``given`` is in ``filled`` with its value; dicts may have gained keys (defaults)."""
    if isinstance(given, dict):
        assert isinstance(filled, dict), where
        for key, value in given.items():
            assert key in filled, f"{where}.{key}"
            _given_keys_kept(value, filled[key], f"{where}.{key}")
    else:
        assert filled == given, where


# --- shipped configs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    config = validate(yaml.safe_load(path.read_text()), source=str(path))
    assert isinstance(load(path), Study)
    _given_keys_kept(yaml.safe_load(path.read_text()), config)  # completed with defaults, nothing overwritten
    assert check_references(config) == []


def test_validate_completes_the_config_in_place(raw_paper):
    config = copy.deepcopy(raw_paper)
    assert validate(config) is config
    assert config != raw_paper
    _given_keys_kept(raw_paper, config)


# --- defaults ------------------------------------------------------------------------------------------------

def test_defaults_are_filled_at_every_depth(raw_toy):
    def strip(c):
        del c["paths"], c["sources"], c["sampling"]["top_k"], c["evaluation"]["maj_temperature"]
        del c["resources"]["default"]["runtime"]
        c["judge"] = {"model": "toy-se"}
    config = validate(_edit(raw_toy, strip))
    assert config["paths"] == {"results": "results", "logs": "logs", "benchmarks": "benchmarks",
                               "tables": "results"}  # a missing section is filled, then its keys
    assert config["sources"] == ["wc", "se"] and config["sampling"]["top_k"] == -1
    assert config["evaluation"]["maj_temperature"] == 0.7
    assert "corpus" not in raw_toy["models"]["toy-wc"]["toy"]
    assert config["models"]["toy-wc"]["toy"]["corpus"] == "solved"  # under additionalProperties and $ref
    assert config["models"]["toy-student"]["toy"]["corpus"] == "unsolved"  # given: kept
    assert config["judge"] == {"model": "toy-se", "solutions_per_source": 500, "audit_size": 50,
                               "max_tokens": 1024, "ratings_dir": "audit"}
    assert config["grading"] == {"timeout": 5.0} and config["openai_api"] == {}
    assert config["resources"]["default"] == {"threads": 1, "mem_mb": 2000, "runtime": 60, "gpu": 0}
    # a rule's own resources get no defaults: they would override resources.default
    assert config["resources"]["sample_solutions"] == raw_toy["resources"]["sample_solutions"]
    assert "judge" not in validate(raw_toy)  # an optional section stays off


def test_derived_defaults_follow_the_keys_they_copy(raw_toy):
    def strip(c):
        c["paths"].pop("tables", None)
        c.pop("replicates", None)
        del c["finetune"]["budgets"], c["finetune"]["eval_backend"]
    config = validate(_edit(raw_toy, strip))
    assert config["paths"]["tables"] == config["paths"]["results"] == "results/toy"
    assert config["replicates"] == 1
    assert config["finetune"]["budgets"] == ["low", "high"]
    assert config["finetune"]["eval_backend"] == config["evaluation"]["backend"]


def test_default_values_are_copies(raw_toy):
    first = validate(_edit(raw_toy, lambda c: c["evaluation"].pop("maj_k")))
    first["evaluation"]["maj_k"].append(3)
    first["openai_api"]["base_url"] = "http://changed"
    second = validate(_edit(raw_toy, lambda c: c["evaluation"].pop("maj_k")))
    assert second["openai_api"] == {} and second["evaluation"]["maj_k"] == []


def test_no_default_where_a_failing_branch_would_fill_it():
    """The filling validator sets defaults as it checks `properties`, also those of a oneOf/anyOf branch that
    then fails; so no default may sit under oneOf or anyOf."""
    def defaults_under(node, branch=False, where="schema"):
        if isinstance(node, dict):
            if branch and "default" in node:
                yield where
            for key, value in node.items():
                yield from defaults_under(value, branch or key in ("oneOf", "anyOf"), f"{where}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from defaults_under(item, branch, f"{where}[{i}]")
    assert list(defaults_under(yaml.safe_load(SCHEMA.read_text()))) == []


# --- key paths ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("parts, text", [
    ([], "<top level>"), (["seed"], "seed"), (["finetune", "lrs", 1], "finetune.lrs[1]"),
    (["generator_pairs", "gemma2", "students", 0], "generator_pairs.gemma2.students[0]"),
])
def test_key_path(parts, text):
    assert key_path(parts) == text


# --- schema errors -----------------------------------------------------------------------------------------

def test_mistyped_value_names_list_index(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["finetune"].__setitem__("lrs", [1e-7, "fast"])))
    assert "config key 'finetune.lrs[1]'" in message
    assert "'fast' is not of type 'number'" in message


def test_mistyped_nested_value(raw_toy):
    message = _error(_edit(raw_toy, lambda c: c["models"]["toy-wc"]["toy"].__setitem__("layers", "three")))
    assert "config key 'models.toy-wc.toy.layers'" in message


def test_out_of_range_and_enum_values(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["budgets"].__setitem__("low", 0)))
    assert "config key 'budgets.low'" in message
    message = _error(_edit(raw_paper, lambda c: c["sampling"].__setitem__("backend", "ollama")))
    assert "config key 'sampling.backend'" in message and "ollama" in message


def test_unknown_key_is_named_with_known_keys(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["finetune"].__setitem__("lrz", [1e-6])))
    assert "config key 'finetune'" in message
    assert "'lrz' was unexpected" in message
    assert "known keys:" in message and "lrs" in message


def test_unknown_top_level_key(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c.__setitem__("extra_section", {})))
    assert "config key '<top level>'" in message and "'extra_section'" in message


def test_missing_required_key(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["finetune"].pop("steps")))
    assert "config key 'finetune'" in message and "'steps' is a required property" in message
    message = _error(_edit(raw_paper, lambda c: c.pop("seed")))
    assert "'seed' is a required property" in message


def test_missing_toy_model_key(raw_toy):
    message = _error(_edit(raw_toy, lambda c: c["models"]["toy-se"]["toy"].pop("heads")))
    assert "config key 'models.toy-se.toy'" in message and "'heads'" in message


def test_every_problem_is_listed(raw_paper):
    def change(c):
        c["finetune"]["lrs"] = [1e-7, "fast"]
        c["sampling"]["shards"] = -1
    message = _error(_edit(raw_paper, change))
    assert "finetune.lrs[1]" in message and "sampling.shards" in message


def test_error_names_the_source_file(tmp_path, raw_paper):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(_edit(raw_paper, lambda c: c["evaluation"].pop("max_tokens"))))
    with pytest.raises(ConfigError, match=str(path).replace(".", r"\.")) as info:
        load(path)
    assert "'max_tokens' is a required property" in str(info.value)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


# --- references -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, key, name", [
    (lambda c: c["generator_pairs"]["gemma2"].__setitem__("weak", "gemma3-1b"),
     "generator_pairs.gemma2.weak", "unknown model 'gemma3-1b'"),
    (lambda c: c["generator_pairs"]["gemma2"].__setitem__("strong", "gemma3-99b"),
     "generator_pairs.gemma2.strong", "unknown model 'gemma3-99b'"),
    (lambda c: c["generator_pairs"]["gemini"]["students"].append("llama"),
     "generator_pairs.gemini.students[3]", "unknown model 'llama'"),
    (lambda c: c["generator_pairs"]["gemma2"]["budgets"].append("huge"),
     "generator_pairs.gemma2.budgets[2]", "unknown budget 'huge'"),
    (lambda c: c["generator_pairs"]["gemini"]["datasets"].append("aime"),
     "generator_pairs.gemini.datasets[1]", "unknown dataset 'aime'"),
    (lambda c: c["models"]["gemini-1.5-pro"].pop("price_per_million_tokens"),
     "models.gemini-1.5-pro.price_per_million_tokens", "matched on price"),
    (lambda c: c["models"]["gemma2-9b"].pop("parameters"),
     "models.gemma2-9b.parameters", "matched on compute"),
    (lambda c: c["datasets"]["math"].pop("validation"),
     "datasets.math.validation", "required for non-toy data"),
    (lambda c: c["models"]["gemma2-9b"].__setitem__("chat", True),
     "models.gemma2-9b.chat", "openai_api backend only"),
    (lambda c: c["generator_pairs"].__setitem__("gold", c["generator_pairs"]["gemma2"]),
     "generator_pairs.gold", "reserved"),
], ids=["weak", "strong", "student", "budget", "dataset", "price", "parameters", "validation", "chat", "gold"])
def test_broken_references_are_reported(raw_paper, change, key, name):
    message = _error(_edit(raw_paper, change))
    assert f"config key '{key}'" in message
    assert name in message


def test_several_broken_references_all_reported(raw_paper):
    def change(c):
        c["generator_pairs"]["gemma2"]["weak"] = "nope"
        c["generator_pairs"]["gemma2"]["datasets"] = ["math", "svamp"]
    problems = check_references(_edit(raw_paper, change))
    assert len(problems) == 2
    message = _error(_edit(raw_paper, change))
    assert "generator_pairs.gemma2.weak" in message and "generator_pairs.gemma2.datasets[1]" in message


def test_toy_head_size_must_suit_vllm(raw_toy):
    # 96 / 3 = 32 is fine; 96 / 4 = 24 is not a supported head size
    message = _error(_edit(raw_toy, lambda c: c["models"]["toy-wc"]["toy"].__setitem__("heads", 4)))
    assert "config key 'models.toy-wc.toy'" in message and "64 / 4" in message
    # hidden size not divisible by heads
    message = _error(_edit(raw_toy, lambda c: c["models"]["toy-wc"]["toy"].__setitem__("heads", 5)))
    assert "models.toy-wc.toy" in message


def test_toy_needs_toy_corpus(raw_toy):
    message = _error(_edit(raw_toy, lambda c: c.pop("toy_corpus")))
    assert "config key 'toy_corpus'" in message


# --- files ---------------------------------------------------------------------------------------------------

def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("seed: 1\nfinetune: {lrs: [1e-6\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert "not valid YAML" in str(info.value)


def test_non_mapping_top_level_names_the_file(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping") as info:
        load(path)
    assert str(path) in str(info.value)


def test_loaded_copy_in_tmp_validates(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text((ROOT / "configs" / "toy.yaml").read_text())
    assert load(path).models["toy-se"].toy["hidden_size"] == 96


# --- finetuning per student and budget ------------------------------------------------------------------

def test_finetune_settings_follow_the_paper(raw_paper):
    from weakstrong.study import finetune_settings

    config = build(copy.deepcopy(raw_paper))
    assert finetune_settings(config, "gemma2-9b", "low") == {
        "steps": 600, "batch_size": 32, "micro_batch_size": 4, "precision": "auto", "gradient_checkpointing": True}
    assert finetune_settings(config, "gemma2-27b", "high")["steps"] == 6000
    gemma7b = finetune_settings(config, "gemma-7b", "high")
    assert (gemma7b["steps"], gemma7b["batch_size"], gemma7b["micro_batch_size"]) == (24000, 8, 1)
    toy = build(yaml.safe_load((ROOT / "configs" / "toy.yaml").read_text()))
    assert finetune_settings(toy, "toy-se", "low")["gradient_checkpointing"] is False  # toy models are tiny


def test_finetune_students_must_be_models(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["finetune"]["students"].__setitem__("gemma-8b", {"batch_size": 4})))
    assert "config key 'finetune.students.gemma-8b': unknown model 'gemma-8b'" in message


def test_steps_per_budget_cover_every_budget(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["finetune"]["students"]["gemma-7b"]["steps"].pop("high")))
    assert "config key 'finetune.students.gemma-7b.steps': no steps for budget 'high'" in message
    message = _error(_edit(raw_paper, lambda c: c["finetune"].__setitem__("steps", {"low": 600})))
    assert "config key 'finetune.steps': no steps for budget 'high'" in message


def test_precision_must_be_known(raw_paper):
    message = _error(_edit(raw_paper, lambda c: c["finetune"].__setitem__("precision", "fp16")))
    assert "config key 'finetune.precision'" in message


def test_a_toy_test_source_is_refused_by_name(raw_toy):
    """A toy dataset's test set is its source's: a test_source of kind toy would be read by nothing."""
    config = copy.deepcopy(raw_toy)
    config["datasets"]["gsm8k"]["test_source"] = {"toy": {"train": 10, "validation": 10, "test": 10}}
    with pytest.raises(ConfigError, match="test_source"):
        validate(config)
