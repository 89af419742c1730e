"""The paper's tables as booktabs LaTeX and as Markdown (for reading in a terminal).

Table 1: finetuning results.  For each dataset, pair and budget, each student and the setting it is in, the
test accuracy after training on SE data and on WC data, and the relative gain of WC over SE.
Table 2: data quality.  Coverage, diversity (answer- and reasoning-level) and false-positive rate of the SE
data at k against the WC data at ratio*k, per dataset and budget.
"""

from __future__ import annotations

import math

from tabulate import tabulate

from weakstrong.stats import better, mean_interval, paired_difference


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
#: validation for both sources in every run seed, so the data made no difference that could be measured.
NOT_MEASURED = "not measured (base kept)"


def arm_difference(mine: dict, other: dict, mine_untrained: set, other_untrained: set) -> dict:
    """``mine`` minus ``other`` (run seed -> pass@1), paired over their common seeds, with its interval and
    verdict; :data:`NOT_MEASURED` where both arms kept the untrained model in every one of those seeds."""
    seeds = sorted(set(mine) & set(other))
    if seeds and all(s in mine_untrained and s in other_untrained for s in seeds):
        return {"n": len(seeds), "mean": None, "ci95": None, "verdict": NOT_MEASURED}
    return paired_difference([mine[s] for s in seeds], [other[s] for s in seeds])


def table1_rows(cells: list[dict], evaluations: dict[str, dict], bases: dict[str, dict] | None = None) -> list[dict]:
    """One row per (dataset, pair, budget, student): test pass@1 after training on SE, WC (and gold) data,
    as the mean over run seeds with its 95% interval; WC minus SE paired by seed with its interval and
    verdict; the relative gain of WC over SE (of the means); and the student before finetuning, zero-shot as
    the finetuned students are evaluated and few-shot. Where both arms kept the untrained student in every
    seed, the difference is :data:`NOT_MEASURED`, never "no difference".

    ``cells`` carry dataset, pair, budget, student, source, setting, ``paths`` (run seed -> evaluation path)
    and the student's ``base`` evaluation path; ``evaluations`` maps a path to its evaluation (``pass@1``,
    ``maj@k``, ``selection``), ``bases`` a base path to the base evaluation (``zero_shot``, ``few_shot``).
    """
    rows: dict[tuple, dict] = {}
    for cell in cells:
        key = (cell["dataset"], cell["pair"], cell["budget"], cell["student"])
        row = rows.setdefault(key, {"dataset": cell["dataset"], "pair": cell["pair"], "budget": cell["budget"],
                                    "student": cell["student"], "settings": {}, "untrained": set(),
                                    "untrained_seeds": {}, "per_seed": {}})
        per_seed = {seed: evaluations[path]["pass@1"] for seed, path in cell["paths"].items()}
        row["per_seed"][cell["source"]] = per_seed
        row[cell["source"]] = mean_interval(list(per_seed.values()))
        untrained = {seed for seed, path in cell["paths"].items() if evaluations[path]["selection"]["step"] == 0}
        row["untrained_seeds"][cell["source"]] = untrained
        if untrained:
            row["untrained"].add(cell["source"])
        row["settings"][cell["source"]] = cell["setting"]
        if bases is not None and cell.get("base") in bases:
            base = bases[cell["base"]]
            row["base"], row["base_few_shot"] = base["zero_shot"]["pass@1"], base["few_shot"]["pass@1"]
    for row in rows.values():
        wc, se = row.get("wc"), row.get("se")
        row["gain"] = relative_gain(wc and wc["mean"], se and se["mean"])
        if wc and se:
            difference = arm_difference(row["per_seed"]["wc"], row["per_seed"]["se"], row["untrained_seeds"]["wc"],
                                        row["untrained_seeds"]["se"])
            row["difference"] = {**difference, "verdict": better(difference["verdict"])}
            if difference["verdict"] == NOT_MEASURED:
                row["gain"] = None  # the untrained model against itself: no gain to report
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
    """The mean over seeds, with the half-width of its 95% interval when there are several."""
    summary = row.get(source)
    if summary is None:
        return "--"
    text = percent(summary["mean"])
    if summary.get("ci95") is not None:
        text += f" ± {100 * (summary['ci95'][1] - summary['mean']):.1f}"
    return text + (UNTRAINED_MARK if source in row.get("untrained", ()) else "")


