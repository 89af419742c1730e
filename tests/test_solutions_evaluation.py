"""weakstrong.solutions, evaluation, selection, prompts and data, with a plain callable standing in for the
generation backend (the code under test is the sampling / grading / evaluation logic around it)."""

from __future__ import annotations

import json

import pytest

from weakstrong import data
from weakstrong.evaluation import accuracy, evaluate, evaluation_settings, majority_answer, reuse_base_evaluation
from weakstrong.prompts import build_prompts, few_shot_prompt, format_question, stop_strings
from weakstrong.sampling import SamplingParams
from weakstrong.selection import select_best
from weakstrong.solutions import draw_samples, gold_examples, grade_samples, sft_examples, shard_of, shard_seed
from weakstrong.toy import make_splits

# --- shards and sampling --------------------------------------------------------------------------------------

def test_shard_of_partitions_problems():
    problems = [{"id": str(i)} for i in range(10)]
    shards = [shard_of(problems, s, 3) for s in range(3)]
    assert [len(s) for s in shards] == [4, 3, 3]
    ids = [p["id"] for shard in shards for p in shard]
    assert sorted(ids, key=int) == [str(i) for i in range(10)] and len(set(ids)) == 10
    assert [p["id"] for p in shards[1]] == ["1", "4", "7"]  # interleaved: mixed difficulty
    assert shard_of(problems, 0, 1) == problems
    for bad in (-1, 3):
        with pytest.raises(ValueError, match="outside"):
            shard_of(problems, bad, 3)


def test_shard_seed_distinct_and_reproducible():
    seeds = {shard_seed(1, g, d, s) for g in ("wc", "se") for d in ("math", "gsm8k") for s in range(4)}
    assert len(seeds) == 16
    assert shard_seed(1, "wc", "math", 0) == shard_seed(1, "wc", "math", 0)
    assert all(0 <= s < 2**31 - 1 for s in seeds)


class FakeBackend:
    """A stand-in for ``generate``: returns canned completions and records what it was asked."""

    def __init__(self, replies):
        self.replies = replies   # function (prompt index, sample index, params) -> text
        self.calls = []

    def __call__(self, prompts, params):
        self.calls.append((list(prompts), params))
        return [[{"text": self.replies(i, j, params), "prompt_tokens": len(str(prompt).split()),
                  "completion_tokens": 10 + j, "finish_reason": "length" if j == 2 else "stop"}
                 for j in range(params.n)] for i, prompt in enumerate(prompts)]


def test_draw_samples_records():
    splits = make_splits("gsm8k", {"test": 3, "train": 10}, 0)
    exemplars = splits["train"][:2]
    backend = FakeBackend(lambda i, j, p: f" answer {i}/{j}")
    records = draw_samples(backend, splits["test"], exemplars, style="gsm8k", generator="toy-wc", backend="fake",
                           samples_per_question=3, temperature=0.7, top_k=-1, top_p=1.0, max_tokens=64, seed=99)
    [(prompts, params)] = backend.calls
    assert prompts == [few_shot_prompt(p["question"], exemplars, "gsm8k") for p in splits["test"]]
    assert params == SamplingParams(n=3, temperature=0.7, top_k=-1, top_p=1.0, max_tokens=64, seed=99,
                                    stop=stop_strings("gsm8k"))
    assert len(records) == 9
    assert [(r["problem_id"], r["sample_index"]) for r in records] == \
        [(p["id"], j) for p in splits["test"] for j in range(3)]
    first = records[0]
    assert first["completion"] == " answer 0/0" and first["generator"] == "toy-wc" and first["backend"] == "fake"
    assert first["few_shot_ids"] == sorted(e["id"] for e in exemplars)
    assert (first["temperature"], first["seed"], first["max_tokens"], first["top_k"]) == (0.7, 99, 64, -1)
    assert records[2]["finish_reason"] == "length" and records[1]["completion_tokens"] == 11
    assert "n" not in first and "stop" not in first


