# Config validation, derived globals, wildcard constraints and input helpers for every rule.

import os

from weakstrong import ablations
from weakstrong import config as ws_config
from weakstrong import envs as ws_envs
from weakstrong import numerics
from weakstrong import paper as ws_paper
from weakstrong import study
from weakstrong.grading import GRADER_VERSION
from weakstrong.prompts import prompt_digest

try:
    ws_config.validate(config, schema_path=workflow.source_path("../schemas/config.schema.yaml"))
except ws_config.ConfigError as error:
    raise WorkflowError(str(error)) from None


RESULTS = config["paths"]["results"]
LOGS = config["paths"]["logs"]
BENCHMARKS = config["paths"]["benchmarks"]
# Tables can go elsewhere than the results they summarize: the toy study reuses the toy demo's first replicate
# and writes its own tables (configs/toy-study.yaml).
TABLES = config["paths"]["tables"]
SEED = config["seed"]
# Every stage after the data is repeated per replicate (rep-1 .. rep-N under RESULTS), with its own seed
# (study.replicate_seed); the problems are the same in all.
REPLICATES = study.replicates(config)
# The replicate whose data the figures show and the LLM judge and the human audit rate.
FIRST_REPLICATE = REPLICATES[0]
SOURCES = config["sources"]
LR_LABELS = {study.lr_label(lr): lr for lr in study.all_lrs(config)}
EXPERIMENTS = study.experiments(config)
# Finetuning (Table 1) can cover fewer budgets than the data metrics (finetune.budgets): it costs the most.
FINETUNED = [e for e in EXPERIMENTS if e.budget in config["finetune"]["budgets"]]
TOY_MODELS = study.toy_models(config)
# The pseudo-pair of finetuning runs on the datasets' own solutions, shared by every generator pair.
GOLD = "gold"
# The optional LLM judge (and human audit): without a `judge` section there are no judge or audit jobs.
JUDGE = config.get("judge")
MAJ_K = config["evaluation"]["maj_k"]
# The env of the rules that load or train models (the others run in envs/light.yaml; envs/README.md).
MODEL_ENV = f"../envs/model-{config['software']['accelerator']}.yaml"
# Jobs, and the processes they start (accelerate launch), import the package from this workflow's source
# whatever env they run in: the env files do not install it.
ws_envs.put_on_pythonpath(workflow.basedir)
# Pinned CPU numerics (the config's `numerics`), set once here for every job: local jobs inherit this
# environment, and a Slurm job re-reads this file before its script starts. Each model job checks that the
# pin is in force (numerics.apply) and records the machine it ran on.
NUMERICS = config["numerics"]
os.environ.update(numerics.job_environment(NUMERICS))


def _choices(names):
    return "|".join(re.escape(str(name)) for name in names)


# The main study's sources of finetuning data; the ablations add variants of wc and se (weakstrong/ablations.py).
DATA_SOURCES = _choices(["wc", "se", "gold"])


wildcard_constraints:
    dataset=_choices(config["datasets"]),
    generator=_choices(config["models"]),
    model=_choices(config["models"]),
    student=_choices(config["models"]),
    pair=_choices([*config["generator_pairs"], GOLD]),
    budget=_choices(config["budgets"]),
    source=f"{DATA_SOURCES}|{ablations.VARIANT_PATTERN}",
    lr=_choices(LR_LABELS),
    shard=r"\d+",
    replicate=r"\d+",


def rule_resources(rule_name):
    """A rule's resources: its entry under the config's `resources` over `resources.default`."""
    return {**config["resources"]["default"], **config["resources"].get(rule_name, {})}


def threads_of(rule_name):
    return rule_resources(rule_name)["threads"]


def resources_of(rule_name):
    """The Snakemake resources of a rule's jobs. Every job runs on one node (finetuning is `accelerate launch
    --num_machines 1`, vLLM's tensor parallelism is one node's): `nodes: 1` becomes sbatch `--nodes=1` under
    the Slurm executor, so Slurm cannot split a job's `--gpus=N` over nodes; local runs ignore it."""
    res = rule_resources(rule_name)
    return {"mem_mb": res["mem_mb"], "runtime": res["runtime"], "gpu": res["gpu"], "nodes": 1}


