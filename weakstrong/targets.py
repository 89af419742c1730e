"""What the workflow builds, from the config: the target files of each stage, the cells the tables, figures and
findings read, and the description of the run the paper's captions give.

Every function takes the validated config and, where it names files, the :class:`weakstrong.layout.Layout` of
its ``paths``; none reads a file but :func:`audit_summary` (whether the user has provided an audit's ratings).
rules/common.smk turns them into the rules' inputs and params.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict

from weakstrong import ablations, sources, study
from weakstrong.layout import Layout
from weakstrong.study import Experiment
from weakstrong.study_config import Dataset, Study

#: The pseudo-pair of finetuning runs on the datasets' own solutions, shared by every generator pair.
GOLD = "gold"
#: The sampled sources of a pair's data.
SIDES = ("se", "wc")
#: The figures of a (dataset, pair)'s data, of its first replicate.
DATA_FIGURES = ("data_metrics", "coverage_by_level", "coverage", "coverage_cost")


# --- the study's grid ---------------------------------------------------------------------------------------

def finetuned(config: Study) -> list[Experiment]:
    """The experiments with finetuning runs (Table 1): ``finetune.budgets`` can be fewer than the data
    metrics' budgets, as finetuning costs the most."""
    return [e for e in study.experiments(config) if e.budget in config.finetune.budgets]


def first_replicate(config: Study) -> int:
    """The replicate whose data the figures show and the LLM judge and the human audit rate."""
    return study.replicates(config)[0]


def data_pair(pair: str, source: str) -> str:
    """Runs on gold data do not depend on the generator pair: one run per dataset, budget and student."""
    return GOLD if source == GOLD else pair


def dataset_pairs(config: Study) -> list[tuple[str, str]]:
    """(dataset, pair) of every experiment, in config order."""
    return list(dict.fromkeys((e.dataset, e.pair) for e in study.experiments(config)))


def pair_experiments(config: Study, dataset: str, pair: str) -> list[Experiment]:
    """The experiments (budgets) of a dataset and pair, in config order."""
    return [e for e in study.experiments(config) if (e.dataset, e.pair) == (dataset, pair)]


def is_student(config: Study, model: str) -> bool:
    return model in config.students


def samples_per_source(config: Study, pair: str, budget: str) -> dict[str, int]:
    """Samples per problem of each side's data at a budget of a pair."""
    return {source: study.samples_per_question(config, pair, budget, source) for source in SIDES}


def coverage_labels(config: Study, pair: str) -> dict[str, str]:
    """Each side's curve label: the source and its generator."""
    return {source: f"{source.upper()} ({study.generator_of(config, pair, source)})" for source in SIDES}


def coverage_cost_budgets(config: Study, pair: str) -> dict[str, int]:
    """SE's samples per question at each of the pair's budgets, marked on the cost axis."""
    return {budget: config.budgets[budget] for budget in config.generator_pairs[pair].budgets}


def rule_resources(config: Study, rule: str) -> dict:
    """A rule's resources: its entry under the config's ``resources`` over ``resources.default``."""
    return config.rule_resources(rule)


def job_resources(config: Study, rule: str) -> dict:
    """The Snakemake resources of a rule's jobs. Every job runs on one node (finetuning is ``accelerate launch
    --num_machines 1``, vLLM's tensor parallelism is one node's): ``nodes: 1`` becomes sbatch ``--nodes=1`` under
    the Slurm executor, so Slurm cannot split a job's ``--gpus=N`` over nodes; local runs ignore it."""
    res = rule_resources(config, rule)
    return {"mem_mb": res["mem_mb"], "runtime": res["runtime"], "gpu": res["gpu"], "nodes": 1}


# --- models, toy models -------------------------------------------------------------------------------------

def model_path(config: Study, layout: Layout, model: str, replicate: int | str) -> str:
    """Where a model's weights are: the replicate's toy model (the toy rule's output) or the configured hub id /
    local path (the same model in every replicate)."""
    if model in study.toy_models(config):
        return layout.output("toy_model", model=model, replicate=replicate)
    return config.models[model].source


def model_inputs(config: Study, layout: Layout, model: str, replicate: int | str) -> list[str]:
    """A rule depends on a model only if the workflow builds it."""
    return [model_path(config, layout, model, replicate)] if model in study.toy_models(config) else []


