"""The sources beyond wc, se and gold (weakstrong.sources): what each keeps of the samples already drawn (every
sample, the LLM judge's without gold answers, the majority answer's, the mixed pool), the judge without gold
answers (weakstrong.judge_filter), config checks, where they run, Tables 1b and 1c (weakstrong.source_tables),
their findings, dry runs of the paper's config and of the toy extras, and the test study's extras end to end."""

from __future__ import annotations

import dataclasses

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TEST_CONFIG, snakemake
from weakstrong import sources, study, targets
from weakstrong import config as ws_config
from weakstrong.config import ConfigError, build, validate
from weakstrong.study_config import SourceScope, Study
from weakstrong.findings import HOLDS, UNRESOLVED, findings_markdown, source_findings
from weakstrong.judge_filter import build_prompts, check_template, judge_samples, load_template
from weakstrong.layout import Layout
from weakstrong.solutions import sft_examples
from weakstrong.source_tables import mixed_rows, mixed_table, nogold_rows, nogold_table

PROBLEMS = [{"id": "p1", "question": "What is 2+3?", "solution": "2+3=5. #### 5", "answer": "5"},
            {"id": "p2", "question": "What is 4*2?", "solution": "4*2=8. #### 8", "answer": "8"},
            {"id": "p3", "question": "What is 9-1?", "solution": "9-1=8. #### 8", "answer": "8"},
            {"id": "p4", "question": "What is 1/2?", "solution": "1/2=0.5. #### 0.5", "answer": "0.5"}]


def sample(problem, index, answer, correct, *, generator="wc-model", finish="stop", undecided=False):
    return {"problem_id": problem, "sample_index": index, "generator": generator, "completion": f" work {answer} ",
            "extracted_answer": answer, "correct": correct, "grading_undecided": undecided, "finish_reason": finish}


#: Four samples per question. p1: 5, 5, 6, 7 (majority 5, right); p2: 8, 9, 9, None (majority 9, wrong);
#: p3: 8, 7, a cut-off 8 that does not vote (it would make 8 the majority), 9: a tie, nothing kept; p4: '1/2',
#: '0.5' (equivalent), '0.25', '0.50' (cut off): majority the two equivalent ones. The grader never credits a
#: cut-off sample.
GRADED = [
    sample("p1", 0, "5", True), sample("p1", 1, "5", True), sample("p1", 2, "6", False), sample("p1", 3, "7", False),
    sample("p2", 0, "8", True), sample("p2", 1, "9", False), sample("p2", 2, "9", False), sample("p2", 3, None, False),
    sample("p3", 0, "8", True), sample("p3", 1, "7", False), sample("p3", 2, "8", False, finish="length"),
    sample("p3", 3, "9", False),
    sample("p4", 0, "1/2", True), sample("p4", 1, "0.5", True), sample("p4", 2, "0.25", False),
    sample("p4", 3, "0.50", False, finish="length"),
]


def kept(examples):
    return [(e["problem_id"], e["sample_index"]) for e in examples]


# --- names ----------------------------------------------------------------------------------------------------

def test_every_source_is_named_by_what_it_keeps():
    assert sources.EXTRA == ("wc.unfiltered", "se.unfiltered", "wc.judged", "se.judged", "wc.majority",
                             "se.majority", "mix")
    assert sources.parse("wc.judged") == sources.Source("wc.judged", ("wc",), "judged")
    assert sources.parse("mix") == sources.Source("mix", ("se", "wc"), "answer")
    assert sources.parse("se") == sources.Source("se", ("se",), "answer")
    assert sources.parse("gold").sides == ()
    assert [sources.name_of(side, f) for side, f in (("wc", "answer"), ("se", "majority"))] == ["wc", "se.majority"]
    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    assert tuple(schema["properties"]["sources"]["items"]["enum"]) == sources.NAMES


@pytest.mark.parametrize("name", ["wc.filtered", "gold.unfiltered", "mixed", "wc.k3", "WC", "se.judged.k1"])
def test_anything_else_is_not_a_source(name):
    with pytest.raises(ValueError, match="not a source of finetuning data: expected one of wc, se, gold"):
        sources.parse(name)


# --- what each keeps --------------------------------------------------------------------------------------------