# --- the output layout --------------------------------------------------------------------------------------
# Where each stage writes, as patterns over the rules' wildcards ({{dataset}} in these f-strings): the rules'
# outputs (and their inputs that share their wildcards) are these patterns, and helpers fill them in with layout().
LAYOUT = {
    "data": f"{RESULTS}/data/{{dataset}}/{{split}}.jsonl",  # split: train, validation, test or exemplars
    "splits": f"{RESULTS}/data/{{dataset}}/splits.json",
    "toy_corpus": f"{RESULTS}/rep-{{replicate}}/models/toy_corpus/{{corpus}}.jsonl",
    "toy_tokenizer": f"{RESULTS}/rep-{{replicate}}/models/toy_tokenizer",
    "toy_model": f"{RESULTS}/rep-{{replicate}}/models/{{model}}",
    "shard": f"{RESULTS}/rep-{{replicate}}/samples/{{dataset}}/{{generator}}/shard-{{shard}}.jsonl",
    "samples": f"{RESULTS}/rep-{{replicate}}/samples/{{dataset}}/{{generator}}.jsonl",
    "graded": f"{RESULTS}/rep-{{replicate}}/graded/{{dataset}}/{{generator}}.jsonl",
    "grader": f"{RESULTS}/rep-{{replicate}}/graded/{{dataset}}/{{generator}}.grader.json",
    "sft": f"{RESULTS}/rep-{{replicate}}/sft/{{dataset}}/{{pair}}/{{budget}}/{{source}}.jsonl",
    "metrics": f"{RESULTS}/rep-{{replicate}}/metrics/{{dataset}}/{{pair}}/{{budget}}.json",
    "judge": f"{RESULTS}/rep-{{replicate}}/judge/{{dataset}}/{{pair}}/{{budget}}/{{source}}.{{ext}}",  # jsonl: verdicts, json: summary
    "audit": f"{RESULTS}/rep-{{replicate}}/audit/{{dataset}}/{{pair}}/{{budget}}/{{file}}",
    "finetune": f"{RESULTS}/rep-{{replicate}}/finetune/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/lr-{{lr}}",
    "selection": f"{RESULTS}/rep-{{replicate}}/selection/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}.json",
    "evaluation": f"{RESULTS}/rep-{{replicate}}/evaluation/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}.json",
    "base_evaluation": f"{RESULTS}/rep-{{replicate}}/evaluation/{{dataset}}/base/{{model}}.json",
    # Figures of the data go under RESULTS; those of the finetuning runs under TABLES, as they summarise the
    # run seeds, which configs/toy-seeds.yaml changes while sharing RESULTS with the toy demo.
    "data_figure": f"{RESULTS}/rep-{{replicate}}/figures/{{dataset}}/{{pair}}/{{figure}}.{{ext}}",
    "training_figure": f"{TABLES}/figures/{{dataset}}/{{pair}}/{{figure}}.{{ext}}",
    "table1": f"{TABLES}/table1.{{ext}}",
    "table1_detail": f"{TABLES}/table1-detail.{{ext}}",
    "table2": f"{TABLES}/table2.{{ext}}",
    "paper": f"{TABLES}/paper.{{ext}}",
    "findings": f"{TABLES}/findings.md",
    "ledger": f"{TABLES}/ledger.{{ext}}",
    "ablation_table": f"{TABLES}/ablations/{{ablation}}.{{ext}}",
    "plan": f"{RESULTS}/plan.md",
    # the machine record of each sampling shard, and the machines every table's numbers were computed on
    "shard_machine": f"{RESULTS}/rep-{{replicate}}/samples/{{dataset}}/{{generator}}/shard-{{shard}}.machine.json",
    "provenance": f"{TABLES}/provenance.json",
}