def test_draw_samples_never_samples_an_exemplar():
    train = make_splits("gsm8k", {"train": 5}, 0)["train"]
    with pytest.raises(ValueError, match=train[1]["id"]):
        draw_samples(FakeBackend(lambda i, j, p: "x"), train, train[1:2], style="gsm8k", generator="g",
                     backend="b", samples_per_question=1, temperature=1.0, top_k=-1, top_p=1.0, max_tokens=8, seed=0)


def test_draw_samples_zero_shot():
    problems = make_splits("math", {"test": 2}, 0)["test"]
    backend = FakeBackend(lambda i, j, p: "x")
    records = draw_samples(backend, problems, [], style="math", generator="g", backend="b", samples_per_question=1,
                           temperature=1.0, top_k=-1, top_p=1.0, max_tokens=8, seed=0)
    assert backend.calls[0][0] == [format_question(p["question"], "math") for p in problems]
    assert all(r["few_shot_ids"] == [] for r in records)


def test_draw_samples_chat_prompts_have_no_stop_strings():
    problems = make_splits("math", {"test": 2, "train": 3}, 0)
    backend = FakeBackend(lambda i, j, p: "x")
    draw_samples(backend, problems["test"], problems["train"][:1], style="math", generator="g", backend="b",
                 samples_per_question=1, temperature=1.0, top_k=-1, top_p=1.0, max_tokens=8, seed=0, chat=True)
    [(prompts, params)] = backend.calls
    assert params.stop == ()
    assert [m["role"] for m in prompts[0]] == ["system", "user", "assistant", "user"]
    assert prompts[0][-1]["content"] == problems["test"][0]["question"]


# --- grading and SFT data -------------------------------------------------------------------------------------

PROBLEMS = [
    {"id": "a", "question": "Qa", "solution": "Sa\n#### 7", "answer": "7", "level": 1},
    {"id": "b", "question": "Qb", "solution": "Sb\n#### 1000", "answer": "1000", "level": 2},
]


def _sample(pid, index, completion, finish="stop"):
    return {"problem_id": pid, "sample_index": index, "completion": completion, "finish_reason": finish,
            "generator": "g"}


def test_grade_samples_marks_correctness():
    samples = [_sample("a", 0, "3 + 4 = 7\n#### 7"), _sample("a", 1, "#### 8"),
               _sample("a", 2, "#### 7", finish="length"),        # cut off: never credited
               _sample("b", 0, "So the total is $1,000.\n#### 1,000"), _sample("b", 1, "I do not know")]
    graded = grade_samples(samples, PROBLEMS, "gsm8k", workers=1)
    assert [g["correct"] for g in graded] == [True, False, False, True, False]
    assert [g["extracted_answer"] for g in graded] == ["7", "8", "7", "1000", None]
    assert [g["gold_answer"] for g in graded] == ["7", "7", "7", "1000", "1000"]
    assert all(g["grading_timed_out"] is False for g in graded)
    assert graded[0]["generator"] == "g"  # the sample's fields are kept
    assert "correct" not in samples[0]     # input not modified


def test_grade_samples_unknown_problem():
    with pytest.raises(ValueError, match="unknown problem ids.*'zz'"):
        grade_samples([_sample("zz", 0, "#### 1")], PROBLEMS, "gsm8k", workers=1)