def table1_detail(cells: list[dict], evaluations: dict[str, dict], maj_k: list[int]) -> tuple[str, str]:
    """Every finetuning result once (gold runs are shared by pairs), per run seed: the selected checkpoint,
    its validation score, test pass@1 and maj@k for each k."""
    headers = ["Dataset", "Data", "Budget", "Student", "Source", "Seed", "Examples", "LR", "Step", "Validation",
               "pass@1"] + [f"maj@{k}" for k in sorted(maj_k)]
    body, seen = [], set()
    for cell in cells:
        for seed, path in cell["paths"].items():
            if path in seen:
                continue
            seen.add(path)
            evaluation = evaluations[path]
            selection = evaluation["selection"]
            pair = "all pairs" if cell["source"] == "gold" else cell["pair"]
            body.append([cell["dataset"], pair, cell["budget"], cell["student"], cell["source"], str(seed),
                         str(selection.get("trained_on", "--")),
                         "--" if selection["lr"] is None else f"{selection['lr']:g}", str(selection["step"]),
                         percent(selection["validation_accuracy"]), percent(evaluation["pass@1"])]
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
                  "training on SE data and on WC data (the mean over run seeds, ± the half-width of its 95% "
                  "interval when there are several), the relative gain (%) of WC over SE, and WC minus SE in "
                  "points paired by seed with its 95% interval and verdict. Base: the student "
                  "before finetuning, zero-shot as the finetuned students are evaluated, and few-shot as the "
                  "generators sample.")
GOLD_NOTE = " Gold: trained on the datasets' own solutions."
TABLE1_DETAIL_CAPTION = ("Every finetuning result: training examples, the selected learning rate and step (step 0: "
                         "the untrained student), its validation and test pass@1 (%) and maj@k (%).")
TABLE2_CAPTION = ("Quality of compute-matched synthetic data, SE at k against WC at ratio times k: coverage@k "
                  "(%), diversity@k (unique correct solutions per problem; answer- and reasoning-level) and "
                  "false-positive rate (%) of kept (correct-answer) solutions.")
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


def table1(rows: list[dict], machines: str = "") -> tuple[str, str]:
    """``machines``: the provenance sentence (``weakstrong.numerics.describe_machines``) closing the caption."""
    headers, body = _table1_records(rows)
    caption = (TABLE1_CAPTION + (GOLD_NOTE if any("gold" in r for r in rows) else "")
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


def table2(cells: list[dict], metrics: dict[str, dict], judge: dict[str, dict] | None = None,
           audit: dict[str, dict] | None = None, judge_model: str | None = None) -> tuple[str, str]:
    """Table 2: per dataset, pair, budget and source, the data's coverage, diversity and false positives.

    ``cells`` carry dataset, pair, budget, ``path`` (measure_budget output), and optionally ``judge``
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
    undecided = any(metrics[cell["path"]][role].get("undecided") for cell in cells for role in ("se", "wc"))
    headers = (["Dataset", "Pair", "Budget", "Model", "k", "Coverage", "Diversity", "Reasoning div.", "False pos."]
               + (["Judge unparsable"] if judged else []) + (["Human FP"] if audited else [])
               + ["Arith. slips (checkable)", "Kept"] + (["Undecided"] if undecided else []))
    body = []
    for cell in cells:
        m = metrics[cell["path"]]
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
            row += [percent(side["false_positive_rate"]), str(side["kept"])]
            if undecided:
                row.append(f"{side.get('undecided', 0)} ({percent(side.get('undecided_share'))})")
            body.append(row)
    caption = (TABLE2_CAPTION + (TABLE2_JUDGE_NOTE.format(model=judge_model) if judged else TABLE2_NO_JUDGE_NOTE)
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


ABLATION_CAPTION = (" Zero-shot test pass@1 (%) of each student finetuned on each arm's data (the mean over run seeds, "
                    "± the half-width of its 95% interval when there are several), with the arm's samples per "
                    "question, their sampling cost per question relative to SE's (planned, Equation 1), and the "
                    "data's size (examples, problems with at least one); the difference in points from the arm "
                    "named under Against, paired by seed, with its 95% interval and verdict (higher or lower than "
                    "that arm), and the relative gain (%) over it.")


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