def test_unfiltered_keeps_every_sample_of_the_budget_right_or_wrong():
    examples = sources.unfiltered_examples(GRADED, PROBLEMS, 3)
    assert kept(examples) == [(g["problem_id"], g["sample_index"]) for g in GRADED if g["sample_index"] < 3]
    assert examples[2] == {"problem_id": "p1", "sample_index": 2, "generator": "wc-model", "question": "What is 2+3?",
                           "solution": "work 6", "correct": False}
    with pytest.raises(ValueError, match="4 samples per question were drawn, the budget needs 5"):
        sources.unfiltered_examples(GRADED, PROBLEMS, 5)


def test_majority_keeps_the_strict_majority_answers_samples():
    examples = sources.majority_examples(GRADED, PROBLEMS, 4)
    # p1: the two 5s; p2: the two 9s, wrong by the gold answer (the filter never reads it); p3: 8, 7 and 9 tie (the
    # cut-off 8 does not vote), nothing; p4: 1/2 and 0.5 are one answer (the cut-off 0.50 does not vote)
    assert kept(examples) == [("p1", 0), ("p1", 1), ("p2", 1), ("p2", 2), ("p4", 0), ("p4", 1)]
    assert [e["correct"] for e in examples] == [True, True, False, False, True, True]
    assert [(e["votes"], e["voters"]) for e in examples] == [(2, 4), (2, 4), (2, 3), (2, 3), (2, 3), (2, 3)]


def test_majority_of_one_sample_per_question_is_every_finished_sample():
    # SE at the low budget: each question's one sample is its own majority, unless it has no answer or was cut off
    graded = [sample("p1", 0, "6", False), sample("p2", 0, None, False), sample("p3", 0, "8", True, finish="length"),
              sample("p4", 0, "0.5", True)]
    assert kept(sources.majority_examples(graded, PROBLEMS, 1)) == [("p1", 0), ("p4", 0)]
    # the first sample of each question of GRADED: every one that voted
    assert kept(sources.majority_examples(GRADED, PROBLEMS, 1)) == [("p1", 0), ("p2", 0), ("p3", 0), ("p4", 0)]


@pytest.mark.parametrize("answers, winners", [
    (["a", "b"], set()),                    # a tie of two single answers
    (["a", "a", "b", "b", "c"], set()),     # a tie at the top
    (["a", "b", "a", "b", "a"], {0, 2, 4}),
    (["a"], {0}),                           # one voter
    ([None, None], set()),                  # nobody voted
    ([None, "b"], {1}),
    (["A", "a", "b"], {0, 1}),              # equivalent answers are one
])
def test_the_majority_rule(answers, winners):
    assert sources.majority(answers, lambda x, y: x.lower() == y.lower()) == winners


def test_judged_keeps_what_the_judge_rates_correct_without_seeing_the_gold_answer():
    gold_texts = {text for p in PROBLEMS for text in (p["solution"], f"#### {p['answer']}")}
    seen = []

    def judge(prompts, params):  # a fake judge: CORRECT for the samples that say 5 or 9
        seen.extend(prompts)
        assert params.temperature == 0.0 and params.n == 1
        return [[{"text": "Checked.\nVERDICT: CORRECT" if re.search(r"work (5|9)\b", prompt) else
                  "VERDICT: FLAWED" if "work 8" in prompt else "no verdict", "completion_tokens": 3,
                  "prompt_tokens": 50, "finish_reason": "stop"}] for prompt in prompts]

    verdicts, summary = judge_samples(judge, GRADED, PROBLEMS, load_template(), per_question=3, seed=0, max_tokens=64)
    assert len(seen) == 12 and not any(text in prompt for prompt in seen for text in gold_texts)
    assert "What is 4*2?" in seen[3] and "work 8" in seen[3] and "## Reference" not in seen[3]
    assert [v["verdict"] for v in verdicts[:4]] == ["correct", "correct", None, "flawed"]
    assert (summary["n"], summary["n_correct"], summary["n_flawed"], summary["n_unparsable"]) == (12, 4, 3, 5)
    # rated correct: p1's two 5s (right) and p2's two 9s (wrong); right ones: p1 0, 1, p2 0, p3 0, p4 0, 1
    assert summary["precision"]["rate"] == 0.5 and summary["recall"]["rate"] == pytest.approx(2 / 6)
    examples = sources.judged_examples(GRADED, verdicts, PROBLEMS, 3)
    assert kept(examples) == [("p1", 0), ("p1", 1), ("p2", 1), ("p2", 2)]
    assert [e["correct"] for e in examples] == [True, True, False, False]
    # a budget beyond what the judge rated is an error, not fewer examples
    with pytest.raises(ValueError, match="verdicts.jsonl has no verdict on sample 3 of problem 'p1'"):
        sources.judged_examples(GRADED, verdicts, PROBLEMS, 4, verdicts_path="verdicts.jsonl")