def test_sft_examples_budget_and_correct_only():
    graded = [
        {"problem_id": "a", "sample_index": 0, "completion": " first \n", "correct": True},
        {"problem_id": "a", "sample_index": 1, "completion": "wrong", "correct": False},
        {"problem_id": "a", "sample_index": 2, "completion": "second", "correct": True},
        {"problem_id": "a", "sample_index": 3, "completion": "beyond", "correct": True},
        {"problem_id": "b", "sample_index": 1, "completion": "b-ok", "correct": True},
        {"problem_id": "b", "sample_index": 0, "completion": "b-wrong", "correct": False},
    ]
    examples = sft_examples(graded, PROBLEMS, per_question=3)
    assert examples == [
        {"problem_id": "a", "sample_index": 0, "question": "Qa", "solution": "first"},
        {"problem_id": "a", "sample_index": 2, "question": "Qa", "solution": "second"},
        {"problem_id": "b", "sample_index": 1, "question": "Qb", "solution": "b-ok"},
    ]
    one = sft_examples(graded, PROBLEMS, per_question=1)
    assert [(e["problem_id"], e["sample_index"]) for e in one] == [("a", 0)]
    for per_question in (1, 2, 3, 4):
        examples = sft_examples(graded, PROBLEMS, per_question)
        assert all(sum(e["problem_id"] == p["id"] for e in examples) <= per_question for p in PROBLEMS)
        assert all(e["solution"] not in ("wrong", "b-wrong") for e in examples)


def test_gold_examples():
    assert gold_examples(PROBLEMS) == [
        {"problem_id": "a", "sample_index": 0, "question": "Qa", "solution": "Sa\n#### 7"},
        {"problem_id": "b", "sample_index": 0, "question": "Qb", "solution": "Sb\n#### 1000"}]


# --- evaluation -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("answers, expected", [
    (["3", "4", "4"], "4"),
    (["1/2", "0.5", "3", "3"], "1/2"),           # equivalent answers count together; tie -> earliest
    (["3", "\\frac{1}{2}", "0.5", "3", "1/2"], "\\frac{1}{2}"),
    ([None, "5", None], "5"),
    ([None, None], None),
    ([], None),
])
def test_majority_answer(answers, expected):
    assert majority_answer(answers) == expected


MATH_PROBLEMS = [
    {"id": "m1", "question": "Compute $2+2$.", "answer": "4", "level": 1},
    {"id": "m2", "question": "Compute $1 \\div 2$.", "answer": "\\frac{1}{2}", "level": 2},
    {"id": "m3", "question": "Compute $3 \\times 3$.", "answer": "9", "level": 2},
]
GREEDY = ["So $\\boxed{4}$.", "It is $\\boxed{0.5}$.", "Hence $\\boxed{8}$."]
VOTES = [["$\\boxed{3}$", "$\\boxed{4}$", "$\\boxed{4}$"],
         ["$\\boxed{0.5}$", "$\\boxed{2}$", "$\\boxed{\\frac12}$"],
         ["$\\boxed{9}$", "$\\boxed{8}$", "no idea"]]   # tie 9 / 8: earliest (9)


def _fake_eval_backend():
    def reply(i, j, params):
        return GREEDY[i] if params.n == 1 and params.temperature == 0 else VOTES[i][j]
    return FakeBackend(reply)


def test_evaluate_with_fake_backend():
    backend = _fake_eval_backend()
    result = evaluate(backend, MATH_PROBLEMS, "math", exemplars=None, max_tokens=32, maj_k=[1, 3], temperature=0.7,
                      seed=5, workers=1)
    # greedy: 4 right, 0.5 = 1/2 right, 8 wrong
    assert result["problems"] == 3
    assert result["pass@1"] == pytest.approx(2 / 3)
    assert result["per_level"] == {"1": 1.0, "2": 0.5}
    # votes: 4 (2 of 3), 1/2 (0.5 and \frac12 together), 9 (tie with 8, earliest)
    assert result["maj@3"] == pytest.approx(1.0)
    # maj@1 is the first vote alone: 3 wrong, 0.5 right, 9 right
    assert result["maj@1"] == pytest.approx(2 / 3)
    assert [e["correct"] for e in result["examples"]] == [True, True, False]
    assert result["examples"][2] == {"problem_id": "m3", "completion": GREEDY[2], "correct": False}
    # every problem's outcome, in the problems' order, beside the means
    assert result["per_problem"] == {"problem_id": ["m1", "m2", "m3"], "pass@1": [1, 1, 0], "maj@1": [0, 1, 1],
                                     "maj@3": [1, 1, 1]}
    # the text of every correct greedy completion (the students' reasoning errors are checked on them)
    assert result["correct_completions"] == [{"problem_id": "m1", "completion": GREEDY[0]},
                                             {"problem_id": "m2", "completion": GREEDY[1]}]
    # two calls: greedy, then k samples at T=0.7; bare questions for a finetuned student
    (prompts1, greedy), (prompts2, sampled) = backend.calls
    assert prompts1 == prompts2 == [format_question(p["question"], "math") for p in MATH_PROBLEMS]
    assert (greedy.n, greedy.temperature, greedy.max_tokens, greedy.seed, greedy.stop) == \
        (1, 0.0, 32, 5, stop_strings("math"))
    assert (sampled.n, sampled.temperature, sampled.max_tokens) == (3, 0.7, 32)


