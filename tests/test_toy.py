"""weakstrong.toy: the synthetic arithmetic world (generators, splits, pre-training corpus)."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from weakstrong import toy
from weakstrong.arithmetic import check_solution, evaluate
from weakstrong.grading import extract_answer, grade
from weakstrong.prompts import format_question, pretraining_document
from weakstrong.styles import STYLES

SIZES = {"test": 60, "validation": 30, "train": 80}


# --- determinism -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", STYLES)
def test_same_seed_gives_identical_problems(style):
    generator = toy.GENERATORS[style]
    assert [generator(5, "train", i) for i in range(30)] == [generator(5, "train", i) for i in range(30)]
    assert toy.make_splits(style, SIZES, 5) == toy.make_splits(style, SIZES, 5)


@pytest.mark.parametrize("style", STYLES)
def test_different_seeds_differ(style):
    a = [p["question"] for p in toy.make_splits(style, {"test": 40}, 1)["test"]]
    b = [p["question"] for p in toy.make_splits(style, {"test": 40}, 2)["test"]]
    assert a != b
    # Not just a reordering: most questions differ.
    assert len(set(a) & set(b)) < 30


@pytest.mark.parametrize("style", STYLES)
def test_problem_depends_on_split_and_index(style):
    generator = toy.GENERATORS[style]
    assert [generator(1, "test", i) for i in range(20)] != [generator(1, "train", i) for i in range(20)]
    assert len({generator(1, "test", i)["question"] for i in range(20)}) > 10


@pytest.mark.parametrize("style", STYLES)
def test_test_split_is_stable_whatever_the_other_sizes(style):
    alone = toy.make_splits(style, {"test": 25}, 3)["test"]
    with_others = toy.make_splits(style, {"test": 25, "validation": 40, "train": 90, "pretrain": 200}, 3)["test"]
    assert alone == with_others
    # A larger test split extends the smaller one.
    assert toy.make_splits(style, {"test": 50}, 3)["test"][:25] == alone


# --- styles ------------------------------------------------------------------------------------------------

_GSM8K_LINE = re.compile(r"^(\d+) ([-+*/]) (\d+) = <<(\d+)([-+*/])(\d+)=(\d+)>>(\d+) ([a-z]+)\.$")
_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a // b}


def _story_value(question: str) -> int:
    """Replay a GSM8K-style toy story sentence by sentence."""
    sentences = re.findall(r"[^.?]+[.?]", question)
    value = int(re.search(r" has (\d+) ", sentences[0]).group(1))
    for sentence in sentences[1:-1]:
        if m := re.search(r"gets (\d+) more", sentence):
            value += int(m.group(1))
        elif m := re.search(r"gives (\d+) away", sentence):
            value -= int(m.group(1))
        elif "doubles" in sentence:
            value *= 2
        elif "triples" in sentence:
            value *= 3
        elif "keeps half" in sentence:
            assert value % 2 == 0
            value //= 2
        elif "keeps a third" in sentence:
            assert value % 3 == 0
            value //= 3
        else:
            raise AssertionError(f"unknown sentence {sentence!r}")
    assert sentences[-1].strip().startswith("How many ")
    return value


def test_gsm8k_style_worked_solution():
    problems = toy.make_splits("gsm8k", {"test": 150}, 11)["test"]
    for problem in problems:
        lines = problem["solution"].split("\n")
        assert lines[-1] == f"#### {problem['answer']}"
        steps = lines[:-1]
        assert len(steps) == problem["level"]
        assert 1 <= problem["level"] <= 3
        assert problem["subject"] is None
        previous = None
        for line in steps:
            m = _GSM8K_LINE.match(line)
            assert m, line
            a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
            # the annotation repeats the shown expression, its result is carried over after >>
            assert (m.group(4), m.group(5), m.group(6)) == (m.group(1), op, m.group(3))
            assert m.group(7) == m.group(8)
            assert _OPS[op](a, b) == int(m.group(7))
            if op == "/":
                assert a % b == 0
            assert m.group(9) in toy.ITEMS
            if previous is not None:
                assert a == previous  # each step works on the running amount
            previous = int(m.group(7))
        assert str(previous) == problem["answer"]
        # The story itself implies the answer.
        assert str(_story_value(problem["question"])) == problem["answer"]
        # Amounts stay small.
        assert 0 < int(problem["answer"]) <= toy.MAX_AMOUNT


def test_gsm8k_known_example():
    # Worked by hand from the generator's output for (seed=1, test, 1); pins the exact text format.
    problem = toy.gsm8k_problem(1, "test", 1)
    assert problem["question"] == ("Lena has 6 books. Lena triples them. Lena gives 7 away. "
                                   "How many books does Lena have?")
    assert problem["solution"] == "6 * 3 = <<6*3=18>>18 books.\n18 - 7 = <<18-7=11>>11 books.\n#### 11"
    assert problem["answer"] == "11"
    assert problem["level"] == 2


def test_math_style_latex_solution():
    problems = toy.make_splits("math", {"test": 150}, 11)["test"]
    saw_fraction = False
    for problem in problems:
        question = re.fullmatch(r"Compute \$(.+)\$\.", problem["question"])
        assert question, problem["question"]
        lines = problem["solution"].split("\n")
        assert lines[-1] == f"The answer is $\\boxed{{{problem['answer']}}}$."
        assert len(lines) - 1 == problem["level"]
        assert 1 <= problem["level"] <= 3
        assert problem["subject"] == "Arithmetic"
        for line in lines[:-1]:
            assert re.fullmatch(r"\$.+ = .+\$\.", line), line
        # The expression in the question evaluates to the answer (exactly, fractions included).
        value = evaluate(question.group(1))
        assert value is not None and value == evaluate(problem["answer"])
        assert extract_answer(problem["solution"], "math") == problem["answer"]
        if "\\frac" in problem["answer"]:
            saw_fraction = True
            assert value.denominator != 1
    assert saw_fraction, "a final division should sometimes leave a fraction"


def test_math_known_example():
    problem = toy.math_problem(1, "test", 1)
    assert problem["question"] == "Compute $((4 \\div 2) \\times 8) - 7$."
    assert problem["solution"] == ("$4 \\div 2 = 2$.\n$2 \\times 8 = 16$.\n$16 - 7 = 9$.\n"
                                   "The answer is $\\boxed{9}$.")
    assert problem["answer"] == "9"
    assert problem["level"] == 3


@pytest.mark.parametrize("value, text", [
    (Fraction(7), "7"), (Fraction(-3), "-3"), (Fraction(7, 3), "\\frac{7}{3}"), (Fraction(-1, 2), "-\\frac{1}{2}"),
    (Fraction(0), "0"),
])
def test_latex_number(value, text):
    assert toy.latex_number(value) == text


# --- gold answers pass the graders ---------------------------------------------------------------------------

@pytest.mark.parametrize("style", STYLES)
def test_gold_solutions_grade_correct_and_check_clean(style):
    splits = toy.make_splits(style, {"test": 100, "validation": 50, "train": 100}, 4)
    for problems in splits.values():
        for problem in problems:
            assert grade(problem["solution"], problem["answer"], style), problem
            check = check_solution(problem["solution"], style)
            assert not check["flawed"], (problem, check["wrong_steps"])
            # every step of a toy solution is a checkable arithmetic step
            assert check["checkable"] == problem["level"], problem
            assert check["wrong"] == 0


@pytest.mark.parametrize("style", STYLES)
def test_wrong_answer_is_graded_wrong(style):
    problem = toy.make_splits(style, {"test": 1}, 4)["test"][0]
    wrong = str(int(evaluate(problem["answer"])) + 1) if evaluate(problem["answer"]).denominator == 1 else "1000"
    assert not grade(problem["solution"], wrong, style)


# --- splits ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", STYLES)
def test_splits_have_requested_sizes_and_are_disjoint(style):
    sizes = {"test": 70, "validation": 30, "train": 120, "pretrain": 300}
    splits = toy.make_splits(style, sizes, 9)
    assert set(splits) == set(sizes)
    for name, size in sizes.items():
        assert len(splits[name]) == size
        questions = [p["question"] for p in splits[name]]
        assert len(set(questions)) == size, f"duplicates within {name}"
        assert [p["id"] for p in splits[name]] == [f"toy-{style}-{name}-{i}" for i in range(size)]
    names = list(sizes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            overlap = {p["question"] for p in splits[a]} & {p["question"] for p in splits[b]}
            assert not overlap, f"{a} and {b} share {sorted(overlap)[:2]}"


def test_only_requested_splits_are_made():
    splits = toy.make_splits("math", {"validation": 5}, 0)
    assert list(splits) == ["validation"]
    assert len(splits["validation"]) == 5


def test_split_order_puts_evaluation_splits_first():
    assert toy.SPLIT_ORDER.index("test") < toy.SPLIT_ORDER.index("pretrain")
    assert toy.SPLIT_ORDER.index("validation") < toy.SPLIT_ORDER.index("pretrain")
    assert toy.SPLIT_ORDER.index("train") < toy.SPLIT_ORDER.index("pretrain")


def test_unknown_style_and_split_are_rejected():
    with pytest.raises(ValueError, match="unknown toy style 'algebra'"):
        toy.make_splits("algebra", {"test": 1}, 0)
    with pytest.raises(ValueError, match="dev"):
        toy.make_splits("gsm8k", {"dev": 1}, 0)


# --- pre-training corpus -----------------------------------------------------------------------------------

def test_pretraining_documents_group_examples():
    problems = toy.make_splits("gsm8k", {"pretrain": 10}, 2)["pretrain"]
    math_problems = toy.make_splits("math", {"pretrain": 4}, 2)["pretrain"]
    by_style = {"gsm8k": problems, "math": math_problems}
    documents = toy.pretraining_documents(by_style, per_document=3, seed=0)
    assert len(documents) == 4 + 2  # ceil(10 / 3) + ceil(4 / 3)
    assert sorted(d.count("Question: ") for d in documents) == [0, 0, 1, 3, 3, 3]
    for problem in problems:
        assert sum(format_question(problem["question"], "gsm8k") in d for d in documents) == 1
    assert documents == toy.pretraining_documents(by_style, per_document=3, seed=0)
    assert documents != toy.pretraining_documents(by_style, per_document=3, seed=1)
    # a document is one style's solved problems laid out as its few-shot prompt
    for document in documents:
        style = "gsm8k" if document.startswith("Question: ") else "math"
        group = problems if style == "gsm8k" else math_problems
        shots = [p for p in group if format_question(p["question"], style) in document]
        assert document == pretraining_document(
            sorted(shots, key=lambda p: document.index(format_question(p["question"], style))), style)


@pytest.mark.parametrize("replicate_seed", [6, 1006])
def test_corpus_excludes_evaluation_and_train_questions(replicate_seed):
    """A replicate's corpus (its own seed) stays clear of the splits the data's seed draws."""
    datasets = {
        "math": {"style": "math", "source": {"toy": {"train": 30, "validation": 15, "test": 25}}},
        "gsm8k": {"style": "gsm8k", "source": {"toy": {"train": 30, "validation": 15, "test": 25}}},
    }
    corpus = {"problems_per_style": 90, "per_document": 3, "vocab_size": 300}
    documents, tokenizer = toy.build_corpus_and_tokenizer(datasets, corpus, data_seed=6, seed=replicate_seed)
    assert {kind: len(docs) for kind, docs in documents.items()} == {"solved": 2 * 90 // 3, "unsolved": 2 * 90 // 3}
    text = "\n\n".join(documents["solved"])
    assert text.count("Question: ") == 90 and text.count("Problem:\n") == 90
    unsolved = "\n\n".join(documents["unsolved"])
    # the students' corpus has no worked solution: no prompt header, annotation or final-answer line
    assert not any(mark in unsolved for mark in ("Question:", "Answer:", "Problem:", "<<", "####", "boxed"))
    for dataset in datasets.values():
        splits = toy.make_splits(dataset["style"], dataset["source"]["toy"], 6)
        for split in ("train", "validation", "test"):
            for problem in splits[split]:
                assert format_question(problem["question"], dataset["style"]) not in text, (split, problem["question"])
                assert problem["question"] not in unsolved, (split, problem["question"])
    # another replicate draws another corpus
    other, _ = toy.build_corpus_and_tokenizer(datasets, corpus, data_seed=6, seed=replicate_seed + 1)
    assert set(other["solved"]).isdisjoint(documents["solved"])
    # The tokenizer was trained on both corpora and round-trips them.
    assert len(tokenizer) <= 300
    for sample in (documents["solved"][0], documents["unsolved"][0]):
        assert tokenizer.decode(tokenizer(sample, add_special_tokens=False)["input_ids"]) == sample


@pytest.mark.parametrize("style", ["gsm8k", "math"])
def test_noisy_corpus_has_wrong_answers_and_slips_at_the_configured_rates(style):
    from weakstrong.arithmetic import check_solution
    from weakstrong.grading import grade

    problems = toy.make_splits(style, {"pretrain": 1000}, 3)["pretrain"]
    noisy = toy.noisy_problems(problems, style, {"wrong_final_step": 0.3, "slipped_step": 0.2}, seed=1)
    wrong = [not grade(n["solution"], p["answer"], style) for n, p in zip(noisy, problems)]
    slipped = [not w and check_solution(n["solution"], style)["flawed"] for n, w in zip(noisy, wrong)]
    # wrong answers: 30% of all; slips: 20% of those with two or more steps, whose answer stays right
    assert 0.24 < sum(wrong) / len(problems) < 0.36
    multi_step = sum(p["level"] >= 2 for p in problems) / len(problems)
    assert abs(sum(slipped) / len(problems) - 0.2 * multi_step) < 0.05
    # every corrupted solution is caught by the arithmetic checker; the clean ones are not
    for n, p in zip(noisy, problems):
        assert check_solution(n["solution"], style)["flawed"] == (n["solution"] != p["solution"])
    assert toy.noisy_problems(problems, style, {}, seed=1) == problems


def test_arithmetic_facts_drop_the_solution_layout():
    problem = toy.make_splits("gsm8k", {"test": 1}, 0)["test"][0]
    facts = toy.arithmetic_facts(problem, "gsm8k")
    assert len(facts) == problem["level"] and not any("<<" in f or " " in f for f in facts)
    # each fact is the annotation's calculation, true, and the steps chain to the final answer
    for fact in facts:
        expression, result = fact.split("=")
        assert fact in problem["solution"] and eval(expression.replace("/", "//")) == int(result)
    assert facts[-1].split("=")[1] == problem["answer"]
    math_problem = toy.make_splits("math", {"test": 1}, 0)["test"][0]
    math_facts = toy.arithmetic_facts(math_problem, "math")
    assert math_facts == [line.removesuffix(".") for line in math_problem["solution"].split("\n")[:-1]]


def test_toy_config_is_calibrated_as_its_design_says():
    """configs/toy.yaml: SE has 3x WC's parameters (so 1 vs 3 samples), the student is the smallest and
    pre-trained without solutions, finetuning rates are below every pre-training rate, and validation and
    test are large enough to tell a few points apart."""
    from pathlib import Path

    from weakstrong import config as ws_config
    from weakstrong import study

    config = ws_config.load(Path(__file__).resolve().parents[1] / "configs" / "toy.yaml")
    [(name, pair)] = config.generator_pairs.items()
    assert study.cost_ratio(config, name) == pytest.approx(3.0, rel=0.025)
    assert study.samples_ratio(config, name) == 3
    specs = {m: config.models[m].toy for m in config.models}
    parameters = {m: study.model_parameters(config, m) for m in specs}
    students = [s for s in pair.students if s not in (pair.weak, pair.strong)]
    assert students and all(parameters[s] < parameters[pair.weak] for s in students)
    assert all(specs[s].get("corpus") == "unsolved" for s in students)
    assert all(specs[g].get("corpus", "solved") == "solved" for g in (pair.weak, pair.strong))
    for model in pair.students:
        assert max(study.student_lrs(config, model)) < specs[model]["lr"], model
    for dataset in config.datasets.values():
        sizes = dataset.toy
        assert sizes["validation"] >= 200 and sizes["test"] >= 1000
    assert config.finetune.validation_problems >= 200
    assert 0 < config.toy_corpus.wrong_final_step < 1 and 0 < config.toy_corpus.slipped_step < 1