def test_the_judge_without_gold_answers_refuses_a_template_that_shows_them(tmp_path):
    shipped = load_template()
    assert "{question}" in shipped and "{candidate_solution}" in shipped and "{gold" not in shipped
    with pytest.raises(ValueError, match=r"shows the gold answer through \{gold_answer\}"):
        check_template("{question} {candidate_solution} {gold_answer}")
    with pytest.raises(ValueError, match=r"lacks placeholder\(s\) \{candidate_solution\}"):
        check_template("{question}")
    # braces in the texts (LaTeX) stay as they are, and a text holding a placeholder is not filled again
    problems = [{"id": "p", "question": r"Find $\frac{1}{2}$ {candidate_solution}"}]
    [prompt] = build_prompts([{"problem_id": "p", "completion": r"\boxed{2}"}], problems, "Q: {question} A: {candidate_solution}")
    assert prompt == r"Q: Find $\frac{1}{2}$ {candidate_solution} A: \boxed{2}"


def test_mixed_is_the_union_of_the_wc_and_se_data_each_sample_once():
    wc = GRADED
    se = [sample("p1", 0, "5", True, generator="se-model"), sample("p2", 0, "8", False, generator="se-model"),
          sample("p3", 0, "8", True, generator="se-model", undecided=True), sample("p4", 0, "0.5", True, generator="se-model")]
    examples = sources.mixed_examples({"se": se, "wc": wc}, PROBLEMS, {"se": 1, "wc": 3})
    # the same (question, solution) pairs as the answer-filtered SE and WC data together
    expected = sft_examples(se, PROBLEMS, 1) + sft_examples(wc, PROBLEMS, 3)
    assert [(e["question"], e["solution"]) for e in examples] == [(e["question"], e["solution"]) for e in expected]
    assert [e["side"] for e in examples] == ["se"] * 2 + ["wc"] * 6 == \
        ["se"] * len(sft_examples(se, PROBLEMS, 1)) + ["wc"] * len(sft_examples(wc, PROBLEMS, 3))
    # p1's "work 5" from SE and from WC are different draws: both stay; a sample is never there twice, even where one
    # generator is both sides of a pair
    assert len({(e["generator"], e["problem_id"], e["sample_index"]) for e in examples}) == len(examples)
    same = sources.mixed_examples({"se": wc, "wc": wc}, PROBLEMS, {"se": 1, "wc": 3})
    assert sorted(kept(same)) == sorted(kept(sft_examples(wc, PROBLEMS, 3)))


def test_build_dispatches_by_name():
    graded, per_question = {"wc": GRADED, "se": GRADED}, {"wc": 3, "se": 1}
    assert sources.build("wc.unfiltered", PROBLEMS, graded, per_question) == sources.unfiltered_examples(GRADED, PROBLEMS, 3)
    assert sources.build("se.majority", PROBLEMS, graded, per_question, equivalent=str.__eq__) == \
        sources.majority_examples(GRADED, PROBLEMS, 1, equivalent=str.__eq__)
    with pytest.raises(ValueError, match="needs the judge's verdicts on SE's samples"):
        sources.build("se.judged", PROBLEMS, graded, per_question)
    with pytest.raises(ValueError, match="built by build_sft_data"):
        sources.build("wc", PROBLEMS, graded, per_question)