def toy_datasets(config: Study) -> dict[str, dict]:
    """The toy datasets' entries, as the toy corpus job reads them."""
    return {name: d.as_dict() for name, d in config.datasets.items() if d.toy is not None}


def toy_prompt_digests(config: Study) -> dict[str, str]:
    """The corpus is laid out in the toy styles' prompt formats: a changed prompt retrains the toy models."""
    from weakstrong.prompts import prompt_digest

    return {style: prompt_digest(style) for style in sorted({d.style for d in config.datasets.values() if d.toy is not None})}


def toy_model_seed(config: Study, model: str, replicate: int) -> int:
    """Each toy model pre-trains with a seed of its own, within its replicate's."""
    return study.replicate_seed(config.seed, replicate) + sorted(config.models).index(model)


def toy_model_dirs(config: Study, layout: Layout) -> list[str]:
    return [layout.output("toy_model", model=model, replicate=replicate)
            for model in study.toy_models(config) for replicate in study.replicates(config)]


# --- sampling, data metrics ---------------------------------------------------------------------------------

def sample_machine_files(config: Study, layout: Layout) -> list[str]:
    """The machine records of every sampling shard of the study's generators, in every replicate."""
    return [layout.output("shard_machine", dataset=d, generator=g, shard=shard, replicate=replicate)
            for d, g in study.generators(config)
            for shard in range(config.sampling.shards)
            for replicate in study.replicates(config)]


def metrics_file(layout: Layout, experiment: Experiment, replicate: int | str) -> str:
    return layout.output("metrics", vars(experiment), replicate=replicate)


def metrics_by_replicate(config: Study, layout: Layout, experiment: Experiment) -> dict[str, str]:
    """An experiment's data metrics per replicate (str(replicate) -> path), as the tables read them."""
    return {str(replicate): metrics_file(layout, experiment, replicate) for replicate in study.replicates(config)}


def metrics_files(config: Study, layout: Layout) -> list[str]:
    return [metrics_file(layout, e, replicate) for e in study.experiments(config)
            for replicate in study.replicates(config)]


def metrics_by_budget(config: Study, layout: Layout, dataset: str, pair: str, replicate: int | str) -> dict:
    """The data metrics of a dataset, pair and replicate by budget, so that a script pairs each file with its
    budget without relying on input order."""
    return {e.budget: metrics_file(layout, e, replicate) for e in pair_experiments(config, dataset, pair)}


# --- finetuning, evaluation ---------------------------------------------------------------------------------

def finetune_settings(config: Study, student: str, budget: str, lr: float, replicate: int) -> dict:
    """A training run: the student's steps and batch sizes at the budget, and the run's lr and seed (its
    replicate's)."""
    ft = config.finetune
    return {**study.finetune_settings(config, student, budget), "lr": lr, "checkpoints": ft.checkpoints,
            "max_length": ft.max_length, "seed": study.replicate_seed(config.seed, replicate)}


def finetune_fit(config: Study, student: str) -> dict | None:
    """What a finetune job needs to check, before loading the model, that it fits (config ``plan``)."""
    if config.plan is None:
        return None
    from weakstrong.plan import model_architecture

    return {"student": student, "parameters": study.model_parameters(config, student),
            "architecture": model_architecture(config, student), "gpu_memory_gb": config.plan.gpu_memory_gb}


def finetune_cells(config: Study) -> list[tuple[str, str, str, str, str]]:
    """(dataset, pair, budget, student, source) of every finetuning result of the study, with the pair of its
    data (GOLD for gold data), each once."""
    cells = [(e.dataset, data_pair(e.pair, source), e.budget, student, source)
             for e in finetuned(config)
             for student in config.generator_pairs[e.pair].students
             for source in config.sources if sources.in_scope(config, source, e.dataset, e.budget, student)]
    return list(dict.fromkeys(cells))


def finetune_run_dirs(config: Study, layout: Layout) -> list[str]:
    """Every finetuning run of the main study: each cell's runs per replicate and learning rate."""
    return [layout.output("finetune", dataset=d, pair=p, budget=b, student=student, source=source,
                          replicate=replicate, lr=study.lr_label(lr))
            for d, p, b, student, source in finetune_cells(config)
            for replicate in study.replicates(config)
            for lr in study.student_lrs(config, student)]


def evaluation_file(layout: Layout, dataset: str, pair: str, budget: str, student: str, source: str,
                    replicate: int | str) -> str:
    return layout.output("evaluation", dataset=dataset, pair=pair, budget=budget, student=student, source=source,
                         replicate=replicate)