def layout(kind, wildcards=None, **values):
    """LAYOUT[kind] with the wildcards filled in that `wildcards` (a job's, or a dict) and `values` give; the
    others stay wildcards."""
    values = {**dict(wildcards.items() if wildcards else {}), **values}
    return re.sub(r"{(\w+)}", lambda match: str(values.get(match[1], match[0])), LAYOUT[kind])


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


def model_path(model, replicate):
    """Where a model's weights are: the replicate's toy model (the toy rule's output) or the configured hub id /
    local path (the same model in every replicate)."""
    if model in TOY_MODELS:
        return layout("toy_model", model=model, replicate=replicate)
    return config["models"][model]["source"]


def model_inputs(model, replicate):
    """A rule depends on a model only if the workflow builds it."""
    return [model_path(model, replicate)] if model in TOY_MODELS else []


def get_model_path(key):
    """An input function / param: the path of the model named by the wildcard `key` in the job's replicate."""
    return lambda wildcards: model_path(wildcards[key], wildcards.replicate)


def get_model_inputs(key):
    return lambda wildcards: model_inputs(wildcards[key], wildcards.replicate)


def dataset_style(dataset):
    return config["datasets"][dataset]["style"]


def get_prompt_sha256(wildcards):
    """The digest of the dataset's prompt format (prompts/<style>.yaml), a param of the rules that format
    prompts, so that editing the format reruns them."""
    return prompt_digest(dataset_style(wildcards.dataset))


# --- data and toy models ----------------------------------------------------------------------------------


def toy_datasets():
    return {name: d for name, d in config["datasets"].items() if "toy" in d["source"]}


def toy_prompt_digests():
    """The corpus is laid out in the toy styles' prompt formats: a changed prompt retrains the toy models."""
    return {style: prompt_digest(style) for style in sorted({d["style"] for d in toy_datasets().values()})}


def get_train_toy_model_corpus(wildcards):
    return layout("toy_corpus", wildcards, corpus=config["models"][wildcards.model]["toy"]["corpus"])


def get_replicate_seed(wildcards):
    """The seed of the wildcards' replicate: every random draw of that replicate starts from it."""
    return study.replicate_seed(SEED, int(wildcards.replicate))


def get_train_toy_model_seed(wildcards):
    """Each toy model pre-trains with a seed of its own, within its replicate's."""
    return get_replicate_seed(wildcards) + sorted(config["models"]).index(wildcards.model)


# --- finetuning data, metrics -------------------------------------------------------------------------------


def pair_graded(source):
    """An input function: the graded samples of the wildcards' pair's `source` generator (se or wc), in the
    wildcards' replicate."""
    return lambda wildcards: layout("graded", wildcards, generator=study.generator_of(config, wildcards.pair, source))


def get_source_graded(wildcards):
    """The graded samples behind the wildcards' source; none for gold data (the datasets' own solutions)."""
    return [] if wildcards.source == "gold" else pair_graded(wildcards.source)(wildcards)


def data_pair(pair, source):
    """Runs on gold data do not depend on the generator pair: one run per dataset, budget and student."""
    return GOLD if source == "gold" else pair


def get_build_sft_data_per_question(wildcards):
    if wildcards.source == "gold":
        return 1
    return study.samples_per_question(config, wildcards.pair, wildcards.budget, wildcards.source)


# --- finetuning, selection, evaluation ----------------------------------------------------------------------


def base_evaluation_file(dataset, model, replicate):
    return layout("base_evaluation", dataset=dataset, model=model, replicate=replicate)


def get_finetune_settings(wildcards):
    """The training run: the student's steps and batch sizes at the budget, and the run's lr and seed (its
    replicate's)."""
    ft = config["finetune"]
    settings = study.finetune_settings(config, wildcards.student, wildcards.budget)
    return {
        **settings,
        "lr": LR_LABELS[wildcards.lr],
        "checkpoints": ft["checkpoints"],
        "max_length": ft["max_length"],
        "seed": get_replicate_seed(wildcards),
    }