def test_evaluate_few_shot_and_no_vote():
    backend = _fake_eval_backend()
    exemplars = [{"question": "Compute $1+1$.", "solution": "$1 + 1 = 2$. $\\boxed{2}$"}]
    result = evaluate(backend, MATH_PROBLEMS, "math", exemplars=exemplars, max_tokens=16, workers=1)
    assert len(backend.calls) == 1
    assert backend.calls[0][0] == build_prompts([p["question"] for p in MATH_PROBLEMS], exemplars, "math")
    assert backend.calls[0][0][0] == few_shot_prompt(MATH_PROBLEMS[0]["question"], exemplars, "math")
    assert not any(key.startswith("maj@") for key in result)
    assert result["pass@1"] == pytest.approx(2 / 3)


def test_maj_k_needs_enough_votes():
    with pytest.raises(ValueError, match="needs 4 sampled completions"):
        accuracy(MATH_PROBLEMS, GREEDY, "math", voted=VOTES, maj_k=[1, 4], workers=1)


def test_accuracy_length_mismatch():
    with pytest.raises(ValueError, match="2 completions for 3 problems"):
        accuracy(MATH_PROBLEMS, GREEDY[:2], "math", workers=1)


# --- checkpoint selection --------------------------------------------------------------------------------------

def _scores(lr, accs, examples=40):
    return {"examples": examples,
            "checkpoints": [{"step": 10 * (i + 1), "settings": {"lr": lr}, "validation_accuracy": acc,
                             "train_loss": 1.0 / (i + 1)} for i, acc in enumerate(accs)]}


UNTRAINED = {"checkpoint": "models/student", "validation_accuracy": 0.3}


def test_select_best_picks_highest_validation_accuracy():
    runs = {"ft/lr1e-06": _scores(1e-6, [0.2, 0.4, 0.3]), "ft/lr0.0003": _scores(3e-4, [0.1, 0.35, 0.5])}
    best = select_best(runs, UNTRAINED, untrained_candidate=True)
    assert best["checkpoint"] == "ft/lr0.0003/checkpoint-30"
    assert (best["lr"], best["step"], best["validation_accuracy"], best["run"]) == (3e-4, 30, 0.5, "ft/lr0.0003")
    assert len(best["candidates"]) == 7 and best["trained_on"] == 40
    # the paper's protocol: the finetuned checkpoints only, the untrained student's score recorded beside them
    paper = select_best(runs, UNTRAINED)
    assert paper["checkpoint"] == best["checkpoint"] and len(paper["candidates"]) == 6
    assert paper["untrained"] == {"checkpoint": "models/student", "validation_accuracy": 0.3, "candidate": False}