def evaluation_files(config: Study, layout: Layout) -> list[str]:
    return [evaluation_file(layout, *cell, replicate) for cell in finetune_cells(config)
            for replicate in study.replicates(config)]


def base_evaluation_file(layout: Layout, dataset: str, model: str, replicate: int | str) -> str:
    return layout.output("base_evaluation", dataset=dataset, model=model, replicate=replicate)


def base_evaluation_files(config: Study, layout: Layout) -> list[str]:
    """Held-out accuracy of every generator and student before finetuning, per dataset and replicate."""
    cells = []
    for exp in study.experiments(config):
        for model in config.generator_pairs[exp.pair].models:
            for replicate in study.replicates(config):
                path = base_evaluation_file(layout, exp.dataset, model, replicate)
                if path not in cells:
                    cells.append(path)
    return cells


# --- LLM judge and human audit ------------------------------------------------------------------------------

def judge_file(config: Study, layout: Layout, dataset: str, pair: str, budget: str, source: str,
               ext: str = "jsonl") -> str:
    return layout.output("judge", dataset=dataset, pair=pair, budget=budget, source=source, ext=ext,
                         replicate=first_replicate(config))


def judge_summaries(config: Study, layout: Layout, dataset: str, pair: str, budget: str) -> dict | None:
    """The judge summary of each side at a budget, of the first replicate's data; None without a judge."""
    if config.judge is None:
        return None
    return {source: judge_file(config, layout, dataset, pair, budget, source, "json") for source in SIDES}


def judge_summaries_by_budget(config: Study, layout: Layout, dataset: str, pair: str) -> dict:
    if not config.judge:
        return {}
    return {e.budget: judge_summaries(config, layout, e.dataset, e.pair, e.budget)
            for e in pair_experiments(config, dataset, pair)}


def judge_summary_files(config: Study, layout: Layout) -> list[str]:
    """Judge summaries of every experiment and side; none without a judge."""
    return [path for e in study.experiments(config)
            for path in (judge_summaries(config, layout, e.dataset, e.pair, e.budget) or {}).values()]


def audit_file(config: Study, layout: Layout, dataset: str, pair: str, budget: str, file: str) -> str:
    """The human audit of the first replicate's data (people rate one set of solutions, not one per replicate)."""
    return layout.output("audit", dataset=dataset, pair=pair, budget=budget, file=file,
                         replicate=first_replicate(config))


def judge_files(config: Study, layout: Layout) -> list[str]:
    """Judge summaries of every experiment and side, and the audit form of every experiment; the same of every
    finetuned student's correct test solutions (:func:`student_judge_files`)."""
    if config.judge is None:
        return []
    return (judge_summary_files(config, layout)
            + [audit_file(config, layout, e.dataset, e.pair, e.budget, "form.html") for e in study.experiments(config)]
            + student_judge_files(config, layout))


def audit_ratings_file(config: Study, dataset: str, pair: str, budget: str) -> str:
    """Where the user puts the filled ratings CSV of an audit form (not made by the workflow)."""
    return f"{config.judge.ratings_dir}/{dataset}/{pair}/{budget}/ratings.csv"


def audit_summary(config: Study, layout: Layout, dataset: str, pair: str, budget: str,
                  exists: Callable[[str], bool] = os.path.exists) -> str | None:
    """The audit summary of a budget once its ratings exist (``exists``); None before (or without a judge)."""
    if config.judge is None or not exists(audit_ratings_file(config, dataset, pair, budget)):
        return None
    return audit_file(config, layout, dataset, pair, budget, "summary.json")


def audit_summary_files(config: Study, layout: Layout, exists: Callable[[str], bool] = os.path.exists) -> list:
    """Audit summaries of the forms whose ratings the user has provided, of the data and of the students."""
    return ([path for e in study.experiments(config)
             if (path := audit_summary(config, layout, e.dataset, e.pair, e.budget, exists))]
            + [cell["audit"] for cell in student_error_cells(config, layout, exists) if cell["audit"]])


# --- the finetuned students' reasoning errors (weakstrong.student_errors) ----------------------------------------