def get_finetune_fit(wildcards):
    """What the finetune job needs to check, before loading the model, that it fits (config `plan`)."""
    if "plan" not in config:
        return None
    from weakstrong.plan import model_architecture

    student = wildcards.student
    return {
        "student": student,
        "parameters": study.model_parameters(config, student),
        "architecture": model_architecture(config, student),
        "gpu_memory_gb": config["plan"]["gpu_memory_gb"],
    }


def get_select_checkpoint_runs(wildcards):
    """The student's finetuning runs on the source's data, one per learning rate."""
    return [layout("finetune", wildcards, lr=study.lr_label(lr)) for lr in study.student_lrs(config, wildcards.student)]


def is_student(model):
    return any(model in spec["students"] for spec in config["generator_pairs"].values())


def get_evaluate_base_validation(wildcards):
    """A student's validation problems: the untrained student is a candidate in checkpoint selection, scored as
    checkpoints are; none for a model that is only a generator."""
    return layout("data", wildcards, split="validation") if is_student(wildcards.model) else []


# --- targets --------------------------------------------------------------------------------------------------


def finetune_cells():
    """(dataset, pair, budget, student, source) of every finetuning result of the study, with the pair of
    its data (GOLD for gold data), each once."""
    cells = [
        (e.dataset, data_pair(e.pair, source), e.budget, student, source)
        for e in FINETUNED
        for student in config["generator_pairs"][e.pair]["students"]
        for source in SOURCES
    ]
    return list(dict.fromkeys(cells))


def evaluation_file(dataset, pair, budget, student, source, replicate):
    return layout(
        "evaluation", dataset=dataset, pair=pair, budget=budget, student=student, source=source, replicate=replicate
    )


def evaluation_files():
    return [evaluation_file(*cell, replicate) for cell in finetune_cells() for replicate in REPLICATES]


def finetune_run_dirs():
    """Every finetuning run of the main study: each cell's runs per replicate and learning rate."""
    return [
        layout(
            "finetune",
            dataset=d,
            pair=p,
            budget=b,
            student=student,
            source=source,
            replicate=replicate,
            lr=study.lr_label(lr),
        )
        for d, p, b, student, source in finetune_cells()
        for replicate in REPLICATES
        for lr in study.student_lrs(config, student)
    ]


def sample_machine_files():
    """The machine records of every sampling shard of the study's generators, in every replicate."""
    return [
        layout("shard_machine", dataset=d, generator=g, shard=shard, replicate=replicate)
        for d, g in study.generators(config)
        for shard in range(config["sampling"]["shards"])
        for replicate in REPLICATES
    ]


def toy_model_dirs():
    return [layout("toy_model", model=model, replicate=replicate) for model in TOY_MODELS for replicate in REPLICATES]


def metrics_file(experiment, replicate):
    return layout("metrics", vars(experiment), replicate=replicate)


def metrics_by_replicate(experiment):
    """An experiment's data metrics per replicate (str(replicate) -> path), as the tables read them."""
    return {str(replicate): metrics_file(experiment, replicate) for replicate in REPLICATES}


def metrics_files():
    return [metrics_file(e, replicate) for e in EXPERIMENTS for replicate in REPLICATES]


def base_evaluation_files():
    """Held-out accuracy of every generator and student before finetuning, per dataset and replicate."""
    cells = []
    for exp in EXPERIMENTS:
        spec = config["generator_pairs"][exp.pair]
        for model in [spec["weak"], spec["strong"], *spec["students"]]:
            for replicate in REPLICATES:
                path = base_evaluation_file(exp.dataset, model, replicate)
                if path not in cells:
                    cells.append(path)
    return cells


