# Config validation, derived globals, wildcard constraints and input helpers for every rule.

import os

from weakstrong import config as ws_config
from weakstrong import study
from weakstrong.grading import GRADER_VERSION
from weakstrong.prompts import prompt_digest


try:
    ws_config.validate(config, schema_path=workflow.source_path("../schemas/config.schema.yaml"))
except ws_config.ConfigError as error:
    raise WorkflowError(str(error)) from None


RESULTS = config.get("paths", {}).get("results", "results")
LOGS = config.get("paths", {}).get("logs", "logs")
BENCHMARKS = config.get("paths", {}).get("benchmarks", "benchmarks")
# Tables can go elsewhere than the results they summarize: the 3-seed toy study reuses the toy demo's models,
# samples and first seed, and writes its own tables (configs/toy-seeds.yaml).
TABLES = config.get("paths", {}).get("tables", RESULTS)
SEED = config["seed"]
# Finetuning and evaluation are repeated per run seed; data, toy models and samples use SEED.
RUN_SEEDS = config.get("seeds", [SEED])
SOURCES = config.get("sources", ["wc", "se"])
LR_LABELS = {study.lr_label(lr): lr for lr in study.all_lrs(config)}
EXPERIMENTS = study.experiments(config)
# Finetuning (Table 1) can cover fewer budgets than the data metrics (finetune.budgets): it costs the most.
FINETUNED = [e for e in EXPERIMENTS if e.budget in config["finetune"].get("budgets", config["budgets"])]
TOY_MODELS = study.toy_models(config)
SPLITS = ["train", "validation", "test"]
# The pseudo-pair of finetuning runs on the datasets' own solutions, shared by every generator pair.
GOLD = "gold"


def _choices(names):
    return "|".join(re.escape(str(name)) for name in names)


wildcard_constraints:
    dataset=_choices(config["datasets"]),
    generator=_choices(config["models"]),
    model=_choices(config["models"]),
    student=_choices(config["models"]),
    pair=_choices([*config["generator_pairs"], GOLD]),
    budget=_choices(config["budgets"]),
    source=_choices(["wc", "se", "gold"]),
    lr=_choices(LR_LABELS),
    split=_choices(SPLITS),
    shard=r"\d+",
    seed=r"\d+",


def rule_resources(rule_name):
    """Standard resources of a rule: the config's per-rule entry over its default."""
    merged = dict(config["resources"]["default"])
    merged.update(config["resources"].get(rule_name, {}))
    return merged


def threads_of(rule_name):
    return rule_resources(rule_name).get("threads", 1)


def resources_of(rule_name):
    res = rule_resources(rule_name)
    return {"mem_mb": res.get("mem_mb", 4000), "runtime": res.get("runtime", 60), "gpu": res.get("gpu", 0)}


def model_path(model):
    """Where a model's weights are: the toy rule's output or the configured hub id / local path."""
    if model in TOY_MODELS:
        return f"{RESULTS}/models/{model}"
    return config["models"][model]["source"]


def model_inputs(model):
    """A rule depends on a model only if the workflow builds it."""
    return [model_path(model)] if model in TOY_MODELS else []


def dataset_style(dataset):
    return config["datasets"][dataset]["style"]


# --- data and toy models ----------------------------------------------------------------------------

def toy_corpus_of(model):
    return config["models"][model]["toy"].get("corpus", "solved")


def toy_datasets():
    return {name: d for name, d in config["datasets"].items() if "toy" in d["source"]}


def toy_prompt_digests():
    """The corpus is laid out in the toy styles' prompt formats: a changed prompt retrains the toy models."""
    return {style: prompt_digest(style) for style in sorted({d["style"] for d in toy_datasets().values()})}


def get_train_toy_model_params(wildcards):
    spec = config["models"][wildcards.model]["toy"]
    return {"spec": spec, "seed": SEED + sorted(config["models"]).index(wildcards.model)}


# --- sampling -------------------------------------------------------------------------------------