def student_cells(config: Study) -> list[tuple[str, str, str, str]]:
    """(dataset, pair, budget, student) of every Table 1 row with both WC and SE data; none where the config's
    ``sources`` lack one of them."""
    if not set(SIDES) <= set(config.sources):
        return []
    return [(e.dataset, e.pair, e.budget, student) for e in finetuned(config)
            for student in config.generator_pairs[e.pair].students]


def student_judge_file(config: Study, layout: Layout, dataset: str, pair: str, budget: str, student: str,
                       source: str, ext: str = "jsonl") -> str:
    """The LLM judge's verdicts (jsonl) or their summary (json) on a student's correct test solutions after
    finetuning on ``source`` data, of the first replicate."""
    return layout.output("student_judge", dataset=dataset, pair=pair, budget=budget, student=student, source=source,
                         ext=ext, replicate=first_replicate(config))


def student_audit_file(config: Study, layout: Layout, dataset: str, pair: str, budget: str, student: str,
                       file: str) -> str:
    """The human audit of a student's correct test solutions (both arms in one form), of the first replicate."""
    return layout.output("student_audit", dataset=dataset, pair=pair, budget=budget, student=student, file=file,
                         replicate=first_replicate(config))


def student_audit_ratings_file(config: Study, dataset: str, pair: str, budget: str, student: str) -> str:
    """Where the user puts the filled ratings CSV of a student's audit form (not made by the workflow)."""
    return f"{config.judge.ratings_dir}/students/{dataset}/{pair}/{budget}/{student}/ratings.csv"


def student_judge_files(config: Study, layout: Layout) -> list[str]:
    """The judge summaries of every student cell and arm, and each cell's audit form; none without a judge."""
    if config.judge is None:
        return []
    return [path for cell in student_cells(config)
            for path in [*(student_judge_file(config, layout, *cell, source, "json") for source in SIDES),
                         student_audit_file(config, layout, *cell, "form.html")]]


def student_error_cells(config: Study, layout: Layout, exists: Callable[[str], bool] = os.path.exists) -> list[dict]:
    """One cell per :func:`student_cells` entry, as :func:`weakstrong.student_errors.student_rows` reads it: each
    arm's setting, generator and evaluation per replicate; the judge's verdicts per arm where the config has a
    judge; the audit summary once its ratings exist (``exists``)."""
    judged = config.judge is not None
    replicates = study.replicates(config)
    cells = []
    for dataset, pair, budget, student in student_cells(config):
        cell = (dataset, pair, budget, student)
        ratings = student_audit_ratings_file(config, *cell) if judged else None
        cells.append({
            "dataset": dataset, "pair": pair, "budget": budget, "student": student,
            "style": config.datasets[dataset].style,
            "settings": {source: study.setting(config, pair, student, source) for source in SIDES},
            "generators": student_generators(config, pair),
            "paths": {source: {str(r): evaluation_file(layout, dataset, pair, budget, student, source, r)
                               for r in replicates} for source in SIDES},
            "judge": {source: student_judge_file(config, layout, *cell, source) for source in SIDES} if judged else None,
            "audit": student_audit_file(config, layout, *cell, "summary.json") if ratings and exists(ratings) else None,
        })
    return cells


def student_generators(config: Study, pair: str) -> dict[str, str]:
    """The generator of each arm's data (wc and se -> model)."""
    return {source: study.generator_of(config, pair, source) for source in SIDES}


def student_error_inputs(config: Study, layout: Layout, kind: str) -> list[str]:
    """The files of every student cell the table reads: ``kind`` ``paths`` (the evaluations), ``judge`` (the
    judge's verdicts) or ``audit`` (the audit summaries whose ratings exist)."""
    files = []
    for cell in student_error_cells(config, layout):
        value = cell[kind]
        if kind == "paths":
            files += [path for arm in value.values() for path in arm.values()]
        elif kind == "judge" and value:
            files += list(value.values())
        elif kind == "audit" and value:
            files.append(value)
    return files


def student_error_files(config: Study, layout: Layout, exts: tuple[str, ...] = ("tex", "md", "json")) -> list[str]:
    """The student-errors table (LaTeX, Markdown, and its rows as JSON for the findings); none without a cell."""
    return [layout.output("student_errors", ext=ext) for ext in exts] if student_cells(config) else []


# --- tables -------------------------------------------------------------------------------------------------

