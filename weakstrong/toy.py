"""The toy world: synthetic multi-step arithmetic word problems and tiny models.

Problems come in two styles that mirror the real data sets, so the same loaders, prompts and graders serve
both:

* ``gsm8k``: a short story; the worked solution annotates every step as ``<<a+b=c>>c`` and ends ``#### N``.
* ``math``: a LaTeX expression to evaluate, possibly with fractions; the solution writes each step as
  ``$a \\times b = c$`` and ends with ``\\boxed{N}``.  The number of steps is the MATH-style ``level``.

Generation is deterministic: problem ``i`` of a split depends only on (seed, split, i), so splits never change
when another split grows.  Splits are disjoint by question text (later splits skip questions already used),
and the pre-training corpus never contains a validation or test question.
"""

from __future__ import annotations

import hashlib
import random
import re
from fractions import Fraction

SPLIT_ORDER = ("test", "validation", "train", "pretrain")

NAMES = ["Mia", "Liam", "Ava", "Noah", "Emma", "Omar", "Zoe", "Ravi", "Lena", "Kai", "Sara", "Tom"]
ITEMS = ["apples", "marbles", "stickers", "books", "coins", "shells", "pencils", "cards", "eggs", "stamps"]


def _rng(seed: int, split: str, index: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}/{split}/{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# --- GSM8K style ---------------------------------------------------------------------------------------
# Numbers stay small (operands up to 9, amounts up to 30), so a tiny model can learn the arithmetic facts
# from a few minutes of pre-training on a CPU.

MAX_AMOUNT = 30


def _gsm8k_step(rng: random.Random, value: int, name: str):
    """One operation on the running amount: (sentence, expression, result)."""
    choices = ["add", "sub"] if value > 1 else ["add"]
    if value * 2 <= MAX_AMOUNT:
        choices.append("mul")
    if value % 2 == 0 or value % 3 == 0:
        choices.append("div")
    op = rng.choice(choices)
    if op == "add":
        b = rng.randint(1, min(9, MAX_AMOUNT - value)) if value < MAX_AMOUNT else 0
        if b:
            return f"{name} gets {b} more.", f"{value}+{b}", value + b
        op = "sub"
    if op == "sub":
        b = rng.randint(1, min(9, value - 1))
        return f"{name} gives {b} away.", f"{value}-{b}", value - b
    if op == "mul":
        b = rng.choice([k for k in (2, 3) if value * k <= MAX_AMOUNT])
        word = {2: "doubles", 3: "triples"}[b]
        return f"{name} {word} them.", f"{value}*{b}", value * b
    b = rng.choice([d for d in (2, 3) if value % d == 0])
    word = {2: "half", 3: "a third"}[b]
    return f"{name} keeps {word} of them.", f"{value}/{b}", value // b


def gsm8k_problem(seed: int, split: str, index: int) -> dict:
    rng = _rng(seed, split, index)
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    steps = rng.randint(1, 3)
    value = rng.randint(2, 20)
    sentences, lines = [f"{name} has {value} {item}."], []
    for _ in range(steps):
        sentence, expr, result = _gsm8k_step(rng, value, name)
        sentences.append(sentence)
        shown = expr.replace("+", " + ").replace("-", " - ").replace("*", " * ").replace("/", " / ")
        lines.append(f"{shown} = <<{expr}={result}>>{result} {item}.")
        value = result
    question = " ".join(sentences) + f" How many {item} does {name} have?"
    solution = "\n".join(lines) + f"\n#### {value}"
    return {"question": question, "solution": solution, "answer": str(value), "level": steps, "subject": None}


# --- MATH style ----------------------------------------------------------------------------------------

def latex_number(value: Fraction) -> str:
    """LaTeX for a rational: ``7``, ``-3``, ``\\frac{7}{3}``, ``-\\frac{1}{2}``."""
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


_LATEX_OPS = {"+": "+", "-": "-", "*": "\\times", "/": "\\div"}


def math_problem(seed: int, split: str, index: int) -> dict:
    """Evaluate an expression of 1 to 3 operations on integers up to 9 (the level is the step count).

    Intermediate values are integers from -9 to 30; only a final division may leave a fraction."""
    rng = _rng(seed, split, index)
    steps = rng.randint(1, 3)
    start = value = Fraction(rng.randint(1, 9))
    operations = []
    for step in range(steps):
        last = step == steps - 1
        options = ["+", "-"] + (["*"] if abs(value) * 2 <= MAX_AMOUNT else [])
        options += ["/"] if last or (value.numerator % 2 == 0 and value != 0) else []
        op = rng.choice(options)
        if op == "-":
            operand = Fraction(rng.randint(1, 9))
            if value - operand < -9:
                op, operand = "+", Fraction(rng.randint(1, 9))
        else:
            operand = _math_operand(rng, value, op, last)
        operations.append((op, operand))
        value = _apply(value, op, operand)
    return math_text(start, operations)


def _apply(value: Fraction, op: str, operand: Fraction) -> Fraction:
    return {"+": value + operand, "-": value - operand, "*": value * operand, "/": value / operand}[op]


def _math_operand(rng: random.Random, value: Fraction, op: str, last: bool) -> Fraction | None:
    """An operand for ``value op operand`` as :func:`math_problem` draws it (a subtraction that would go below -9
    is the caller's to handle); None where ``op`` cannot follow ``value`` within the generator's ranges."""
    if op == "+":
        return Fraction(rng.randint(1, min(9, max(1, MAX_AMOUNT - int(value)))))
    if op == "-":
        low_enough = min(9, int(value) + 9)  # the running value stays at -9 or above
        return Fraction(rng.randint(1, low_enough)) if low_enough >= 1 else None
    if op == "*":
        factors = [k for k in range(2, 10) if abs(value) * k <= MAX_AMOUNT]
        return Fraction(rng.choice(factors)) if factors else None
    if last:
        return Fraction(rng.randint(2, 9))
    divisors = [d for d in range(2, 10) if value.numerator % d == 0] if value != 0 else []
    return Fraction(rng.choice(divisors)) if divisors else None


def math_text(start: Fraction, operations: list[tuple[str, Fraction]]) -> dict:
    """A MATH-style problem from its starting number and its (operator, operand) steps: the question, the worked
    solution (one line per step) and the answer, computed exactly."""
    value, expression, lines = start, latex_number(start), []
    for step, (op, operand) in enumerate(operations):
        result = _apply(value, op, operand)
        lines.append(f"${latex_number(value)} {_LATEX_OPS[op]} {latex_number(operand)} = {latex_number(result)}$.")
        inner = f"({expression})" if step > 0 else expression
        expression = f"{inner} {_LATEX_OPS[op]} {latex_number(operand)}"
        value = result
    question = f"Compute ${expression}$."
    solution = "\n".join(lines) + f"\nThe answer is $\\boxed{{{latex_number(value)}}}$."
    return {"question": question, "solution": solution, "answer": latex_number(value), "level": len(operations),
            "subject": "Arithmetic"}


_MATH_LINE_RE = re.compile(r"^\$(\S+) (\+|-|\\times|\\div) (\S+) = (\S+)\$\.$")
_OPS_OF_LATEX = {latex: op for op, latex in _LATEX_OPS.items()}


def math_operations(problem: dict) -> list[str]:
    """The operators of a MATH-style toy problem's steps, in order, read from its worked solution."""
    ops = []
    for line in problem["solution"].split("\n")[:-1]:
        match = _MATH_LINE_RE.match(line)
        if match is None:
            raise ValueError(f"toy problem {problem.get('id')!r}: {line!r} is not a step of a MATH-style toy solution")
        ops.append(_OPS_OF_LATEX[match.group(2)])
    return ops


def math_variant(problem: dict, seed: int, snapshot: int = 1, avoid: set[str] | frozenset = frozenset(),
                 attempts: int = 2000) -> dict:
    """The functional variant of a MATH-style toy problem, as Functional MATH (Srivastava et al., 2024) varies a
    MATH problem: the same operations in the same order (so the same level and reasoning) on new numbers, drawn
    as :func:`math_problem` draws them, with the answer computed anew. Deterministic in (``seed``, ``snapshot``,
    the problem's id): another snapshot draws other numbers. The variant's question differs from the problem's
    and is none of ``avoid`` (e.g. the questions trained on); ``variant_of`` names the problem."""
    ops = math_operations(problem)
    rng = _rng(seed, f"functional-{snapshot}", problem["id"])
    for _ in range(attempts):
        start = value = Fraction(rng.randint(1, 9))
        operations = []
        for step, op in enumerate(ops):
            operand = _math_operand(rng, value, op, step == len(ops) - 1)
            if operand is None:
                break
            operations.append((op, operand))
            value = _apply(value, op, operand)
        else:
            variant = math_text(start, operations)
            if variant["question"] != problem["question"] and variant["question"] not in avoid:
                return {"id": f"{problem['id']}@{snapshot}", **variant, "variant_of": problem["id"]}
    raise ValueError(f"toy problem {problem['id']!r}: no variant with new numbers in {attempts} draws (operations "
                     f"{' '.join(ops)}; {len(avoid)} questions to avoid)")


def math_variants(problems: list[dict], seed: int, snapshot: int = 1, avoid: set[str] | frozenset = frozenset()
                  ) -> list[dict]:
    """:func:`math_variant` of each problem, in order, each question once and none of ``avoid``."""
    taken, variants = set(avoid), []
    for problem in problems:
        variants.append(math_variant(problem, seed, snapshot, taken))
        taken.add(variants[-1]["question"])
    return variants


GENERATORS = {"gsm8k": gsm8k_problem, "math": math_problem}


def make_splits(style: str, sizes: dict[str, int], seed: int, *, pretrain_seed: int | None = None
                ) -> dict[str, list[dict]]:
    """Problems for each split in ``sizes`` (keys from SPLIT_ORDER), disjoint by question text.

    Earlier splits in SPLIT_ORDER claim questions first, so the test set is stable whatever the other sizes.
    ``pretrain_seed`` (default ``seed``) draws the pre-training split alone: a replicate draws its own corpus,
    still clear of the splits that ``seed`` draws.
    """
    if style not in GENERATORS:
        raise ValueError(f"unknown toy style {style!r}; expected one of {sorted(GENERATORS)}")
    unknown = set(sizes) - set(SPLIT_ORDER)
    if unknown:
        raise ValueError(f"unknown toy split(s) {sorted(unknown)}; expected {SPLIT_ORDER}")
    seen: set[str] = set()
    splits: dict[str, list[dict]] = {}
    for split in SPLIT_ORDER:
        if split not in sizes:
            continue
        problems, index = [], 0
        while len(problems) < sizes[split]:
            split_seed = pretrain_seed if split == "pretrain" and pretrain_seed is not None else seed
            problem = GENERATORS[style](split_seed, split, index)
            index += 1
            if index > 50 * sizes[split] + 1000:
                raise ValueError(f"toy {style} space too small for {sizes[split]} unique {split} problems")
            if problem["question"] in seen:
                continue
            seen.add(problem["question"])
            problems.append({"id": f"toy-{style}-{split}-{len(problems)}", **problem})
        splits[split] = problems
    return splits


def pretraining_documents(problems_by_style: dict[str, list[dict]], per_document: int, seed: int) -> list[str]:
    """Solved problems of one style per document, laid out as that style's few-shot prompts are."""
    from weakstrong.prompts import pretraining_document  # local import keeps toy generation torch-free

    documents = []
    for style, problems in problems_by_style.items():
        shuffled = list(problems)
        random.Random(seed).shuffle(shuffled)
        documents += [pretraining_document(shuffled[i:i + per_document], style)
                      for i in range(0, len(shuffled), per_document)]
    random.Random(seed).shuffle(documents)
    return documents


# --- pre-training corpora with headroom ------------------------------------------------------------------
# The generators learn from solved problems of which some are wrong, so their answer-filtered samples can be
# better data than what they learned from: a wrong final step (wrong answer, filtered out by grading) or a
# slipped intermediate step whose written result is wrong while the next step goes on from the right value
# (right answer, flawed reasoning: a false positive the arithmetic checker finds). The student sees questions
# and arithmetic facts but no worked solution, so SFT on solutions has the format and the reasoning to teach.

_GSM8K_STEP_RE = re.compile(r"=(-?\d+)>>(-?\d+)")
_GSM8K_ANNOTATION_RE = re.compile(r"<<([^>]*)>>")
_MATH_STEP_RE = re.compile(r" = ([^$]+)\$\.$")


def _parse_latex_number(text: str) -> Fraction:
    match = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", text)
    if match:
        return Fraction(int(match.group(2)), int(match.group(3))) * (-1 if match.group(1) else 1)
    return Fraction(int(text))


def _off_by(rng: random.Random, value: Fraction) -> Fraction:
    return value + rng.choice([-2, -1, 1, 2])


def corrupt_solution(problem: dict, style: str, kind: str, rng: random.Random) -> dict:
    """``problem`` with its solution made wrong: ``wrong_final`` (the last step's result and the final
    answer are off) or ``slip`` (a non-final step's written result is off, the rest is right; problems with
    one step are returned unchanged)."""
    lines = problem["solution"].split("\n")
    steps = len(lines) - 1  # the last line states the final answer
    if kind == "slip" and steps < 2:
        return problem
    index = steps - 1 if kind == "wrong_final" else rng.randrange(steps - 1)
    if style == "gsm8k":
        result = int(_GSM8K_STEP_RE.search(lines[index]).group(2))
        wrong = str(int(_off_by(rng, Fraction(result))))
        lines[index] = _GSM8K_STEP_RE.sub(lambda m: m.group(0).replace(f"={m.group(1)}>>{m.group(2)}",
                                                                       f"={wrong}>>{wrong}"), lines[index])
        if kind == "wrong_final":
            lines[-1] = f"#### {wrong}"
    else:
        result = _parse_latex_number(_MATH_STEP_RE.search(lines[index]).group(1))
        wrong = latex_number(_off_by(rng, result))
        lines[index] = _MATH_STEP_RE.sub(lambda _: f" = {wrong}$.", lines[index])  # a function: no escapes
        if kind == "wrong_final":
            lines[-1] = f"The answer is $\\boxed{{{wrong}}}$."
    return {**problem, "solution": "\n".join(lines)}


def noisy_problems(problems: list[dict], style: str, corpus: dict, seed: int) -> list[dict]:
    """The corpus's solved problems with ``wrong_final_step`` and ``slipped_step`` shares corrupted."""
    rng = random.Random(seed)
    noisy = []
    for problem in problems:
        draw = rng.random()
        if draw < corpus.get("wrong_final_step", 0.0):
            problem = corrupt_solution(problem, style, "wrong_final", rng)
        elif draw < corpus.get("wrong_final_step", 0.0) + corpus.get("slipped_step", 0.0):
            problem = corrupt_solution(problem, style, "slip", rng)
        noisy.append(problem)
    return noisy


def arithmetic_facts(problem: dict, style: str) -> list[str]:
    """The calculations of a solution as bare facts, without the solution's layout, annotations or
    final-answer line: ``3+4=7`` (GSM8K style) and ``$3 \\times 4 = 12$`` (MATH style).

    Each fact is written as the solution computes it: the GSM8K-style result is computed inside the
    ``<<3+4=7>>`` annotation, so the student meets its arithmetic there in the notation it learned it in.
    With the spaced ``3 + 4 = 7`` instead, SFT had to re-teach the arithmetic in the annotation's notation,
    and the student forgot it while learning the layout (docs/toy-world.md, "Student designs tried on validation")."""
    lines = problem["solution"].split("\n")[:-1]
    if style == "gsm8k":
        return [_GSM8K_ANNOTATION_RE.search(line).group(1) for line in lines]
    return [line.removesuffix(".") for line in lines]


def unsolved_documents(problems_by_style: dict[str, list[dict]], per_document: int, seed: int) -> list[str]:
    """Questions and arithmetic facts, never a worked solution: what the student is pre-trained on."""
    documents = []
    for style, problems in problems_by_style.items():
        shuffled = list(problems)
        random.Random(seed).shuffle(shuffled)
        for i in range(0, len(shuffled), per_document):
            documents.append("\n\n".join(p["question"] + "\n" + "\n".join(arithmetic_facts(p, style))
                                           for p in shuffled[i:i + per_document]))
    random.Random(seed).shuffle(documents)
    return documents


CORPORA = ("solved", "unsolved")


def pretraining_problems(datasets: dict, corpus: dict, data_seed: int, seed: int) -> dict[str, list[dict]]:
    """The problems of a replicate's pre-training corpora by style (``seed``: the replicate's), clear of every
    toy dataset's train/validation/test questions (drawn with ``data_seed``)."""
    problems: dict[str, list[dict]] = {}
    for dataset in datasets.values():
        sizes = dict(dataset["source"]["toy"], pretrain=corpus["problems_per_style"])
        drawn = make_splits(dataset["style"], sizes, data_seed, pretrain_seed=seed)
        problems.setdefault(dataset["style"], []).extend(drawn["pretrain"])
    return problems


def build_corpus_and_tokenizer(datasets: dict, corpus: dict, data_seed: int, seed: int):
    """The two pre-training corpora from every toy dataset's style, disjoint from its train/validation/test
    questions (drawn with ``data_seed``): ``solved`` (few-shot documents, some solutions wrong) for the
    generators and ``unsolved`` (questions and arithmetic facts) for students; and a byte-level BPE tokenizer
    trained on both. ``seed`` (a replicate's) draws the corpus's problems, its wrong steps and its order."""
    from weakstrong.models import train_tokenizer

    problems = pretraining_problems(datasets, corpus, data_seed, seed)
    noisy = {style: noisy_problems(group, style, corpus, seed) for style, group in problems.items()}
    documents = {"solved": pretraining_documents(noisy, corpus["per_document"], seed),
                 "unsolved": unsolved_documents(problems, corpus["per_document"], seed)}
    return documents, train_tokenizer(documents["solved"] + documents["unsolved"], corpus["vocab_size"])
