"""Calibrate the toy world on validation data (never test): is the pair what the design says?

Prints, per style, on the validation problems: the parameter ratio P_SE / P_WC, the few-shot greedy
accuracy of each generator, coverage@k of SE samples against coverage@3k of WC samples at the sampling
temperature (k = each budget's SE count), the mean completion length of each (the realized compute ratio
follows from it), and the untrained student's zero-shot accuracy (it should know no solution format).

    python bench/toy_calibration.py configs/toy.yaml     # after the models and data exist:
    snakemake --configfile configs/toy.yaml --cores 2 results/toy/rep-1/models/toy-{wc,se,student} \\
        results/toy/data/{math,gsm8k}/validation.jsonl
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from weakstrong import config as ws_config
from weakstrong import study
from weakstrong.data import read_jsonl
from weakstrong.evaluation import evaluate
from weakstrong.grading import grade_many
from weakstrong.metrics import pass_at_k
from weakstrong.numerics import run_pinned
from weakstrong.prompts import build_prompts, stop_strings
from weakstrong.sampling import SamplingParams, make_generator


def coverage(samples: list[list[dict]], problems: list[dict], style: str, k: int) -> tuple[float, float]:
    """Unbiased coverage@k from all samples of each problem, and the mean completion tokens."""
    flat = [s["text"] for per in samples for s in per]
    gold = [p["answer"] for p, per in zip(problems, samples) for _ in per]
    verdicts = iter(grade_many(flat, gold, style, workers=1))
    total, tokens = 0.0, []
    for per in samples:
        correct = sum(next(verdicts)["correct"] for _ in per)
        total += pass_at_k(len(per), correct, k)
        tokens += [s["completion_tokens"] for s in per]
    return total / len(samples), sum(tokens) / len(tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--problems", type=int, default=200, help="validation problems per style")
    parser.add_argument("--replicate", type=int, default=1, help="whose toy models (rep-N)")
    args = parser.parse_args()
    config = ws_config.load(args.config)
    run_pinned(config.numerics.as_dict())  # the kernels and threads the workflow's jobs run
    results = Path(config.paths.results)
    pair = next(iter(config.generator_pairs.values()))
    weak, strong = pair.weak, pair.strong
    student = next(s for s in pair.students if s not in (weak, strong))
    ratio = study.samples_ratio(config, pair.name)
    cost = study.cost_ratio(config, pair.name)
    budgets = sorted(config.budgets[b] for b in pair.budgets)
    samples_needed = ratio * budgets[-1]
    temperature = config.sampling.temperature
    print(f"P_SE / P_WC = {cost:.3f}; samples ratio {ratio}; budgets (SE samples) {budgets}")
    rows = []
    for dataset in pair.datasets:
        style = config.datasets[dataset].style
        problems = read_jsonl(results / "data" / dataset / "validation.jsonl")[:args.problems]
        exemplars = read_jsonl(results / "data" / dataset / "exemplars.jsonl")
        row = {"dataset": dataset}
        for role, model in (("wc", weak), ("se", strong)):
            generate = make_generator("transformers", str(results / f"rep-{args.replicate}" / "models" / model))
            started = time.time()
            row[f"{role}_fewshot"] = evaluate(generate, problems, style, exemplars=exemplars,
                                              max_tokens=config.sampling.max_tokens, workers=1)["pass@1"]
            n = samples_needed if role == "wc" else budgets[-1]
            samples = generate(build_prompts([p["question"] for p in problems], exemplars, style),
                               SamplingParams(n=n, temperature=temperature, max_tokens=config.sampling.max_tokens,
                                              seed=config.seed, stop=stop_strings(style)))
            for k in budgets:
                kk = ratio * k if role == "wc" else k
                row[f"{role}_coverage@{kk}"], row[f"{role}_tokens"] = coverage(samples, problems, style, kk)
            row[f"{role}_seconds"] = round(time.time() - started, 1)
        row["realized_ratio"] = ratio * row["wc_tokens"] / (cost * row["se_tokens"])
        row["student_zero_shot"] = evaluate(make_generator("transformers", str(results / f"rep-{args.replicate}" / "models" / student)),
                                            problems, style, exemplars=None,
                                            max_tokens=config.sampling.max_tokens, workers=1)["pass@1"]
        rows.append(row)
        print(json.dumps(row))
    print("\n| dataset | WC few-shot | SE few-shot | " + " | ".join(
        f"SE cov@{k} | WC cov@{ratio * k}" for k in budgets) + " | WC/SE realized cost | student zero-shot |")
    print("|---" * (5 + 2 * len(budgets)) + "|")
    for r in rows:
        print(f"| {r['dataset']} | {100 * r['wc_fewshot']:.1f} | {100 * r['se_fewshot']:.1f} | " + " | ".join(
            f"{100 * r[f'se_coverage@{k}']:.1f} | {100 * r[f'wc_coverage@{ratio * k}']:.1f}" for k in budgets)
            + f" | {r['realized_ratio']:.3f} | {100 * r['student_zero_shot']:.1f} |")


if __name__ == "__main__":
    main()