def table1_cells(config: Study, layout: Layout) -> list[dict]:
    """One cell per (experiment, student, source) of the main study (wc, se, gold) with its evaluation and the
    student's base evaluation per replicate, the gold runs shared by every pair's rows."""
    replicates = study.replicates(config)
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "student": student,
            "source": source,
            "setting": study.setting(config, e.pair, student, source),
            "paths": {str(r): evaluation_file(layout, e.dataset, data_pair(e.pair, source), e.budget, student,
                                              source, r) for r in replicates},
            "bases": {str(r): base_evaluation_file(layout, e.dataset, student, r) for r in replicates},
        }
        for e in finetuned(config)
        for student in config.generator_pairs[e.pair].students
        for source in config.sources if source in sources.MAIN
    ]


def pair_cells(config: Study, layout: Layout, dataset: str, pair: str) -> list[dict]:
    """Table 1's cells of a dataset and pair."""
    return [cell for cell in table1_cells(config, layout) if (cell["dataset"], cell["pair"]) == (dataset, pair)]


def table2_cells(config: Study, layout: Layout, exists: Callable[[str], bool] = os.path.exists) -> list[dict]:
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "paths": metrics_by_replicate(config, layout, e),
            "judge": judge_summaries(config, layout, e.dataset, e.pair, e.budget),
            "audit": audit_summary(config, layout, e.dataset, e.pair, e.budget, exists),
        }
        for e in study.experiments(config)
    ]


def ledger_cells(config: Study, layout: Layout) -> list[dict]:
    """Per experiment, its first replicate's metrics file (whose ``ledger`` measure_data writes) and the cost of
    a generated and of a prompt token of each side (:func:`weakstrong.study.pair_token_cost`)."""
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "path": metrics_file(layout, e, first_replicate(config)),
            "cost_per_token": {source: study.pair_token_cost(config, e.pair, source) for source in SIDES},
            "cost_per_prompt_token": {source: study.pair_token_cost(config, e.pair, source, prompt=True)
                                      for source in SIDES},
        }
        for e in study.experiments(config)
    ]


# --- figures ------------------------------------------------------------------------------------------------

def training_figures(config: Study) -> tuple[str, ...]:
    """The figures of a (dataset, pair)'s finetuning runs, combining the replicates."""
    return ("finetuning", "majority") if config.evaluation.maj_k else ("finetuning",)


def figure_names(config: Study, dataset: str, pair: str) -> tuple[str, ...]:
    """The figures of a (dataset, pair): of its data, and of its finetuning runs where it has any
    (finetune.budgets)."""
    trained = any((e.dataset, e.pair) == (dataset, pair) for e in finetuned(config))
    return DATA_FIGURES + (training_figures(config) if trained else ())


def figure_file(config: Study, layout: Layout, dataset: str, pair: str, name: str, ext: str = "pdf") -> str:
    """A figure's path: those of the data show the first replicate's, those of the finetuning runs combine the
    replicates."""
    if name in DATA_FIGURES:
        return layout.output("data_figure", dataset=dataset, pair=pair, figure=name, ext=ext,
                             replicate=first_replicate(config))
    return layout.output("training_figure", dataset=dataset, pair=pair, figure=name, ext=ext)


def figure_files(config: Study, layout: Layout) -> list[str]:
    """Every figure of the study, PDF and PNG, those of the transfer datasets included."""
    return [figure_file(config, layout, d, p, name, ext)
            for d, p in dataset_pairs(config)
            for name in figure_names(config, d, p)
            for ext in ("pdf", "png")] + [figure["path"].removesuffix(".pdf") + f".{ext}"
                                          for figure in transfer_figures(config, layout) for ext in ("pdf", "png")]


# --- the paper and the findings -----------------------------------------------------------------------------

def paper_figures(config: Study, layout: Layout) -> list[dict]:
    """Every figure's PDF with what it shows, in the paper's order."""
    return [{"path": figure_file(config, layout, d, p, name), "kind": name, "dataset": d, "pair": p}
            for d, p in dataset_pairs(config)
            for name in figure_names(config, d, p)] + transfer_figures(config, layout)


def paper_files(layout: Layout, pdf: bool) -> list[str]:
    """The paper's LaTeX source, and its PDF where ``pdf`` (pdflatex is installed: a fresh machine has no TeX)."""
    tex = layout.output("paper", ext="tex")
    return [tex, layout.output("paper", ext="pdf")] if pdf else [tex]


