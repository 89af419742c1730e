r"""The reasoning errors of the finetuned students: false positives among their correct test solutions.

The paper finds that models finetuned on WC data make no more reasoning errors than those finetuned on SE data
(../shared/PAPER.md, section 10, "FPR of finetuned models"). A selected student's *correct* test solution (its
greedy pass@1 completion, graded correct; the evaluation keeps their text in ``correct_completions``) is a false
positive when its final answer is right and its reasoning is not, as a kept solution of the finetuning data is.
They are measured as Table 2 measures the data (docs/protocol.md, "False positives: three measurements"):

1. **the arithmetic checker** (:func:`weakstrong.arithmetic.check_solution` in the dataset's style, as
   :func:`weakstrong.metrics.measure_side` applies it): the share of the correct solutions with a checkable
   arithmetic step in which a written calculation is wrong, in every replicate;
2. **the LLM judge** (where the config has one), on the first replicate: :func:`judge_student_solutions` judges
   ``n`` of a student's correct solutions with the data's judge prompt and verdicts
   (:func:`weakstrong.judge.judge_selected`);
3. **a blind human audit**: :func:`export_student_form` writes a rating form of ``per_source`` of the judged
   solutions of each arm, mixed in one random order under opaque ids (:func:`weakstrong.audit.export_audit_form`),
   and :func:`weakstrong.audit.summarize_pair_audit` reads the ratings back.

**Pairing.** The two arms of a cell (one student at one dataset, pair and budget, finetuned on WC and on SE
data) answer the same test problems, so they are compared on the problems both solved: per replicate, of the
problems whose correct solutions are checkable on both sides, the discordant ones (a slip on one side only) give
WC minus SE with Agresti and Min's interval (:func:`weakstrong.stats.paired_proportion_difference`); the
replicates combine by the DerSimonian-Laird random-effects mean (:func:`weakstrong.stats.random_effects_mean`),
as Table 2's false-positive comparisons do. Where no replicate has such a problem the rates are compared as two
proportions (Newcombe), combined the same way. The judge and the audit draw a student's solutions as a prefix of
one seeded order of the test problems (:func:`problem_order`), the same for both arms, so that the problems both
solved are judged (and audited) on both sides as far as ``n`` allows, and each arm's draw is still a uniform
sample of its correct solutions. A replicate in which selection kept the untrained student for both arms
compares a model with itself: it is left out of the comparison, and a cell with no other replicate is *not
measured*.

Each arm's rate is the random-effects mean of its replicates' rates, each with its Wilson interval.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from weakstrong.arithmetic import check_solution
from weakstrong.metrics import proportion
from weakstrong.stats import paired_proportion_difference, proportion_difference, random_effects_mean
from weakstrong.tables import NOT_MEASURED, percent, rate_with_interval, to_latex, to_markdown

SIDES = ("se", "wc")
#: Flagged solutions a row lists, per arm (of the first replicate).
EXAMPLES = 5
#: What a judged record of a student's solution keeps.
JUDGE_KEYS = ("problem_id", "sample_index", "source", "generator", "level", "completion", "gold_answer")


# --- the solutions ------------------------------------------------------------------------------------------

def correct_solutions(evaluation: dict, where: str = "the evaluation") -> list[dict]:
    """A student's correct greedy test solutions as records (``problem_id``, ``sample_index`` 0, ``completion``,
    ``correct``), in the evaluation's order; an evaluation written before they were kept is an error."""
    if "correct_completions" not in evaluation:
        raise ValueError(f"{where} has no correct_completions: it was written before evaluations kept their "
                         f"correct solutions' text; delete it and run the workflow again")
    return [{"problem_id": item["problem_id"], "sample_index": 0, "completion": item["completion"], "correct": True}
            for item in evaluation["correct_completions"]]


def is_untrained(evaluation: dict) -> bool:
    """Whether checkpoint selection kept the untrained student (step 0), as Table 1 marks it."""
    return (evaluation.get("selection") or {}).get("step") == 0