def test_select_best_ties_go_to_earlier_run_then_step():
    runs = {"r1": _scores(1e-6, [0.1, 0.5, 0.5]), "r2": _scores(3e-4, [0.5, 0.2])}
    best = select_best(runs, UNTRAINED)
    assert (best["run"], best["step"]) == ("r1", 20)
    runs = {"r2": _scores(3e-4, [0.5, 0.2]), "r1": _scores(1e-6, [0.1, 0.5, 0.5])}
    assert (select_best(runs, UNTRAINED)["run"], select_best(runs, UNTRAINED)["step"]) == ("r2", 10)


def test_select_best_keeps_the_untrained_student_when_nothing_beats_it():
    runs = {"r1": _scores(1e-6, [0.1, 0.3]), "r2": _scores(3e-4, [0.2])}
    best = select_best(runs, UNTRAINED, untrained_candidate=True)  # a tie with r1's step 20: the untrained wins
    assert (best["checkpoint"], best["step"], best["lr"], best["run"]) == ("models/student", 0, None, None)
    # without it as a candidate, the best finetuned checkpoint, though it only ties the untrained student
    assert (select_best(runs, UNTRAINED)["run"], select_best(runs, UNTRAINED)["step"]) == ("r1", 20)
    # no correct solution kept: no checkpoints at all, the untrained student is the only candidate
    best = select_best({"r": _scores(1e-6, [], examples=0)}, UNTRAINED)
    assert (best["step"], best["trained_on"], len(best["candidates"])) == (0, 0, 1)
    assert best["untrained"]["candidate"]


# --- data --------------------------------------------------------------------------------------------------------

def test_normalize_gsm8k_layout():
    raw = {"question": "How many?", "answer": "She has 1,000 + 234 = <<1000+234=1234>>1,234.\n#### 1,234"}
    record = data.normalize(raw, "gsm8k", "gsm8k-train-0")
    assert record == {"id": "gsm8k-train-0", "question": "How many?", "solution": raw["answer"],
                      "answer": "1234", "level": None, "subject": None}
    # an explicit id wins over the fallback
    assert data.normalize({**raw, "id": 17}, "gsm8k", "x")["id"] == "17"


def test_normalize_math_layouts():
    hf = {"problem": "What is $1+1$?", "solution": "We get $\\boxed{2}$.", "level": "Level 3", "type": "Algebra"}
    assert data.normalize(hf, "math", "math-train-4") == {
        "id": "math-train-4", "question": "What is $1+1$?", "solution": hf["solution"], "answer": "2",
        "level": 3, "subject": "Algebra"}
    math500 = {"problem": "P", "solution": "S $\\boxed{\\frac{1}{2}}$", "answer": "\\frac12", "subject": "Prealgebra",
               "level": 2, "unique_id": "test/prealgebra/1.json"}
    record = data.normalize(math500, "math", "math-test-0")
    assert record["id"] == "test/prealgebra/1.json" and record["answer"] == "\\frac12"
    assert record["level"] == 2 and record["subject"] == "Prealgebra"
    # "Level ?" has no number
    assert data.normalize({**hf, "level": "Level ?"}, "math", "x")["level"] is None


def test_normalize_errors():
    with pytest.raises(ValueError, match="record r7: MATH solution has no \\\\boxed answer"):
        data.normalize({"problem": "P", "solution": "no box here"}, "math", "r7")
    with pytest.raises(ValueError, match="record r8: unknown layout with keys \\['prompt', 'text'\\]"):
        data.normalize({"prompt": "P", "text": "T"}, "math", "r8")
    with pytest.raises(ValueError, match="####"):
        data.gsm8k_final_answer("no final line")


def test_jsonl_round_trip_and_atomic_write(tmp_path):
    records = [{"id": "1", "text": "héllo"}, {"id": "2", "nested": {"a": [1, 2]}}]
    path = tmp_path / "sub" / "out.jsonl"
    assert data.write_jsonl(path, iter(records)) == 2
    assert data.read_jsonl(path) == records
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.jsonl"]  # no temp file left
    assert "héllo" in path.read_text(encoding="utf-8")
    data.write_json(tmp_path / "x.json", {"a": 1})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}