def test_majority_compares_answers_with_the_grader_by_default():
    graded = [sample("p4", 0, "\\frac{1}{2}", True), sample("p4", 1, "0.5", True), sample("p4", 2, "0.25", False)]
    assert kept(sources.majority_examples(graded, PROBLEMS, 3)) == [("p4", 0), ("p4", 1)]


# --- the config -------------------------------------------------------------------------------------------------

def _test_config():
    return yaml.safe_load(TEST_CONFIG.read_text())


def _error(config) -> str:
    with pytest.raises(ConfigError) as error:
        validate(config)
    return str(error.value)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.__setitem__("sources", ["wc", "se", "wc.filtered"]), "config key 'sources[2]': 'wc.filtered' is not one of"),
    (lambda c: c.__setitem__("sources", ["wc", "mix", "mix"]), "config key 'sources': ['wc', 'mix', 'mix'] has non-unique"),
    (lambda c: c.__setitem__("sources", ["wc", "se", "se.judged"]),
     "config key 'sources[2]': 'se.judged' keeps what the LLM judge rates correct, which needs a `judge` section"),
    (lambda c: c.__setitem__("sources", ["wc", "mix"]),
     "config key 'sources[1]': 'mix' is compared with WC-only and SE-only data: 'wc' and 'se' must be sources too"),
    (lambda c: c.__setitem__("source_scope", {"students": ["toy-student", "toy-xl"]}),
     "config key 'source_scope.students[1]': 'toy-xl' is not among the pairs' students"),
    (lambda c: c.__setitem__("source_scope", {"datasets": ["aime"]}),
     "config key 'source_scope.datasets[0]': 'aime' is not among the pairs' datasets"),
    (lambda c: c.__setitem__("source_scope", {"budgets": ["high"]}),
     "config key 'source_scope.budgets[0]': 'high' is not among finetune.budgets"),
    (lambda c: c.__setitem__("source_scope", {"pairs": ["toy"]}), "config key 'source_scope': Additional properties"),
])
def test_bad_sources_stop_with_the_key_named(edit, message):
    config = _test_config()
    edit(config)
    assert message in _error(config)


def test_a_judged_source_with_a_judge_validates():
    config = _test_config()
    config["sources"] = ["wc", "se", "wc.judged", "se.judged"]
    config["judge"] = {"model": "toy-se"}
    assert validate(config)["sources"][2] == "wc.judged"


# --- where they run ---------------------------------------------------------------------------------------------

def _toy_extras() -> Study:
    from snakemake.utils import update_config

    raw = yaml.safe_load((REPO / "configs" / "toy.yaml").read_text())
    update_config(raw, yaml.safe_load((REPO / "configs" / "toy-extras.yaml").read_text()))  # as --configfile merges
    return build(raw)


def test_the_toy_extras_finetune_the_toy_student_on_gsm8k_style_data_only():
    config = _toy_extras()
    cells = targets.finetune_cells(config)
    extra = [cell for cell in cells if cell[4] not in sources.MAIN]
    assert extra == [("gsm8k", "toy", "low", "toy-student", name) for name in
                     ("wc.unfiltered", "se.unfiltered", "wc.majority", "se.majority", "mix")]
    assert len(cells) - len(extra) == 2 * 3 * 2  # the demo's: 2 styles, 3 students, wc and se
    # Table 1 is the main study's; Tables 1b and 1c compare the new sources with wc and se
    layout = Layout.from_config(config)
    assert {cell["source"] for cell in targets.table1_cells(config, layout)} == {"wc", "se"}
    assert targets.source_table_files(config, layout) == [
        "results/toy-extras/table1-nogold.tex", "results/toy-extras/table1-nogold.md",
        "results/toy-extras/table1-mixed.tex", "results/toy-extras/table1-mixed.md"]
    nogold = targets.source_cells(config, layout, "nogold")
    assert [(c["source"], c["side"], c["filter"]) for c in nogold] == [
        ("se", "se", "answer"), ("wc", "wc", "answer"), ("wc.unfiltered", "wc", "unfiltered"),
        ("se.unfiltered", "se", "unfiltered"), ("wc.majority", "wc", "majority"), ("se.majority", "se", "majority")]
    assert nogold[2]["sft"] == {"1": "results/toy/rep-1/sft/gsm8k/toy/low/wc.unfiltered.jsonl"}
    assert nogold[2]["paths"] == {"1": "results/toy/rep-1/evaluation/gsm8k/toy/low/toy-student/wc.unfiltered.json"}
    mixed = targets.source_cells(config, layout, "mixed")
    assert [(c["source"], c["setting"]) for c in mixed] == [
        ("se", "knowledge distillation"), ("wc", "knowledge distillation"), ("mix", "mixed")]


