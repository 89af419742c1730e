"""Throughput of the OpenAI-compatible API backend, and what faults cost it.

A hosted generator answers one request in seconds, so a shard's wall-clock time is set by how many requests
are in flight: this script draws samples through ``weakstrong.sampling.openai_backend`` at concurrency 1, 8
and 32 against the fake server of the tests with a fixed per-request latency, and, with ``--model``, against
a vLLM server of that model on loopback and the same prompts and sampling settings through the workflow's
offline engine (``weakstrong.sampling.vllm_backend``, in-process, the engine seeded; its start-up is printed
apart).  Then it sends ``--fault-requests`` requests (one sample each) with ``--fault-rate`` of the hits
failing (429 with Retry-After, 500, dropped connections, replies past the client timeout): to the fake
server, and with ``--model`` through the fault proxy of the tests in front of the vLLM server, whose samples
are checked against a fault-free run of the same requests (none lost, none duplicated, none changed).  Prints
one table and the retries of each fault run.

Usage: python bench/api_throughput.py [--latency 0.05] [--prompts 100] [--n 4] [--fault-requests 1000]
                                      [--fault-rate 0.25] [--model results/toy/rep-1/models/toy-wc]
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
from helpers.fault_proxy import FaultProxy  # noqa: E402
from helpers.vllm_server import vllm_server  # noqa: E402
from weakstrong.sampling import SamplingParams  # noqa: E402
from weakstrong.sampling.openai_backend import sample  # noqa: E402
from weakstrong.sampling.vllm_backend import generate as offline_generate  # noqa: E402

CONCURRENCY = (1, 8, 32)
KEY_ENV = "BENCH_API_KEY"


def run(target: str, url: str, model: str, prompts: list[str], params: SamplingParams, concurrency: int,
        **settings) -> tuple[dict, list[list[dict]]]:
    """One shard through the API backend: its table row and its samples."""
    api = {"base_url": url, "api_key_env": KEY_ENV, "concurrency": concurrency, **settings}
    started = time.monotonic()
    results, usage = sample(model, prompts, params, api=api, progress=False)
    seconds = time.monotonic() - started
    samples = sum(len(row) for row in results)
    assert samples == len(prompts) * params.n and all(s is not None for row in results for s in row), "samples lost"
    return ({"target": target, "concurrency": concurrency, "requests": usage.requests, "retries": usage.retries,
             "samples": samples, "seconds": round(seconds, 2), "samples/s": round(samples / seconds, 1)}, results)


def offline(model: str, prompts: list[str], params: SamplingParams) -> dict:
    """The same prompts through the workflow's offline engine (1 GiB of KV cache, as the test server's); the
    engine starts on a one-prompt warm-up, timed apart."""
    started = time.monotonic()
    offline_generate(model, prompts[:1], params, memory_mb=4096, progress=False)
    start_s = time.monotonic() - started
    started = time.monotonic()
    results = offline_generate(model, prompts, params, memory_mb=4096, progress=False)
    seconds = time.monotonic() - started
    samples = sum(len(row) for row in results)
    assert samples == len(prompts) * params.n, "samples lost"
    return {"target": f"offline engine (start {start_s:.1f} s apart)", "concurrency": "all", "requests": "--",
            "retries": "--", "samples": samples, "seconds": round(seconds, 2), "samples/s": round(samples / seconds, 1)}


def fault_summary(name: str, server, row: dict) -> str:
    failed = server.failed()
    return (f"{name}: {server.hits} hits, {failed} failed ({failed / server.hits:.1%}: "
            + ", ".join(f"{server.outcomes.get(k, 0)} {k}" for k in ("429", "500", "drop", "slow"))
            + f"), {row['retries']} retries counted, {row['requests']} requests answered, no sample lost")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake server takes per request")
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--n", type=int, default=4, help="samples per prompt (one request each)")
    parser.add_argument("--fault-requests", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.25)
    parser.add_argument("--model", help="also serve this model with vLLM, and run it offline, and measure both")
    parser.add_argument("--max-tokens", type=int, default=32, help="for the vLLM server and engine")
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "EMPTY")

    prompts = [f"Problem:\nWhat is {i} + {i}?\n\nSolution:" for i in range(args.prompts)]
    params = SamplingParams(n=args.n, max_tokens=args.max_tokens, stop=("\nProblem:",))
    share = args.fault_rate / 4
    faults = {"429": share, "500": share, "drop": share, "slow": share}
    fault_prompts = [f"Problem:\nWhat is {i} * 2?\n\nSolution:" for i in range(args.fault_requests)]
    fault_params = SamplingParams(n=1, max_tokens=args.max_tokens, stop=("\nProblem:",))
    rows, summaries = [], []
    with FakeOpenAIServer(latency_s=args.latency) as server:
        rows += [run(f"fake, {args.latency * 1000:.0f} ms/request", server.url, "fake", prompts, params, c)[0]
                 for c in CONCURRENCY]
    with FakeOpenAIServer(latency_s=args.latency, faults=faults, slow_s=1.0, seed=0) as server:
        row, _ = run(f"fake, {args.fault_rate:.0%} faults", server.url, "fake", fault_prompts, SamplingParams(n=1),
                     32, backoff_s=0.05, max_backoff_s=1.0, timeout_s=0.5)
    rows.append(row)
    summaries.append(fault_summary("fake server", server, row))
    if args.model:
        with tempfile.TemporaryDirectory() as tmp, vllm_server(args.model, Path(tmp) / "server.log") as url:
            rows += [run("vllm server", url, args.model, prompts, params, c, timeout_s=600)[0] for c in CONCURRENCY]
            clean_row, clean = run("vllm server, no faults", url, args.model, fault_prompts, fault_params, 32,
                                   timeout_s=600)
            # the client's timeout under the slow replies, far above a reply of the server at this load
            with FaultProxy(url, faults=faults, slow_s=11.0, seed=0) as proxy:
                row, faulty = run(f"proxy + vllm server, {args.fault_rate:.0%} faults", proxy.url, args.model,
                                  fault_prompts, fault_params, 32, backoff_s=0.05, max_backoff_s=1.0, timeout_s=10)
        assert faulty == clean, "samples through the fault proxy differ from the fault-free run's"
        rows += [clean_row, row]
        summaries.append(fault_summary("fault proxy in front of the vLLM server", proxy, row)
                         + f"; every sample equal to the fault-free run's; {len(proxy.forwarded)} requests forwarded")
        rows.append(offline(args.model, prompts, params))
    print(tabulate(rows, headers="keys"))
    print("\n" + "\n".join(summaries))


if __name__ == "__main__":
    main()