def sampling_shards():
    return list(range(config["sampling"]["shards"]))


def is_chat(model):
    return config["models"][model].get("chat", False)


def get_sample_solutions_input(wildcards):
    return {"train": f"{RESULTS}/data/{wildcards.dataset}/train.jsonl",
            "exemplars": f"{RESULTS}/data/{wildcards.dataset}/exemplars.jsonl",
            "model": model_inputs(wildcards.generator)}


def get_gather_samples_input(wildcards):
    return expand(f"{RESULTS}/samples/{wildcards.dataset}/{wildcards.generator}/shard-{{shard}}.jsonl",
                  shard=sampling_shards())


# --- finetuning data, metrics ---------------------------------------------------------------------

def graded_file(dataset, generator):
    return f"{RESULTS}/graded/{dataset}/{generator}.jsonl"


def data_pair(pair, source):
    """Runs on gold data do not depend on the generator pair: one run per dataset, budget and student."""
    return GOLD if source == "gold" else pair


def get_build_sft_data_input(wildcards):
    if wildcards.source == "gold":
        return {"train": f"{RESULTS}/data/{wildcards.dataset}/train.jsonl"}
    generator = study.generator_of(config, wildcards.pair, wildcards.source)
    return {"train": f"{RESULTS}/data/{wildcards.dataset}/train.jsonl",
            "graded": graded_file(wildcards.dataset, generator)}


def get_build_sft_data_per_question(wildcards):
    if wildcards.source == "gold":
        return 1
    return study.samples_per_question(config, wildcards.pair, wildcards.budget, wildcards.source)


def get_measure_data_input(wildcards):
    return {"problems": f"{RESULTS}/data/{wildcards.dataset}/train.jsonl",
            "se": graded_file(wildcards.dataset, study.generator_of(config, wildcards.pair, "se")),
            "wc": graded_file(wildcards.dataset, study.generator_of(config, wildcards.pair, "wc"))}


def get_measure_data_params(wildcards):
    return {"k_se": config["budgets"][wildcards.budget], "ratio": study.samples_ratio(config, wildcards.pair),
            "style": dataset_style(wildcards.dataset),
            "cost_ratio": study.cost_ratio(config, wildcards.pair), "match": config["generator_pairs"][wildcards.pair]["match"]}


# --- finetuning, selection, evaluation ------------------------------------------------------------

def experiment_dir(stage, w):
    return f"{RESULTS}/{stage}/{w.dataset}/{w.pair}/{w.budget}"


def base_evaluation_file(dataset, model):
    return f"{RESULTS}/evaluation/{dataset}/base/{model}.json"


def get_finetune_input(wildcards):
    return {"sft": f"{experiment_dir('sft', wildcards)}/{wildcards.source}.jsonl",
            "validation": f"{RESULTS}/data/{wildcards.dataset}/validation.jsonl",
            "model": model_inputs(wildcards.student)}


def get_finetune_params(wildcards):
    ft = config["finetune"]
    settings = study.finetune_settings(config, wildcards.student, wildcards.budget)
    return {
        "base_model": model_path(wildcards.student), "style": dataset_style(wildcards.dataset),
        "settings": {**settings, "lr": LR_LABELS[wildcards.lr], "checkpoints": ft["checkpoints"],
                     "max_length": ft.get("max_length", 1024), "seed": int(wildcards.seed)},
        "validation_problems": ft.get("validation_problems", 500),
        "eval_backend": ft.get("eval_backend", config["evaluation"]["backend"]),
        "max_tokens": config["evaluation"]["max_tokens"], "fit": get_finetune_fit(wildcards.student),
        "prompt_sha256": prompt_digest(dataset_style(wildcards.dataset)),
    }


def get_finetune_fit(student):
    """What the finetune job needs to check, before loading the model, that it fits (config `plan`)."""
    if "plan" not in config:
        return None
    from weakstrong.plan import model_architecture

    return {"student": student, "parameters": study.model_parameters(config, student),
            "architecture": model_architecture(config, student), "gpu_memory_gb": config["plan"]["gpu_memory_gb"]}


