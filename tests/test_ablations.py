"""The paper's ablations (weakstrong.ablations) and the realized-cost ledger: which samples each variant keeps,
the arms each ablation compares, config checks, the tables, the dry run of the paper's config and the test
study's tables end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import REPO, snakemake
from weakstrong import ablations, study
from weakstrong.ablations import Selection, keep, parse_variant
from weakstrong import config as ws_config
from weakstrong.config import ConfigError, build, validate
from weakstrong.study_config import Study
from weakstrong.stats import crossed_difference, crossed_mean
from weakstrong.tables import NOT_MEASURED, ablation_table, ledger_table


CONFIGS = {name: REPO / path for name, path in
           (("paper", "config.yaml"), ("toy", "configs/toy-ablations.yaml"), ("test", "configs/test.yaml"))}


def load(path: Path) -> Study:
    """A shipped config; the toy ablations are given after configs/toy.yaml."""
    if path == CONFIGS["toy"]:
        return build({**yaml.safe_load((REPO / "configs" / "toy.yaml").read_text()),
                         **yaml.safe_load(path.read_text())})
    return ws_config.load(path)


# --- variants --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, selection", [
    ("wc.k1", Selection("wc", 1)),
    ("wc.k30.keep1", Selection("wc", 30, per_problem=1)),
    ("se.k10.first500", Selection("se", 10, problems=500)),
    ("wc.k3.keep2.first7", Selection("wc", 3, per_problem=2, problems=7)),
])
def test_a_variant_is_named_by_what_it_keeps(name, selection):
    assert parse_variant(name) == selection
    assert selection.name == name
    assert re.fullmatch(ablations.VARIANT_PATTERN, name)


@pytest.mark.parametrize("name", ["wc", "gold", "gold.k1", "wc.k0", "wc.keep1", "wc.k1.first5.keep1", "wc.k01"])
def test_anything_else_is_not_a_variant(name):
    assert not re.fullmatch(ablations.VARIANT_PATTERN, name)
    with pytest.raises(ValueError, match="not a variant"):
        parse_variant(name)


TRAIN = [{"id": f"p{i}", "question": f"q{i}"} for i in range(4)]
# correct samples by problem: p0 at 0, 1 and 2; p1 at 2 only; p2 none; p3 at 1 (0 undecided)
CORRECT = {("p0", 0), ("p0", 1), ("p0", 2), ("p1", 2), ("p3", 1)}
GRADED = [{"problem_id": f"p{i}", "sample_index": j, "completion": f" s{i}{j} ",
           "correct": (f"p{i}", j) in CORRECT, "grading_undecided": (i, j) == (3, 0)}
          for i in (3, 1, 0, 2) for j in range(4)]  # graded files are in shard order, not the training order


def kept(selection):
    return [(e["problem_id"], e["sample_index"]) for e in keep(GRADED, TRAIN, selection)]


def test_first_samples_of_each_question_and_all_their_correct_solutions():
    assert kept(Selection("wc", 1)) == [("p0", 0)]
    assert kept(Selection("wc", 3)) == [("p3", 1), ("p1", 2), ("p0", 0), ("p0", 1), ("p0", 2)]
    example = keep(GRADED, TRAIN, Selection("wc", 1))[0]
    assert example == {"problem_id": "p0", "sample_index": 0, "question": "q0", "solution": "s00"}


def test_one_correct_kept_per_solved_problem_has_the_coverage_of_all_and_one_each():
    all_correct, one_each = kept(Selection("wc", 3)), kept(Selection("wc", 3, per_problem=1))
    assert one_each == [("p3", 1), ("p1", 2), ("p0", 0)]  # the lowest sample index of each, graded order kept
    assert {p for p, _ in one_each} == {p for p, _ in all_correct}


def test_the_first_problems_of_the_training_file_only():
    assert kept(Selection("wc", 4, problems=2)) == [("p1", 2), ("p0", 0), ("p0", 1), ("p0", 2)]


def test_a_subset_as_large_as_the_training_set_is_refused():
    with pytest.raises(ValueError, match="ablations.dataset_size.problems"):
        keep(GRADED, TRAIN, Selection("wc", 1, problems=4))


def test_a_variant_needing_more_samples_than_were_drawn_names_the_file():
    with pytest.raises(ValueError, match=r"graded/math/toy-wc.jsonl: 4 samples per question were drawn, "
                                         r"variant wc.k5 needs 5"):
        keep(GRADED, TRAIN, Selection("wc", 5), graded_path="graded/math/toy-wc.jsonl")


# --- arms -------------------------------------------------------------------------------------------------------

def arm_summary(config, ablation, pair, budget):
    return [(a.source, a.per_question, round(a.relative_cost, 3), a.against)
            for a in ablations.arms(config, ablation, pair, budget)]


def test_the_papers_arms(paper):
    cost = 27.2 / 9.24
    assert arm_summary(paper, "number_matched", "gemma2", "low") == [
        ("se", 1, 1.0, None), ("wc.k1", 1, round(1 / cost, 3), "se"), ("wc", 3, round(3 / cost, 3), "se")]
    # the cheaper Flash setting: 5 Flash samples per Pro sample, 5/35 of Pro's cost (the paper's "0.15x")
    assert arm_summary(paper, "cheaper_wc", "gemini", "low") == [
        ("se", 1, 1.0, None), ("wc.k5", 5, 0.143, "se"), ("wc", 35, 1.0, "se")]
    assert arm_summary(paper, "dataset_size", "gemma2", "low") == [
        ("se.k1.first500", 1, 1.0, None), ("wc.k3.first500", 3, round(3 / cost, 3), "se.k1.first500")]
    assert arm_summary(paper, "coverage_diversity", "gemma2", "high") == [
        ("wc.k1", 1, round(1 / 10 / cost, 3), None), ("wc.k30.keep1", 30, round(3 / cost, 3), "wc.k1"),
        ("wc", 30, round(3 / cost, 3), "wc.k30.keep1")]


@pytest.mark.parametrize("name", CONFIGS)
def test_the_samples_drawn_cover_every_arm(name):
    config = load(CONFIGS[name])
    assert config.ablations, "every config runs some ablation"
    for ablation, experiment in ablations.experiments(config):
        for arm in ablations.arms(config, ablation, experiment.pair, experiment.budget):
            generator = study.generator_of(config, experiment.pair, arm.base)
            assert arm.per_question <= study.max_samples(config, experiment.dataset, generator), (ablation, arm)


def test_students_default_to_the_pairs(paper):
    assert ablations.students(paper, "number_matched") == ["gemma-7b", "gemma2-9b", "gemma2-27b"]
    assert ablations.students(load(CONFIGS["test"]), "number_matched") == ["toy-student"]


# --- config checks ----------------------------------------------------------------------------------------------

def _test_config():
    return yaml.safe_load(CONFIGS["test"].read_text())


@pytest.mark.parametrize("edit, message", [
    (lambda a: a["number_matched"].__setitem__("pair", "gemma"), "'ablations.number_matched.pair': unknown"),
    (lambda a: a["number_matched"].__setitem__("budgets", ["low", "high"]),
     "'ablations.number_matched.budgets[1]': 'high' is not among the budgets of pair 'toy'"),
    (lambda a: a["dataset_size"].__setitem__("datasets", ["math", "gsm"]),
     "'ablations.dataset_size.datasets[1]': 'gsm' is not among"),
    (lambda a: a["coverage_diversity"].__setitem__("students", ["toy-xl"]),
     "'ablations.coverage_diversity.students[0]': unknown model 'toy-xl'"),
    (lambda a: a["cheaper_wc"].__setitem__("wc_per_se", 4), "'ablations.cheaper_wc.wc_per_se': 4 WC samples per SE "
                                                            "sample is not cheaper than pair 'toy''s matched 4"),
    (lambda a: a["dataset_size"].__setitem__("problems", 40), "'ablations.dataset_size.problems': 40 is not below"),
    (lambda a: a["cheaper_wc"].__setitem__("problems", 4), "'ablations.cheaper_wc'"),
    (lambda a: a.__setitem__("mixing", {}), "'ablations'"),
    (lambda a: a["number_matched"].pop("budgets"), "'ablations.number_matched': 'budgets' is a required"),
    # the defaults, the paper's 5 WC samples per SE sample and 500 problems, are too many for the test study
    (lambda a: a["cheaper_wc"].pop("wc_per_se"), "'ablations.cheaper_wc.wc_per_se': 5 WC samples per SE sample"),
    (lambda a: a["dataset_size"].pop("problems"), "'ablations.dataset_size.problems': 500 is not below"),
])
def test_bad_ablations_stop_with_the_key_named(edit, message):
    config = _test_config()
    edit(config["ablations"])
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert message in str(error.value)


def test_no_ablations_section_runs_none():
    config = _test_config()
    del config["ablations"]
    assert ablations.experiments(build(config)) == []


# --- tables -----------------------------------------------------------------------------------------------------

def _cells(per_arm: dict[str, dict[str, float]]):
    """Cells of a coverage_diversity-like ablation: arm -> {replicate: pass@1}, each compared with the one before."""
    names = list(per_arm)
    return [{"dataset": "math", "pair": "toy", "budget": "low", "student": "s", "setting": "knowledge distillation",
             "source": name, "label": name.upper(), "per_question": 1, "relative_cost": 0.5,
             "against": names[i - 1] if i else None, "sft": {replicate: f"sft/{name}.jsonl" for replicate in scores},
             "paths": {replicate: f"evaluation/{name}/{replicate}.json" for replicate in scores}}
            for i, (name, scores) in enumerate(per_arm.items())]


PROBLEMS = 100


def _outcomes(score):
    """PROBLEMS test problems, the first PROBLEMS * score right."""
    return [int(i < round(score * PROBLEMS)) for i in range(PROBLEMS)]


def _evaluations(per_arm, untrained=()):
    return {f"evaluation/{name}/{replicate}.json": {
        "pass@1": score, "selection": {"step": 0 if name in untrained else 5},
        "per_problem": {"problem_id": [f"q{i}" for i in range(PROBLEMS)], "pass@1": _outcomes(score)}}
        for name, scores in per_arm.items() for replicate, score in scores.items()}


def test_each_arm_against_the_one_it_is_compared_with_paired_by_replicate_and_problem():
    per_arm = {"a": {"1": 0.10, "2": 0.20, "3": 0.30}, "c": {"1": 0.15, "2": 0.26, "3": 0.34},
               "b": {"1": 0.15, "2": 0.26, "3": 0.34}}
    data = {"sft/a.jsonl": [{"problem_id": "p1"}], "sft/c.jsonl": [{"problem_id": "p1"}, {"problem_id": "p2"}],
            "sft/b.jsonl": [{"problem_id": "p1"}, {"problem_id": "p1"}, {"problem_id": "p2"}]}
    rows = ablations.table_rows(_cells(per_arm), _evaluations(per_arm, untrained={"a"}), data)
    a, c, b = rows
    assert "difference" not in a and a["pass@1"]["mean"] == pytest.approx(0.2) and a["untrained"]
    # c - a over 3 replicates x 100 problems: mean 0.05, the crossed interval of weakstrong.stats
    expected = crossed_difference([_outcomes(v) for v in per_arm["c"].values()],
                                  [_outcomes(v) for v in per_arm["a"].values()])
    assert c["difference"]["mean"] == pytest.approx(0.05)
    assert c["difference"]["ci95"] == pytest.approx(expected["ci95"])
    assert c["difference"]["verdict"] == "WC higher" and c["against_label"] == "A"
    assert c["gain"] == pytest.approx(0.25)
    assert b["difference"]["verdict"] == "no difference at 95%"
    assert (a["examples"], a["problems"], c["examples"], c["problems"], b["examples"], b["problems"]) == (1, 1, 2, 2, 3, 2)
    latex, markdown = ablation_table("Coverage and diversity.", rows, "tab:x")
    table = _rows(markdown)
    columns = ["pass@1", "Against", "Difference [95%]", "Verdict", "Rel. gain"]
    half = 100 * (crossed_mean([_outcomes(v) for v in per_arm["a"].values()])["ci95"][1] - 0.2)
    assert [table[0][c] for c in columns] == [f"20.0 ± {half:.1f}*", "--", "--", "--", "--"]
    low, high = (100 * bound for bound in expected["ci95"])
    assert [table[1][c] for c in columns][1:] == ["A", f"+5.0 [{low:.1f}, {high:.1f}]", "higher", "+25.0"]
    assert [table[1][c] for c in ("Data", "Setting", "Samples/q", "Cost/q (x SE)", "Examples", "Problems")] == [
        "C", "knowledge distillation", "1", "0.50", "2", "2"]
    assert "\\toprule" in latex and "Coverage and diversity." in latex and "untrained student" in markdown


def test_an_arm_whose_untrained_model_faces_the_same_untrained_model_is_not_measured():
    per_arm = {"a": {"1": 0.30, "2": 0.30}, "c": {"1": 0.30, "2": 0.30}, "b": {"1": 0.30, "2": 0.36}}
    data = {f"sft/{name}.jsonl": [{"problem_id": "p1"}] for name in per_arm}
    evaluations = _evaluations(per_arm, untrained={"a", "c"})
    evaluations["evaluation/b/1.json"]["selection"]["step"] = 0          # b trained in replicate 2 only
    a, c, b = ablations.table_rows(_cells(per_arm), evaluations, data)
    assert c["difference"] == {"n": 2, "mean": None, "ci95": None, "verdict": NOT_MEASURED}
    assert b["difference"]["mean"] == pytest.approx(0.03) and b["difference"]["n"] == 2
    _, markdown = ablation_table("Coverage and diversity.", [a, c, b], "tab:x")
    assert [_rows(markdown)[1][col] for col in ("Difference [95%]", "Verdict", "Rel. gain")] == ["--", NOT_MEASURED,
                                                                                                 "--"]


def test_ledger_costs_by_hand():
    ledger = study.sampling_ledger(
        [{"problem_id": p, "sample_index": 0, "completion_tokens": 100, "prompt_tokens": 50} for p in "ab"],
        [{"problem_id": p, "sample_index": i, "completion_tokens": 60, "prompt_tokens": 50} for p in "ab"
         for i in range(3)], k_se=1, ratio=3, cost_ratio=2.5, match="compute")
    metrics = {"m.json": {"ledger": ledger, "se": {"k": 1}, "wc": {"k": 3}}}
    cells = [{"dataset": "math", "pair": "toy", "budget": "low", "path": "m.json",
              "cost_per_token": {"se": 2 * 2.5e6, "wc": 2 * 1e6}, "cost_per_prompt_token": {"se": 2 * 2.5e6, "wc": 2 * 1e6}}]
    _, markdown = ledger_table(cells, metrics)
    # SE: 200 generated + 100 prompt tokens at 5e6 FLOPs; WC: 360 + 100 at 2e6
    assert list(_rows(markdown)[0].values()) == [
        "math", "toy", "low", "compute", "1:3", "100.0", "60.0", "50.0:50.0", "FLOPs", "1.5e+09", "9.2e+08",
        f"{3 / 2.5:.3f}", f"{360 / (200 * 2.5):.3f}", f"{460 / (300 * 2.5):.3f}"]


def test_price_matched_ledger_prices_the_usage_the_api_backend_records(monkeypatch):
    """Samples drawn through the API backend (a fake server on 127.0.0.1, usage one total per request, n split
    at 2) cost in the ledger what the backend's usage costs at the prices: Pro 10.5, Flash 0.3 USD per million
    output tokens; with input prices (Pro 3.5, Flash 0.075), each question's prompt at them once per side."""
    from helpers.fake_openai_server import FakeOpenAIServer
    from weakstrong.sampling.openai_backend import sample, usage_cost
    from weakstrong.solutions import draw_samples

    monkeypatch.setenv("TEST_KEY", "secret")
    problems = [{"id": f"p{i}", "question": f"What is {i} + {i}?"} for i in range(6)]
    drawn, usages = {}, {}
    with FakeOpenAIServer() as server:
        api = {"base_url": server.url, "api_key_env": "TEST_KEY", "max_n": 2}
        for side, model, n in (("se", "pro", 1), ("wc", "flash", 5)):
            def generate(prompts, params, side=side, model=model):
                rows, usages[side] = sample(model, prompts, params, api=api, progress=False)
                return rows

            drawn[side] = draw_samples(generate, problems, [], style="math", generator=model, backend="openai_api",
                                       samples_per_question=n, temperature=0.7, top_k=-1, top_p=1.0, max_tokens=64,
                                       seed=3, chat=True)
    ledger = study.sampling_ledger(drawn["se"], drawn["wc"], k_se=1, ratio=5, cost_ratio=35.0, match="price")
    assert (ledger["se_tokens"], ledger["wc_tokens"]) == (usages["se"].completion_tokens, usages["wc"].completion_tokens)
    cells = [{"dataset": "math", "pair": "gemini", "budget": "low", "path": "m.json",
              "cost_per_token": {"se": 10.5 / 1e6, "wc": 0.3 / 1e6}, "cost_per_prompt_token": {"se": 0, "wc": 0}}]
    metrics = {"m.json": {"ledger": ledger, "se": {"k": 1}, "wc": {"k": 5}}}
    row = _rows(ledger_table(cells, metrics)[1])[0]
    assert row["Unit"] == "USD" and row["Realized with prompts"] == "--"
    assert float(row["SE cost"]) == pytest.approx(usage_cost(usages["se"], 10.5), rel=1e-2)
    assert float(row["WC cost"]) == pytest.approx(usage_cost(usages["wc"], 0.3), rel=1e-2)
    assert float(row["Planned WC/SE"]) == pytest.approx(5 / 35, abs=1e-3)

    cells[0]["cost_per_prompt_token"] = {"se": 3.5 / 1e6, "wc": 0.075 / 1e6}
    priced = _rows(ledger_table(cells, metrics)[1])[0]
    # SE draws 1 sample per question, one request each: the API's usage counts each prompt once, as the ledger
    assert float(priced["SE cost"]) == pytest.approx(usage_cost(usages["se"], 10.5, 3.5), rel=1e-2)
    prompts = {s["problem_id"]: s["prompt_tokens"] for s in drawn["wc"]}
    wc_cost = (usages["wc"].completion_tokens * 0.3 + sum(prompts.values()) * 0.075) / 1e6
    assert float(priced["WC cost"]) == pytest.approx(wc_cost, rel=1e-2)
    # WC's 5 samples took 3 requests per question (n capped at 2): the API bills the prompt thrice, the ledger once
    assert wc_cost < usage_cost(usages["wc"], 0.3, 0.075)
    assert float(priced["Realized with prompts"]) == pytest.approx(float(priced["WC cost"]) / float(priced["SE cost"]),
                                                                   rel=1e-2)


