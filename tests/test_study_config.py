"""The typed study (weakstrong.study_config): every schema key is a field, built once from the validated config,
read by attribute, with no default of its own."""

from __future__ import annotations

import copy
import dataclasses
import typing

import pytest
import yaml

from weakstrong import study_config
from weakstrong.config import SCHEMA, ConfigError, build
from weakstrong.study_config import Study

SCHEMA_DOC = yaml.safe_load(SCHEMA.read_text())

#: Where each typed section sits in the schema: (dataclass, path of its properties). Sections whose entries are
#: named (models, datasets, ...) take the entries' schema.
SECTIONS = [
    (study_config.Study, ()),
    (study_config.Paths, ("paths",)),
    (study_config.Software, ("software",)),
    (study_config.Numerics, ("numerics",)),
    (study_config.ToyCorpus, ("toy_corpus",)),
    (study_config.Dataset, ("datasets", "additionalProperties")),
    (study_config.Model, ("models", "additionalProperties")),
    (study_config.Pair, ("generator_pairs", "additionalProperties")),
    (study_config.SourceScope, ("source_scope",)),
    (study_config.Sampling, ("sampling",)),
    (study_config.Grading, ("grading",)),
    (study_config.Finetune, ("finetune",)),
    (study_config.StudentFinetune, ("finetune", "students", "additionalProperties")),
    (study_config.Evaluation, ("evaluation",)),
    (study_config.Judge, ("judge",)),
    (study_config.StudentErrors, ("student_errors",)),
    (study_config.Plan, ("plan",)),
]


def _properties(path: tuple[str, ...]) -> set[str]:
    node = SCHEMA_DOC
    for key in path:
        node = node["properties"][key] if key != "additionalProperties" else node[key]
    return set(node["properties"])


@pytest.mark.parametrize("cls, path", SECTIONS, ids=[cls.__name__ for cls, _ in SECTIONS])
def test_every_schema_key_is_a_field_and_every_field_a_key(cls, path):
    names = {f.name for f in dataclasses.fields(cls)} - {"name"}  # a named entry's name is its key
    assert names == _properties(path)


def test_every_ablation_and_its_settings_are_fields():
    ablation_keys = set(SCHEMA_DOC["$defs"]["ablation"]["properties"])
    own = {key for spec in SCHEMA_DOC["properties"]["ablations"]["properties"].values()
           for key in spec.get("properties", {})}
    assert {f.name for f in dataclasses.fields(study_config.Ablation)} - {"name"} == ablation_keys | own
    assert {f.name for f in dataclasses.fields(study_config.Resources)} == set(
        SCHEMA_DOC["$defs"]["resources"]["properties"])


def test_no_field_has_a_default_but_none():
    """The schema holds the defaults: a field defaults only to None, 'not set'."""
    for cls, _ in [*SECTIONS, (study_config.Ablation, ()), (study_config.Resources, ())]:
        for f in dataclasses.fields(cls):
            assert f.default in (dataclasses.MISSING, None), f"{cls.__name__}.{f.name}"
            assert f.default_factory is dataclasses.MISSING, f"{cls.__name__}.{f.name}"


def test_the_paper_config_builds_typed_and_frozen(paper):
    assert isinstance(paper, Study)
    assert paper.generator_pairs["gemma2"].generator("se") == paper.generator_pairs["gemma2"].strong
    raw = yaml.safe_load((SCHEMA.parent.parent / "config.yaml").read_text())
    assert paper.evaluation.maj_k == raw["evaluation"]["maj_k"]
    assert paper.generator_pairs["gemma2"].students == raw["generator_pairs"]["gemma2"]["students"]
    assert paper.paths.tables == paper.paths.results  # the derived default
    with pytest.raises(dataclasses.FrozenInstanceError):
        paper.seed = 1  # type: ignore[misc]
    hints = typing.get_type_hints(Study)
    assert hints["generator_pairs"] == dict[str, study_config.Pair]


def test_a_key_the_dataclasses_lack_is_an_error_naming_it(toy):
    with pytest.raises(ConfigError, match=r"'sampling\.seed'.*Sampling"):
        study_config._build(study_config.Sampling, {**dataclasses.asdict(toy.sampling), "seed": 1}, "sampling")


def test_lookup_reads_attributes_and_keys_as_a_dpath(toy):
    dataset = next(iter(toy.datasets))
    assert toy.lookup(f"datasets/{dataset}/style") == toy.datasets[dataset].style
    assert toy.lookup("budgets/low") == toy.budgets["low"]
    assert toy.lookup("finetune/max_length") == toy.finetune.max_length
    with pytest.raises(KeyError, match=r"'datasets\.nope\.style'"):
        toy.lookup("datasets/nope/style")


def test_a_student_override_wins_and_names_its_key(paper):
    student = next(iter(paper.finetune.students))
    own = paper.finetune.students[student]
    assert paper.finetune.setting(student, "micro_batch_size") == (own.micro_batch_size,
                                                                   f"finetune.students.{student}.micro_batch_size")
    assert paper.finetune.setting("someone-else", "lrs") == (paper.finetune.lrs, "finetune.lrs")


def test_rule_resources_fall_back_to_the_default_per_key(toy):
    raw = copy.deepcopy(yaml.safe_load((SCHEMA.parent.parent / "configs" / "toy.yaml").read_text()))
    raw["resources"]["finetune"] = {"mem_mb": 12345}
    study = build(raw)
    resources = study.rule_resources("finetune")
    assert resources["mem_mb"] == 12345
    assert resources["runtime"] == study.resources["default"].runtime
    assert study.rule_resources("no_such_rule") == dataclasses.asdict(study.resources["default"])


def test_a_dataset_entry_goes_to_its_job_as_configured(toy):
    for dataset in toy.datasets.values():
        entry = dataset.as_dict()
        assert "name" not in entry and entry["style"] == dataset.style and entry["source"] == dataset.source