def problem_order(problem_ids, seed: int) -> list:
    """The problems in one seeded order, independent of their given order: by the digest of (seed, id)."""
    return sorted(set(problem_ids), key=lambda pid: (hashlib.sha256(f"{seed}/{pid}".encode()).hexdigest(), str(pid)))


def select_for_judging(records: list[dict], n: int, seed: int) -> list[dict]:
    """The first ``n`` of a student's correct solutions in :func:`problem_order` (all when fewer): a uniform
    sample of them, and, for two arms drawn with the same seed, one that judges the problems both solved on both
    sides as far as ``n`` allows."""
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    by_id = {record["problem_id"]: record for record in records}
    if len(by_id) != len(records):
        raise ValueError("a student has one greedy solution per problem: a problem id appears twice")
    return [by_id[pid] for pid in problem_order(by_id, seed)[:n]]


def with_levels(records: list[dict], problems: list[dict], source: str, generator: str) -> list[dict]:
    """The records with their arm (``source``: wc or se, what the audit's key and the judge's records name),
    the student and its data as ``generator``, and the problem's level."""
    levels = {p["id"]: p.get("level") for p in problems}
    unknown = sorted({r["problem_id"] for r in records} - set(levels))
    if unknown:
        raise ValueError(f"solutions of problems not among the test problems, e.g. {unknown[:3]}")
    return [{**r, "source": source, "generator": generator, "level": levels[r["problem_id"]]} for r in records]


def judge_student_solutions(generate_fn, evaluation: dict, problems: list[dict], template_text: str, *,
                            source: str, generator: str, n: int, seed: int,
                            max_tokens: int) -> tuple[list[dict], dict]:
    """The LLM judge's verdicts on ``n`` of a student's correct test solutions (:func:`select_for_judging`), with
    the data judge's prompt and reading (:func:`weakstrong.judge.judge_selected`). ``source`` is the arm (wc or
    se), ``generator`` names the student and its data. Returns ``(records, summary)``, the summary with
    ``correct`` (the student's correct solutions)."""
    from weakstrong.judge import judge_selected

    solutions = with_levels(correct_solutions(evaluation), problems, source, generator)
    gold = {p["id"]: str(p.get("answer", "")) for p in problems}
    selected = [{**r, "gold_answer": gold[r["problem_id"]]} for r in select_for_judging(solutions, n, seed)]
    records, summary = judge_selected(generate_fn, selected, problems, template_text, seed=seed,
                                      max_tokens=max_tokens, keys=JUDGE_KEYS)
    return records, {**summary, "correct": len(solutions)}


def export_student_form(evaluations: dict[str, dict], problems: list[dict], html_path: str | Path,
                        csv_path: str | Path, key_path: str | Path, *, generators: dict[str, str],
                        per_source: int = 50, judge_n: int = 500, seed: int = 0) -> list[dict]:
    """The blind audit form of one student's two arms (``evaluations``: wc and se -> the first replicate's
    evaluation): per arm the first ``per_source`` of the solutions the judge sees (:func:`select_for_judging`
    with ``judge_n`` and ``seed``, so every audited item has a verdict, and both arms' items share problems as
    far as they can), mixed in one random order under opaque ids; the key alone says which arm wrote an item.
    Without a correct solution on either side the form says so. Returns the items in the order shown."""
    from weakstrong.audit import export_audit_form, write_empty_form

    if per_source < 1:
        raise ValueError(f"per_source must be at least 1, got {per_source}")
    pool = []
    for source in sorted(evaluations):
        solutions = with_levels(correct_solutions(evaluations[source], f"the {source.upper()} arm's evaluation"),
                                problems, source, generators[source])
        pool += select_for_judging(solutions, judge_n, seed)[:per_source]
    if not pool:
        write_empty_form(html_path, csv_path, key_path, "the student solved no test problem on either data",
                         title="Audit of correct test solutions")
        return []
    return export_audit_form(pool, problems, html_path, csv_path, key_path, n=len(pool), seed=seed,
                             title="Audit of correct test solutions")


# --- the arithmetic checker, per replicate ------------------------------------------------------------------