def model_description(config: Study, model: str) -> dict:
    """A model's name with its parameter count and price where the config has them."""
    spec = config.models[model]
    description = {"name": model}
    if spec.is_toy or spec.parameters is not None:
        description["parameters"] = study.model_parameters(config, model)
    for price in ("price_per_million_tokens", "input_price_per_million_tokens"):
        if getattr(spec, price) is not None:
            description[price] = getattr(spec, price)
    return description


def run_description(config: Study, grader_version: str) -> dict:
    """What was run, for the paper's captions (:func:`weakstrong.paper.paper_latex`)."""
    pairs = {
        pair: {
            "weak": model_description(config, spec.weak),
            "strong": model_description(config, spec.strong),
            "students": [model_description(config, student) for student in spec.students],
            "match": spec.match,
            "cost_ratio": study.cost_ratio(config, pair),
            "samples_ratio": study.samples_ratio(config, pair),
            "datasets": spec.datasets,
            "budgets": {budget: samples_per_source(config, pair, budget) for budget in spec.budgets},
        }
        for pair, spec in config.generator_pairs.items()
    }
    run = {"results": config.paths.tables, "pairs": pairs, "replicates": study.replicates(config),
           "seed": config.seed, "grader_version": grader_version, "maj_k": config.evaluation.maj_k}
    if transfer_datasets(config):
        run["transfer_maj_k"] = {name: spec.maj_k for name, spec in transfer_datasets(config).items()}
    return run


def findings_data(config: Study, layout: Layout) -> list[dict]:
    """Each experiment's data metrics and judge summaries, with how its pair is matched."""
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "match": config.generator_pairs[e.pair].match,
            "paths": metrics_by_replicate(config, layout, e),
            "judge": judge_summaries(config, layout, e.dataset, e.pair, e.budget),
        }
        for e in study.experiments(config)
    ]


# --- the ablations ------------------------------------------------------------------------------------------

def ablation_table_files(config: Study, layout: Layout, exts: tuple[str, ...] = ("tex", "md")) -> list[str]:
    """Every ablation's table, LaTeX and Markdown (or ``exts``); none without an ``ablations`` section."""
    return [layout.output("ablation_table", ablation=name, ext=ext) for name in config.ablations for ext in exts]


def ablation_cells(config: Study, layout: Layout, ablation: str) -> list[dict]:
    """One cell per (dataset, budget, student, arm) of an ablation, with its data and evaluation per replicate."""
    replicates = study.replicates(config)
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "student": student,
            "setting": study.setting(config, e.pair, student, arm.base),
            **asdict(arm),
            "sft": {str(r): layout.output("sft", vars(e), source=arm.source, replicate=r) for r in replicates},
            "paths": {str(r): evaluation_file(layout, e.dataset, e.pair, e.budget, student, arm.source, r)
                      for r in replicates},
        }
        for name, e in ablations.experiments(config)
        if name == ablation
        for student in ablations.students(config, name)
        for arm in ablations.arms(config, name, e.pair, e.budget)
    ]


# --- transfer datasets (evaluated only) ---------------------------------------------------------------------

def wildcard_choices(names: Iterable) -> str:
    """A wildcard constraint matching exactly ``names``; one that matches nothing where there are none (an empty
    constraint would match anything)."""
    return "|".join(re.escape(str(name)) for name in names) or "(?!)"


def transfer_datasets(config: Study) -> dict[str, Dataset]:
    """The datasets the students are evaluated on but never trained on (``transfer_of``)."""
    return {name: d for name, d in config.datasets.items() if d.is_transfer}


def trained_datasets(config: Study) -> list[str]:
    """The datasets that are sampled and trained on (prepared by prepare_dataset)."""
    return [name for name, d in config.datasets.items() if not d.is_transfer]


def transfer_data_spec(config: Study, dataset: str) -> dict:
    """What a transfer dataset's problems depend on: its entry without ``maj_k`` (how it is evaluated)."""
    return {key: value for key, value in config.datasets[dataset].as_dict().items() if key != "maj_k"}


def transfer_metrics(config: Study, dataset: str) -> list[str]:
    """What a transfer dataset's table compares: pass@1 (greedy) and maj@k for each of its k."""
    return ["pass@1", *(f"maj@{k}" for k in sorted(config.datasets[dataset].maj_k))]


