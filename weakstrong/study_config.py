"""The study's configuration, typed: built once from the validated config, read by the rules, the planner and
the jobs.

:func:`weakstrong.config.validate` checks the config against the JSON schema and fills in its defaults (the
schema holds every default; none is restated here), then :meth:`Study.from_config` builds the frozen
dataclasses below. ``rules/common.smk`` builds one :class:`Study` and passes it to the package's functions, which
read attributes, never keys. Every key the schema knows is a field here (``tests/test_study_config.py``
checks), so a key added to the schema and not here fails the build, naming it.

What a job receives whole (a dataset's ``source``, a toy model's architecture, a model's ``architecture``, the
``openai_api`` settings) stays the mapping the config gives: it crosses into the job as JSON, and the code that
reads it there (weakstrong.data, weakstrong.models, the API backend) owns its meaning.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields
from typing import Any



class ConfigError(ValueError):
    """A configuration problem; the message names the key."""


_MISSING = object()


def _build(cls, values: dict | None, where: str, **typed):
    """``cls`` from a config section: each field from its key (``typed`` overrides, for fields that are
    themselves typed); a key that is no field is an error naming it."""
    values = dict(values or {})
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"config key '{where}.{unknown[0]}': the schema has it, weakstrong.study_config.{cls.__name__} "
                          f"does not")
    return cls(**{**{name: values[name] for name in names if name in values}, **typed})


class JobSection:
    """A section that a job receives whole, as the plain mapping the config gives (JSON crosses into the job)."""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Paths:
    results: str
    logs: str
    benchmarks: str
    tables: str


@dataclass(frozen=True)
class Software:
    accelerator: str


@dataclass(frozen=True)
class Numerics(JobSection):
    cpu_capability: str
    cpu_threads: int | None


@dataclass(frozen=True)
class ToyCorpus(JobSection):
    problems_per_style: int
    per_document: int
    vocab_size: int
    wrong_final_step: float
    slipped_step: float


@dataclass(frozen=True)
class Dataset:
    """A dataset: its prompt ``style`` and where its problems come from (``source``: the one mapping of hf,
    jsonl, toy, fneval or toy_variant, read by weakstrong.data / weakstrong.transfer). A transfer dataset
    (``transfer_of``) is evaluated only and has its own ``maj_k``; the others have the training keys."""
    name: str
    style: str
    source: dict
    few_shot: int | None = None
    validation: dict | None = None
    exemplars: dict | None = None
    test_source: dict | None = None
    transfer_of: str | None = None
    maj_k: list[int] | None = None

    @property
    def toy(self) -> dict | None:
        """The toy source's sizes (train, validation, test), or None for data that is not a toy."""
        return self.source.get("toy")

    @property
    def toy_variant(self) -> dict | None:
        return self.source.get("toy_variant")

    @property
    def is_transfer(self) -> bool:
        return self.transfer_of is not None

    def as_dict(self) -> dict:
        """The entry as configured (defaults filled in), for the job that prepares it."""
        return {key: value for key, value in asdict(self).items() if key != "name" and value is not None}


@dataclass(frozen=True)
class Model:
    """A model: a hub id or local path (``source``), or a toy the workflow builds (``toy``: its architecture and
    pre-training, read by weakstrong.models); its size or price, for matching a pair's cost."""
    name: str
    chat: bool
    source: str | None = None
    toy: dict | None = None
    parameters: float | None = None
    backend: str | None = None
    price_per_million_tokens: float | None = None
    input_price_per_million_tokens: float | None = None
    architecture: dict | None = None

    @property
    def is_toy(self) -> bool:
        return self.toy is not None


@dataclass(frozen=True)
class Pair:
    """A generator pair: its weak-but-cheap and strong-but-expensive models, how their cost is matched, and the
    budgets, datasets and students it is studied at."""
    name: str
    weak: str
    strong: str
    match: str
    budgets: list[str]
    datasets: list[str]
    students: list[str]

    def generator(self, source: str) -> str:
        """The model that draws a side's samples: ``se`` the strong one, ``wc`` the weak one."""
        return self.strong if source == "se" else self.weak

    @property
    def models(self) -> list[str]:
        """The generators and the students, in that order (a student can be a generator)."""
        return [self.weak, self.strong, *self.students]


@dataclass(frozen=True)
class SourceScope:
    """Where the sources beyond the main study's are finetuned; None: everywhere."""
    students: list[str] | None = None
    datasets: list[str] | None = None
    budgets: list[str] | None = None


@dataclass(frozen=True)
class Sampling:
    backend: str
    temperature: float
    top_k: int
    top_p: float
    max_tokens: int
    shards: int


@dataclass(frozen=True)
class Grading:
    timeout: float


@dataclass(frozen=True)
class StudentFinetune:
    """One student's settings over the ``finetune`` defaults (None: the default)."""
    lrs: list[float] | None = None
    steps: int | dict | None = None
    batch_size: int | None = None
    micro_batch_size: int | None = None


@dataclass(frozen=True)
class Finetune:
    lrs: list[float]
    budgets: list[str]
    steps: int | dict
    batch_size: int
    checkpoints: int
    precision: str
    max_length: int
    validation_problems: int
    untrained_candidate: bool
    eval_backend: str
    students: dict[str, StudentFinetune]
    micro_batch_size: int | None = None
    #: None: on for real students, off for toy ones (they are tiny), as finetune_settings resolves it
    gradient_checkpointing: bool | None = None

    def setting(self, student: str, key: str):
        """A setting of one student and the config key it comes from: ``finetune.students.<student>.<key>`` where
        the student overrides it, else ``finetune.<key>``. The one place the per-student override is resolved."""
        own = getattr(self.students.get(student), key, None)
        if own is not None:
            return own, f"finetune.students.{student}.{key}"
        return getattr(self, key), f"finetune.{key}"