def table1_cells():
    """One cell per (experiment, student, source) with its evaluation and the student's base evaluation per
    replicate, the gold runs shared by every pair's rows."""
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "student": student,
            "source": source,
            "setting": study.setting(config, e.pair, student, source),
            "paths": {
                str(replicate): evaluation_file(
                    e.dataset, data_pair(e.pair, source), e.budget, student, source, replicate
                )
                for replicate in REPLICATES
            },
            "bases": {str(replicate): base_evaluation_file(e.dataset, student, replicate) for replicate in REPLICATES},
        }
        for e in FINETUNED
        for student in config["generator_pairs"][e.pair]["students"]
        for source in SOURCES
    ]


def table2_cells():
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "paths": metrics_by_replicate(e),
            "judge": judge_summaries(e.dataset, e.pair, e.budget),
            "audit": audit_summary(e.dataset, e.pair, e.budget),
        }
        for e in EXPERIMENTS
    ]


# --- LLM judge, human audit and figures (rules/metrics.smk, rules/figures.smk) ------------------------------
# A stable path (workflow.source_path gives a per-run cache copy, which would change the params every run);
# its digest is in the params too, so editing the template reruns the judge.
JUDGE_TEMPLATE = os.path.join(workflow.basedir, "prompts", "judge.txt")


def _file_digest(path):
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def judge_setting(key):
    """A param from the config's judge section, read per job: without a judge there are no judge jobs. The
    judge and the audit take the same `solutions_per_source`, so the audited solutions are judged ones."""
    return lambda wildcards: JUDGE[key]


def judge_file(dataset, pair, budget, source, ext="jsonl"):
    return layout("judge", dataset=dataset, pair=pair, budget=budget, source=source, ext=ext, replicate=FIRST_REPLICATE)


def judge_summaries(dataset, pair, budget):
    """The judge summary of each source at a budget, of the first replicate's data; None without a judge."""
    if JUDGE is None:
        return None
    return {source: judge_file(dataset, pair, budget, source, "json") for source in ("se", "wc")}


def audit_file(dataset, pair, budget, file):
    """The human audit of the first replicate's data (people rate one set of solutions, not one per replicate)."""
    return layout("audit", dataset=dataset, pair=pair, budget=budget, file=file, replicate=FIRST_REPLICATE)


def audit_ratings_file(dataset, pair, budget):
    """Where the user puts the filled ratings CSV of an audit form (not made by the workflow)."""
    return f"{JUDGE['ratings_dir']}/{dataset}/{pair}/{budget}/ratings.csv"


def audit_summary(dataset, pair, budget):
    """The audit summary of a budget once its ratings exist; None before (or without a judge)."""
    from pathlib import Path

    if JUDGE is None or not Path(audit_ratings_file(dataset, pair, budget)).exists():
        return None
    return audit_file(dataset, pair, budget, "summary.json")


def budget_per_question(wildcards):
    """Samples per problem of each source's data at the wildcards' budget."""
    return {
        source: study.samples_per_question(config, wildcards.pair, wildcards.budget, source) for source in ("se", "wc")
    }


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
    return judge_summary_files() + [audit_file(e.dataset, e.pair, e.budget, "form.html") for e in EXPERIMENTS]


def audit_summary_files():
    """Audit summaries of the forms whose ratings the user has provided."""
    return [path for e in EXPERIMENTS if (path := audit_summary(e.dataset, e.pair, e.budget))]


def pair_experiments(wildcards):
    """The experiments (budgets) of the wildcards' dataset and pair, in config order."""
    return [e for e in EXPERIMENTS if (e.dataset, e.pair) == (wildcards.dataset, wildcards.pair)]


def metrics_by_budget(wildcards):
    """The data metrics of the wildcards' dataset, pair and replicate by budget, so that a script pairs each
    file with its budget without relying on input order."""
    return {e.budget: metrics_file(e, wildcards.replicate) for e in pair_experiments(wildcards)}


def judge_summaries_by_budget(wildcards):
    return (
        {e.budget: judge_summaries(e.dataset, e.pair, e.budget) for e in pair_experiments(wildcards)} if JUDGE else {}
    )


