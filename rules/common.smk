# The typed study (weakstrong/study_config.py, built once from the validated config: rules read it, never the
# config dict), the paths, wildcard constraints, and the input functions and params of the rules.
# What they compute is the package's: weakstrong/targets.py (what the workflow builds: target files, table cells,
# the run's description), weakstrong/layout.py (where: outputs, logs, benchmarks), weakstrong/study.py (what the
# config implies) and weakstrong/versions.py (the rules' code versions). Input functions and params that read a
# job's wildcards are get_<rule>_<what>, or get_<what> where several rules share them.

import os

from weakstrong import ablations
from weakstrong import config as ws_config
from weakstrong import envs as ws_envs
from weakstrong import numerics
from weakstrong import paper as ws_paper
from weakstrong import sources, study, targets, versions
from weakstrong.evaluation import EVALUATION_FORMAT
from weakstrong.grading import GRADER_VERSION
from weakstrong.layout import Layout
from weakstrong.prompts import prompt_digest

try:
    STUDY = ws_config.build(config, schema_path=workflow.source_path("../schemas/config.schema.yaml"))
except ws_config.ConfigError as error:
    raise WorkflowError(str(error)) from None


# Where each stage writes (weakstrong/layout.py): layout(kind) is the pattern of an output, filled in with
# layout(kind, wildcards, **values); log_path and benchmark_path lay out a rule's log and benchmark files. Tables
# can go elsewhere than the results they summarize: the toy study reuses the toy demo's first replicate and
# writes its own tables (configs/toy-study.yaml).
LAYOUT = Layout.from_config(STUDY)
layout = LAYOUT.output
log_path = LAYOUT.log
benchmark_path = LAYOUT.benchmark
# Every stage after the data is repeated per replicate (rep-1 .. rep-N under the results), with its own seed
# (study.replicate_seed); the problems are the same in all. The figures show the first replicate's data, and the
# LLM judge and the human audit rate it.
FIRST_REPLICATE = targets.first_replicate(STUDY)
LR_LABELS = {study.lr_label(lr): lr for lr in study.all_lrs(STUDY)}
# The optional LLM judge (and human audit): without a `judge` section there are no judge or audit jobs.
JUDGE = STUDY.judge
# The env of the rules that load or train models (the others run in envs/light.yaml; envs/README.md).
MODEL_ENV = f"../envs/model-{STUDY.software.accelerator}.yaml"
# The paper's PDF is a target only where pdflatex is installed (a fresh machine has no TeX).
PAPER_FILES = targets.paper_files(LAYOUT, pdf=bool(ws_paper.tex_engine()))
# A stable path (workflow.source_path gives a per-run cache copy, which would change the params every run);
# its digest is in the params too, so editing the template reruns the judge.
JUDGE_TEMPLATE = os.path.join(workflow.basedir, "prompts", "judge.txt")
# The judge's prompt as a filter without gold answers (the judged sources): the question and the solution only.
JUDGE_FILTER_TEMPLATE = os.path.join(workflow.basedir, "prompts", "judge-nogold.txt")
# Jobs, and the processes they start (accelerate launch), import the package from this workflow's source
# whatever env they run in: the env files do not install it.
ws_envs.put_on_pythonpath(workflow.basedir)
# Pinned CPU numerics (the config's `numerics`), set once here for every job: local jobs inherit this
# environment, and a Slurm job re-reads this file before its script starts. Each model job checks that the
# pin is in force (numerics.apply) and records the machine it ran on.
NUMERICS = STUDY.numerics.as_dict()
os.environ.update(numerics.job_environment(NUMERICS))


# The main study's sources of finetuning data; the ablations add variants of wc and se (weakstrong/ablations.py).
DATA_SOURCES = targets.wildcard_choices(["wc", "se", targets.GOLD])
# The sources beyond those (weakstrong/sources.py): without gold answers, and the mixed pool.
EXTRA_SOURCES = targets.wildcard_choices(sources.EXTRA)


wildcard_constraints:
    dataset=targets.wildcard_choices(STUDY.datasets),
    generator=targets.wildcard_choices(STUDY.models),
    model=targets.wildcard_choices(STUDY.models),
    student=targets.wildcard_choices(STUDY.models),
    pair=targets.wildcard_choices([*STUDY.generator_pairs, targets.GOLD]),
    budget=targets.wildcard_choices(STUDY.budgets),
    source=f"{DATA_SOURCES}|{EXTRA_SOURCES}|{ablations.VARIANT_PATTERN}",
    lr=targets.wildcard_choices(LR_LABELS),
    shard=r"\d+",
    replicate=r"\d+",