def test_a_ledger_written_before_prompt_tokens_asks_for_a_rerun():
    metrics = {"m.json": {"ledger": {"match": "compute", "se_tokens": 1, "wc_tokens": 3}}}
    cells = [{"dataset": "math", "pair": "toy", "budget": "low", "path": "m.json", "cost_per_token": {},
              "cost_per_prompt_token": {}}]
    with pytest.raises(ValueError, match="m.json: .*rerun measure_data"):
        ledger_table(cells, metrics)


def _rows(markdown: str) -> list[dict]:
    """A Markdown table's body as {header: cell}."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header, body = lines[0], lines[2:]

    def cells(line):
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    return [dict(zip(cells(header), cells(line))) for line in body]


# --- the workflow -----------------------------------------------------------------------------------------------

def _jobs(dry_run: str) -> list[dict]:
    """Each job of ``snakemake -n`` output: its rule and its input paths."""
    jobs = []
    for block in re.split(r"^(?:local)?rule ", dry_run, flags=re.MULTILINE)[1:]:
        inputs = re.search(r"^\s+input: (.+)$", block, re.MULTILINE)
        jobs.append({"rule": block.split(":", 1)[0], "input": set(inputs[1].split(", ")) if inputs else set()})
    return jobs


def test_paper_dry_run_lists_the_ablations_and_the_ledger(tmp_path):
    proc = snakemake("-n", "-p", "--directory", str(tmp_path), "--configfile", str(CONFIGS["paper"]))
    assert proc.returncode == 0, proc.stdout[-3000:]
    outputs = set(re.findall(r"^\s+output: (.+)$", proc.stdout, re.MULTILINE))
    outputs = {path for line in outputs for path in line.split(", ")}
    for name in ("number_matched", "cheaper_wc", "dataset_size", "coverage_diversity"):
        assert {f"results/ablations/{name}.tex", f"results/ablations/{name}.md"} <= outputs, name
    assert {"results/ledger.tex", "results/ledger.md"} <= outputs
    assert "results/ablations/number_matched.json" in outputs
    # the paper sets the ledger and every ablation's table; the findings read the number-matched rows
    jobs = {job["rule"]: job for job in _jobs(proc.stdout) if job["rule"] in ("write_paper", "write_findings")}
    assert {"results/ledger.tex", *(f"results/ablations/{name}.tex" for name in
                                    ("number_matched", "cheaper_wc", "dataset_size", "coverage_diversity"))} \
        <= jobs["write_paper"]["input"]
    assert "results/ablations/number_matched.json" in jobs["write_findings"]["input"]
    for variant in ("math/gemma2/low/wc.k1", "math/gemini/low/wc.k5", "math/gemma2/low/se.k1.first500",
                    "math/gemma2/low/wc.k3.first500", "math/gemma2/high/wc.k1", "math/gemma2/high/wc.k30.keep1"):
        assert f"results/rep-1/sft/{variant}.jsonl" in outputs, variant
        for student in ("gemma-7b", "gemma2-9b", "gemma2-27b"):
            dataset, pair, budget, source = variant.split("/")
            assert f"results/rep-1/evaluation/{dataset}/{pair}/{budget}/{student}/{source}.json" in outputs
            assert f"results/rep-1/finetune/{dataset}/{pair}/{budget}/{student}/{source}/lr-1e-06" in outputs
    # the main study's data keeps its paths and its rule
    assert re.search(r"rule build_sft_data:\n(?:.*\n)*?\s+output: results/rep-1/sft/math/gemma2/low/wc.jsonl", proc.stdout)
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout.split("Job stats:", 1)[1], re.MULTILINE))
    assert counts["build_ablation_sft_data"] == "6" and counts["make_ablation_table"] == "4"
    assert counts["make_ledger"] == "1"


@pytest.mark.e2e
def test_the_test_study_tabulates_every_ablation_and_the_ledger(local_test_run: Path):
    results = local_test_run / "results" / "test"
    config = load(CONFIGS["test"])
    for name in config.ablations:
        rows = _rows((results / "ablations" / f"{name}.md").read_text())
        arms = ablations.arms(config, name, "toy", "low")
        assert [(row["Data"], row["Samples/q"]) for row in rows] == [(a.label, str(a.per_question)) for a in arms]
        assert all(re.fullmatch(r"\d+\.\d( ± \d+\.\d)?\*?", row["pass@1"]) for row in rows), rows
        assert "\\bottomrule" in (results / "ablations" / f"{name}.tex").read_text()
    # each variant's data is what its name says, taken from the main study's samples
    sft = results / "rep-1" / "sft" / "math" / "toy" / "low"

    def problems(name):
        return [json.loads(line)["problem_id"] for line in (sft / f"{name}.jsonl").open()]

    wc = problems("wc")
    one_kept = problems("wc.k4.keep1")
    assert len(one_kept) == len(set(one_kept)) and set(one_kept) == set(wc)
    first = {json.loads(line)["id"] for line in list((results / "data" / "math" / "train.jsonl").open())[:20]}
    assert set(problems("se.k1.first20")) <= first and set(problems("wc.k4.first20")) <= first
    assert set(problems("wc.k1")) <= set(wc)
    ledger = _rows((results / "ledger.md").read_text())
    assert [(row["Dataset"], row["Unit"], row["Samples/q SE:WC"]) for row in ledger] == [
        ("math", "FLOPs", "1:4"), ("gsm8k", "FLOPs", "1:4")]
    for row in ledger:
        assert float(row["Planned WC/SE"]) == pytest.approx(4 / study.cost_ratio(config, "toy"), abs=1e-3)
        assert float(row["Realized with prompts"]) > 0 and float(row["Realized WC/SE"]) > 0