def coverage_labels(wildcards):
    """Each source's curve label: the source and its generator."""
    return {
        source: f"{source.upper()} ({study.generator_of(config, wildcards.pair, source)})" for source in ("se", "wc")
    }


def figure_files():
    """Every figure of the study, PDF and PNG."""
    return [
        figure_file(d, p, name, ext)
        for d, p in dataset_pairs()
        for name in figure_names(d, p)
        for ext in ("pdf", "png")
    ]


# --- figures of the finetuning runs, the paper, findings (rules/figures.smk, rules/report.smk) -------------

DATA_FIGURES = ("data_metrics", "coverage_by_level", "coverage", "coverage_cost")
TRAINING_FIGURES = ("finetuning", "majority") if MAJ_K else ("finetuning",)


def figure_names(dataset, pair):
    """The figures of a (dataset, pair): of its data, and of its finetuning runs where it has any
    (finetune.budgets)."""
    finetuned = any((e.dataset, e.pair) == (dataset, pair) for e in FINETUNED)
    return DATA_FIGURES + (TRAINING_FIGURES if finetuned else ())


def figure_file(dataset, pair, name, ext="pdf"):
    """A figure's path: those of the data show the first replicate's, those of the finetuning runs combine the
    replicates."""
    if name in DATA_FIGURES:
        return layout("data_figure", dataset=dataset, pair=pair, figure=name, ext=ext, replicate=FIRST_REPLICATE)
    return layout("training_figure", dataset=dataset, pair=pair, figure=name, ext=ext)


def cost_per_token(pair, source, prompt=False):
    """What one generated token (with `prompt`, one prompt token) of a pair's source costs: 2P FLOPs on a
    compute-matched pair; on a price-matched one the price in USD, of output or of input tokens (0 where the
    config has no input price: prompts unpriced)."""
    model = study.generator_of(config, pair, source)
    if config["generator_pairs"][pair]["match"] == "price":
        spec = config["models"][model]
        return (spec.get("input_price_per_million_tokens", 0) if prompt else spec["price_per_million_tokens"]) / 1e6
    return 2 * study.model_parameters(config, model)


def get_plot_coverage_cost_per_token(wildcards):
    return {source: cost_per_token(wildcards.pair, source) for source in ("se", "wc")}


def get_plot_coverage_cost_budgets(wildcards):
    """SE's samples per question at each of the pair's budgets, marked on the cost axis."""
    return {budget: config["budgets"][budget] for budget in config["generator_pairs"][wildcards.pair]["budgets"]}


def pair_cells(wildcards):
    """Table 1's cells of the wildcards' dataset and pair."""
    return [cell for cell in table1_cells() if (cell["dataset"], cell["pair"]) == (wildcards.dataset, wildcards.pair)]


def pair_evaluations(wildcards):
    return sorted({path for cell in pair_cells(wildcards) for path in cell["paths"].values()})


def pair_base_evaluations(wildcards):
    return sorted({path for cell in pair_cells(wildcards) for path in cell["bases"].values()})


def model_description(model):
    """A model's name with its parameter count and price where the config has them."""
    spec = config["models"][model]
    description = {"name": model}
    if "toy" in spec or "parameters" in spec:
        description["parameters"] = study.model_parameters(config, model)
    for price in ("price_per_million_tokens", "input_price_per_million_tokens"):
        if price in spec:
            description[price] = spec[price]
    return description


def run_description():
    """What was run, for the paper's captions (weakstrong.paper.paper_latex)."""
    pairs = {
        pair: {
            "weak": model_description(spec["weak"]),
            "strong": model_description(spec["strong"]),
            "students": [model_description(student) for student in spec["students"]],
            "match": spec["match"],
            "cost_ratio": study.cost_ratio(config, pair),
            "samples_ratio": study.samples_ratio(config, pair),
            "datasets": spec["datasets"],
            "budgets": {
                budget: {source: study.samples_per_question(config, pair, budget, source) for source in ("se", "wc")}
                for budget in spec["budgets"]
            },
        }
        for pair, spec in config["generator_pairs"].items()
    }
    return {
        "results": TABLES,
        "pairs": pairs,
        "replicates": REPLICATES,
        "seed": SEED,
        "grader_version": GRADER_VERSION,
        "maj_k": MAJ_K,
    }


