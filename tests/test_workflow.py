"""The workflow as Snakemake sees it: dry runs of both configs, lint, config errors, and one end-to-end run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TEST_CONFIG, snakemake


PAPER_CONFIG = REPO / "config.yaml"


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    table = output.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)
            if m.group(1) != "total"}


def test_paper_dry_run_lists_the_whole_study(tmp_path):
    proc = snakemake("-n", "--quiet", "rules", "--directory", str(tmp_path), "--configfile", str(PAPER_CONFIG))
    assert proc.returncode == 0, proc.stdout
    counts = job_counts(proc.stdout)
    # 5 experiments: Gemma2 on MATH and GSM8K at low and high budget, Gemini on MATH at low budget;
    # 3 students x 2 sources each; 3 learning rates per (student, source). The gold baseline: one run per
    # (dataset, budget, student), shared by the pairs: MATH and GSM8K x low and high x 3 students.
    gold = 2 * 2 * 3
    # The ablations: six variants of the data (tests/test_ablations.py lists them), 3 students each.
    ablation = 6 * 3
    # Without gold answers (wc/se.unfiltered, wc/se.judged) and mixed (mix): 5 sources per experiment and student.
    extra = 5 * 3 * 5
    assert counts["evaluate"] == 5 * 3 * 2 + gold + ablation + extra
    assert counts["select_checkpoint"] == 5 * 3 * 2 + gold + ablation + extra
    assert counts["finetune"] == (5 * 3 * 2 + gold + ablation + extra) * 3
    assert counts["build_extra_sft_data"] == 5 * 5 and counts["make_source_table"] == 2
    # the judge rates every generator's samples once per dataset for the judged sources
    assert counts["judge_samples"] == 6
    # every generator and student before finetuning, per dataset: MATH 3 Gemma and 2 Gemini, GSM8K 3 Gemma
    assert counts["evaluate_base"] == 5 + 3
    assert counts["measure_data"] == 5
    # Generators: MATH has four (Gemma2 9B/27B, Gemini Flash/Pro), GSM8K two; 16 shards each.
    assert counts["gather_samples"] == counts["grade_samples"] == 6
    assert counts["sample_solutions"] == 6 * 16
    assert counts["make_table1"] == counts["make_table2"] == 1
    # the job count the README and docs/workflow.md give: with TeX (without it the paper's PDF is no target)
    from weakstrong.paper import tex_engine

    total = sum(counts.values()) + (0 if tex_engine() else 1)
    for page in (REPO / "README.md", REPO / "docs" / "workflow.md"):
        stated = re.findall(r"the whole paper study \(config\.yaml\)[:,] ([\d,]+) jobs", page.read_text())
        assert stated == [f"{total:,}"], f"{page.name} gives {stated} jobs for the dry run of config.yaml, not {total}"


def test_paper_dry_run_names_every_finetuning_target():
    proc = snakemake("-n", "--quiet", "all")
    assert proc.returncode == 0
    proc = snakemake("-n", "-p", "results/table1.tex")
    assert proc.returncode == 0, proc.stdout
    for student in ("gemma-7b", "gemma2-9b", "gemma2-27b"):
        for lr in ("1e-07", "5e-07", "1e-06"):
            for source in ("wc", "se"):
                target = f"results/rep-1/finetune/math/gemma2/high/{student}/{source}/lr-{lr}"
                assert target in proc.stdout, target
    assert "results/rep-1/finetune/math/gemini/low/gemma2-27b/wc/lr-1e-06" in proc.stdout
    for student in ("gemma-7b", "gemma2-9b", "gemma2-27b"):  # the gold baseline
        assert f"results/rep-1/finetune/math/gold/high/{student}/gold/lr-1e-06" in proc.stdout


def test_replicates_redraw_everything_but_the_problems(tmp_path):
    """The toy study: configs/toy-study.yaml over configs/toy.yaml repeats every stage after the data per
    replicate (corpus, models, samples, grading, data metrics, finetuning, selection, evaluation), keeps one set
    of problems, and puts the tables under results/toy-study."""
    toy = REPO / "configs" / "toy.yaml"
    study_config = REPO / "configs" / "toy-study.yaml"
    one = job_counts(snakemake("-n", "--quiet", "rules", "--directory", str(tmp_path), "--configfile",
                               str(toy)).stdout)
    proc = snakemake("-n", "--quiet", "rules", "--directory", str(tmp_path), "--configfile", str(toy),
                     str(study_config))
    assert proc.returncode == 0, proc.stdout
    many = job_counts(proc.stdout)
    replicates = yaml.safe_load(study_config.read_text())["replicates"]
    assert replicates >= 3
    for rule in ("build_toy_corpus", "train_toy_model", "sample_solutions", "grade_samples", "measure_data",
                 "evaluate_base", "finetune", "select_checkpoint", "evaluate"):
        assert many[rule] == replicates * one[rule], rule
    assert many["prepare_dataset"] == one["prepare_dataset"] == 2  # the same problems in every replicate
    plan = snakemake("-n", "-p", "--directory", str(tmp_path), "--configfile", str(toy), str(study_config)).stdout
    assert "results/toy-study/table1.md" in plan
    for replicate in range(1, replicates + 1):
        for target in ("finetune/math/toy/low/toy-student/wc/lr-0.0015", "finetune/math/toy/low/toy-wc/wc/lr-0.0003",
                       "finetune/gsm8k/toy/low/toy-se/se/lr-0.0003", "models/toy-se", "samples/math/toy-wc.jsonl"):
            assert f"results/toy/rep-{replicate}/{target}" in plan, (replicate, target)
    assert "results/toy/rep-2/finetune/math/toy/high/" not in plan


def test_one_table_builds_only_what_it_needs(tmp_path):
    proc = snakemake("-n", "results/table2.tex", "--quiet", "rules", "--directory", str(tmp_path),
                     "--configfile", str(PAPER_CONFIG))
    assert proc.returncode == 0, proc.stdout
    counts = job_counts(proc.stdout)
    assert "finetune" not in counts and "evaluate" not in counts
    assert counts["measure_data"] == 5


def test_toy_dry_run_writes_under_results_toy(tmp_path):
    # In an empty directory, so that results of an earlier demo run do not shorten the plan.
    proc = snakemake("-n", "-p", "--configfile", str(REPO / "configs" / "toy.yaml"), "--directory", str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    counts = job_counts(proc.stdout)
    assert counts["train_toy_model"] == 3 and counts["build_toy_corpus"] == 1
    outputs = re.findall(r"^\s+output: (\S+)", proc.stdout, re.MULTILINE)
    assert outputs and all(o.startswith("results/toy/") for o in outputs), outputs[:5]


@pytest.mark.parametrize("configfile", [[], ["--configfile", str(REPO / "configs" / "toy.yaml")]],
                         ids=["paper", "toy"])
def test_lint_is_clean(configfile):
    proc = snakemake("--lint", *configfile)
    assert proc.returncode == 0, proc.stdout
    assert "good condition" in proc.stdout, proc.stdout


@pytest.mark.parametrize("tool", [["snakefmt", "--check", "--compact-diff", "."], ["ruff", "check", "."]],
                         ids=["snakefmt", "ruff"])
def test_code_passes_the_formatter_and_linter(tool):
    """`make lint`'s other two checks, with the settings in pyproject.toml."""
    proc = subprocess.run([sys.executable, "-m", *tool], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:]


