"""The paper's ablations as variants of the finetuning data.

Each ablation compares students finetuned on a few *arms* at one (dataset, pair, budget): SFT data picked by
different rules from the same graded samples, which are drawn once per generator (an arm takes the first n
samples of each question, as a budget does, so no ablation samples anything).  An arm is a source of the
main study (``se`` or ``wc``, whose runs are the main study's own) or a *variant*, named by what it keeps::

    <source>.k<n>[.keep<m>][.first<N>]

the correct solutions among the first n samples of each question from the source's generator, at most m per
problem (the lowest sample indices), of the first N training problems only (in the training file's order).
A variant is a ``{source}`` of the finetune -> select_checkpoint -> evaluate chain like ``wc``: it trains at
its budget's steps and learning rates.  Two ablations that need the same data share its runs.

The ablations (the config's ``ablations`` section turns each on for chosen datasets and budgets of a pair):

* ``number_matched``: WC data with as many samples per question as SE's, against SE data and the
  compute-matched (or price-matched) WC data (the paper's Fig. 8, section 2 of ../shared/PAPER.md);
* ``cheaper_wc``: WC data at ``wc_per_se`` samples per SE sample, a fraction of the matched cost (the
  paper's cheaper Flash setting: 5 Flash samples per Pro sample, 0.15x), against SE and matched WC data;
* ``dataset_size``: SE and WC data of the first ``problems`` training problems only (the paper's 500 MATH
  problems, Fig. 7);
* ``coverage_diversity``: WC data of (a) one sample per question, (c) all the budget's samples with one
  correct solution kept per solved problem, (b) all the budget's samples with every correct solution kept
  (the paper's Fig. 9); (c) against (a) is the gain of coverage, (b) against (c) the gain of diversity.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from weakstrong import study
from weakstrong.solutions import sft_examples
from weakstrong.study_config import Study
from weakstrong.tables import NOT_MEASURED, arm_accuracy, arm_difference, outcomes, relative_gain

#: A variant's name as a regular expression (the ``{source}`` wildcard accepts it besides wc, se and gold).
VARIANT_PATTERN = r"(?:wc|se)\.k[1-9][0-9]*(?:\.keep[1-9][0-9]*)?(?:\.first[1-9][0-9]*)?"
_VARIANT = re.compile(r"(?P<source>wc|se)\.k(?P<per_question>[1-9][0-9]*)(?:\.keep(?P<per_problem>[1-9][0-9]*))?"
                      r"(?:\.first(?P<problems>[1-9][0-9]*))?")

#: What each ablation compares, for its table's caption.
DESCRIPTIONS = {
    "number_matched": "Number-matched data: WC data with as many samples per question as SE data, against SE data "
                      "and the cost-matched WC data of the main study.",
    "cheaper_wc": "Cheaper WC data: fewer WC samples per SE sample than cost matching allows (a fraction of SE's "
                  "sampling cost), against SE data and the cost-matched WC data of the main study.",
    "dataset_size": "Dataset size: SE and WC data of the first problems of the training set only.",
    "coverage_diversity": "Coverage and diversity of WC data: (a) one sample per problem; (c) all the budget's "
                          "samples, one correct solution kept per solved problem (coverage of (b), diversity of "
                          "one); (b) all the budget's samples, every correct solution kept (the main study's WC "
                          "data). (c) against (a) is the effect of coverage, (b) against (c) that of diversity.",
}


@dataclass(frozen=True)
class Selection:
    """Which graded samples become finetuning data: the correct ones among the first ``per_question`` samples
    of each question from ``source``'s generator, at most ``per_problem`` per problem (None: all), of the
    first ``problems`` training problems (None: all)."""
    source: str
    per_question: int
    per_problem: int | None = None
    problems: int | None = None

    @property
    def name(self) -> str:
        """The variant's ``{source}`` name: ``wc.k30.keep1``."""
        return (f"{self.source}.k{self.per_question}" + (f".keep{self.per_problem}" if self.per_problem else "")
                + (f".first{self.problems}" if self.problems else ""))