def check_arm(evaluation: dict, style: str, where: str = "the evaluation") -> dict:
    """Each correct solution's check: problem id -> {"checkable": has a checkable step, "flawed": a checkable
    step is wrong, "wrong_steps": their texts}."""
    checks = {}
    for record in correct_solutions(evaluation, where):
        check = check_solution(record["completion"] or "", style)
        checks[record["problem_id"]] = {"checkable": check["checkable"] > 0, "flawed": check["flawed"],
                                        "wrong_steps": [step["text"] for step in check["wrong_steps"]]}
    return checks


def arm_counts(checks: dict) -> dict:
    """An arm's correct, checkable and flagged solutions, with the flagged share of the checkable ones and its
    Wilson interval (None when nothing is checkable)."""
    checkable = sum(c["checkable"] for c in checks.values())
    flawed = sum(c["flawed"] for c in checks.values())
    share = proportion(flawed, checkable)
    return {"correct": len(checks), "checkable": checkable, "flawed": flawed, "rate": share["rate"],
            "ci95": share["ci95"]}


def paired_counts(wc: dict, se: dict) -> tuple[int, int, int]:
    """(WC flagged alone, SE flagged alone, pairs) over the problems both arms solved with a checkable
    solution."""
    both = [pid for pid in wc if pid in se and wc[pid]["checkable"] and se[pid]["checkable"]]
    return (sum(wc[p]["flawed"] and not se[p]["flawed"] for p in both),
            sum(se[p]["flawed"] and not wc[p]["flawed"] for p in both), len(both))


def replicate_comparison(wc_evaluation: dict, se_evaluation: dict, style: str, where: str = "") -> dict:
    """One replicate of a cell: each arm's counts (:func:`arm_counts`), WC minus SE paired over the problems both
    solved (:func:`weakstrong.stats.paired_proportion_difference`) and as two proportions (Newcombe), whether both
    arms are the untrained student (``same_model``), and up to five flagged solutions per arm."""
    wc = check_arm(wc_evaluation, style, f"{where} (WC)")
    se = check_arm(se_evaluation, style, f"{where} (SE)")
    arms = {"wc": arm_counts(wc), "se": arm_counts(se)}
    paired = paired_proportion_difference(*paired_counts(wc, se))
    unpaired = proportion_difference(arms["wc"]["flawed"], arms["wc"]["checkable"], arms["se"]["flawed"],
                                     arms["se"]["checkable"])
    examples = {source: [{"problem_id": pid, "wrong_steps": c["wrong_steps"]}
                         for pid, c in checks.items() if c["flawed"]][:EXAMPLES]
                for source, checks in (("wc", wc), ("se", se))}
    return {**arms, "paired": paired, "unpaired": unpaired, "examples": examples,
            "same_model": is_untrained(wc_evaluation) and is_untrained(se_evaluation)}


# --- combining ----------------------------------------------------------------------------------------------

def combined_rate(estimates: list[dict]) -> dict:
    """An arm's rate over replicates: the random-effects mean of each replicate's rate with its Wilson interval
    (one replicate: its own); the counts are the replicates' means."""
    if not estimates:
        return {"correct": None, "checkable": None, "flawed": None, "rate": None, "ci95": None, "replicates": 0}
    combined = random_effects_mean([{"mean": e["rate"], "ci95": e["ci95"]} for e in estimates])
    counts = {key: sum(e[key] for e in estimates) / len(estimates) for key in ("correct", "checkable", "flawed")}
    return {**counts, "rate": combined["mean"], "ci95": _clipped(combined["ci95"], 0.0), "replicates": combined["n"]}


def _clipped(interval: list[float] | None, low: float) -> list[float] | None:
    """An interval within [low, 1]: the random-effects mean reads each replicate's interval as normal, so a rate
    near 0 or 1 (or a difference near +-1) can reach past what is possible."""
    return None if interval is None else [max(low, interval[0]), min(1.0, interval[1])]