# The rules whose jobs go to the cluster: they load or train models, read the data sets, or grade for minutes.
HEAVY_RULES = {"prepare_dataset", "build_toy_corpus", "train_toy_model", "sample_solutions", "grade_samples",
               "judge_solutions", "judge_student_solutions", "judge_samples", "finetune", "evaluate",
               "evaluate_base", "prepare_transfer_dataset", "evaluate_transfer"}
# The workflow as Snakemake loads it: the rules with a job to run, the Snakefile's localrules, and the rules
# with a param that has no name.
RULES_PROBE = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.enums import Quietness
from snakemake.settings.types import OutputSettings, ResourceSettings

with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    workflow = api.workflow(resource_settings=ResourceSettings(), snakefile=Path(sys.argv[1]))._workflow
    print(json.dumps({"local": sorted(workflow._localrules),
                      "jobs": sorted(rule.name for rule in workflow.rules if not rule.norun),
                      "unnamed_params": sorted(rule.name for rule in workflow.rules
                                               if len(rule.params) != len(list(rule.params.keys())))}))
"""


@pytest.fixture(scope="module")
def loaded_rules():
    proc = subprocess.run([sys.executable, "-c", RULES_PROBE, str(REPO / "Snakefile")], cwd=REPO, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_every_light_rule_is_a_localrule(loaded_rules):
    """Under a cluster executor the steps of seconds run where Snakemake runs (profiles/slurm): every rule but
    the heavy ones is in the Snakefile's localrules, so a new rule must be put on one side."""
    assert HEAVY_RULES <= set(loaded_rules["jobs"])
    assert set(loaded_rules["local"]) == set(loaded_rules["jobs"]) - HEAVY_RULES


