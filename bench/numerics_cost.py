"""What the numerics pin costs in time: a toy job's work under the pin against the machine's own kernels.

    python bench/numerics_cost.py [--repeats 3] [--pin avx2] [--threads 1]

Each repeat runs the workload twice in fresh processes, pinned (configs/toy.yaml's `numerics`) and native
(each library picks its kernels for this CPU, one thread as well), in turn, so that a drift in the machine's
speed touches both; it prints each run's seconds for pre-training and sampling and the median ratio pinned /
native. The workload is a toy job in miniature: the toy SE model's shape pre-trained for 100 steps with the
workflow's training loop on toy documents, then 64 questions sampled 3 times each at T = 0.7 through the
transformers backend (the toy world's sampling).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SE_SHAPE = {"hidden_size": 96, "layers": 3, "heads": 3, "intermediate_size": 288, "max_positions": 512}


def workload() -> dict:
    from weakstrong.models import init_toy_model, train_tokenizer
    from weakstrong.numerics import machine_record
    from weakstrong.prompts import format_question
    from weakstrong.sampling import SamplingParams
    from weakstrong.sampling.transformers_backend import generate
    from weakstrong.toy import gsm8k_problem
    from weakstrong.training import TrainSettings, train

    problems = [gsm8k_problem(5, "train", i) for i in range(600)]
    documents = ["\n\n".join(format_question(p["question"], "gsm8k") + " " + p["solution"]
                             for p in problems[i:i + 3]) for i in range(0, len(problems), 3)]
    tokenizer = train_tokenizer(documents, vocab_size=400)
    model = init_toy_model(SE_SHAPE, tokenizer, seed=1)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        train(model, tokenizer, [("", d) for d in documents], Path(out),
              TrainSettings(lr=2e-3, steps=100, batch_size=16, checkpoints=1, seed=1, max_length=512))
    trained = time.perf_counter()
    prompts = [format_question(p["question"], "gsm8k") for p in problems[:64]]
    generate(model, prompts, SamplingParams(n=3, temperature=0.7, max_tokens=128, seed=1), tokenizer=tokenizer,
             progress=False)
    sampled = time.perf_counter()
    return {"kernels": machine_record()["kernels"], "pretraining_s": trained - started,
            "sampling_s": sampled - trained}


def run(env: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--workload"], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pin", default="avx2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workload:
        print(json.dumps(workload()))
        return
    from weakstrong.numerics import THREAD_VARIABLES, job_environment, machine_label, machine_record

    base = {k: v for k, v in os.environ.items() if k not in job_environment({"cpu_capability": "avx2"})}
    base |= {name: str(args.threads) for name in THREAD_VARIABLES}
    arms = {"pinned": base | job_environment({"cpu_capability": args.pin, "cpu_threads": args.threads}),
            "native": base}
    print(f"# {machine_label(machine_record())}")
    print("| repeat | arm | kernels | pre-training s | sampling s |")
    print("| --- | --- | --- | --- | --- |")
    results = {arm: [] for arm in arms}
    for repeat in range(1, args.repeats + 1):
        for arm, env in arms.items():
            result = run(env)
            results[arm].append(result)
            print(f"| {repeat} | {arm} | {result['kernels']} | {result['pretraining_s']:.2f} | "
                  f"{result['sampling_s']:.2f} |", flush=True)
    for key in ("pretraining_s", "sampling_s"):
        ratios = [p[key] / n[key] for p, n in zip(results["pinned"], results["native"])]
        print(f"{key.removesuffix('_s')}: pinned / native, median of {len(ratios)} pairs: "
              f"{statistics.median(ratios):.3f} (pairs: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