def combined_difference(replicates: list[dict]) -> dict:
    """WC minus SE over a cell's replicates (:func:`replicate_comparison` each): paired where some replicate has
    problems both arms solved with a checkable solution, else as two proportions; the replicates that compare
    the untrained student with itself are left out, and :data:`weakstrong.tables.NOT_MEASURED` when that is
    every replicate."""
    measured = [r for r in replicates if not r["same_model"]]
    if not measured:
        return {"n": 0, "mean": None, "ci95": None, "verdict": NOT_MEASURED, "method": None, "pairs": 0}
    paired = [r["paired"] for r in measured if r["paired"]["n"]]
    if paired:
        combined, method, pairs = random_effects_mean(paired), "paired", sum(p["n"] for p in paired)
    else:
        combined, pairs = random_effects_mean([r["unpaired"] for r in measured]), 0
        method = "unpaired" if combined["n"] else None   # None: no checkable solution on one side
    return {**combined, "ci95": _clipped(combined["ci95"], -1.0), "method": method, "pairs": pairs}


def judge_comparison(records: dict[str, list[dict]], same_model: bool) -> dict:
    """The judge's verdicts of both arms (wc and se -> judged records of the first replicate): each arm's flawed
    rate (:func:`weakstrong.judge.summarize_judgements`; zero counts without records) and WC minus SE, paired over
    the problems rated on both sides, else as two proportions; :data:`weakstrong.tables.NOT_MEASURED` where the
    two arms are the same untrained student."""
    from weakstrong.judge import _empty_summary, summarize_judgements

    arms = {source: summarize_judgements(rs) if rs else _empty_summary() for source, rs in records.items()}
    if same_model:
        return {**arms, "difference": {"n": 0, "mean": None, "ci95": None, "verdict": NOT_MEASURED,
                                       "method": None, "pairs": 0}}
    verdicts = {source: {r["problem_id"]: r["verdict"] for r in rs if r["verdict"] is not None}
                for source, rs in records.items()}
    both = [pid for pid in verdicts["wc"] if pid in verdicts["se"]]
    if both:
        flawed = {source: {pid for pid in both if verdicts[source][pid] == "flawed"} for source in SIDES}
        difference = {**paired_proportion_difference(len(flawed["wc"] - flawed["se"]), len(flawed["se"] - flawed["wc"]),
                                                     len(both)), "method": "paired", "pairs": len(both)}
    else:
        difference = {**proportion_difference(arms["wc"]["n_flawed"], arms["wc"]["n_rated"], arms["se"]["n_flawed"],
                                              arms["se"]["n_rated"]), "method": "unpaired", "pairs": 0}
    return {**arms, "difference": difference}


def student_rows(cells: list[dict], evaluations: dict[str, dict], judge: dict[str, list[dict]] | None = None,
                 audit: dict[str, dict] | None = None) -> list[dict]:
    """One row per cell (dataset, pair, budget, student): the arithmetic checker's rate of each arm over the
    replicates and WC minus SE (:func:`combined_difference`); the judge's (first replicate,
    :func:`judge_comparison`) where the cell has judge records; the human audit's rate per arm where its ratings
    exist.

    ``cells`` carry dataset, pair, budget, student, style, ``settings`` and ``generators`` (wc and se -> the
    arm's setting, the generator of its data), ``paths`` (wc and se -> replicate -> evaluation path), ``judge``
    (wc and se -> judged records' path, or None) and ``audit`` (the audit summary's path, or None);
    ``evaluations``, ``judge`` and ``audit`` map those paths to the files' contents. JSON-ready."""
    judge, audit = judge or {}, audit or {}
    rows = []
    for cell in cells:
        replicates = sorted(set(cell["paths"]["wc"]) & set(cell["paths"]["se"]), key=lambda r: (len(r), r))
        where = f"{cell['dataset']}/{cell['pair']}/{cell['budget']}/{cell['student']}"
        per_replicate = [replicate_comparison(evaluations[cell["paths"]["wc"][r]], evaluations[cell["paths"]["se"][r]],
                                              cell["style"], f"{where}, replicate {r}") for r in replicates]
        row = {key: cell[key] for key in ("dataset", "pair", "budget", "student", "settings", "generators")}
        row.update(replicates=len(replicates),
                   arithmetic={**{source: combined_rate([r[source] for r in per_replicate]) for source in SIDES},
                               "difference": combined_difference(per_replicate)},
                   examples=per_replicate[0]["examples"] if per_replicate else {}, judge=None, human=None)
        if cell.get("judge"):
            row["judge"] = judge_comparison({source: judge[cell["judge"][source]] for source in SIDES},
                                            bool(per_replicate) and per_replicate[0]["same_model"])
        if cell.get("audit"):
            by_source = audit[cell["audit"]].get("by_source", {})
            row["human"] = {source: by_source.get(source) for source in SIDES}
        rows.append(row)
    return rows