def test_read_jsonl_skips_blank_lines_and_names_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3,\n{"a": 4}\n', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        data.read_jsonl(path)
    assert f"{path}, line 4: not valid JSON" in str(info.value)
    path.write_text('{"a": 1}\n\n  \n{"a": 2}\n', encoding="utf-8")
    assert data.read_jsonl(path) == [{"a": 1}, {"a": 2}]


def _write_gsm8k(path, n, prefix):
    data.write_jsonl(path, [{"question": f"{prefix} question {i}", "answer": f"Work {i}\n#### {i}"}
                            for i in range(n)])


def test_prepare_splits_from_jsonl(tmp_path):
    _write_gsm8k(tmp_path / "train.jsonl", 10, "train")
    _write_gsm8k(tmp_path / "test.jsonl", 4, "test")
    dataset = {"style": "gsm8k", "few_shot": 2, "validation": {"from": "train", "size": 3},
               "source": {"jsonl": {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "test.jsonl")}}}
    splits, report = data.prepare_splits(dataset, "gsm8k", seed=1)
    assert {k: len(v) for k, v in splits.items()} == {"train": 5, "validation": 3, "test": 4, "exemplars": 2}
    ids = {split: {p["id"] for p in problems} for split, problems in splits.items()}
    assert not ids["train"] & ids["validation"] and not ids["exemplars"] & (ids["train"] | ids["validation"])
    assert ids["train"] | ids["validation"] | ids["exemplars"] == {f"gsm8k-train-{i}" for i in range(10)}
    assert [p["id"] for p in splits["test"]] == [f"gsm8k-test-{i}" for i in range(4)]
    assert splits["test"][3]["answer"] == "3"
    assert report["splits"]["train"] == {"problems": 5, "source": str(tmp_path / "train.jsonl")}
    assert report["exemplar_ids"] == [e["id"] for e in splits["exemplars"]]
    assert any("held out of the train split" in note for note in report["notes"])
    # deterministic, and the seed chooses the validation problems
    assert data.prepare_splits(dataset, "gsm8k", seed=1) == (splits, report)
    assert any({p["id"] for p in data.prepare_splits(dataset, "gsm8k", seed=s)[0]["validation"]} != ids["validation"]
               for s in range(2, 8))


def test_prepare_splits_validation_from_the_test_split_outside_the_test_set(tmp_path):
    """MATH's layout: validation and exemplars from the source's test split less the test set (MATH500)."""
    _write_gsm8k(tmp_path / "train.jsonl", 6, "train")
    _write_gsm8k(tmp_path / "full_test.jsonl", 10, "test")
    data.write_jsonl(tmp_path / "test_set.jsonl", data.read_jsonl(tmp_path / "full_test.jsonl")[:4])
    dataset = {"style": "gsm8k", "few_shot": 2, "validation": {"from": "test", "size": 3}, "exemplars": {"from": "test"},
               "source": {"jsonl": {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "full_test.jsonl")}},
               "test_source": {"jsonl": {"test": str(tmp_path / "test_set.jsonl")}}}
    splits, report = data.prepare_splits(dataset, "d", seed=0)
    assert {k: len(v) for k, v in splits.items()} == {"train": 6, "validation": 3, "test": 4, "exemplars": 2}
    test_questions = {p["question"] for p in splits["test"]}
    assert not test_questions & {p["question"] for p in splits["validation"] + splits["exemplars"]}
    assert "not in the test set" in report["splits"]["validation"]["source"]
    assert report["notes"] == []  # train and test are whole
    # GSM8K's layout (no separate test set): validation comes out of the test split
    del dataset["test_source"]
    dataset["exemplars"] = {"from": "train"}
    splits, _ = data.prepare_splits(dataset, "d", seed=0)
    assert {k: len(v) for k, v in splits.items()} == {"train": 4, "validation": 3, "test": 7, "exemplars": 2}


