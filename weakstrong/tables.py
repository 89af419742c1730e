"""The paper's tables as booktabs LaTeX and as Markdown (for reading in a terminal).

Table 1: finetuning results.  For each dataset, pair and budget, each student and the setting it is in, the
test accuracy after training on SE data and on WC data, and the relative gain of WC over SE.
Table 2: data quality.  Coverage, diversity (answer- and reasoning-level) and false-positive rate of the SE
data at k against the WC data at ratio*k, per dataset and budget.
"""

from __future__ import annotations

import math

from tabulate import tabulate

from weakstrong.stats import CROSSED_METHOD, better, crossed_difference, crossed_mean, with_power


def relative_gain(wc: float, se: float) -> float:
    """(WC - SE) / SE: the paper's 'relative gain' of training on WC data."""
    if se is None or wc is None or se == 0 or math.isnan(se) or math.isnan(wc):
        return float("nan")
    return (wc - se) / se


def percent(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    return f"{100 * value:.{digits}f}"


def fraction(value, missing: str = "n/a") -> str:
    """A rate or ratio with three decimals, or ``missing`` where nothing could be measured ('--' in tables)."""
    return missing if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def signed_percent(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    return f"{100 * value:+.1f}"


#: The verdict of a comparison whose two arms are the same model: selection kept the untrained student on
#: validation for both sources in every replicate, so the data made no difference that could be measured.
NOT_MEASURED = "not measured (base kept)"


def outcomes(paths: dict[str, str], evaluations: dict[str, dict], metric: str = "pass@1") -> dict[str, dict]:
    """Each replicate's per-problem outcomes of ``metric`` (replicate -> {problem id: 1 right, 0 not}) from a
    cell's evaluations (``paths``: replicate -> evaluation path; ``evaluations``: path -> its contents)."""
    result = {}
    for replicate, path in paths.items():
        per_problem = evaluations[path].get("per_problem") or {}
        if metric not in per_problem or "problem_id" not in per_problem:
            raise ValueError(f"{path} has no per-problem {metric}: it was written before evaluations kept "
                             f"per-problem results; delete it and run the workflow again")
        result[replicate] = dict(zip(per_problem["problem_id"], per_problem[metric]))
    return result


def replicate_table(*arms: dict[str, dict], replicates: list[str]) -> list[list[list[float]]]:
    """The arms' outcomes (:func:`outcomes`) as replicate x problem tables over the same ``replicates`` and the
    same problems (the first arm's first replicate's, in their order); any other set of problems is an error."""
    problems = list(arms[0][replicates[0]])
    tables = []
    for number, arm in enumerate(arms):
        table = []
        for replicate in replicates:
            if set(arm[replicate]) != set(problems):
                raise ValueError(f"replicate {replicate} of arm {number + 1} was evaluated on other problems than "
                                 f"replicate {replicates[0]} of arm 1 ({len(arm[replicate])} against {len(problems)}): "
                                 f"every replicate and arm must share the test set to pair over problems")
            table.append([float(arm[replicate][problem]) for problem in problems])
        tables.append(table)
    return tables


def _replicates(*arms: dict) -> list[str]:
    common = set(arms[0]).intersection(*arms[1:])
    return sorted(common, key=lambda replicate: (len(replicate), replicate))


def arm_accuracy(arm: dict[str, dict]) -> dict:
    """An arm's mean accuracy over replicates x problems (:func:`weakstrong.stats.crossed_mean`), with each
    replicate's own in ``per_replicate``."""
    replicates = _replicates(arm)
    (table,) = replicate_table(arm, replicates=replicates)
    return {**crossed_mean(table),
            "per_replicate": {replicate: sum(row) / len(row) for replicate, row in zip(replicates, table)}}


def arm_difference(mine: dict[str, dict], other: dict[str, dict], mine_untrained: set, other_untrained: set) -> dict:
    """``mine`` minus ``other`` (:func:`outcomes` of each), paired over their common replicates and the test
    problems (:func:`weakstrong.stats.crossed_difference`); with ``detectable``, the smallest difference this
    design (its replicates and problems) detects at 95% with 80% power, and ``replicates_for_half``, the
    replicates it would take to detect half of that (None with one replicate, which cannot show the replicates'
    variance, or where more replicates cannot reach it). :data:`NOT_MEASURED` where both arms kept the untrained
    model in every one of those replicates."""
    replicates = _replicates(mine, other)
    if replicates and all(r in mine_untrained and r in other_untrained for r in replicates):
        return {"n": len(replicates), "mean": None, "ci95": None, "verdict": NOT_MEASURED}
    return with_power(crossed_difference(*replicate_table(mine, other, replicates=replicates)))


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def table1_rows(cells: list[dict], evaluations: dict[str, dict], bases: dict[str, dict] | None = None) -> list[dict]:
    """One row per (dataset, pair, budget, student): test pass@1 after training on SE, WC (and gold) data
    over replicates x test problems with its 95% interval; WC minus SE paired by replicate and problem with its
    interval, verdict and power (:func:`arm_difference`); the relative gain of WC over SE (of the means); and
    the student before finetuning, zero-shot as the finetuned students are evaluated and few-shot (means over
    replicates). Where both arms kept the untrained student in every replicate, the difference is
    :data:`NOT_MEASURED`, never "no difference".

    ``cells`` carry dataset, pair, budget, student, source, setting, ``paths`` (replicate -> evaluation path)
    and ``bases`` (replicate -> the student's base evaluation path); ``evaluations`` maps a path to its
    evaluation (``pass@1``, ``per_problem``, ``selection``), ``bases`` a base path to the base evaluation
    (``zero_shot``, ``few_shot``).
    """
    rows: dict[tuple, dict] = {}
    for cell in cells:
        key = (cell["dataset"], cell["pair"], cell["budget"], cell["student"])
        row = rows.setdefault(key, {"dataset": cell["dataset"], "pair": cell["pair"], "budget": cell["budget"],
                                    "student": cell["student"], "settings": {}, "untrained": set(),
                                    "untrained_replicates": {}, "outcomes": {}})
        row["outcomes"][cell["source"]] = outcomes(cell["paths"], evaluations)
        row[cell["source"]] = arm_accuracy(row["outcomes"][cell["source"]])
        untrained = {replicate for replicate, path in cell["paths"].items()
                     if evaluations[path]["selection"]["step"] == 0}
        row["untrained_replicates"][cell["source"]] = untrained
        if untrained:
            row["untrained"].add(cell["source"])
        row["settings"][cell["source"]] = cell["setting"]
        base_paths = [path for path in cell.get("bases", {}).values() if bases is not None and path in bases]
        if base_paths:
            row["base"] = _mean([bases[path]["zero_shot"]["pass@1"] for path in base_paths])
            row["base_few_shot"] = _mean([bases[path]["few_shot"]["pass@1"] for path in base_paths])
    for row in rows.values():
        wc, se = row.get("wc"), row.get("se")
        row["gain"] = relative_gain(wc and wc["mean"], se and se["mean"])
        if wc and se:
            difference = arm_difference(row["outcomes"]["wc"], row["outcomes"]["se"],
                                        row["untrained_replicates"]["wc"], row["untrained_replicates"]["se"])
            row["difference"] = {**difference, "verdict": better(difference["verdict"])}
            if difference["verdict"] == NOT_MEASURED:
                row["gain"] = None  # the untrained model against itself: no gain to report
        del row["outcomes"]  # per-problem tables: used above, too large for the rows' JSON
    return list(rows.values())


def _table1_records(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    has_gold = any("gold" in r for r in rows)
    has_base = any(r.get("base") is not None for r in rows)
    headers = ["Dataset", "Pair", "Budget", "Student", "Setting (WC data / SE data)"]
    headers += ["Base", "Base few-shot"] if has_base else []
    headers += ["SE data", "WC data", "Rel. gain", "WC - SE [95%]", "Verdict"] + (["Gold"] if has_gold else [])
    body = []
    for r in rows:
        settings = f"{r['settings'].get('wc', '--')} / {r['settings'].get('se', '--')}"
        line = [r["dataset"], r["pair"], r["budget"], r["student"], settings]
        line += [percent(r.get("base")), percent(r.get("base_few_shot"))] if has_base else []
        difference = r.get("difference") or {}
        line += [_accuracy_cell(r, "se"), _accuracy_cell(r, "wc"), signed_percent(r["gain"]),
                 _interval_cell(difference), difference.get("verdict", "--")]
        line += [_accuracy_cell(r, "gold")] if has_gold else []
        body.append(line)
    return headers, body


def _interval_cell(summary: dict) -> str:
    """'+3.1 [-1.0, 7.2]' in points, or the mean alone without an interval."""
    if not summary or summary.get("mean") is None:
        return "--"
    if summary.get("ci95") is None:
        return signed_percent(summary["mean"])
    low, high = summary["ci95"]
    return f"{signed_percent(summary['mean'])} [{100 * low:.1f}, {100 * high:.1f}]"


UNTRAINED_MARK = "*"
UNTRAINED_NOTE = (f" {UNTRAINED_MARK} The untrained student was selected: no finetuned checkpoint beat it on "
                  f"validation, or no correct solution was kept to train on.")


def _accuracy_cell(row: dict, source: str) -> str:
    """The mean, with the half-width of its 95% interval where it has one."""
    summary = row.get(source)
    if summary is None:
        return "--"
    text = percent(summary["mean"])
    if summary.get("ci95") is not None:
        text += f" ± {100 * (summary['ci95'][1] - summary['mean']):.1f}"
    return text + (UNTRAINED_MARK if source in row.get("untrained", ()) else "")


def table1_detail(cells: list[dict], evaluations: dict[str, dict], maj_k: list[int]) -> tuple[str, str]:
    """Every finetuning result once (gold runs are shared by pairs), per replicate: the selected checkpoint,
    its validation score, test pass@1 and maj@k for each k."""
    headers = ["Dataset", "Data", "Budget", "Student", "Source", "Replicate", "Examples", "LR", "Step", "Validation",
               "Untrained val.", "pass@1"] + [f"maj@{k}" for k in sorted(maj_k)]
    body, seen = [], set()
    for cell in cells:
        for replicate, path in cell["paths"].items():
            if path in seen:
                continue
            seen.add(path)
            evaluation = evaluations[path]
            selection = evaluation["selection"]
            pair = "all pairs" if cell["source"] == "gold" else cell["pair"]
            body.append([cell["dataset"], pair, cell["budget"], cell["student"], cell["source"], str(replicate),
                         str(selection.get("trained_on", "--")),
                         "--" if selection["lr"] is None else f"{selection['lr']:g}", str(selection["step"]),
                         percent(selection["validation_accuracy"]),
                         percent(selection.get("untrained", {}).get("validation_accuracy")), percent(evaluation["pass@1"])]
                        + [percent(evaluation.get(f"maj@{k}")) for k in sorted(maj_k)])
    caption = TABLE1_DETAIL_CAPTION + (" maj@k: majority vote over k samples." if maj_k else "")
    return to_latex(headers, body, caption, "tab:finetuning-detail"), to_markdown(headers, body, caption)


def latex_escape(text: str) -> str:
    return (str(text).replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("%", "\\%")
            .replace("&", "\\&").replace("#", "\\#").replace("@", "{@}").replace("±", "$\\pm$"))


def to_latex(headers: list[str], body: list[list[str]], caption: str, label: str) -> str:
    """A booktabs table, numbers right-aligned; a midrule between datasets."""
    align = "".join("r" if _numeric_column(body, i) else "l" for i in range(len(headers)))
    lines = ["\\begin{table}[t]", "\\centering", "\\small", f"\\caption{{{latex_escape(caption)}}}",
             f"\\label{{{label}}}", f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_escape(h) for h in headers) + " \\\\", "\\midrule"]
    previous = None
    for row in body:
        if previous is not None and row[0] != previous:
            lines.append("\\midrule")
        previous = row[0]
        lines.append(" & ".join(latex_escape(c) for c in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def _numeric_column(body: list[list[str]], index: int) -> bool:
    values = [row[index] for row in body if row[index] != "--"]
    return bool(values) and all(_is_number(v) for v in values)


def _is_number(text: str) -> bool:
    """A number, possibly with a '± half-width' or an untrained mark."""
    try:
        float(text.removesuffix(UNTRAINED_MARK).split(" ± ")[0])
        return True
    except ValueError:
        return False


def to_markdown(headers: list[str], body: list[list[str]], caption: str) -> str:
    # Cells are already formatted text: tabulate must not re-read them as numbers (it would drop '+' signs
    # and trailing zeros), but numeric columns still align right.
    align = ["right" if _numeric_column(body, i) else "left" for i in range(len(headers))]
    return (f"**{caption}**\n\n" + tabulate(body, headers=headers, tablefmt="github", disable_numparse=True,
                                              colalign=align) + "\n")


TABLE1_CAPTION = ("Finetuning on compute-matched synthetic data: zero-shot test pass@1 (%) of each student after "
                  "training on SE data and on WC data (the mean over {replicates} and the test problems, ± the "
                  "half-width of its 95% interval), the relative gain (%) of WC over SE, and WC minus SE in points "
                  "paired by replicate and test problem, with its 95% interval and verdict. Intervals: "
                  f"{CROSSED_METHOD}. Base: the student before finetuning, zero-shot as the finetuned students are "
                  "evaluated, and few-shot as the generators sample (means over the replicates).")
GOLD_NOTE = " Gold: trained on the datasets' own solutions."
TABLE1_DETAIL_CAPTION = ("Every finetuning result: training examples, the selected learning rate and step (step 0: "
                         "the untrained student), its validation pass@1 (%) beside the untrained student's, and its "
                         "test pass@1 (%) and maj@k (%).")
TABLE2_CAPTION = ("Quality of compute-matched synthetic data, SE at k against WC at ratio times k: coverage@k "
                  "(%), diversity@k (unique correct solutions per problem; answer- and reasoning-level) and "
                  "false-positive rate (%) of kept (correct-answer) solutions.")
TABLE2_REPLICATES_NOTE = (" Every number is the mean over the {replicates} replicates' data; the LLM judge's and the "
                          "human audit's rates are the first replicate's.")
#: How Table 2's false positives were measured; the judge note names the judge model.
TABLE2_JUDGE_NOTE = (" False pos.: share of a level-stratified sample of each budget's kept solutions whose "
                     "reasoning the LLM judge {model} rates flawed, with its 95% Wilson interval; replies without "
                     "a verdict are left out of the rate (Judge unparsable: such replies / solutions judged).")
TABLE2_NO_JUDGE_NOTE = " False pos.: -- (no LLM judge in the configuration)."
TABLE2_UNDECIDED_NOTE = (" Undecided: first-k samples whose final answer the grader could not decide (a comparison "
                         "past its deadline or a failed grading worker), with their share (%); they count as not "
                         "correct, so coverage and diversity are lower bounds.")
TABLE2_HUMAN_NOTE = (" Human FP: the same from a blind human audit of some of the judged solutions, with its 95% "
                     "Wilson interval (-- where not rated).")
TABLE2_ARITHMETIC_NOTE = (" Arith. slips (checkable): share (%) of the kept solutions with a checkable arithmetic "
                          "step in which a written calculation is wrong (exact recomputation; not a judgement of "
                          "the reasoning).")


def replicates_phrase(rows: list[dict]) -> str:
    """'3 replicates' (or 'one replicate: the replicates' own variation is not in the intervals')."""
    counts = {summary["n"] for row in rows for source in ("se", "wc", "gold")
              if isinstance(summary := row.get(source), dict) and summary.get("n")}
    if counts == {1}:
        return "one replicate (its intervals leave out the variation between replicates)"
    return f"{max(counts)} replicates" if counts else "the replicates"


def table1(rows: list[dict], machines: str = "") -> tuple[str, str]:
    """``machines``: the provenance sentence (``weakstrong.numerics.describe_machines``) closing the caption."""
    headers, body = _table1_records(rows)
    caption = (TABLE1_CAPTION.format(replicates=replicates_phrase(rows)) + (GOLD_NOTE if any("gold" in r for r in rows) else "")
               + (UNTRAINED_NOTE if any(r.get("untrained") for r in rows) else "") + (f" {machines}" if machines else ""))
    return to_latex(headers, body, caption, "tab:finetuning"), to_markdown(headers, body, caption)


def rate_with_interval(summary: dict | None) -> str:
    """A rate and its 95% interval in percent, ``12.0 [8.1, 17.4]``; ``--`` when there is none."""
    if not summary or summary.get("rate") is None:
        return "--"
    low, high = summary["ci95"]
    return f"{percent(summary['rate'])} [{percent(low)}, {percent(high)}]"


def _unparsable(summary: dict | None) -> str:
    """The judge's replies without a verdict out of all it judged, ``3/500``; ``--`` when nothing was judged."""
    return f"{summary['n_unparsable']}/{summary['n']}" if summary and summary.get("n") else "--"


#: Table 2's per-side numbers, averaged over the replicates.
SIDE_MEANS = ("coverage", "diversity", "reasoning_diversity", "false_positive_rate", "kept", "undecided",
              "undecided_share")


def _count(value) -> str:
    """A count, or the mean of counts over replicates with one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def replicate_means(replicates: list[dict]) -> dict:
    """The replicates' data metrics (:func:`weakstrong.metrics.measure_budget` outputs) as one: each side's
    :data:`SIDE_MEANS` averaged over the replicates that have them, the rest from the first replicate."""
    first = replicates[0]
    merged = dict(first)
    for role in ("se", "wc"):
        merged[role] = dict(first[role])
        for key in SIDE_MEANS:
            values = [m[role][key] for m in replicates if m[role].get(key) is not None]
            if values:
                merged[role][key] = sum(values) / len(values)
    return merged


def table2(cells: list[dict], metrics: dict[str, dict], judge: dict[str, dict] | None = None,
           audit: dict[str, dict] | None = None, judge_model: str | None = None) -> tuple[str, str]:
    """Table 2: per dataset, pair, budget and source, the data's coverage, diversity and false positives.

    ``cells`` carry dataset, pair, budget, ``paths`` (replicate -> measure_budget output; the numbers are
    their means, :func:`replicate_means`), and optionally ``judge``
    (``{"se": path, "wc": path}`` of the judge summaries, :func:`weakstrong.judge.judge_solutions`) and
    ``audit`` (path of the audit summary, :func:`weakstrong.audit.summarize_pair_audit`; None before the
    ratings exist).  ``metrics``, ``judge`` and ``audit`` map those paths to the files' contents.

    "False pos." is the judge's flawed rate with its 95% interval (``--`` without a judge), beside it the
    judge's unparsable replies; "Human FP" (only when some cell has an audit) is the audit's rate for the
    row's generator; "Arith. slips (checkable)" is the arithmetic checker's rate.  ``judge_model`` names
    the judge in the caption; without it (no judge in the config) the judge columns are left out.
    """
    judge, audit = judge or {}, audit or {}
    judged = judge_model is not None
    audited = any(cell.get("audit") for cell in cells)
    undecided = any(metrics[path][role].get("undecided") for cell in cells for path in cell["paths"].values()
                    for role in ("se", "wc"))
    headers = (["Dataset", "Pair", "Budget", "Model", "k", "Coverage", "Diversity", "Reasoning div.", "False pos."]
               + (["Judge unparsable"] if judged else []) + (["Human FP"] if audited else [])
               + ["Arith. slips (checkable)", "Kept"] + (["Undecided"] if undecided else []))
    body = []
    for cell in cells:
        m = replicate_means([metrics[path] for path in cell["paths"].values()])
        human = audit[cell["audit"]].get("by_source", {}) if cell.get("audit") else {}
        for role in ("se", "wc"):
            side = m[role]
            verdicts = judge[cell["judge"][role]] if judged and cell.get("judge") else None
            row = [cell["dataset"], cell["pair"], cell["budget"], f"{role.upper()} ({side['model']})",
                   str(side["k"]), percent(side["coverage"]), f"{side['diversity']:.2f}",
                   f"{side['reasoning_diversity']:.2f}", rate_with_interval(verdicts)]
            if judged:
                row.append(_unparsable(verdicts))
            if audited:
                row.append(rate_with_interval(human.get(side["model"])))
            row += [percent(side["false_positive_rate"]), _count(side["kept"])]
            if undecided:
                row.append(f"{_count(side.get('undecided', 0))} ({percent(side.get('undecided_share'))})")
            body.append(row)
    replicates = max(len(cell["paths"]) for cell in cells) if cells else 1
    caption = (TABLE2_CAPTION + (TABLE2_REPLICATES_NOTE.format(replicates=replicates) if replicates > 1 else "")
               + (TABLE2_JUDGE_NOTE.format(model=judge_model) if judged else TABLE2_NO_JUDGE_NOTE)
               + (TABLE2_HUMAN_NOTE if audited else "") + TABLE2_ARITHMETIC_NOTE
               + (TABLE2_UNDECIDED_NOTE if undecided else ""))
    return to_latex(headers, body, caption, "tab:data-quality"), to_markdown(headers, body, caption)


LEDGER_CAPTION = ("Sampling cost ledger: per dataset, pair and budget, the samples per question of SE and WC, "
                  "their mean generated tokens per sample and prompt tokens per question, what each side's samples "
                  "cost (compute: 2P FLOPs per generated and prompt token; price: USD at the configured prices "
                  "per output and per input token, prompts unpriced where no input price is configured; each "
                  "question's prompt counted once per side), and WC's cost relative to SE's: planned by Equation 1 "
                  "(samples of equal length, no prompts), realized from the generated tokens, and realized with "
                  "the prompts' cost.")


def _per(total: int, count: int) -> str:
    return f"{total / count:.1f}" if count else "--"


def ledger_table(cells: list[dict], metrics: dict[str, dict]) -> tuple[str, str]:
    """The realized-cost ledger of every experiment.  ``cells`` carry dataset, pair, budget, ``path`` (its
    metrics file, whose ``ledger`` is :func:`weakstrong.study.sampling_ledger`'s) and ``cost_per_token``
    (``{"se": ..., "wc": ...}``: FLOPs or USD per generated token) and ``cost_per_prompt_token`` (the same per
    prompt token: 2P FLOPs, or the input price, 0 where prompts are unpriced); ``metrics`` maps the paths to
    the files' contents."""
    headers = ["Dataset", "Pair", "Budget", "Match", "Samples/q SE:WC", "Tokens/sample SE", "Tokens/sample WC",
               "Prompt tokens/q SE:WC", "Unit", "SE cost", "WC cost", "Planned WC/SE", "Realized WC/SE",
               "Realized with prompts"]
    body = []
    for cell in cells:
        ledger = metrics[cell["path"]].get("ledger", {})
        if "planned_wc_cost_relative_to_se" not in ledger:
            raise ValueError(f"{cell['path']}: its ledger predates prompt tokens and planned costs; rerun "
                             f"measure_data (snakemake -R measure_data)")
        compute = ledger["match"] == "compute"
        # each question's prompt enters a side's cost once (its samples share one prefill), at the prompt price
        costs = {side: cell["cost_per_token"][side] * ledger[f"{side}_tokens"]
                 + cell["cost_per_prompt_token"][side] * ledger[f"{side}_prompt_tokens"] for side in ("se", "wc")}
        prompts_priced = any(cell["cost_per_prompt_token"].values())
        per_question = metrics[cell["path"]]["se"]["k"], metrics[cell["path"]]["wc"]["k"]
        body.append([cell["dataset"], cell["pair"], cell["budget"], ledger["match"],
                     f"{per_question[0]}:{per_question[1]}", _per(ledger["se_tokens"], ledger["se_samples"]),
                     _per(ledger["wc_tokens"], ledger["wc_samples"]),
                     f"{_per(ledger['se_prompt_tokens'], ledger['se_questions'])}:"
                     f"{_per(ledger['wc_prompt_tokens'], ledger['wc_questions'])}",
                     "FLOPs" if compute else "USD", f"{costs['se']:.3g}", f"{costs['wc']:.3g}",
                     *(fraction(ledger[key], missing="--") for key in (
                         "planned_wc_cost_relative_to_se", "wc_cost_relative_to_se")),
                     fraction(costs["wc"] / costs["se"] if prompts_priced and costs["se"] else None, missing="--")])
    return to_latex(headers, body, LEDGER_CAPTION, "tab:ledger"), to_markdown(headers, body, LEDGER_CAPTION)


ABLATION_CAPTION = (" Zero-shot test pass@1 (%) of each student finetuned on each arm's data (the mean over the "
                    "replicates and test problems, ± the half-width of its 95% interval), with the arm's samples per "
                    "question, their sampling cost per question relative to SE's (planned, Equation 1), and the "
                    "data's size (examples, problems with at least one, means over the replicates); the difference "
                    "in points from the arm named under Against, paired by replicate and test problem, with its 95% "
                    "interval and verdict (higher or lower than that arm), and the relative gain (%) over it. "
                    f"Intervals: {CROSSED_METHOD}.")


def ablation_table(description: str, rows: list[dict], label: str) -> tuple[str, str]:
    """An ablation's table from :func:`weakstrong.ablations.table_rows`; ``description`` opens the caption."""
    headers = ["Dataset", "Pair", "Budget", "Student", "Data", "Setting", "Samples/q", "Cost/q (x SE)", "Examples",
               "Problems", "pass@1", "Against", "Difference [95%]", "Verdict", "Rel. gain"]
    body = []
    for r in rows:
        difference = r.get("difference") or {}
        verdict = {"WC higher": "higher", "SE higher": "lower"}.get(difference.get("verdict"),
                                                                    difference.get("verdict", "--"))
        body.append([r["dataset"], r["pair"], r["budget"], r["student"], r["label"], r["setting"],
                     str(r["per_question"]), f"{r['relative_cost']:.2f}", str(r["examples"]), str(r["problems"]),
                     _accuracy_cell({"arm": r["pass@1"], "untrained": {"arm"} if r["untrained"] else set()}, "arm"),
                     r.get("against_label", "--"), _interval_cell(difference), verdict,
                     signed_percent(r.get("gain"))])
    caption = description + ABLATION_CAPTION + (UNTRAINED_NOTE if any(r["untrained"] for r in rows) else "")
    return to_latex(headers, body, caption, label), to_markdown(headers, body, caption)


# --- transfer datasets (evaluated only: Functional MATH, the paper's Figure 6) -------------------------------

def static_outcomes(paths: dict[str, str], evaluations: dict[str, dict], metric: str,
                    variant_of: dict[str, str]) -> dict[str, dict] | None:
    """A cell's outcomes of ``metric`` on its training dataset's test set (``paths``: replicate -> that
    evaluation), carried over to the transfer problems that vary them (``variant_of``: transfer problem id ->
    the test problem's id), so that they pair with the transfer outcomes; None where an evaluation lacks
    ``metric`` (maj@k that the test evaluation did not compute)."""
    if any(metric not in (evaluations[path].get("per_problem") or {}) for path in paths.values()):
        return None
    carried = {}
    for replicate, by_problem in outcomes(paths, evaluations, metric).items():
        missing = sorted(set(variant_of.values()) - set(by_problem))
        if missing:
            raise ValueError(f"{paths[replicate]} has no outcome for {missing[0]!r}, which a transfer problem varies")
        carried[replicate] = {problem: by_problem[varied] for problem, varied in variant_of.items()}
    return carried


def transfer_rows(cells: list[dict], evaluations: dict[str, dict], metrics: list[str],
                  statics: dict[str, dict] | None = None, variant_of: dict[str, str] | None = None) -> list[dict]:
    """One row per (dataset, pair, budget, student, metric) of a transfer dataset: the metric (``pass@1``,
    ``maj@k``) after training on SE, WC (and gold) data over replicates x problems with its 95% interval, WC
    minus SE paired by replicate and problem (:func:`arm_difference`), the relative gain; and ``static``, each
    arm's same metric on the training dataset's test problems that the transfer problems vary (``statics``:
    those evaluations, ``variant_of``: transfer problem id -> test problem id), where it was computed.

    ``cells`` are :func:`weakstrong.targets.transfer_cells` (``paths``: the transfer evaluations, ``static``:
    the test evaluations); ``evaluations`` maps a path to an ``evaluate_transfer`` output. Rows are plain JSON
    (the findings read them from the table's ``.json``)."""
    groups: dict[tuple, list[dict]] = {}
    for cell in cells:
        groups.setdefault((cell["dataset"], cell["pair"], cell["budget"], cell["student"]), []).append(cell)
    rows = []
    for (dataset, pair, budget, student), group in groups.items():
        for metric in metrics:
            row = {"dataset": dataset, "transfer_of": group[0]["transfer_of"], "pair": pair,
                   "match": group[0]["match"], "budget": budget, "student": student, "metric": metric,
                   "settings": {}, "untrained": [], "static": {}}
            arms, untrained = {}, {}
            for cell in group:
                source = cell["source"]
                arms[source] = outcomes(cell["paths"], evaluations, metric)
                row[source] = arm_accuracy(arms[source])
                row["settings"][source] = cell["setting"]
                untrained[source] = {replicate for replicate, path in cell["paths"].items()
                                     if evaluations[path]["selection"]["step"] == 0}
                if untrained[source]:
                    row["untrained"].append(source)
                carried = (static_outcomes(cell["static"], statics, metric, variant_of)
                           if statics is not None and variant_of is not None else None)
                row["static"][source] = arm_accuracy(carried) if carried else None
            wc, se = row.get("wc"), row.get("se")
            row["gain"] = relative_gain(wc and wc["mean"], se and se["mean"])
            if wc and se:
                difference = arm_difference(arms["wc"], arms["se"], untrained["wc"], untrained["se"])
                row["difference"] = {**difference, "verdict": better(difference["verdict"])}
                if difference["verdict"] == NOT_MEASURED:
                    row["gain"] = None
            rows.append(row)
    return rows


TRANSFER_CAPTION = ("Transfer to {dataset}, which varies {base}'s test problems ({problems}): zero-shot pass@1 "
                    "(greedy) and maj@k (%) on {dataset} of each student finetuned on {base} (the checkpoint "
                    "selected on {base}'s validation split), after training on SE data and on WC data (the mean "
                    "over {replicates} and the problems, ± the half-width of its 95% interval), the relative gain "
                    "(%) of WC over SE, and WC minus SE in points paired by replicate and problem, with its 95% "
                    "interval and verdict. Intervals: " + CROSSED_METHOD + ".")
TRANSFER_STATIC_NOTE = (" Static SE, Static WC: the same students on the {base} test problems that the rows vary "
                        "(-- where that evaluation has no such metric).")


def transfer_table(rows: list[dict], report: dict) -> tuple[str, str]:
    """A transfer dataset's table from :func:`transfer_rows`; ``report`` is its splits.json (what it holds, and
    the rows left out)."""
    has_gold = any("gold" in r for r in rows)
    has_static = any(value for r in rows for value in r["static"].values())
    headers = ["Dataset", "Pair", "Budget", "Student", "Setting (WC data / SE data)", "Metric", "SE data", "WC data",
               "Rel. gain", "WC - SE [95%]", "Verdict"] + (["Gold"] if has_gold else [])
    headers += ["Static SE", "Static WC"] if has_static else []
    body = []
    for r in rows:
        marked = {**r, "untrained": set(r["untrained"])}
        difference = r.get("difference") or {}
        line = [r["dataset"], r["pair"], r["budget"], r["student"],
                f"{r['settings'].get('wc', '--')} / {r['settings'].get('se', '--')}", r["metric"],
                _accuracy_cell(marked, "se"), _accuracy_cell(marked, "wc"), signed_percent(r["gain"]),
                _interval_cell(difference), difference.get("verdict", "--")]
        line += [_accuracy_cell(marked, "gold")] if has_gold else []
        if has_static:
            line += [_accuracy_cell({"arm": r["static"].get(source)}, "arm") for source in ("se", "wc")]
        body.append(line)
    source = report["source"]
    what = source.get("snapshot")
    held = (f"{report['splits']['test']['problems']} problems, variants of {report['varies']['problems']} of "
            f"its {report['varies']['of']}" + (f"; snapshot {what}" if what else ""))
    left = report["left_out"]["rows"]
    caption = TRANSFER_CAPTION.format(dataset=report["dataset"], base=report["transfer_of"], problems=held,
                                      replicates=replicates_phrase(rows))
    if left:
        caption += (f" {left} of the source's {source['rows']} rows vary problems outside {report['transfer_of']}'s "
                    f"test set and are left out (listed in its splits.json).")
    caption += ((GOLD_NOTE if has_gold else "") + (UNTRAINED_NOTE if any(r["untrained"] for r in rows) else "")
                + (TRANSFER_STATIC_NOTE.format(base=report["transfer_of"]) if has_static else ""))
    label = f"tab:transfer-{report['dataset'].replace('_', '-')}"
    return to_latex(headers, body, caption, label), to_markdown(headers, body, caption)
