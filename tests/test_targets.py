"""weakstrong.layout and weakstrong.targets: where the workflow writes and what it builds, from the config alone;
and weakstrong.study's token costs, which the figures and the cost ledger price samples with."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from weakstrong import study, targets
from weakstrong.layout import OUTPUTS, Layout, fill
from weakstrong.study_config import Model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def study_config(toy):
    """The toy study: configs/toy-study.yaml over configs/toy.yaml (its replicates, its own tables)."""
    import yaml

    from weakstrong.config import build

    raw = yaml.safe_load((ROOT / "configs" / "toy.yaml").read_text())
    study_overlay = yaml.safe_load((ROOT / "configs" / "toy-study.yaml").read_text())
    return build({**raw, **study_overlay, "paths": {**raw.get("paths", {}), **study_overlay["paths"]}})


def layout(config):
    return Layout.from_config(config)


# --- the layout ---------------------------------------------------------------------------------------------

def test_outputs_fill_what_is_given_and_keep_the_other_wildcards():
    paths = Layout("res", "tab", "log", "bench")
    assert paths.output("metrics") == "res/rep-{replicate}/metrics/{dataset}/{pair}/{budget}.json"
    assert paths.output("metrics", {"dataset": "math", "pair": "p"}, budget="low", replicate=2) == \
        "res/rep-2/metrics/math/p/low.json"
    # values win over the wildcards'
    assert paths.output("data", {"split": "train", "dataset": "d"}, split="test") == "res/data/d/test.jsonl"
    assert paths.output("table1", ext="md") == "tab/table1.md"
    assert paths.output("training_figure") == "tab/figures/{dataset}/{pair}/{figure}.{ext}"
    assert fill("{a}/{b}/{a}", {"a": 1}) == "1/{b}/1"
    assert all(pattern.startswith(("{results}/", "{tables}/")) for pattern in OUTPUTS.values())


def test_logs_and_benchmarks_per_replicate_or_of_the_whole_study():
    paths = Layout("res", "tab", "logs/toy", "benchmarks/toy")
    assert paths.log("measure_data", "{dataset}/{pair}/{budget}") == \
        "logs/toy/rep-{replicate}/measure_data/{dataset}/{pair}/{budget}.log"
    assert paths.benchmark("finetune", "{student}/lr-{lr}") == \
        "benchmarks/toy/rep-{replicate}/finetune/{student}/lr-{lr}.tsv"
    assert paths.log("build_toy_corpus") == "logs/toy/rep-{replicate}/build_toy_corpus.log"
    assert paths.log("make_table1", replicate=False) == "logs/toy/make_table1.log"
    assert paths.log("prepare_dataset", "{dataset}", replicate=False) == "logs/toy/prepare_dataset/{dataset}.log"


def test_layout_from_config_reads_its_paths(study_config):
    assert Layout.from_config(study_config) == Layout("results/toy", "results/toy-study", "logs/toy",
                                                      "benchmarks/toy")


# --- the study's grid ---------------------------------------------------------------------------------------

def test_gold_runs_are_shared_by_the_pairs(paper):
    cells = targets.finetune_cells(paper)
    assert len(cells) == len(set(cells))
    gold = [cell for cell in cells if cell[4] == "gold"]
    # MATH and GSM8K, low and high, 3 students: once each, whichever pairs train on them
    assert len(gold) == 2 * 2 * 3 and all(cell[1] == targets.GOLD for cell in gold)
    # 5 experiments, 3 students, WC and SE, and the five sources without gold answers and mixed
    assert len(cells) - len(gold) == 5 * 3 * (2 + 5)
    assert len(targets.evaluation_files(paper, layout(paper))) == len(cells) * paper.replicates


def test_finetuning_runs_per_replicate_and_learning_rate(study_config):
    runs = targets.finetune_run_dirs(study_config, layout(study_config))
    lrs = {student: len(study.student_lrs(study_config, student)) for student in study_config.models}
    assert len(runs) == len(set(runs)) == study_config.replicates * sum(
        lrs[student] for *_, student, _ in targets.finetune_cells(study_config))
    assert "results/toy/rep-4/finetune/math/toy/low/toy-student/wc/lr-0.0015" in runs
    assert not any("/high/" in run for run in runs)  # finetune.budgets: low only


def test_table1_cells_point_gold_runs_to_the_gold_pair(paper):
    cells = targets.table1_cells(paper, layout(paper))
    gold = next(c for c in cells if c["pair"] == "gemma2" and c["source"] == "gold" and c["budget"] == "high")
    assert gold["setting"] == "gold"
    assert gold["paths"] == {"1": f"results/rep-1/evaluation/math/gold/high/{gold['student']}/gold.json"}
    assert gold["bases"] == {"1": f"results/rep-1/evaluation/math/base/{gold['student']}.json"}
    weak = next(c for c in cells if c["pair"] == "gemma2" and c["student"] == "gemma2-27b" and c["source"] == "wc")
    assert weak["setting"] == "weak-to-strong"
    assert targets.pair_cells(paper, layout(paper), "gsm8k", "gemma2") == [
        c for c in cells if (c["dataset"], c["pair"]) == ("gsm8k", "gemma2")]


def test_base_evaluations_of_every_generator_and_student_once(paper):
    files = targets.base_evaluation_files(paper, layout(paper))
    # MATH: 3 Gemma and 2 Gemini models; GSM8K: 3 Gemma
    assert len(files) == len(set(files)) == 5 + 3
    assert "results/rep-1/evaluation/math/base/gemini-1.5-flash.json" in files


def test_metrics_per_experiment_and_replicate(study_config):
    paths = layout(study_config)
    files = targets.metrics_files(study_config, paths)
    assert len(files) == len(study.experiments(study_config)) * study_config.replicates
    by_budget = targets.metrics_by_budget(study_config, paths, "math", "toy", 3)
    assert by_budget == {"low": "results/toy/rep-3/metrics/math/toy/low.json",
                         "high": "results/toy/rep-3/metrics/math/toy/high.json"}
    cells = targets.table2_cells(study_config, paths)
    assert cells[0]["paths"] == {str(r): f"results/toy/rep-{r}/metrics/math/toy/low.json" for r in range(1, 5)}
    assert cells[0]["judge"] is None and cells[0]["audit"] is None  # no judge in the toy world


def test_toy_models_and_their_seeds(toy, paper):
    paths = layout(toy)
    assert targets.model_path(toy, paths, "toy-wc", 2) == "results/toy/rep-2/models/toy-wc"
    assert targets.model_inputs(toy, paths, "toy-wc", 2) == ["results/toy/rep-2/models/toy-wc"]
    assert targets.model_path(paper, layout(paper), "gemma2-9b", 1) == paper.models["gemma2-9b"].source
    assert targets.model_inputs(paper, layout(paper), "gemma2-9b", 1) == []
    seeds = {(model, r): targets.toy_model_seed(toy, model, r) for model in toy.models for r in (1, 2)}
    assert len(set(seeds.values())) == len(seeds)
    assert seeds[("toy-se", 1)] == toy.seed + sorted(toy.models).index("toy-se")
    assert seeds[("toy-se", 2)] == seeds[("toy-se", 1)] + study.REPLICATE_SEED_STRIDE
    assert targets.toy_model_dirs(toy, paths) == [f"results/toy/rep-1/models/{m}" for m in toy.models]
    assert set(targets.toy_prompt_digests(toy)) == {d.style for d in toy.datasets.values()}


def test_finetune_settings_take_the_replicate_seed(toy):
    settings = targets.finetune_settings(toy, "toy-student", "low", 0.0015, 2)
    assert settings["lr"] == 0.0015 and settings["seed"] == study.replicate_seed(toy.seed, 2)
    assert settings["checkpoints"] == toy.finetune.checkpoints
    assert settings["steps"] == study.finetune_settings(toy, "toy-student", "low")["steps"]
    assert targets.finetune_fit(dataclasses.replace(toy, plan=None), "toy-student") is None


def test_finetune_fit_from_the_plan_section(paper):
    fit = targets.finetune_fit(paper, "gemma2-27b")
    assert fit["student"] == "gemma2-27b" and fit["gpu_memory_gb"] == paper.plan.gpu_memory_gb
    assert fit["parameters"] == study.model_parameters(paper, "gemma2-27b")


def test_resources_merge_the_default_and_run_on_one_node(toy):
    assert targets.rule_resources(toy, "sample_solutions")["mem_mb"] == 6000
    assert targets.rule_resources(toy, "finetune") == dataclasses.asdict(toy.resources["default"])
    assert targets.job_resources(toy, "sample_solutions") == {"mem_mb": 6000, "runtime": 30, "gpu": 0, "nodes": 1}


def test_student_and_sides(paper):
    assert targets.is_student(paper, "gemma-7b") and not targets.is_student(paper, "gemini-1.5-flash")
    assert targets.samples_per_source(paper, "gemma2", "low") == {"se": 1, "wc": 3}
    assert targets.coverage_labels(paper, "gemma2") == {"se": "SE (gemma2-27b)", "wc": "WC (gemma2-9b)"}
    assert targets.coverage_cost_budgets(paper, "gemma2") == {b: paper.budgets[b]
                                                              for b in paper.generator_pairs["gemma2"].budgets}
    assert targets.data_pair("gemma2", "gold") == targets.GOLD and targets.data_pair("gemma2", "wc") == "gemma2"


# --- the judge and the audit --------------------------------------------------------------------------------

def test_judge_and_audit_files_of_the_first_replicate(paper):
    paths = layout(paper)
    summaries = targets.judge_summaries(paper, paths, "math", "gemma2", "low")
    assert summaries == {side: f"results/rep-1/judge/math/gemma2/low/{side}.json" for side in ("se", "wc")}
    files = targets.judge_files(paper, paths)
    # the data's: a summary per experiment and side, a form per experiment; the students': a summary per cell
    # (15 Table 1 rows with WC and SE data) and arm, a form per cell
    assert len(files) == 5 * 2 + 5 + 15 * 3 and "results/rep-1/audit/math/gemma2/low/form.html" in files
    assert targets.audit_ratings_file(paper, "math", "gemma2", "low") == "audit/math/gemma2/low/ratings.csv"
    rated = {"audit/math/gemma2/low/ratings.csv"}
    assert targets.audit_summary_files(paper, paths, exists=rated.__contains__) == [
        "results/rep-1/audit/math/gemma2/low/summary.json"]
    assert targets.audit_summary(paper, paths, "math", "gemma2", "high", exists=rated.__contains__) is None
    by_budget = targets.judge_summaries_by_budget(paper, paths, "math", "gemma2")
    assert set(by_budget) == {"low", "high"}


def test_no_judge_no_judge_files(toy):
    paths = layout(toy)
    assert targets.judge_files(toy, paths) == targets.judge_summary_files(toy, paths) == []
    assert targets.judge_summaries_by_budget(toy, paths, "math", "toy") == {}
    assert targets.audit_summary_files(toy, paths, exists=lambda path: True) == []


# --- figures, the paper, the findings, the ablations --------------------------------------------------------

def test_figures_of_the_data_and_of_the_finetuning_runs(paper, toy):
    assert targets.figure_names(paper, "math", "gemma2") == targets.DATA_FIGURES + ("finetuning", "majority")
    # the toy world has no maj@k, and finetunes at the low budget only
    assert targets.figure_names(toy, "math", "toy") == targets.DATA_FIGURES + ("finetuning",)
    files = targets.figure_files(paper, layout(paper))
    assert "results/rep-1/figures/math/gemini/coverage_cost.png" in files
    assert "results/figures/math/gemini/majority.pdf" in files
    figures = targets.paper_figures(paper, layout(paper))
    assert [f["path"] for f in figures] == [path for path in files if path.endswith(".pdf")]


def test_paper_files_ask_for_the_pdf_only_with_tex(toy):
    assert targets.paper_files(layout(toy), pdf=False) == ["results/toy/paper.tex"]
    assert targets.paper_files(layout(toy), pdf=True) == ["results/toy/paper.tex", "results/toy/paper.pdf"]


def test_run_description(paper):
    run = targets.run_description(paper, "g7")
    assert run["grader_version"] == "g7" and run["results"] == "results" and run["replicates"] == [1]
    gemini = run["pairs"]["gemini"]
    assert gemini["match"] == "price" and gemini["samples_ratio"] == 35
    assert gemini["strong"] == {"name": "gemini-1.5-pro", **{
        key: getattr(paper.models["gemini-1.5-pro"], key) for key in ("price_per_million_tokens",
                                                                 "input_price_per_million_tokens")}}
    assert run["pairs"]["gemma2"]["budgets"]["low"] == {"se": 1, "wc": 3}
    assert run["pairs"]["gemma2"]["weak"]["parameters"] == study.model_parameters(paper, "gemma2-9b")


def test_findings_data(paper):
    data = targets.findings_data(paper, layout(paper))
    assert [(d["dataset"], d["pair"], d["budget"]) for d in data] == [
        (e.dataset, e.pair, e.budget) for e in study.experiments(paper)]
    assert {d["match"] for d in data} == {"compute", "price"}


def test_ablation_tables_and_cells(paper, toy):
    paths = layout(paper)
    assert targets.ablation_table_files(toy, layout(toy)) == []
    assert targets.ablation_table_files(paper, paths, ("json",)) == [
        f"results/ablations/{name}.json" for name in paper.ablations]
    cells = targets.ablation_cells(paper, paths, "number_matched")
    students = paper.generator_pairs["gemma2"].students
    assert len(cells) == 3 * len(students)  # SE, cost-matched WC, number-matched WC
    variant = next(c for c in cells if c["source"] not in ("se", "wc"))
    assert variant["sft"] == {"1": f"results/rep-1/sft/math/gemma2/low/{variant['source']}.jsonl"}
    assert variant["paths"]["1"].endswith(f"/low/{variant['student']}/{variant['source']}.json")


# --- token costs ----------------------------------------------------------------------------------------------

def test_token_cost_in_flops_and_usd(paper):
    assert study.token_cost(paper, "gemma2-27b", "flops") == 2 * study.model_parameters(paper, "gemma2-27b")
    assert study.token_cost(paper, "gemma2-27b", "flops", prompt=True) == study.token_cost(paper, "gemma2-27b",
                                                                                           "flops")
    pro = paper.models["gemini-1.5-pro"]
    assert study.token_cost(paper, "gemini-1.5-pro", "usd") == pro.price_per_million_tokens / 1e6
    assert study.token_cost(paper, "gemini-1.5-pro", "usd", prompt=True) == pro.input_price_per_million_tokens / 1e6
    unpriced = dataclasses.replace(paper, models={"m": Model("m", False, price_per_million_tokens=2.0)})
    assert study.token_cost(unpriced, "m", "usd", prompt=True) == 0
    with pytest.raises(ValueError, match="unit"):
        study.token_cost(paper, "gemma2-27b", "joules")


def test_pair_token_cost_is_in_the_unit_the_pair_is_matched_on(paper):
    assert study.pair_token_cost(paper, "gemma2", "se") == 2 * study.model_parameters(paper, "gemma2-27b")
    assert study.pair_token_cost(paper, "gemini", "wc") == paper.models["gemini-1.5-flash"].price_per_million_tokens / 1e6
    # the ratio of the sides' token costs is Equation 1's cost ratio
    for pair in paper.generator_pairs:
        ratio = study.pair_token_cost(paper, pair, "se") / study.pair_token_cost(paper, pair, "wc")
        assert ratio == pytest.approx(study.cost_ratio(paper, pair))


def test_ledger_cells_price_each_side(paper):
    cells = targets.ledger_cells(paper, layout(paper))
    gemini = next(c for c in cells if c["pair"] == "gemini")
    assert gemini["path"] == "results/rep-1/metrics/math/gemini/low.json"
    assert gemini["cost_per_token"] == {side: study.pair_token_cost(paper, "gemini", side) for side in ("se", "wc")}
    assert gemini["cost_per_prompt_token"]["wc"] == paper.models["gemini-1.5-flash"].input_price_per_million_tokens / 1e6


def test_cell_files_once_each_and_sorted():
    cells = [{"paths": {"1": "b.json", "2": "a.json"}, "sft": {"1": "d"}}, {"paths": {"1": "a.json"}, "sft": {}}]
    assert targets.cell_files(cells, "paths") == ["a.json", "b.json"]
    assert targets.cell_files(cells, "sft") == ["d"] and targets.cell_files([], "paths") == []


@pytest.mark.parametrize("names, matches, rejects", [
    (["low", "high"], ["low", "high"], ["lo", "lowhigh", ""]),
    (["gemma2-9b", "a.b"], ["gemma2-9b", "a.b"], ["axb", "gemma2"]),
    ([], [], ["", "anything"]),  # an empty alternation would match anything
])
def test_wildcard_choices_match_exactly_the_names(names, matches, rejects):
    import re

    pattern = re.compile(targets.wildcard_choices(names))
    assert all(pattern.fullmatch(name) for name in matches)
    assert not any(pattern.fullmatch(name) for name in rejects)