def get_select_checkpoint_input(wildcards):
    base = f"{experiment_dir('finetune', wildcards)}/{wildcards.student}/{wildcards.source}/seed-{wildcards.seed}"
    return {"runs": [f"{base}/lr-{study.lr_label(lr)}" for lr in study.student_lrs(config, wildcards.student)],
            "base": base_evaluation_file(wildcards.dataset, wildcards.student)}


def get_evaluate_input(wildcards):
    return {"selection": f"{experiment_dir('selection', wildcards)}/{wildcards.student}/{wildcards.source}/seed-{wildcards.seed}.json",
            "test": f"{RESULTS}/data/{wildcards.dataset}/test.jsonl"}


def is_student(model):
    return any(model in spec["students"] for spec in config["generator_pairs"].values())


def get_evaluate_base_input(wildcards):
    inputs = {"test": f"{RESULTS}/data/{wildcards.dataset}/test.jsonl",
              "exemplars": f"{RESULTS}/data/{wildcards.dataset}/exemplars.jsonl",
              "model": model_inputs(wildcards.model)}
    if is_student(wildcards.model):
        # the untrained student is a candidate in checkpoint selection, scored as checkpoints are
        inputs["validation"] = f"{RESULTS}/data/{wildcards.dataset}/validation.jsonl"
    return inputs


# --- targets --------------------------------------------------------------------------------------

def finetune_cells():
    """(dataset, pair, budget, student, source) of every finetuning result of the study, with the pair of
    its data (GOLD for gold data), each once."""
    cells = [(e.dataset, data_pair(e.pair, source), e.budget, student, source) for e in FINETUNED
             for student in config["generator_pairs"][e.pair]["students"] for source in SOURCES]
    return list(dict.fromkeys(cells))


def evaluation_file(dataset, pair, budget, student, source, seed):
    return f"{RESULTS}/evaluation/{dataset}/{pair}/{budget}/{student}/{source}/seed-{seed}.json"


def evaluation_files():
    return [evaluation_file(*cell, seed) for cell in finetune_cells() for seed in RUN_SEEDS]


def metrics_files():
    return [f"{RESULTS}/metrics/{e.dataset}/{e.pair}/{e.budget}.json" for e in EXPERIMENTS]


def base_evaluation_files():
    """Held-out accuracy of every generator and student before finetuning, per dataset."""
    cells = []
    for exp in EXPERIMENTS:
        spec = config["generator_pairs"][exp.pair]
        for model in [spec["weak"], spec["strong"], *spec["students"]]:
            path = base_evaluation_file(exp.dataset, model)
            if path not in cells:
                cells.append(path)
    return cells


def get_make_table1_input(wildcards):
    return {"evaluations": evaluation_files(), "base": base_evaluation_files()}


def get_make_table1_cells(wildcards):
    """One cell per (experiment, student, source) with its evaluation per run seed, the gold runs shared by
    every pair's rows."""
    return [{"dataset": e.dataset, "pair": e.pair, "budget": e.budget, "student": student, "source": source,
             "setting": study.setting(config, e.pair, student, source),
             "paths": {str(seed): evaluation_file(e.dataset, data_pair(e.pair, source), e.budget, student, source, seed)
                       for seed in RUN_SEEDS},
             "base": base_evaluation_file(e.dataset, student)}
            for e in FINETUNED for student in config["generator_pairs"][e.pair]["students"] for source in SOURCES]


def get_make_table2_params(wildcards):
    return {"cells": [{"dataset": e.dataset, "pair": e.pair, "budget": e.budget,
                       "path": f"{RESULTS}/metrics/{e.dataset}/{e.pair}/{e.budget}.json",
                       "judge": judge_summaries(e.dataset, e.pair, e.budget),
                       "audit": audit_summary(e.dataset, e.pair, e.budget)} for e in EXPERIMENTS],
            "judge_model": JUDGE["model"] if JUDGE else None}