def threads_of(rule_name):
    """A rule's threads: its entry under the config's `resources` over `resources.default`."""
    return targets.rule_resources(STUDY, rule_name)["threads"]


def resources_of(rule_name):
    """A rule's Snakemake resources, one node a job (targets.job_resources)."""
    return targets.job_resources(STUDY, rule_name)


def get_code_version(script):
    """A param: the digest of the package code that `script` (relative to the workflow) can run, its imports
    followed transitively (weakstrong.versions): Snakemake reruns a job when its script changes, not when the
    package code the script calls does."""
    return versions.code_version(script, root=workflow.basedir)


# --- shared by several rules ----------------------------------------------------------------------------------


def get_model_path(key):
    """A param: the path of the model named by the wildcard `key`, in the job's replicate."""
    return lambda wildcards: targets.model_path(STUDY, LAYOUT, wildcards[key], wildcards.replicate)


def get_model_inputs(key):
    """An input function: the model named by the wildcard `key`, if the workflow builds it."""
    return lambda wildcards: targets.model_inputs(STUDY, LAYOUT, wildcards[key], wildcards.replicate)


def get_setting(path):
    """A param read per job: the study's setting at `path`, its wildcards filled in ("datasets/{dataset}/style"),
    as Snakemake's lookup(dpath=...) reads a config dict."""
    return lambda wildcards: STUDY.lookup(path.format(**wildcards))


def get_prompt_sha256(wildcards):
    """The digest of the dataset's prompt format (prompts/<style>.yaml), a param of the rules that format
    prompts, so that editing the format reruns them."""
    return prompt_digest(STUDY.datasets[wildcards.dataset].style)


def get_replicate_seed(wildcards):
    """The seed of the wildcards' replicate: every random draw of that replicate starts from it."""
    return study.replicate_seed(STUDY.seed, int(wildcards.replicate))


def get_pair_graded(source):
    """An input function: the graded samples of the wildcards' pair's `source` generator (se or wc), in the
    wildcards' replicate."""
    return lambda wildcards: layout("graded", wildcards, generator=study.generator_of(STUDY, wildcards.pair, source))


def get_source_graded(wildcards):
    """The graded samples behind the wildcards' source; none for gold data (the datasets' own solutions)."""
    return [] if wildcards.source == targets.GOLD else get_pair_graded(wildcards.source)(wildcards)


def get_judge_setting(key):
    """A param from the config's judge section, read per job: without a judge there are no judge jobs. The
    judge and the audit take the same `solutions_per_source`, so the audited solutions are judged ones."""
    return lambda wildcards: getattr(JUDGE, key)


def get_audit_ratings(wildcards):
    """Where the user puts the filled ratings CSV of the wildcards' audit form (not made by the workflow)."""
    return targets.audit_ratings_file(STUDY, wildcards.dataset, wildcards.pair, wildcards.budget)


def get_student_audit_ratings(wildcards):
    """Where the user puts the filled ratings CSV of the wildcards' student's audit form."""
    w = wildcards
    return targets.student_audit_ratings_file(STUDY, w.dataset, w.pair, w.budget, w.student)


def get_judge_model_inputs(wildcards):
    return targets.model_inputs(STUDY, LAYOUT, JUDGE.model, wildcards.replicate)


def get_judge_model_path(wildcards):
    return targets.model_path(STUDY, LAYOUT, JUDGE.model, wildcards.replicate)


def get_judge_backend(wildcards):
    return study.model_backend(STUDY, JUDGE.model, STUDY.evaluation.backend)


def get_source_generator(wildcards):
    """The generator of the wildcards' source's data (its pair's SE or WC model)."""
    return study.generator_of(STUDY, wildcards.pair, wildcards.source)


def get_samples_per_question(wildcards):
    """Solutions per question of the wildcards' source at its budget (gold data: the dataset's one)."""
    if wildcards.source == targets.GOLD:
        return 1
    return study.samples_per_question(STUDY, wildcards.pair, wildcards.budget, wildcards.source)


def get_coverage_labels(wildcards):
    return targets.coverage_labels(STUDY, wildcards.pair)


def get_pair_cells(wildcards):
    """Table 1's cells of the wildcards' dataset and pair."""
    return targets.pair_cells(STUDY, LAYOUT, wildcards.dataset, wildcards.pair)


def get_cell_files(get_cells, key):
    """An input function: the files under `key` (paths, bases, static, sft: per replicate) of the cells that the
    input function get_cells gives for the wildcards."""
    return lambda wildcards: targets.cell_files(get_cells(wildcards), key)