@dataclass(frozen=True)
class Evaluation:
    backend: str
    max_tokens: int
    maj_k: list[int]
    maj_temperature: float


@dataclass(frozen=True)
class Ablation:
    """An ablation the config turns on, with its own settings where it has some."""
    name: str
    pair: str
    datasets: list[str]
    budgets: list[str]
    students: list[str] | None = None
    wc_per_se: int | None = None
    problems: int | None = None


@dataclass(frozen=True)
class Judge:
    model: str
    solutions_per_source: int
    audit_size: int
    max_tokens: int
    ratings_dir: str


@dataclass(frozen=True)
class StudentErrors:
    margin: float


@dataclass(frozen=True)
class Plan(JobSection):
    gpu_memory_gb: float
    gpu_peak_tflops: float
    training_mfu: float
    sampling_mfu: float
    mean_prompt_tokens: int
    mean_completion_tokens: int
    gpu_counts: list[int]
    dataset_sizes: dict | None = None


@dataclass(frozen=True)
class Resources:
    """A rule's resources; None where the rule takes ``resources.default``'s."""
    threads: int | None = None
    mem_mb: int | None = None
    runtime: int | None = None
    gpu: int | None = None


@dataclass(frozen=True)
class Study:
    """The whole configuration (config.yaml, configs/*.yaml), validated and with its defaults."""
    paths: Paths
    software: Software
    numerics: Numerics
    seed: int
    replicates: int
    datasets: dict[str, Dataset]
    models: dict[str, Model]
    generator_pairs: dict[str, Pair]
    budgets: dict[str, int]
    sources: list[str]
    source_scope: SourceScope
    sampling: Sampling
    grading: Grading
    openai_api: dict
    finetune: Finetune
    evaluation: Evaluation
    ablations: dict[str, Ablation]
    student_errors: StudentErrors
    resources: dict[str, Resources]
    toy_corpus: ToyCorpus | None = None
    judge: Judge | None = None
    plan: Plan | None = None

    @classmethod
    def from_config(cls, config: dict) -> Study:
        """The typed study of a config that :func:`weakstrong.config.validate` has checked and completed."""
        config = copy.deepcopy(config)
        finetune = config["finetune"]
        typed = {
            "paths": _build(Paths, config["paths"], "paths"),
            "software": _build(Software, config["software"], "software"),
            "numerics": _build(Numerics, config["numerics"], "numerics"),
            "datasets": {name: _build(Dataset, spec, f"datasets.{name}", name=name)
                         for name, spec in config["datasets"].items()},
            "models": {name: _build(Model, spec, f"models.{name}", name=name) for name, spec in config["models"].items()},
            "generator_pairs": {name: _build(Pair, spec, f"generator_pairs.{name}", name=name)
                                for name, spec in config["generator_pairs"].items()},
            "source_scope": _build(SourceScope, config.get("source_scope"), "source_scope"),
            "sampling": _build(Sampling, config["sampling"], "sampling"),
            "grading": _build(Grading, config["grading"], "grading"),
            "finetune": _build(Finetune, finetune, "finetune", students={
                student: _build(StudentFinetune, spec, f"finetune.students.{student}")
                for student, spec in finetune.get("students", {}).items()}),
            "evaluation": _build(Evaluation, config["evaluation"], "evaluation"),
            "ablations": {name: _build(Ablation, spec, f"ablations.{name}", name=name)
                          for name, spec in config["ablations"].items()},
            "student_errors": _build(StudentErrors, config["student_errors"], "student_errors"),
            "resources": {rule: _build(Resources, spec, f"resources.{rule}")
                          for rule, spec in config["resources"].items()},
            "toy_corpus": _build(ToyCorpus, config["toy_corpus"], "toy_corpus") if "toy_corpus" in config else None,
            "judge": _build(Judge, config["judge"], "judge") if config.get("judge") is not None else None,
            "plan": _build(Plan, config["plan"], "plan") if "plan" in config else None,
        }
        return _build(cls, config, "<top level>", **typed)

    def lookup(self, path: str):
        """The setting at a slash-separated ``path`` of config keys, as Snakemake's ``lookup(dpath=...)`` reads a
        dict: ``datasets/gsm8k/style``. An unknown key is an error naming the path."""
        value = self
        for key in path.split("/"):
            found = value.get(key, _MISSING) if isinstance(value, dict) else getattr(value, key, _MISSING)
            if found is _MISSING:
                raise KeyError(f"config key {path.replace('/', '.')!r}: {key!r} is not set")
            value = found
        return value

    @property
    def students(self) -> list[str]:
        """Every student of the pairs, each once, in config order."""
        return list(dict.fromkeys(s for pair in self.generator_pairs.values() for s in pair.students))

    def rule_resources(self, rule: str) -> dict[str, Any]:
        """A rule's resources: its entry under ``resources`` over ``resources.default``."""
        own = self.resources.get(rule, Resources())
        return {key: value if (value := getattr(own, key)) is not None else getattr(self.resources["default"], key)
                for key in ("threads", "mem_mb", "runtime", "gpu")}
