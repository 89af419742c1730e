"""Throughput of the OpenAI-compatible API backend, and what faults cost it.

A hosted generator answers one request in seconds, so a shard's wall-clock time is set by how many requests
are in flight: this script draws samples through ``weakstrong.sampling.openai_backend`` at concurrency 1, 8
and 32 against the fake server of the tests with a fixed per-request latency (and against a vLLM server
of ``--model`` when given), then sends ``--fault-requests`` requests with ``--fault-rate`` of the hits
failing (429, 500, dropped connections, replies past the client timeout) and counts the retries.  Prints
one table.

Usage: python bench/api_throughput.py [--latency 0.05] [--prompts 100] [--n 4] [--fault-requests 1000]
                                      [--fault-rate 0.2] [--model results/toy/models/toy-wc]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.fake_openai_server import FakeOpenAIServer  # noqa: E402
from helpers.vllm_server import vllm_server  # noqa: E402
from weakstrong.sampling import SamplingParams  # noqa: E402
from weakstrong.sampling.openai_backend import sample  # noqa: E402

CONCURRENCY = (1, 8, 32)
KEY_ENV = "BENCH_API_KEY"


def run(target: str, url: str, model: str, prompts: list[str], params: SamplingParams, concurrency: int,
        **settings) -> dict:
    api = {"base_url": url, "api_key_env": KEY_ENV, "concurrency": concurrency, **settings}
    started = time.monotonic()
    results, usage = sample(model, prompts, params, api=api, progress=False)
    seconds = time.monotonic() - started
    samples = sum(len(row) for row in results)
    assert samples == len(prompts) * params.n, "samples lost"
    return {"target": target, "concurrency": concurrency, "requests": usage.requests, "retries": usage.retries,
            "samples": samples, "seconds": round(seconds, 2), "samples/s": round(samples / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake server takes per request")
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--n", type=int, default=4, help="samples per prompt (one request each)")
    parser.add_argument("--fault-requests", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--model", help="also serve this model with vLLM and measure it")
    parser.add_argument("--max-tokens", type=int, default=32, help="for the vLLM server")
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "EMPTY")

    prompts = [f"Problem:\nWhat is {i} + {i}?\n\nSolution:" for i in range(args.prompts)]
    params = SamplingParams(n=args.n, max_tokens=args.max_tokens)
    rows = []
    with FakeOpenAIServer(latency_s=args.latency) as server:
        rows += [run(f"fake, {args.latency * 1000:.0f} ms/request", server.url, "fake", prompts, params, c)
                 for c in CONCURRENCY]
    if args.model:
        with tempfile.TemporaryDirectory() as tmp, vllm_server(args.model, Path(tmp) / "server.log") as url:
            rows += [run("vllm server", url, args.model, prompts, params, c, timeout_s=600) for c in CONCURRENCY]

    share = args.fault_rate / 4
    faults = {"429": share, "500": share, "drop": share, "slow": share}
    fault_prompts = [f"Problem:\nWhat is {i} * 2?\n\nSolution:" for i in range(args.fault_requests)]
    with FakeOpenAIServer(latency_s=args.latency, faults=faults, slow_s=1.0, seed=0) as server:
        row = run(f"fake, {args.fault_rate:.0%} faults", server.url, "fake", fault_prompts,
                  SamplingParams(n=1), 32, backoff_s=0.05, max_backoff_s=1.0, timeout_s=0.5)
    rows.append(row)
    print(tabulate(rows, headers="keys"))
    failed = sum(v for k, v in server.outcomes.items() if k != "ok")
    print(f"\nfault run: {server.hits} hits, {failed} failed ({failed / server.hits:.1%}: "
          + ", ".join(f"{server.outcomes.get(k, 0)} {k}" for k in faults)
          + f"), {row['retries']} retries, no sample lost")


if __name__ == "__main__":
    main()