def transfer_evaluation_file(layout: Layout, dataset: str, pair: str, budget: str, student: str, source: str,
                             replicate: int | str) -> str:
    return layout.output("transfer_evaluation", dataset=dataset, pair=pair, budget=budget, student=student,
                         source=source, replicate=replicate)


def transfer_base_splits(config: Study, layout: Layout, dataset: str) -> dict[str, str]:
    """The prepared splits of the dataset that a transfer dataset varies."""
    base = config.datasets[dataset].transfer_of
    return {split: layout.output("data", dataset=base, split=split)
            for split in ("train", "validation", "test", "exemplars")}


def transfer_selection(config: Study, layout: Layout, wildcards: Mapping[str, str]) -> str:
    """The checkpoint selection, on the validation split of the dataset that the wildcards' transfer dataset
    varies, of the wildcards' finetuning result."""
    return layout.output("selection", wildcards, dataset=config.datasets[wildcards["dataset"]].transfer_of)


def transfer_cells(config: Study, layout: Layout, dataset: str, pair: str | None = None) -> list[dict]:
    """One cell per finetuning result on the dataset a transfer dataset varies (Table 1's cells of that dataset,
    of one pair if given): its evaluation on the transfer dataset (``paths``) and on its own test set
    (``static``), per replicate."""
    base = config.datasets[dataset].transfer_of
    replicates = study.replicates(config)
    return [
        {
            "dataset": dataset,
            "transfer_of": base,
            "pair": e.pair,
            "match": config.generator_pairs[e.pair].match,
            "budget": e.budget,
            "student": student,
            "source": source,
            "setting": study.setting(config, e.pair, student, source),
            "paths": {str(r): transfer_evaluation_file(layout, dataset, data_pair(e.pair, source), e.budget, student,
                                                       source, r) for r in replicates},
            "static": {str(r): evaluation_file(layout, base, data_pair(e.pair, source), e.budget, student, source, r)
                       for r in replicates},
        }
        for e in finetuned(config) if e.dataset == base and pair in (None, e.pair)
        for student in config.generator_pairs[e.pair].students
        for source in config.sources if source in sources.MAIN  # Table 1's sources, as the paper's Figure 6
    ]


def cell_files(cells: list[dict], key: str) -> list[str]:
    """The files under ``key`` (a replicate -> path mapping: paths, bases, static, sft) of table cells, each once
    (cells share files: a gold run is every pair's, a data file every student's), sorted."""
    return sorted({path for cell in cells for path in cell[key].values()})


def transfer_evaluation_files(config: Study, layout: Layout) -> list[str]:
    """Every transfer evaluation, each once (gold runs are shared by the pairs)."""
    return cell_files([cell for dataset in transfer_datasets(config) for cell in transfer_cells(config, layout, dataset)],
                      "paths")


def transfer_table_files(config: Study, layout: Layout, exts: tuple[str, ...] = ("tex", "md")) -> list[str]:
    """Each transfer dataset's table (LaTeX and Markdown, or ``exts``; json: its rows, for the findings)."""
    return [layout.output("transfer_table", dataset=dataset, ext=ext) for dataset in transfer_datasets(config)
            for ext in exts]


def transfer_figures(config: Study, layout: Layout) -> list[dict]:
    """maj@k against k on each transfer dataset per pair (the paper's Figure 6), where it has maj@k: the PDF's
    path and what it shows, as :func:`paper_figures`."""
    return [{"path": layout.output("training_figure", dataset=dataset, pair=pair, figure="transfer", ext="pdf"),
             "kind": "transfer", "dataset": dataset, "pair": pair}
            for dataset, spec in transfer_datasets(config).items() if spec.maj_k
            for pair in dict.fromkeys(cell["pair"] for cell in transfer_cells(config, layout, dataset))]


def transfer_toy_corpus(config: Study, dataset: str) -> dict | None:
    """What a toy transfer dataset's variants must avoid besides the training data: the toy pre-training
    corpora of replicates 1 to ``pretraining_replicates`` (:func:`weakstrong.transfer.toy_pretraining_questions`);
    None for other sources."""
    variant = config.datasets[dataset].toy_variant
    if variant is None:
        return None
    return {"datasets": toy_datasets(config), "corpus": config.toy_corpus.as_dict(), "data_seed": config.seed,
            "seeds": [study.replicate_seed(config.seed, r) for r in range(1, variant["pretraining_replicates"] + 1)]}
# --- the sources beyond the main study's: without gold answers, and the mixed pool ----------------------------