# --- LLM judge, human audit and figures (rules/metrics.smk, rules/figures.smk) ----------------------------
# The judge is optional: without a `judge` section in the config there are no judge or audit targets.

JUDGE = config.get("judge")
# A stable path (workflow.source_path gives a per-run cache copy, which would change the params every run);
# its digest is in the params too, so editing the template reruns the judge.
JUDGE_TEMPLATE = os.path.join(workflow.basedir, "prompts", "judge.txt")


def _file_digest(path):
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def judge_selection():
    """How the judge (and hence the audit) picks kept solutions; the same for both so they match."""
    return {"n": JUDGE.get("solutions_per_source", 500), "seed": SEED}


def judge_file(dataset, pair, budget, source, suffix="jsonl"):
    return f"{RESULTS}/judge/{dataset}/{pair}/{budget}/{source}.{suffix}"


def judge_summaries(dataset, pair, budget):
    """The judge summary of each source at a budget; None without a judge."""
    if JUDGE is None:
        return None
    return {source: judge_file(dataset, pair, budget, source, "json") for source in ("se", "wc")}


def audit_dir(dataset, pair, budget):
    return f"{RESULTS}/audit/{dataset}/{pair}/{budget}"


def audit_ratings_file(dataset, pair, budget):
    """Where the user puts the filled ratings CSV of an audit form (not made by the workflow)."""
    return f"{JUDGE.get('ratings_dir', 'audit')}/{dataset}/{pair}/{budget}/ratings.csv"


def audit_summary(dataset, pair, budget):
    """The audit summary of a budget once its ratings exist; None before (or without a judge)."""
    from pathlib import Path

    if JUDGE is None or not Path(audit_ratings_file(dataset, pair, budget)).exists():
        return None
    return f"{audit_dir(dataset, pair, budget)}/summary.json"


def budget_per_question(wildcards):
    """Samples per problem of each source's data at the wildcards' budget."""
    return {source: study.samples_per_question(config, wildcards.pair, wildcards.budget, source)
            for source in ("se", "wc")}


def get_judge_solutions_input(wildcards):
    return {"graded": graded_file(wildcards.dataset, study.generator_of(config, wildcards.pair, wildcards.source)),
            "problems": f"{RESULTS}/data/{wildcards.dataset}/train.jsonl", "model": model_inputs(JUDGE["model"])}


def get_judge_solutions_params(wildcards):
    return {**judge_selection(), "generator": study.generator_of(config, wildcards.pair, wildcards.source),
            "per_question": budget_per_question(wildcards)[wildcards.source],
            "model": model_path(JUDGE["model"]), "judge": JUDGE["model"],
            "backend": study.model_backend(config, JUDGE["model"], config["evaluation"]["backend"]),
            "max_tokens": JUDGE.get("max_tokens", 1024), "template": JUDGE_TEMPLATE,
            "template_sha256": _file_digest(JUDGE_TEMPLATE), "openai_api": config.get("openai_api", {})}


def get_export_audit_form_input(wildcards):
    return {"problems": f"{RESULTS}/data/{wildcards.dataset}/train.jsonl",
            **{source: graded_file(wildcards.dataset, study.generator_of(config, wildcards.pair, source))
               for source in ("se", "wc")}}


def get_export_audit_form_params(wildcards):
    return {**judge_selection(), "per_source": JUDGE.get("audit_size", 50),
            "per_question": budget_per_question(wildcards),
            "ratings": audit_ratings_file(wildcards.dataset, wildcards.pair, wildcards.budget)}


def get_summarize_audit_input(wildcards):
    w = wildcards
    return {"ratings": audit_ratings_file(w.dataset, w.pair, w.budget),
            "key": f"{audit_dir(w.dataset, w.pair, w.budget)}/key.csv",
            "judge": [judge_file(w.dataset, w.pair, w.budget, source) for source in ("se", "wc")]}