def test_the_inputs_of_each_source(paper):
    layout = Layout.from_config(paper)
    wildcards = {"dataset": "math", "pair": "gemma2", "budget": "high", "replicate": "1"}

    class W(dict):
        __getattr__ = dict.__getitem__

    def inputs(source, kind="graded"):
        return targets.source_graded(paper, layout, W(wildcards, source=source), kind)

    assert inputs("mix") == ["results/rep-1/graded/math/gemma2-27b.jsonl", "results/rep-1/graded/math/gemma2-9b.jsonl"]
    assert inputs("wc.unfiltered") == ["results/rep-1/graded/math/gemma2-9b.jsonl"]
    assert inputs("wc.unfiltered", "verdicts") == []
    assert inputs("se.judged", "verdicts") == ["results/rep-1/verdicts/math/gemma2-27b.jsonl"]
    assert targets.source_per_question(paper, "gemma2", "high", "mix") == [10, 30]
    # the judge rates what the largest finetuned budget takes: Gemma2's high budget, Flash's 35 at the low
    assert [targets.judged_per_question(paper, "math", g) for g in
            ("gemma2-9b", "gemma2-27b", "gemini-1.5-flash", "gemini-1.5-pro")] == [30, 10, 35, 1]
    scoped = dataclasses.replace(paper, source_scope=SourceScope(budgets=["low"]))
    assert targets.judged_per_question(scoped, "math", "gemma2-9b") == 3
    with pytest.raises(ValueError, match="no judged source keeps samples of 'gemma2-9b'"):
        targets.judged_per_question(dataclasses.replace(paper, sources=["wc", "se", "mix"]), "math", "gemma2-9b")


def test_the_papers_config_runs_every_new_source_and_the_judge(paper):
    assert set(paper.sources) == {"wc", "se", "gold", "wc.unfiltered", "se.unfiltered", "wc.judged", "se.judged",
                                     "mix"}
    assert targets.source_tables(paper) == ["nogold", "mixed"]
    assert study.setting(paper, "gemma2", "gemma2-27b", sources.parse("wc.judged").sides[0]) == "weak-to-strong"


# --- Tables 1b and 1c ------------------------------------------------------------------------------------------

N = 40


def _evaluation(score, step=10):
    return {"pass@1": score, "selection": {"step": step},
            "per_problem": {"problem_id": [f"q{i}" for i in range(N)], "pass@1": [int(i < round(score * N)) for i in range(N)]}}


def _cell(source, side, filter_name, setting="knowledge distillation"):
    return {"dataset": "gsm8k", "pair": "toy", "budget": "low", "student": "s", "source": source, "side": side,
            "filter": filter_name, "setting": setting, "sft": {"1": f"sft/{source}"}, "paths": {"1": f"eval/{source}"}}


NOGOLD_CELLS = [_cell("se", "se", "answer"), _cell("wc", "wc", "answer"), _cell("wc.unfiltered", "wc", "unfiltered"),
                _cell("se.unfiltered", "se", "unfiltered"), _cell("wc.majority", "wc", "majority")]
SCORES = {"se": 0.30, "wc": 0.35, "wc.unfiltered": 0.50, "se.unfiltered": 0.20, "wc.majority": 0.40, "mix": 0.40}
DATA = {"sft/se": [{"problem_id": "q1"}] * 3, "sft/wc": [{"problem_id": "q1"}] * 5,
        "sft/wc.unfiltered": [{"correct": True}] * 2 + [{"correct": False}] * 6,
        "sft/se.unfiltered": [{"correct": True}] * 1 + [{"correct": False}] * 3,
        "sft/wc.majority": [{"correct": True}] * 3 + [{"correct": False}] * 1,
        "sft/mix": [{"correct": True}] * 8}