def test_prepare_splits_exemplars_from_a_file_leave_every_pool(tmp_path):
    _write_gsm8k(tmp_path / "train.jsonl", 6, "train")
    _write_gsm8k(tmp_path / "test.jsonl", 3, "test")
    data.write_jsonl(tmp_path / "shots.jsonl", data.read_jsonl(tmp_path / "train.jsonl")[:1]
                     + [{"question": "own", "answer": "x\n#### 1"}])
    dataset = {"style": "gsm8k", "few_shot": 2, "validation": {"from": "train", "size": 1},
               "exemplars": {"jsonl": str(tmp_path / "shots.jsonl")},
               "source": {"jsonl": {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "test.jsonl")}}}
    splits, report = data.prepare_splits(dataset, "d", seed=0)
    assert [e["question"] for e in splits["exemplars"]] == ["train question 0", "own"]
    assert "train question 0" not in {p["question"] for p in splits["train"] + splits["validation"]}
    assert len(splits["train"]) == 4
    dataset["few_shot"] = 3
    with pytest.raises(ValueError, match="shots.jsonl has 2 problems, 3 needed"):
        data.prepare_splits(dataset, "d", seed=0)


def test_prepare_splits_errors_name_the_key(tmp_path):
    _write_gsm8k(tmp_path / "train.jsonl", 5, "train")
    _write_gsm8k(tmp_path / "test.jsonl", 2, "test")
    data.write_jsonl(tmp_path / "dup.jsonl", data.read_jsonl(tmp_path / "train.jsonl")[:1])
    source = {"jsonl": {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "test.jsonl")}}
    with pytest.raises(ValueError, match="datasets.d.validation: 9 problems asked for"):
        data.prepare_splits({"style": "gsm8k", "few_shot": 0, "validation": {"from": "train", "size": 9},
                             "source": source}, "d", seed=0)
    # a test problem that is also a train problem would be trained on and tested
    source["jsonl"]["test"] = str(tmp_path / "dup.jsonl")
    with pytest.raises(ValueError, match="same question as one in train"):
        data.prepare_splits({"style": "gsm8k", "few_shot": 0, "validation": {"from": "train", "size": 1},
                             "source": source}, "d", seed=0)
    del source["jsonl"]["test"]
    with pytest.raises(ValueError, match="no 'test' file"):
        data.prepare_splits({"style": "gsm8k", "few_shot": 0, "validation": {"from": "train", "size": 1},
                             "source": source}, "d", seed=0)


def test_prepare_splits_toy():
    dataset = {"style": "math", "few_shot": 2, "source": {"toy": {"train": 6, "validation": 3, "test": 4}}}
    splits, report = data.prepare_splits(dataset, "math", seed=2)
    assert {k: len(v) for k, v in splits.items()} == {"train": 4, "validation": 3, "test": 4, "exemplars": 2}
    toy = make_splits("math", {"train": 6, "validation": 3, "test": 4}, 2)
    assert splits["validation"] == toy["validation"] and splits["test"] == toy["test"]
    assert sorted(splits["train"] + splits["exemplars"], key=lambda p: p["id"]) == sorted(toy["train"], key=lambda p: p["id"])
    assert report["splits"]["exemplars"]["problems"] == 2