# --- the table ----------------------------------------------------------------------------------------------

CAPTION = ("Reasoning errors of the finetuned students (the paper's finding that models finetuned on WC data make "
           "no more reasoning errors than those finetuned on SE data): per dataset, pair, budget and student, of the "
           "selected student's correct greedy test solutions (pass@1) after finetuning on each data, how many "
           "(Correct; means over {replicates}) and the share with a checkable arithmetic step in which a written "
           "calculation is wrong (Arith. slips (checkable), %, exact recomputation; its 95% interval is the "
           "DerSimonian-Laird random-effects mean of the replicates' Wilson intervals; Checkable: the solutions "
           "with such a step).")
JUDGE_NOTE = (" False pos.: the share the LLM judge ({model}) rates flawed of up to the configured number of "
              "correct solutions per student and data (the first replicate's; 95% Wilson interval), its "
              "unparsable replies beside it.")
NO_JUDGE_NOTE = " No LLM judge is configured: False pos. reads --."
HUMAN_NOTE = " Human FP: the blind human audit's flawed share (95% Wilson interval), where its ratings exist."
DIFFERENCE_NOTE = (" WC minus SE, paired over the test problems both students solved, is in the findings "
                   "(findings.md).")


def _replicates(rows: list[dict]) -> str:
    counts = {row["replicates"] for row in rows}
    return "one replicate" if counts <= {1} else f"{max(counts)} replicates"


def _count(value) -> str:
    return "--" if value is None else (str(int(value)) if float(value).is_integer() else f"{value:.1f}")


def student_errors_table(rows: list[dict], judge_model: str | None = None) -> tuple[str, str]:
    """The table of :func:`student_rows` (LaTeX, Markdown), one row per cell and arm, in Table 2's style."""
    judged = judge_model is not None
    audited = any(row.get("human") for row in rows)
    headers = (["Dataset", "Pair", "Budget", "Student", "Data", "Setting", "Correct", "False pos."]
               + (["Judge unparsable"] if judged else []) + (["Human FP"] if audited else [])
               + ["Arith. slips (checkable)", "Checkable"])
    body = []
    for row in rows:
        for source in SIDES:
            arithmetic = row["arithmetic"][source]
            verdicts = (row.get("judge") or {}).get(source)
            line = [row["dataset"], row["pair"], row["budget"], row["student"],
                    f"{source.upper()} ({row['generators'][source]})", row["settings"][source],
                    _count(arithmetic["correct"]), rate_with_interval(verdicts)]
            if judged:
                line.append(f"{verdicts['n_unparsable']}/{verdicts['n']}" if verdicts and verdicts.get("n") else "--")
            if audited:
                line.append(rate_with_interval((row.get("human") or {}).get(source)))
            line += [rate_with_interval(arithmetic) if arithmetic["ci95"] else percent(arithmetic["rate"]),
                     _count(arithmetic["checkable"])]
            body.append(line)
    caption = (CAPTION.format(replicates=_replicates(rows))
               + (JUDGE_NOTE.format(model=judge_model) if judged else NO_JUDGE_NOTE)
               + (HUMAN_NOTE if audited else "") + DIFFERENCE_NOTE)
    return to_latex(headers, body, caption, "tab:student-errors"), to_markdown(headers, body, caption)