def parse_variant(name: str) -> Selection:
    match = _VARIANT.fullmatch(name)
    if match is None:
        raise ValueError(f"{name!r} is not a variant of the finetuning data: expected "
                         f"<wc|se>.k<n>[.keep<m>][.first<N>], e.g. wc.k30.keep1")
    return Selection(match["source"], int(match["per_question"]),
                     int(match["per_problem"]) if match["per_problem"] else None,
                     int(match["problems"]) if match["problems"] else None)


def keep(graded: list[dict], problems: list[dict], selection: Selection, *, graded_path: str = "graded samples") -> list[dict]:
    """The finetuning examples of a variant, in the graded file's order (as the main study's data)."""
    if selection.problems is not None:
        if selection.problems >= len(problems):
            raise ValueError(f"variant {selection.name}: the first {selection.problems} problems are the whole "
                             f"training set of {len(problems)} (config key 'ablations.dataset_size.problems' "
                             f"must be below it)")
        problems = problems[:selection.problems]
    drawn = 1 + max((g["sample_index"] for g in graded), default=-1)
    if drawn < selection.per_question:
        raise ValueError(f"{graded_path}: {drawn} samples per question were drawn, variant {selection.name} needs "
                         f"{selection.per_question} (study.max_samples decides how many are drawn)")
    ids = {p["id"] for p in problems}
    examples = sft_examples([g for g in graded if g["problem_id"] in ids], problems, selection.per_question)
    if selection.per_problem is None:
        return examples
    taken, kept = Counter(), set()
    for example in sorted(examples, key=lambda e: e["sample_index"]):
        if taken[example["problem_id"]] < selection.per_problem:
            taken[example["problem_id"]] += 1
            kept.add((example["problem_id"], example["sample_index"]))
    return [e for e in examples if (e["problem_id"], e["sample_index"]) in kept]


@dataclass(frozen=True)
class Arm:
    """One arm of an ablation at a budget: its ``{source}`` (se, wc or a variant), a short label, its samples
    per question and per-question sampling cost relative to SE's, and the arm it is compared with."""
    source: str
    label: str
    per_question: int
    relative_cost: float
    against: str | None = None

    @property
    def base(self) -> str:
        """The source whose generator drew the samples: wc or se."""
        return self.source.split(".")[0]


def arms(config: Study, ablation: str, pair: str, budget: str) -> list[Arm]:
    """The arms of an ablation at one budget of a pair, the reference first."""
    spec = config.ablations[ablation]
    k = study.samples_per_question(config, pair, budget, "se")
    k_wc = study.samples_per_question(config, pair, budget, "wc")
    cost_ratio = study.cost_ratio(config, pair)
    matched = f"WC, {config.generator_pairs[pair].match}-matched"

    def arm(selection: Selection | str, label: str, against: str | None = None) -> Arm:
        """An arm of a main-study source (``"se"``, ``"wc"``) or of a variant."""
        if isinstance(selection, str):
            selection = Selection(selection, k if selection == "se" else k_wc)
            source = selection.source
        else:
            source = selection.name
        per_se_sample = selection.per_question / k
        relative = per_se_sample if selection.source == "se" else per_se_sample / cost_ratio
        return Arm(source, label, selection.per_question, relative, against)

    if ablation == "number_matched":
        return [arm("se", "SE"), arm(Selection("wc", k), "WC, SE's count", "se"), arm("wc", matched, "se")]
    if ablation == "cheaper_wc":
        return [arm("se", "SE"), arm(Selection("wc", spec.wc_per_se * k), "WC, cheaper", "se"),
                arm("wc", matched, "se")]
    if ablation == "dataset_size":
        se = Selection("se", k, problems=spec.problems)
        return [arm(se, "SE"), arm(Selection("wc", k_wc, problems=spec.problems), "WC", se.name)]
    if ablation == "coverage_diversity":
        one, one_kept = Selection("wc", 1), Selection("wc", k_wc, per_problem=1)
        return [arm(one, "(a) 1 sample"), arm(one_kept, "(c) 1 correct kept", one.name),
                arm("wc", "(b) all correct kept", one_kept.name)]
    raise ValueError(f"unknown ablation {ablation!r}; expected one of {', '.join(DESCRIPTIONS)}")