#: Table 1b (``nogold``: the sources without gold answers against the answer-filtered ones) and Table 1c
#: (``mixed``: the mixed pool against WC-only and SE-only data).
SOURCE_TABLES = ("nogold", "mixed")


def source_tables(config: Study) -> list[str]:
    """The source tables the config's ``sources`` call for."""
    configured = [sources.parse(name) for name in config.sources]
    return [table for table, wanted in (("nogold", any(s.filter in sources.FILTERS for s in configured)),
                                        ("mixed", sources.MIX in config.sources)) if wanted]


def source_table_files(config: Study, layout: Layout, exts: tuple[str, ...] = ("tex", "md")) -> list[str]:
    """Every source table's files (LaTeX and Markdown, or ``exts``); none where the config has no such source."""
    return [layout.output("source_table", table=table, ext=ext) for table in source_tables(config) for ext in exts]


def source_table_json(config: Study, layout: Layout) -> dict[str, str]:
    """Each source table's rows (its ``.json``) by table, for the findings."""
    return {table: layout.output("source_table", table=table, ext="json") for table in source_tables(config)}


def source_cells(config: Study, layout: Layout, table: str) -> list[dict]:
    """The cells of a source table, per finetuned (experiment, student) in the sources' scope: for ``nogold``
    each side's source per filter, the main study's answer-filtered ``wc`` and ``se`` first as the reference;
    for ``mixed`` ``se``, ``wc`` and ``mix``.  Each with its side (None for mix), filter, setting (of its
    side's data; "mixed" for mix), the data and the evaluation per replicate."""
    if table not in SOURCE_TABLES:
        raise ValueError(f"unknown source table {table!r}; expected one of {', '.join(SOURCE_TABLES)}")
    replicates = study.replicates(config)
    cells = []
    for e in finetuned(config):
        for student in config.generator_pairs[e.pair].students:
            extra = [name for name in config.sources if name in sources.EXTRA
                     and (name == sources.MIX) == (table == "mixed")
                     and sources.in_scope(config, name, e.dataset, e.budget, student)]
            if not extra:
                continue
            names = [name for name in sources.SIDES[::-1] if name in config.sources] + extra
            for name in names:
                source = sources.parse(name)
                side = source.sides[0] if len(source.sides) == 1 else None
                cells.append({
                    "dataset": e.dataset, "pair": e.pair, "budget": e.budget, "student": student, "source": name,
                    "side": side, "filter": source.filter,
                    "setting": study.setting(config, e.pair, student, side) if side else "mixed",
                    "sft": {str(r): layout.output("sft", vars(e), source=name, replicate=r) for r in replicates},
                    "paths": {str(r): evaluation_file(layout, e.dataset, e.pair, e.budget, student, name, r)
                              for r in replicates},
                })
    return cells


def source_per_question(config: Study, pair: str, budget: str, source: str) -> list[int]:
    """The budget's samples per question of each side whose samples ``source`` keeps, in its sides' order."""
    return [study.samples_per_question(config, pair, budget, side) for side in sources.parse(source).sides]


def source_graded(config: Study, layout: Layout, wildcards, kind: str = "graded") -> list[str]:
    """The graded samples (``kind`` graded) or the judge's verdicts (``kind`` verdicts; a judged source's only)
    of each side whose samples the wildcards' source keeps, in its sides' order."""
    source = sources.parse(wildcards.source)
    if kind == "verdicts" and source.filter != "judged":
        return []
    extension = {"ext": "jsonl"} if kind == "verdicts" else {}
    return [layout.output(kind, wildcards, generator=study.generator_of(config, wildcards.pair, side), **extension)
            for side in source.sides]


def judged_per_question(config: Study, dataset: str, generator: str) -> int:
    """The samples per question of a generator that the judge rates without gold answers: the most any
    finetuned budget's judged source in scope needs of it."""
    counts = [study.samples_per_question(config, e.pair, e.budget, side)
              for e in finetuned(config) if e.dataset == dataset
              for side in sources.SIDES if study.generator_of(config, e.pair, side) == generator
              and any(sources.in_scope(config, f"{side}.judged", e.dataset, e.budget, student)
                      for student in config.generator_pairs[e.pair].students)
              and f"{side}.judged" in config.sources]
    if not counts:
        raise ValueError(f"no judged source keeps samples of {generator!r} on {dataset!r}")
    return max(counts)