def dataset_pairs():
    """(dataset, pair) of every experiment, in config order."""
    return list(dict.fromkeys((e.dataset, e.pair) for e in EXPERIMENTS))


def judge_summary_files():
    """Judge summaries of every experiment and source; none without a judge."""
    return [path for e in EXPERIMENTS for path in (judge_summaries(e.dataset, e.pair, e.budget) or {}).values()]


def judge_files():
    """Judge summaries of every experiment and source, and the audit form of every experiment."""
    if JUDGE is None:
        return []
    return judge_summary_files() + [f"{audit_dir(e.dataset, e.pair, e.budget)}/form.html" for e in EXPERIMENTS]


def audit_summary_files():
    """Audit summaries of the forms whose ratings the user has provided."""
    return [path for e in EXPERIMENTS if (path := audit_summary(e.dataset, e.pair, e.budget))]


def get_make_table2_input(wildcards):
    return {"metrics": metrics_files(), "judge": judge_summary_files(), "audit": audit_summary_files()}


def pair_experiments(wildcards):
    """The experiments (budgets) of the wildcards' dataset and pair, in config order."""
    return [e for e in EXPERIMENTS if (e.dataset, e.pair) == (wildcards.dataset, wildcards.pair)]


def get_plot_data_metrics_params(wildcards):
    # Paths by budget, so the script pairs each file with its budget without relying on input order.
    experiments = pair_experiments(wildcards)
    return {"metrics": {e.budget: f"{RESULTS}/metrics/{e.dataset}/{e.pair}/{e.budget}.json" for e in experiments},
            "judge": {e.budget: judge_summaries(e.dataset, e.pair, e.budget) for e in experiments} if JUDGE else {},
            "title": f"{wildcards.dataset}: {wildcards.pair} data, SE vs WC"}


def get_plot_data_metrics_input(wildcards):
    params = get_plot_data_metrics_params(wildcards)
    return {"metrics": list(params["metrics"].values()),
            "judge": [path for paths in params["judge"].values() for path in paths.values()]}


def get_plot_coverage_curves_params(wildcards):
    return {"labels": {source: f"{source.upper()} ({study.generator_of(config, wildcards.pair, source)})"
                       for source in ("se", "wc")},
            "title": f"{wildcards.dataset}: coverage@k, {wildcards.pair}"}


def figure_files():
    """Every figure of the study, PDF and PNG."""
    return [figure_file(d, p, name, ext) for d, p in dataset_pairs() for name in figure_names(d, p)
            for ext in ("pdf", "png")]


# --- figures of the finetuning runs, the paper, findings (rules/figures.smk, rules/report.smk) -------------

MAJ_K = config["evaluation"].get("maj_k", [])
# Figures of the data go under RESULTS; those of the finetuning runs under TABLES, as they summarise the run
# seeds, which configs/toy-seeds.yaml changes while sharing RESULTS with the toy demo.
DATA_FIGURES = ("data_metrics", "coverage_by_level", "coverage", "coverage_cost")
TRAINING_FIGURES = ("finetuning", "majority") if MAJ_K else ("finetuning",)


def figure_names(dataset, pair):
    """The figures of a (dataset, pair): of its data, and of its finetuning runs where it has any
    (finetune.budgets)."""
    finetuned = any((e.dataset, e.pair) == (dataset, pair) for e in FINETUNED)
    return DATA_FIGURES + (TRAINING_FIGURES if finetuned else ())


def figure_file(dataset, pair, name, ext="pdf"):
    return f"{RESULTS if name in DATA_FIGURES else TABLES}/figures/{dataset}/{pair}/{name}.{ext}"