def experiments(config: Study) -> list[tuple[str, study.Experiment]]:
    """(ablation, experiment) of every ablation the config turns on, in config order."""
    return [(name, study.Experiment(dataset, spec.pair, budget))
            for name, spec in config.ablations.items()
            for dataset in spec.datasets for budget in spec.budgets]


def students(config: Study, ablation: str) -> list[str]:
    """The students an ablation finetunes: its own list, or its pair's students."""
    spec = config.ablations[ablation]
    return spec.students if spec.students is not None else config.generator_pairs[spec.pair].students


def check(config: Study) -> list[str]:
    """What the schema cannot check of the ``ablations`` section: names that exist, budgets and datasets the
    pair samples (so the drawn samples cover every arm), and a cheaper setting that is cheaper."""
    problems = []
    for name, spec in config.ablations.items():
        where = f"ablations.{name}"
        pair = config.generator_pairs.get(spec.pair)
        if pair is None:
            problems.append(f"config key '{where}.pair': unknown generator pair {spec.pair!r}")
            continue
        for key in ("datasets", "budgets"):
            for index, value in enumerate(getattr(spec, key)):
                if value not in getattr(pair, key):
                    problems.append(f"config key '{where}.{key}[{index}]': {value!r} is not among the "
                                    f"{key} of pair {spec.pair!r} ({', '.join(getattr(pair, key))})")
        for index, student in enumerate(spec.students or []):
            if student not in config.models:
                problems.append(f"config key '{where}.students[{index}]': unknown model {student!r}")
        if name == "cheaper_wc" and spec.wc_per_se >= study.samples_ratio(config, spec.pair):
            problems.append(f"config key '{where}.wc_per_se': {spec.wc_per_se} WC samples per SE sample is "
                            f"not cheaper than pair {spec.pair!r}'s matched {study.samples_ratio(config, spec.pair)}")
        if name == "dataset_size":
            for dataset in spec.datasets:
                toy = config.datasets[dataset].toy if dataset in config.datasets else None
                if toy and spec.problems >= toy["train"]:
                    problems.append(f"config key '{where}.problems': {spec.problems} is not below dataset "
                                    f"{dataset!r}'s {toy['train']} training problems")
    return problems


def table_rows(cells: list[dict], evaluations: dict[str, dict], data: dict[str, list[dict]]) -> list[dict]:
    """One row per (dataset, pair, budget, student, arm): test pass@1 over the replicates and test problems with
    its 95% interval, the finetuning data's size (examples, problems covered; means over the replicates), and
    the difference from the arm it is compared with, paired by replicate and problem, with its interval,
    verdict and relative gain.

    ``cells`` carry dataset, pair, budget, student, setting and the :class:`Arm` fields (``source``,
    ``label``, ``per_question``, ``relative_cost``, ``against``), ``sft`` and ``paths`` (replicate -> the data's
    path, and -> the evaluation's path); ``evaluations`` and ``data`` map those paths to their contents.
    """
    def key(cell: dict, source: str) -> tuple:
        return cell["dataset"], cell["pair"], cell["budget"], cell["student"], source

    arms = {key(c, c["source"]): outcomes(c["paths"], evaluations) for c in cells}
    untrained = {key(c, c["source"]): {replicate for replicate, path in c["paths"].items()
                                       if evaluations[path]["selection"]["step"] == 0} for c in cells}
    rows = []
    for cell in cells:
        mine = arms[key(cell, cell["source"])]
        examples = [data[path] for path in cell["sft"].values()]
        row = {**cell, "pass@1": arm_accuracy(mine), "examples": round(statistics.mean(map(len, examples))),
               "problems": round(statistics.mean(len({e["problem_id"] for e in part}) for part in examples)),
               "untrained": bool(untrained[key(cell, cell["source"])])}
        if cell["against"] is not None:
            other = arms[key(cell, cell["against"])]
            row["difference"] = arm_difference(mine, other, untrained[key(cell, cell["source"])],
                                               untrained[key(cell, cell["against"])])
            row["gain"] = (None if row["difference"]["verdict"] == NOT_MEASURED
                           else relative_gain(row["pass@1"]["mean"], arm_accuracy(other)["mean"]))
            row["against_label"] = next(c["label"] for c in cells if key(c, c["source"]) == key(cell, cell["against"]))
        rows.append(row)
    return rows