def paper_figures():
    """Every figure's PDF with what it shows, in the paper's order."""
    return [
        {"path": figure_file(d, p, name), "kind": name, "dataset": d, "pair": p}
        for d, p in dataset_pairs()
        for name in figure_names(d, p)
    ]


def paper_files():
    """The paper's LaTeX source, and its PDF where pdflatex is installed (a fresh machine has no TeX)."""
    tex = layout("paper", ext="tex")
    return [tex, layout("paper", ext="pdf")] if ws_paper.tex_engine() else [tex]


def print_paper_notice():
    """After a successful run without pdflatex: one line on where the paper's source is and how to get its PDF."""
    if not ws_paper.tex_engine():
        print(ws_paper.no_tex_notice(layout("paper", ext="tex")))


def findings_data():
    """Each experiment's data metrics and judge summaries, with how its pair is matched."""
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "match": config["generator_pairs"][e.pair]["match"],
            "paths": metrics_by_replicate(e),
            "judge": judge_summaries(e.dataset, e.pair, e.budget),
        }
        for e in EXPERIMENTS
    ]


# --- the ablations and the cost ledger (rules/ablations.smk) -----------------------------------------------

ABLATIONS = config["ablations"]


def ablation_table_files(exts=("tex", "md")):
    """Every ablation's table, LaTeX and Markdown (or `exts`); none without an `ablations` section."""
    return [layout("ablation_table", ablation=name, ext=ext) for name in ABLATIONS for ext in exts]


def get_variant_graded(wildcards):
    """The graded samples of the generator whose samples the wildcards' variant of the data keeps."""
    return pair_graded(ablations.parse_variant(wildcards.source).source)(wildcards)


def get_make_ablation_table_cells(wildcards):
    """One cell per (dataset, budget, student, arm) of the ablation, with its data and evaluation per replicate."""
    from dataclasses import asdict

    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "student": student,
            "setting": study.setting(config, e.pair, student, arm.base),
            **asdict(arm),
            "sft": {str(r): layout("sft", vars(e), source=arm.source, replicate=r) for r in REPLICATES},
            "paths": {str(r): evaluation_file(e.dataset, e.pair, e.budget, student, arm.source, r) for r in REPLICATES},
        }
        for name, e in ablations.experiments(config)
        if name == wildcards.ablation
        for student in ablations.students(config, name)
        for arm in ablations.arms(config, name, e.pair, e.budget)
    ]


def get_write_findings_number_matched(wildcards):
    """The number_matched ablation's table rows, where the config runs it (the number-matched finding)."""
    if "number_matched" not in ABLATIONS:
        return []
    return [layout("ablation_table", ablation="number_matched", ext="json")]


def get_make_ablation_table_evaluations(wildcards):
    return [path for cell in get_make_ablation_table_cells(wildcards) for path in cell["paths"].values()]


def get_make_ablation_table_sft(wildcards):
    return list(
        dict.fromkeys(path for cell in get_make_ablation_table_cells(wildcards) for path in cell["sft"].values())
    )


def ledger_cells():
    """Per experiment, its first replicate's metrics file (whose `ledger` measure_data writes) and the cost of a
    generated and of a prompt token of each side."""
    return [
        {
            "dataset": e.dataset,
            "pair": e.pair,
            "budget": e.budget,
            "path": metrics_file(e, FIRST_REPLICATE),
            "cost_per_token": {source: cost_per_token(e.pair, source) for source in ("se", "wc")},
            "cost_per_prompt_token": {source: cost_per_token(e.pair, source, prompt=True) for source in ("se", "wc")},
        }
        for e in EXPERIMENTS
    ]