def test_every_param_has_a_name(loaded_rules):
    """A rule shows its knobs by name (params: temperature=...), read in its script as snakemake.params.<name>."""
    assert loaded_rules["unnamed_params"] == []


@pytest.mark.parametrize("edit, key", [
    (lambda c: c["finetune"].__setitem__("lrs", [1e-3, "fast"]), "finetune.lrs[1]"),
    (lambda c: c["sampling"].__setitem__("temprature", 0.7), "sampling"),
    (lambda c: c.pop("budgets"), "budgets"),
    (lambda c: c["generator_pairs"]["toy"].__setitem__("weak", "toy-xl"), "generator_pairs.toy.weak"),
    (lambda c: c.__setitem__("sources", ["wc", "se", "wc.filtered"]), "sources[2]"),
    (lambda c: c.__setitem__("sources", ["wc", "se", "se.judged"]), "sources[2]"),   # no judge in the toy world
])
def test_bad_config_stops_with_the_key_named(tmp_path, edit, key):
    config = yaml.safe_load((REPO / "configs" / "toy.yaml").read_text())
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(path))
    assert proc.returncode != 0
    assert f"'{key}" in proc.stdout, proc.stdout[-3000:]


# --- end to end ----------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_toy_study_end_to_end(local_test_run: Path):
    results = local_test_run / "results" / "test"
    config = yaml.safe_load(TEST_CONFIG.read_text())
    table1 = (results / "table1.tex").read_text()
    table2 = (results / "table2.tex").read_text()
    for tex in (table1, table2):
        assert "\\toprule" in tex and "\\bottomrule" in tex
        assert re.search(r"\d+\.\d", tex), tex
    assert "toy-student" in table1 and "weak-to-strong" in table1
    markdown = (results / "table1.md").read_text()
    assert "toy-se" in markdown
    # The gold baseline and the students before finetuning (zero-shot like the students, and few-shot)
    header = next(line for line in markdown.splitlines() if line.startswith("| Dataset"))
    columns = [cell.strip() for cell in header.strip().strip("|").split("|")]
    assert {"Base", "Base few-shot", "Gold"} <= set(columns), columns
    detail = (results / "table1-detail.md").read_text()
    assert all(f"maj@{k}" in detail for k in config["evaluation"]["maj_k"])
    # Two replicates of the same problems: Table 1 pairs them over replicates and problems, and the findings
    # give each finetuning cell's detectable difference.
    assert config["replicates"] == 2 and "over 2 replicates and the test problems" in markdown
    assert "Detectable (points)" in (results / "findings.md").read_text()
    first, second = results / "rep-1", results / "rep-2"
    assert (first / "models" / "toy-wc" / "model.safetensors").read_bytes() != (
        second / "models" / "toy-wc" / "model.safetensors").read_bytes()
    # Splits are reported; the exemplars are neither sampled nor trained on.
    for dataset in ("math", "gsm8k"):
        report = json.loads((results / "data" / dataset / "splits.json").read_text())
        exemplars = set(report["exemplar_ids"])
        assert len(exemplars) == config["datasets"][dataset]["few_shot"] == report["splits"]["exemplars"]["problems"]
        sampled = {json.loads(line)["problem_id"] for line in (first / "samples" / dataset / "toy-wc.jsonl").open()}
        gold = {json.loads(line)["problem_id"] for line in (first / "sft" / dataset / "gold" / "low" / "gold.jsonl").open()}
        assert sampled and gold and not exemplars & (sampled | gold)
    # The untrained student is a candidate in every selection.
    base = json.loads((first / "evaluation" / "math" / "base" / "toy-student.json").read_text())
    assert {"zero_shot", "few_shot", "validation"} <= set(base)

    # Every sample records how it was drawn; the grader's version sits beside every graded file.
    for generator in ("toy-wc", "toy-se"):
        sample = json.loads((first / "samples" / "math" / f"{generator}.jsonl").open().readline())
        assert {"temperature", "seed", "completion_tokens", "finish_reason"} <= set(sample), sample
        assert (first / "graded" / "math" / f"{generator}.grader.json").exists()
    # Equation 1: WC gets round(P_SE / P_WC) times SE's samples per question.
    metrics = json.loads((first / "metrics" / "math" / "toy" / "low.json").read_text())
    train = (results / "data" / "math" / "train.jsonl").read_text().splitlines()
    assert len(metrics["comparison"]["per_problem"]["coverage"]) == len(train)  # every training problem, paired
    assert metrics["ledger"]["samples_ratio"] >= 2
    for side in ("se", "wc"):
        for key in ("coverage", "diversity", "false_positive_rate"):
            assert key in metrics[side], (side, key)
    # The test models solve a few problems, so some students finetune on real data, not on nothing.
    coverage = [json.loads((first / "metrics" / dataset / "toy" / "low.json").read_text())[side]["coverage"]
                for dataset in ("math", "gsm8k") for side in ("se", "wc")]
    assert max(coverage) > 0, coverage
    # Each finetuning run wrote its checkpoints with validation scores, and one was selected.
    lrs = config["finetune"]["lrs"]
    for student in config["generator_pairs"]["toy"]["students"]:
        selection = json.loads((first / "selection" / "math" / "toy" / "low" / student / "wc.json").read_text())
        # the paper's selection: finetuned checkpoints only (unless nothing was kept to train on), the untrained
        # model's validation score recorded beside them
        assert len(selection["candidates"]) >= len(lrs) or selection["trained_on"] == 0
        assert selection["trained_on"] == 0 or all(c["step"] > 0 for c in selection["candidates"])
        assert selection["untrained"]["validation_accuracy"] is not None
        evaluation = json.loads((first / "evaluation" / "math" / "toy" / "low" / student / "wc.json").read_text())
        assert 0.0 <= evaluation["pass@1"] <= 1.0 and evaluation["problems"] == 40
        assert len(evaluation["per_problem"]["pass@1"]) == 40
    # Every model job recorded its machine under the pin; Table 1's caption and the findings name it.
    provenance = json.loads((results / "provenance.json").read_text())
    assert provenance["numerics"] == config["numerics"] and not provenance["unrecorded"]
    [machine] = provenance["machines"]               # one machine, whichever backend its jobs ran
    assert machine["record"]["kernels"] == "avx2" and machine["record"]["threads"] == 1
    assert set(machine["jobs"]) == {"pre-training", "sampling", "finetuning", "evaluation"}
    assert sum(machine["vllm_kernels"].values()) == 8  # the test config samples with vLLM: 4 shards per replicate
    assert provenance["caption"] in markdown and provenance["caption"] in (results / "findings.md").read_text()
    # The MATH-style students on the toy Functional MATH (rules/transfer.smk): every test problem with new numbers,
    # each selected checkpoint evaluated on them, the table and figure, the findings' transfer section.
    variants = [json.loads(line) for line in (results / "data" / "functional_math" / "test.jsonl").open()]
    test = [json.loads(line) for line in (results / "data" / "math" / "test.jsonl").open()]
    assert [v["variant_of"] for v in variants] == [t["id"] for t in test]
    assert json.loads((results / "data" / "functional_math" / "splits.json").read_text())["left_out"]["rows"] == 0
    for source in ("wc", "se", "gold"):
        pair = "gold" if source == "gold" else "toy"
        transfer = json.loads((first / "transfer" / "functional_math" / pair / "low" / "toy-se" / f"{source}.json")
                              .read_text())
        selection = json.loads((first / "selection" / "math" / pair / "low" / "toy-se" / f"{source}.json").read_text())
        assert transfer["selection"] == selection and transfer["problems"] == len(variants)
        assert all(f"maj@{k}" in transfer["per_problem"] for k in config["evaluation"]["maj_k"])
    table = (results / "transfer" / "functional_math.md").read_text()
    assert "| maj@2 " in table and "Static SE" in table
    assert (results / "figures" / "functional_math" / "toy" / "transfer.png").stat().st_size > 0
    assert "## Transfer to datasets the students never trained on" in (results / "findings.md").read_text()
    # Every rule wrote its log.
    log_dir = local_test_run / "logs" / "test"
    logs = {[part for part in p.relative_to(log_dir).parts if not part.startswith("rep-")][0].removesuffix(".log")
            for p in log_dir.rglob("*.log")}
    assert {"prepare_dataset", "train_toy_model", "sample_solutions", "grade_samples", "build_sft_data",
            "measure_data", "finetune", "select_checkpoint", "evaluate", "evaluate_base", "make_table1",
            "make_table2", "prepare_transfer_dataset", "evaluate_transfer", "make_transfer_table",
            "plot_transfer"} <= logs, logs
