"""The sources of finetuning data beyond ``wc``, ``se`` and ``gold``: other filters of the samples already
drawn, and the mixed pool.  No source samples anything; each keeps some of a budget's samples (the first k of
each question, as ``wc`` and ``se`` do) and is named by what it keeps (config ``sources``)::

    wc, se            the samples whose final answer matches the gold answer (weakstrong.solutions.sft_examples)
    gold              the datasets' own solutions
    <side>.unfiltered every sample, right or wrong: learning without gold answers and without a filter
    <side>.judged     the samples the LLM judge (config ``judge.model``) rates correct from the question and the
                      solution alone (prompts/judge-nogold.txt: no gold answer, no reference solution)
    <side>.majority   the samples whose final answer is the majority answer among the question's samples of
                      the budget: a label-free filter (no gold answer, no judge), for where no judge can run
    mix               the union of the budget's wc and se data (both answer-filtered), each sample once

where ``<side>`` is ``wc`` or ``se``.  The majority filter, exactly: the budget's first k samples of a question
vote with their final answers (:func:`weakstrong.grading.extract_answer`, which never sees the gold answer;
equivalent answers, :func:`weakstrong.grading.is_equivalent`, count as one); a sample cut off by the token
limit or without an extractable answer does not vote and is never kept.  The answer with strictly more votes
than any other is the majority, and its samples are kept; a tie for the most votes keeps nothing of that
question (no answer is agreed on).  A question with one voting sample has that sample as its majority, so at
one sample per question (SE at the low budget) ``se.majority`` keeps every sample that has a final answer and
was not cut off: it filters nothing but unfinished samples, and WC against SE there compares WC's agreed
answers with SE's unfiltered ones.

Every kept example records the sample's gold verdict (``correct``) beside it, so that the tables can say how
much of the kept data is right; no filter but ``wc``, ``se`` and ``mix`` reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from weakstrong.study_config import Study

#: The sampled sides of a pair.
SIDES = ("wc", "se")
GOLD = "gold"
#: The main study's sources (Table 1), built by build_sft_data.
MAIN = ("wc", "se", GOLD)
#: The filters of the sources beyond the main study's, in table order.
FILTERS = ("unfiltered", "judged", "majority")
MIX = "mix"
#: The sources beyond the main study's, built by build_extra_sft_data.
EXTRA = tuple(f"{side}.{name}" for name in FILTERS for side in SIDES) + (MIX,)
#: Every source name the config's ``sources`` may hold (the schema's enum lists the same).
NAMES = MAIN + EXTRA

#: What a filter keeps, for the tables: ``answer`` is the main study's filter by the gold answer.
FILTER_LABELS = {"answer": "gold answer", "unfiltered": "none", "judged": "LLM judge", "majority": "majority answer"}


@dataclass(frozen=True)
class Source:
    """A source of finetuning data: its name, the sides whose samples it keeps (none for gold), and its filter
    (``answer``, ``unfiltered``, ``judged`` or ``majority``; ``gold`` for the datasets' own solutions)."""
    name: str
    sides: tuple[str, ...]
    filter: str


def parse(name: str) -> Source:
    """The :class:`Source` a name stands for; a ValueError naming the known names otherwise."""
    if name in SIDES:
        return Source(name, (name,), "answer")
    if name == GOLD:
        return Source(name, (), GOLD)
    if name == MIX:
        return Source(name, ("se", "wc"), "answer")
    side, _, kind = name.partition(".")
    if side in SIDES and kind in FILTERS:
        return Source(name, (side,), kind)
    raise ValueError(f"{name!r} is not a source of finetuning data: expected one of {', '.join(NAMES)}")


def name_of(side: str, filter_name: str) -> str:
    """The source keeping ``side``'s samples by ``filter_name`` (``answer``: the main study's ``wc`` / ``se``)."""
    return side if filter_name == "answer" else f"{side}.{filter_name}"


# --- where they run -------------------------------------------------------------------------------------

def in_scope(config: Study, source: str, dataset: str, budget: str, student: str) -> bool:
    """Whether ``source`` is finetuned at (dataset, budget, student): the main study's sources everywhere, the
    others where the config's ``source_scope`` (students, datasets, budgets; each default: all) lets them."""
    if source in MAIN:
        return True
    scope = config.source_scope
    return all(value in (getattr(scope, key) or [value])
               for key, value in (("datasets", dataset), ("budgets", budget), ("students", student)))


def check(config: Study) -> list[str]:
    """What the schema cannot check of ``sources`` and ``source_scope``: a judged source needs a judge, the
    mixed pool is compared with WC-only and SE-only data, and the scope names what the study has."""
    problems = []
    configured = config.sources
    for index, name in enumerate(configured):
        source = parse(name)
        if source.filter == "judged" and config.judge is None:
            problems.append(f"config key 'sources[{index}]': {name!r} keeps what the LLM judge rates correct, "
                            f"which needs a `judge` section (judge.model)")
        if name == MIX and not {"wc", "se"} <= set(configured):
            problems.append(f"config key 'sources[{index}]': 'mix' is compared with WC-only and SE-only data: "
                            f"'wc' and 'se' must be sources too")
    known = {"students": set(config.students),
             "datasets": {d for pair in config.generator_pairs.values() for d in pair.datasets},
             "budgets": set(config.finetune.budgets)}
    where = {"students": "the pairs' students", "datasets": "the pairs' datasets", "budgets": "finetune.budgets"}
    for key in known:
        for index, value in enumerate(getattr(config.source_scope, key) or []):
            if value not in known[key]:
                problems.append(f"config key 'source_scope.{key}[{index}]': {value!r} is not among "
                                f"{where[key]} ({', '.join(sorted(known[key]))})")
    return problems


# --- what they keep -------------------------------------------------------------------------------------

def budget_samples(graded: list[dict], per_question: int, *, graded_path: str = "graded samples") -> list[dict]:
    """The first ``per_question`` samples of each question, in the graded file's order; an error naming the
    file when fewer were drawn."""
    drawn = 1 + max((g["sample_index"] for g in graded), default=-1)
    if graded and drawn < per_question:
        raise ValueError(f"{graded_path}: {drawn} samples per question were drawn, the budget needs "
                         f"{per_question} (study.max_samples decides how many are drawn)")
    return [g for g in graded if g["sample_index"] < per_question]


def example(record: dict, questions: dict[str, str], **extra) -> dict:
    """A finetuning example of a graded sample: the question and the completion, with the sample's identity
    and its gold verdict (``correct``: for measuring the data, never for keeping it)."""
    return {"problem_id": record["problem_id"], "sample_index": record["sample_index"],
            "generator": record.get("generator"), "question": questions[record["problem_id"]],
            "solution": record["completion"].strip(), "correct": bool(record.get("correct")), **extra}


def _questions(problems: list[dict]) -> dict[str, str]:
    return {p["id"]: p["question"] for p in problems}


def unfiltered_examples(graded: list[dict], problems: list[dict], per_question: int) -> list[dict]:
    """Every one of the budget's samples, right or wrong, cut off or not."""
    questions = _questions(problems)
    return [example(g, questions) for g in budget_samples(graded, per_question)]


def answer_kept(record: dict, per_question: int) -> bool:
    """The main study's filter (:func:`weakstrong.solutions.sft_examples`): among the budget's samples, final
    answer right by the gold answer, and decided by the grader."""
    return record["sample_index"] < per_question and record["correct"] and not record.get("grading_undecided")


def votes(record: dict) -> str | None:
    """The final answer a sample votes with: its extracted answer (extraction never sees the gold answer),
    none where the completion was cut off by the token limit."""
    return None if record.get("finish_reason") == "length" else record.get("extracted_answer")


def majority(answers: list[str | None], equivalent: Callable[[str, str], bool]) -> set[int]:
    """The positions of the answers that form the strict majority among ``answers`` (equivalent answers count
    as one; None does not vote): empty when nothing voted or two answers tie for the most votes."""
    clusters: list[list[int]] = []
    for position, answer in enumerate(answers):
        if answer is None:
            continue
        for cluster in clusters:
            if equivalent(answer, answers[cluster[0]]):
                cluster.append(position)
                break
        else:
            clusters.append([position])
    sizes = sorted((len(c) for c in clusters), reverse=True)
    if not sizes or (len(sizes) > 1 and sizes[0] == sizes[1]):
        return set()
    return set(max(clusters, key=len))


def majority_examples(graded: list[dict], problems: list[dict], per_question: int, *,
                      equivalent: Callable[[str, str], bool] | None = None) -> list[dict]:
    """The budget's samples whose final answer is their question's strict majority answer (the module's
    docstring gives the rule), in the graded file's order; each with ``votes``, the majority's size, and
    ``voters``, the samples that voted.  ``equivalent`` compares two answers (default
    :func:`weakstrong.grading.is_equivalent`)."""
    if equivalent is None:
        from weakstrong.grading import is_equivalent as equivalent
    questions = _questions(problems)
    samples = budget_samples(graded, per_question)
    by_problem: dict[str, list[int]] = {}
    for position, record in enumerate(samples):
        by_problem.setdefault(record["problem_id"], []).append(position)
    kept: dict[int, tuple[int, int]] = {}
    for positions in by_problem.values():
        answers = [votes(samples[p]) for p in positions]
        winners = majority(answers, equivalent)
        for index in winners:
            kept[positions[index]] = (len(winners), sum(a is not None for a in answers))
    return [example(record, questions, votes=kept[p][0], voters=kept[p][1])
            for p, record in enumerate(samples) if p in kept]


def judged_examples(graded: list[dict], verdicts: list[dict], problems: list[dict], per_question: int, *,
                    verdicts_path: str = "the verdicts") -> list[dict]:
    """The budget's samples the LLM judge rated correct (``verdict == "correct"``; flawed and unparsable
    replies are not kept), from the judge's verdicts on the generator's samples
    (:func:`weakstrong.judge_filter.judge_samples`); an error naming ``verdicts_path`` for a sample it has no
    verdict on."""
    questions = _questions(problems)
    verdict = {(v["problem_id"], v["sample_index"]): v["verdict"] for v in verdicts}
    kept = []
    for record in budget_samples(graded, per_question):
        key = (record["problem_id"], record["sample_index"])
        if key not in verdict:
            raise ValueError(f"{verdicts_path} has no verdict on sample {key[1]} of problem {key[0]!r}: the judge "
                             f"rated fewer samples per question than the budget's {per_question}")
        if verdict[key] == "correct":
            kept.append(example(record, questions, verdict="correct"))
    return kept


def mixed_examples(graded: dict[str, list[dict]], problems: list[dict], per_question: dict[str, int]) -> list[dict]:
    """The union of the sides' answer-filtered data at the budget (SE's, then WC's, each in its graded file's
    order): every kept sample once, a sample being (generator, problem, sample index).  Two draws with the same
    text both stay, as they do within ``wc`` and ``se`` data."""
    questions = _questions(problems)
    seen, kept = set(), []
    for side in ("se", "wc"):
        for record in budget_samples(graded[side], per_question[side]):
            identity = (record.get("generator"), record["problem_id"], record["sample_index"])
            if answer_kept(record, per_question[side]) and identity not in seen:
                seen.add(identity)
                kept.append(example(record, questions, side=side))
    return kept


def build(name: str, problems: list[dict], graded: dict[str, list[dict]], per_question: dict[str, int], *,
          verdicts: dict[str, list[dict]] | None = None,
          equivalent: Callable[[str, str], bool] | None = None) -> list[dict]:
    """The finetuning examples of a source beyond the main study's (:data:`EXTRA`) at one budget.

    ``graded`` and ``per_question`` map each of the source's sides to its generator's graded samples and the
    budget's samples per question; ``verdicts`` maps a judged source's side to the judge's verdicts."""
    source = parse(name)
    if name not in EXTRA:
        raise ValueError(f"{name!r} is built by build_sft_data, not here")
    if name == MIX:
        return mixed_examples(graded, problems, per_question)
    (side,) = source.sides
    if source.filter == "unfiltered":
        return unfiltered_examples(graded[side], problems, per_question[side])
    if source.filter == "majority":
        return majority_examples(graded[side], problems, per_question[side], equivalent=equivalent)
    if verdicts is None or side not in verdicts:
        raise ValueError(f"{name!r} needs the judge's verdicts on {side.upper()}'s samples")
    return judged_examples(graded[side], verdicts[side], problems, per_question[side])