def test_table_1b_compares_wc_and_se_per_filter_paired_by_problem():
    evaluations = {f"eval/{s}": _evaluation(score) for s, score in SCORES.items()}
    rows = nogold_rows(NOGOLD_CELLS, evaluations, DATA)
    assert [row["filter"] for row in rows] == ["answer", "unfiltered", "majority"]
    answer, unfiltered, majority = rows
    assert answer["data"] == {"se": {"examples": 3, "right": 1.0}, "wc": {"examples": 5, "right": 1.0}}
    assert unfiltered["data"]["wc"] == {"examples": 8, "right": 0.25}
    # WC 20 of 40 right, SE 8: the first 8 problems right in both, 12 more for WC: +0.30, its interval above 0
    assert unfiltered["difference"]["mean"] == pytest.approx(0.30) and unfiltered["difference"]["verdict"] == "WC better"
    assert unfiltered["gain"] == pytest.approx(1.5)
    assert "difference" not in majority and set(majority["data"]) == {"wc"}   # no se.majority here
    json.dumps(rows)  # the findings read them as JSON
    _, md = nogold_table(rows, judge_model=None)
    lines = [line for line in md.splitlines() if line.startswith("| gsm8k")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    assert [c[5:10] for c in cells] == [["gold answer", "3", "5", "100.0", "100.0"], ["none", "4", "8", "25.0", "25.0"],
                                        ["majority answer", "--", "4", "--", "75.0"]]
    assert cells[1][-1] == "WC better" and cells[1][-2].startswith("+30.0 [")
    assert "label-free filter" in md and "one replicate" in md
    # kept counts are means over the replicates
    _, md = nogold_table([{**unfiltered, "data": {"se": {"examples": 2.5, "right": None}}}])
    line = next(line for line in md.splitlines() if line.startswith("| gsm8k"))
    assert [c.strip() for c in line.strip("|").split("|")][6:10] == ["2.5", "--", "--", "--"]


def test_table_1c_compares_the_mixed_pool_with_each_side():
    cells = [_cell("se", "se", "answer"), _cell("wc", "wc", "answer"), _cell("mix", None, "answer", "mixed")]
    evaluations = {f"eval/{s}": _evaluation(score) for s, score in SCORES.items()}
    evaluations["eval/se"] = _evaluation(0.45, step=0)   # the untrained student kept on SE data
    [row] = mixed_rows(cells, evaluations, DATA)
    assert row["against"]["wc"]["mean"] == pytest.approx(0.05) and row["against"]["se"]["mean"] == pytest.approx(-0.05)
    assert row["against"]["wc"]["verdict"] == row["against"]["se"]["verdict"] == "no difference at 95%"
    assert row["untrained"] == ["se"] and row["data"]["mix"] == {"examples": 8, "right": 1.0}
    assert row["settings"] == {"wc": "knowledge distillation", "se": "knowledge distillation"}
    json.dumps(row)
    _, md = mixed_table([row])
    line = next(line for line in md.splitlines() if line.startswith("| gsm8k"))
    assert [c.strip() for c in line.strip("|").split("|")][5:] == [
        "3", "5", "8", "45.0 ± 15.6*", "35.0 ± 15.0", "40.0 ± 15.4", "+5.0 [-1.8, 11.8]", "no difference at 95%",
        "-5.0 [-11.8, 1.8]", "no difference at 95%"]
    assert "untrained student was selected" in md


def test_the_mixed_verdicts_name_the_arms():
    cells = [_cell("se", "se", "answer"), _cell("wc", "wc", "answer"), _cell("mix", None, "answer", "mixed")]
    evaluations = {"eval/se": _evaluation(0.1), "eval/wc": _evaluation(0.9), "eval/mix": _evaluation(0.5)}
    [row] = mixed_rows(cells, evaluations, DATA)
    assert (row["against"]["wc"]["verdict"], row["against"]["se"]["verdict"]) == ("WC better", "mix better")


# --- findings ---------------------------------------------------------------------------------------------------

def test_findings_without_gold_answers_and_of_the_mixed_pool():
    evaluations = {f"eval/{s}": _evaluation(score) for s, score in SCORES.items()}
    nogold = nogold_rows(NOGOLD_CELLS, evaluations, DATA)
    cells = [_cell("se", "se", "answer"), _cell("wc", "wc", "answer"), _cell("mix", None, "answer", "mixed")]
    mixed = mixed_rows(cells, evaluations, DATA)
    findings = source_findings(json.loads(json.dumps(nogold)), json.loads(json.dumps(mixed)), {"toy": "compute"})
    assert [(f["statement"].split(",")[0], f["status"]) for f in findings] == [
        ("Without gold answers and without filtering (every sample kept)", HOLDS),
        ("Without gold answers", UNRESOLVED),      # majority: no SE side, no cell
        ("Models trained on the mixed WC+SE pool beat those trained on WC data alone", UNRESOLVED),
        ("Models trained on the mixed WC+SE pool beat those trained on SE data alone", HOLDS)]
    assert findings[1]["reason"] == "no cell has majority data of both sides (config key 'sources')"
    assert "PAPER.md" in findings[0]["paper"] and "not one of the paper's filters" in findings[1]["paper"]
    text = findings_markdown(findings)
    assert "## Without gold answers, and mixed WC+SE data" in text
    assert all(header in text for header in ("SE-trained pass@1 (%) [95%]", "Mix-trained pass@1 (%) [95%]",
                                             "Mix - SE (points) [95%]"))
    assert "mix better" in text
    # without those sources the findings have no such section
    assert "mixed WC+SE" not in findings_markdown([])
    assert source_findings([], [], {}) == []


# --- the workflow -------------------------------------------------------------------------------------------------

def _jobs(dry_run: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", dry_run.split("Job stats:", 1)[1], re.MULTILINE)
            if m[1] != "total"}


def test_paper_dry_run_lists_every_new_target(tmp_path):
    proc = snakemake("-n", "-p", "--directory", str(tmp_path), "--configfile", str(REPO / "config.yaml"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    outputs = {path for line in re.findall(r"^\s+output: (.+)$", proc.stdout, re.MULTILINE) for path in line.split(", ")}
    for table in ("nogold", "mixed"):
        assert {f"results/table1-{table}.{ext}" for ext in ("tex", "md", "json")} <= outputs
    for generator in ("gemma2-9b", "gemma2-27b", "gemini-1.5-flash", "gemini-1.5-pro"):
        assert f"results/rep-1/verdicts/math/{generator}.jsonl" in outputs
    for source in ("wc.unfiltered", "se.unfiltered", "wc.judged", "se.judged", "mix"):
        assert f"results/rep-1/sft/gsm8k/gemma2/high/{source}.jsonl" in outputs
        assert f"results/rep-1/finetune/math/gemini/low/gemma2-27b/{source}/lr-1e-06" in outputs
        assert f"results/rep-1/evaluation/gsm8k/gemma2/low/gemma-7b/{source}.json" in outputs
    assert "results/rep-1/sft/math/gemma2/low/wc.majority.jsonl" not in outputs  # not in config.yaml
    assert re.search(r"rule build_extra_sft_data:\n(?:.*\n)*?\s+output: results/rep-1/sft/math/gemma2/low/mix.jsonl",
                     proc.stdout)
    assert re.search(r"rule build_sft_data:\n(?:.*\n)*?\s+output: results/rep-1/sft/math/gemma2/low/wc.jsonl", proc.stdout)


def test_toy_extras_dry_run_adds_only_their_own_jobs(tmp_path):
    toy = ["--configfile", str(REPO / "configs" / "toy.yaml")]
    demo = _jobs(snakemake("-n", "--quiet", "rules", "--directory", str(tmp_path), *toy).stdout)
    proc = snakemake("-n", "--quiet", "rules", "--directory", str(tmp_path), *toy, str(REPO / "configs" / "toy-extras.yaml"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    extras = _jobs(proc.stdout)
    # 5 sources for one student on one style: 5 more finetuning runs and evaluations, 5 data files, 2 tables;
    # and the overlay's transfer block (tests/test_transfer.py)
    assert {rule: extras[rule] - demo.get(rule, 0) for rule in extras if extras[rule] != demo.get(rule, 0)} == {
        "build_extra_sft_data": 5, "finetune": 5, "select_checkpoint": 5, "evaluate": 5, "make_source_table": 2,
        "prepare_transfer_dataset": 1, "evaluate_transfer": 6, "make_transfer_table": 1, "plot_transfer": 1}
    assert "judge_samples" not in extras


#: The toy extras at test sizes, over configs/test.yaml (the end-to-end test below): every new source, the judged
#: ones with the SE toy model as judge (it gives no parsable verdict, so they keep nothing: the rules run end to
#: end), for one student on one style.
TEST_EXTRAS = {"sources": ["wc", "se", "gold", *sources.EXTRA],
               "source_scope": {"students": ["toy-student"], "datasets": ["math"]},
               "judge": {"model": "toy-se", "solutions_per_source": 4, "audit_size": 2, "max_tokens": 8}}


@pytest.mark.e2e
def test_the_test_study_extras_end_to_end(local_test_run: Path, tmp_path):
    """The extras over a copy of the test study's run: only their own jobs run (and the tables and the judge's
    that the judge section adds), every source's data is what its name says, and Tables 1b and 1c and the findings
    have their rows."""
    work = tmp_path / "run"
    shutil.copytree(local_test_run, work, symlinks=True)
    overlay = tmp_path / "extras.yaml"
    overlay.write_text(yaml.safe_dump(TEST_EXTRAS))
    configs = ["--configfile", str(TEST_CONFIG), str(overlay)]
    plan = snakemake("-n", "--quiet", "rules", "--directory", str(work), *configs, cwd=work)
    assert plan.returncode == 0, plan.stdout[-3000:]
    rules = _jobs(plan.stdout)
    assert not {"train_toy_model", "sample_solutions", "grade_samples", "build_sft_data", "evaluate_base"} & set(rules)
    # 2 replicates x 7 sources, and the judge of both generators' math samples per replicate
    assert (rules["build_extra_sft_data"], rules["finetune"], rules["evaluate"], rules["judge_samples"]) == (14, 14, 14, 4)
    start = time.monotonic()
    proc = snakemake("--directory", str(work), *configs, "--cores", "2", cwd=work, timeout=1800)
    (tmp_path / "snakemake.log").write_text(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-6000:]
    print(f"the test study's extras ran in {time.monotonic() - start:.0f} s")
    check_extras_run(work / "results" / "test")


def check_extras_run(results: Path) -> None:
    """What the extras of TEST_EXTRAS wrote under the test study's ``results``: each source's data is what its name
    says, and Tables 1b and 1c, the findings and the paper have them."""
    sft = results / "rep-1" / "sft" / "math" / "toy" / "low"

    def read(name):
        return [json.loads(line) for line in (sft / f"{name}.jsonl").open()]

    graded = [json.loads(line) for line in (results / "rep-1" / "graded" / "math" / "toy-wc.jsonl").open()]
    per_question = study.samples_per_question(ws_config.build({**_test_config(), **TEST_EXTRAS}), "toy", "low", "wc")
    assert len(read("wc.unfiltered")) == sum(g["sample_index"] < per_question for g in graded)
    assert {(e["problem_id"], e["sample_index"]) for e in read("wc.majority")} <= \
        {(e["problem_id"], e["sample_index"]) for e in read("wc.unfiltered")}
    mix, wc, se = read("mix"), read("wc"), read("se")
    assert len(mix) == len(wc) + len(se) and all(e["correct"] for e in mix)
    verdicts = [json.loads(line) for line in (results / "rep-1" / "verdicts" / "math" / "toy-wc.jsonl").open()]
    assert len(verdicts) == len(read("wc.unfiltered"))
    assert len(read("wc.judged")) == sum(v["verdict"] == "correct" for v in verdicts)
    for table in ("nogold", "mixed"):
        assert "\\bottomrule" in (results / f"table1-{table}.tex").read_text()
    nogold = json.loads((results / "table1-nogold.json").read_text())
    assert [row["filter"] for row in nogold] == ["answer", "unfiltered", "judged", "majority"]
    assert "## Without gold answers, and mixed WC+SE data" in (results / "findings.md").read_text()
    paper = (results / "paper.tex").read_text()
    assert "Finetuning without gold answers (Table 1b)" in paper and "Finetuning on mixed data (Table 1c)" in paper
