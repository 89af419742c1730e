"""What reproducible vLLM sampling costs: the engine core in the job's process against vLLM's default.

``weakstrong.sampling.vllm_backend`` sets ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` (unless the variable is set),
because vLLM's default engine process starts batching while requests still arrive, so a seeded engine
draws different samples from run to run.  This script draws the same few-shot samples (the workflow's
``draw_samples``) with each setting, ``--repeats`` times each, every run in a fresh process (a fresh
engine, started and used once, like a sampling job), and prints per run the wall-clock time (engine start
included) and a hash of the samples, then per setting whether the hashes agree and the time relative to
vLLM's default.

Usage: python bench/vllm_reproducibility.py MODEL TRAIN_JSONL [--problems 400] [--samples 4] [--repeats 2]
  e.g. after `make demo`: results/toy/rep-1/models/toy-wc results/toy/data/gsm8k/train.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from statistics import median

RESULT = "bench-result: "
SETTINGS = {"1": "engine process (vLLM default)", "0": "in-process (weakstrong default)"}


def draw_once(model: str, train_path: str, problems: int, samples: int, max_tokens: int, memory_mb: int) -> dict:
    """One fresh engine's draw; runs in a child process whose environment holds the setting."""
    from weakstrong.data import read_jsonl
    from weakstrong.sampling import make_generator
    from weakstrong.solutions import draw_samples

    train = read_jsonl(train_path)
    started = time.monotonic()  # engine start included: one sampling job pays it once, as here
    records = draw_samples(make_generator("vllm", model, memory_mb=memory_mb), train[:problems], train,
                           generator="bench", backend="vllm", few_shot=2, samples_per_question=samples,
                           temperature=0.7, top_k=-1, top_p=1.0, max_tokens=max_tokens, seed=1)
    seconds = time.monotonic() - started
    texts = json.dumps([r["completion"] for r in records])
    return {"seconds": seconds, "samples": len(records),
            "tokens": sum(r["completion_tokens"] for r in records),
            "hash": hashlib.sha256(texts.encode()).hexdigest()[:12]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("train", help="a JSONL of problems with id, question and solution")
    parser.add_argument("--problems", type=int, default=400)
    parser.add_argument("--samples", type=int, default=4, help="samples per problem")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--memory-mb", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = draw_once(args.model, args.train, args.problems, args.samples, args.max_tokens, args.memory_mb)
        print(RESULT + json.dumps(result))  # marked: vLLM writes its own lines to stdout too
        return
    runs: dict[str, list[dict]] = {setting: [] for setting in SETTINGS}
    for repeat in range(args.repeats):
        for setting in SETTINGS:  # interleaved, so drifting machine speed hits both alike
            env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": setting}
            proc = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--child"], env=env,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"run with VLLM_ENABLE_V1_MULTIPROCESSING={setting} failed:\n{proc.stderr[-3000:]}")
            run = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith(RESULT))[len(RESULT):])
            runs[setting].append(run)
            print(f"{SETTINGS[setting]:32s} run {repeat + 1}: {run['samples']} samples ({run['tokens']} tokens) in {run['seconds']:6.1f} s, "
                  f"hash {run['hash']}", flush=True)
    baseline = median(run["seconds"] for run in runs["1"])
    for setting, label in SETTINGS.items():
        hashes = {run["hash"] for run in runs[setting]}
        seconds = median(run["seconds"] for run in runs[setting])
        print(f"{label}: {'same samples in every run' if len(hashes) == 1 else f'{len(hashes)} different draws'}"
              f" of {args.repeats}; {seconds:.1f} s median, {seconds / baseline:.2f}x the default")


if __name__ == "__main__":
    main()