def code_version(*modules):
    """A digest of package modules, for a rule's params: Snakemake reruns a job when its script changes, not
    when the package code the script calls does."""
    import hashlib
    import importlib.util

    digest = hashlib.sha256()
    for module in modules:
        with open(importlib.util.find_spec(module).origin, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def cost_per_token(pair, source):
    """What one generated token of a pair's source costs: 2P FLOPs on a compute-matched pair, the price in USD
    on a price-matched one."""
    model = study.generator_of(config, pair, source)
    if config["generator_pairs"][pair]["match"] == "price":
        return config["models"][model]["price_per_million_tokens"] / 1e6
    return 2 * study.model_parameters(config, model)


def get_plot_coverage_cost_params(wildcards):
    spec = config["generator_pairs"][wildcards.pair]
    return {"cost_per_token": {source: cost_per_token(wildcards.pair, source) for source in ("se", "wc")},
            "match": spec["match"], "labels": get_plot_coverage_curves_params(wildcards)["labels"],
            "budgets": {budget: config["budgets"][budget] for budget in spec["budgets"]},
            "title": f"{wildcards.dataset}: coverage against sampling cost, {wildcards.pair}"}


def pair_cells(wildcards):
    """Table 1's cells of the wildcards' dataset and pair."""
    return [cell for cell in get_make_table1_cells(wildcards)
            if (cell["dataset"], cell["pair"]) == (wildcards.dataset, wildcards.pair)]


def get_plot_training_input(wildcards):
    cells = pair_cells(wildcards)
    return {"evaluations": sorted({path for cell in cells for path in cell["paths"].values()}),
            "base": sorted({cell["base"] for cell in cells})}


def get_plot_training_params(wildcards):
    return {"cells": pair_cells(wildcards), "maj_k": MAJ_K,
            "title": f"{wildcards.dataset}: finetuning on {wildcards.pair} data"}


def model_description(model):
    """A model's name with its parameter count and price where the config has them."""
    spec = config["models"][model]
    description = {"name": model}
    if "toy" in spec or "parameters" in spec:
        description["parameters"] = study.model_parameters(config, model)
    if "price_per_million_tokens" in spec:
        description["price_per_million_tokens"] = spec["price_per_million_tokens"]
    return description


def run_description():
    """What was run, for the paper's captions (weakstrong.paper.paper_latex)."""
    pairs = {pair: {"weak": model_description(spec["weak"]), "strong": model_description(spec["strong"]),
                    "students": [model_description(student) for student in spec["students"]],
                    "match": spec["match"], "cost_ratio": study.cost_ratio(config, pair),
                    "samples_ratio": study.samples_ratio(config, pair), "datasets": spec["datasets"],
                    "budgets": {budget: {source: study.samples_per_question(config, pair, budget, source)
                                         for source in ("se", "wc")} for budget in spec["budgets"]}}
             for pair, spec in config["generator_pairs"].items()}
    return {"results": TABLES, "pairs": pairs, "seeds": RUN_SEEDS, "data_seed": SEED,
            "grader_version": GRADER_VERSION, "maj_k": MAJ_K}


def paper_figures():
    """Every figure's PDF with what it shows, in the paper's order."""
    return [{"path": figure_file(d, p, name), "kind": name, "dataset": d, "pair": p} for d, p in dataset_pairs()
            for name in figure_names(d, p)]


def get_make_paper_params(wildcards):
    return {"run": run_description(), "figures": paper_figures()}


def get_write_findings_input(wildcards):
    return {"metrics": metrics_files(), "judge": judge_summary_files(), "evaluations": evaluation_files(),
            "base": base_evaluation_files()}


def get_write_findings_params(wildcards):
    return {"data": [{"dataset": e.dataset, "pair": e.pair, "budget": e.budget,
                      "match": config["generator_pairs"][e.pair]["match"],
                      "path": f"{RESULTS}/metrics/{e.dataset}/{e.pair}/{e.budget}.json",
                      "judge": judge_summaries(e.dataset, e.pair, e.budget)} for e in EXPERIMENTS],
            "cells": get_make_table1_cells(wildcards),
            "matches": {pair: spec["match"] for pair, spec in config["generator_pairs"].items()},
            "title": f"Findings of {TABLES} against the paper's"}