# --- of one rule ----------------------------------------------------------------------------------------------


def get_train_toy_model_corpus(wildcards):
    return layout("toy_corpus", wildcards, corpus=STUDY.models[wildcards.model].toy["corpus"])


def get_train_toy_model_seed(wildcards):
    return targets.toy_model_seed(STUDY, wildcards.model, int(wildcards.replicate))


def get_export_audit_form_per_question(wildcards):
    return targets.samples_per_source(STUDY, wildcards.pair, wildcards.budget)


def get_plot_data_metrics_metrics(wildcards):
    """The data metrics of the wildcards' dataset, pair and replicate by budget."""
    return targets.metrics_by_budget(STUDY, LAYOUT, wildcards.dataset, wildcards.pair, wildcards.replicate)


def get_plot_data_metrics_judge(wildcards):
    """The judge summaries of the wildcards' dataset and pair by budget; none without a judge."""
    return targets.judge_summaries_by_budget(STUDY, LAYOUT, wildcards.dataset, wildcards.pair)


def get_plot_coverage_cost_per_token(wildcards):
    return {source: study.pair_token_cost(STUDY, wildcards.pair, source) for source in targets.SIDES}


def get_plot_coverage_cost_budgets(wildcards):
    return targets.coverage_cost_budgets(STUDY, wildcards.pair)


def get_finetune_settings(wildcards):
    return targets.finetune_settings(
        STUDY, wildcards.student, wildcards.budget, LR_LABELS[wildcards.lr], int(wildcards.replicate)
    )


def get_finetune_fit(wildcards):
    return targets.finetune_fit(STUDY, wildcards.student)


def get_select_checkpoint_runs(wildcards):
    """The student's finetuning runs on the source's data, one per learning rate."""
    return [layout("finetune", wildcards, lr=study.lr_label(lr)) for lr in study.student_lrs(STUDY, wildcards.student)]


def get_evaluate_base_validation(wildcards):
    """A student's validation problems: the untrained student is a candidate in checkpoint selection, scored as
    checkpoints are; none for a model that is only a generator."""
    return layout("data", wildcards, split="validation") if targets.is_student(STUDY, wildcards.model) else []


def get_build_ablation_sft_data_graded(wildcards):
    """The graded samples of the generator whose samples the wildcards' variant of the data keeps."""
    return get_pair_graded(ablations.parse_variant(wildcards.source).source)(wildcards)


def get_make_ablation_table_cells(wildcards):
    return targets.ablation_cells(STUDY, LAYOUT, wildcards.ablation)


def get_write_findings_student_errors(wildcards):
    """The student-errors table's rows, where the config has students finetuned on both WC and SE data."""
    return targets.student_error_files(STUDY, LAYOUT, exts=("json",))


def get_write_findings_number_matched(wildcards):
    """The number_matched ablation's table rows, where the config runs it (the number-matched finding)."""
    if "number_matched" not in STUDY.ablations:
        return []
    return [layout("ablation_table", ablation="number_matched", ext="json")]


def get_transfer_base_splits(wildcards):
    """The prepared splits of the dataset that the wildcards' transfer dataset varies."""
    return targets.transfer_base_splits(STUDY, LAYOUT, wildcards.dataset)


def get_evaluate_transfer_selection(wildcards):
    """The checkpoint selected on the validation split of the dataset the transfer dataset varies."""
    return targets.transfer_selection(STUDY, LAYOUT, wildcards)


def get_transfer_cells(wildcards):
    """The transfer dataset's cells (targets.transfer_cells), of the wildcards' pair where it has one."""
    return targets.transfer_cells(STUDY, LAYOUT, wildcards.dataset, wildcards.get("pair"))


def get_extra_source_inputs(kind):
    """An input function: the graded samples (kind graded) or the judge's verdicts (kind verdicts; judged
    sources only) of each side whose samples the wildcards' source beyond wc, se and gold keeps."""
    return lambda wildcards: targets.source_graded(STUDY, LAYOUT, wildcards, kind)


def get_build_extra_sft_data_per_question(wildcards):
    return targets.source_per_question(STUDY, wildcards.pair, wildcards.budget, wildcards.source)


def get_judge_samples_per_question(wildcards):
    return targets.judged_per_question(STUDY, wildcards.dataset, wildcards.generator)


def get_make_source_table_cells(wildcards):
    return targets.source_cells(STUDY, LAYOUT, wildcards.table)