def test_grade_samples_records_undecided_and_sft_leaves_them_out(monkeypatch):
    import weakstrong.grading as grading

    def fake_grade_many(completions, golds, style, **kwargs):
        verdict = {"extracted_answer": "7", "correct": False, "undecided": True, "reason": "timeout",
                   "timed_out": True}
        return [dict(verdict) for _ in completions]

    monkeypatch.setattr(grading, "grade_many", fake_grade_many)
    samples = [_sample("a", 0, "#### 7"), _sample("a", 1, "#### 7", finish="length")]
    graded = grade_samples(samples, PROBLEMS, "gsm8k", workers=1)
    assert [(g["correct"], g["grading_undecided"], g["grading_undecided_reason"]) for g in graded] == [
        (False, True, "timeout"), (False, False, None)]  # a cut-off sample is decided: never credited
    assert grading.undecided_summary(graded)["undecided"] == 1
    graded[0]["correct"] = True  # even if some later step marked it correct, it is not training data
    assert sft_examples(graded, PROBLEMS, per_question=2) == []


# --- reusing the base evaluation ------------------------------------------------------------------------------

def _settings(**changes):
    values = dict(backend="transformers", max_tokens=128, maj_k=[], temperature=0.7, seed=1, chat=False)
    return evaluation_settings(**{**values, **changes})


def test_a_selected_untrained_model_reuses_its_base_evaluation_with_the_same_settings():
    zero_shot = {"problems": 2, "pass@1": 0.5, "per_level": {}, "grading_undecided": 0, "examples": [],
                 "correct_completions": [{"problem_id": "p1", "completion": "1 + 1 = 2"}]}
    base = {"model": "models/wc", "zero_shot": zero_shot, "settings": _settings(seed=1)}
    kept = select_best({"runs/a": {"examples": 4, "checkpoints": [
        {"step": 10, "validation_accuracy": 0.2, "train_loss": 1.0, "settings": {"lr": 1e-4}}]}},
        {"checkpoint": "models/wc", "validation_accuracy": 0.3}, untrained_candidate=True)
    # greedy only: the run seed (3) draws nothing, so it does not matter
    assert reuse_base_evaluation(kept, base, _settings(seed=3)) == zero_shot
    finetuned = select_best({"runs/a": {"examples": 4, "checkpoints": [
        {"step": 10, "validation_accuracy": 0.4, "train_loss": 1.0, "settings": {"lr": 1e-4}}]}},
        {"checkpoint": "models/wc", "validation_accuracy": 0.3})
    assert finetuned["checkpoint"] == "runs/a/checkpoint-10"
    assert reuse_base_evaluation(finetuned, base, _settings(seed=3)) is None


@pytest.mark.parametrize("change", [dict(max_tokens=64), dict(backend="vllm"), dict(chat=True),
                                    dict(maj_k=[4], seed=3), dict(maj_k=[4], temperature=1.0)])
def test_the_base_evaluation_is_not_reused_when_its_settings_differ(change):
    zero_shot = {"pass@1": 0.5, "correct_completions": []}
    base = {"model": "models/wc", "zero_shot": zero_shot, "settings": _settings(**change)}
    selection = {"checkpoint": "models/wc", "run": None, "step": 0}
    own = _settings(maj_k=[4]) if "maj_k" in change else _settings()
    assert reuse_base_evaluation(selection, base, own) is None
    # the same settings (maj@k with the same seed included) reuse it
    assert reuse_base_evaluation(selection, {**base, "settings": own}, own) == zero_shot


def test_a_base_evaluation_without_its_correct_completions_is_not_reused():
    """One written before evaluations kept the correct completions' text: the checkpoint is evaluated again, so
    that the students' reasoning errors can be measured on it."""
    selection = {"checkpoint": "models/wc", "run": None, "step": 0}
    base = {"model": "models/wc", "zero_shot": {"pass@1": 0.5}, "settings": _settings()}
    assert reuse_base_evaluation(selection, base, _settings()) is None


def test_a_base_evaluation_without_settings_or_of_another_model_is_not_reused():
    selection = {"checkpoint": "models/wc", "run": None, "step": 0}
    assert reuse_base_evaluation(selection, {"model": "models/wc", "zero_shot": {}}, _settings()) is None
    assert reuse_base_evaluation(selection, {"model": "models/se", "zero_shot": {}, "settings": _settings()},
                                 _settings()) is None
