"""The API backend against a real vLLM OpenAI-compatible server (CPU build), serving a tiny random Llama.
Start-up takes one to two minutes on CPU."""

from __future__ import annotations

import importlib.util

import pytest

from helpers.vllm_server import ServerFailed, vllm_server
from weakstrong.models import init_toy_model, train_tokenizer
from weakstrong.sampling import SamplingParams
from weakstrong.sampling.openai_backend import sample
from weakstrong.toy import make_splits, pretraining_documents

SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A tiny model saved like any checkpoint and served on 127.0.0.1: (base URL, model path)."""
    if importlib.util.find_spec("vllm") is None:  # not imported here: the server imports it
        pytest.skip("vLLM is not installed")
    model = tmp_path_factory.mktemp("served-model")
    problems = make_splits("gsm8k", {"train": 8, "pretrain": 200}, 3)
    tokenizer = train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)
    init_toy_model(SPEC, tokenizer, seed=0).save_pretrained(model)
    tokenizer.save_pretrained(model)
    try:
        with vllm_server(model, model / "server.log") as url:
            yield url, str(model)
    except ServerFailed as error:
        pytest.skip(str(error))


@pytest.mark.e2e
def test_text_prompts_through_vllm_serve(served, monkeypatch):
    """Every prompt gets n samples with vLLM's finish reasons and token counts; split under a cap of 2, the
    seeded samples are those of unsplit requests (the request for samples 2.. carries seed + 2).  Token
    counts are compared only in total: split evenly, they depend on how the choices were grouped."""
    url, model = served
    monkeypatch.setenv("VLLM_TEST_KEY", "EMPTY")
    prompts = [f"Problem:\nWhat is {i} + 3?\n\nSolution:" for i in range(6)]
    params = SamplingParams(n=3, temperature=1.0, max_tokens=8, seed=1, stop=("\nProblem:",))
    api = {"base_url": url, "api_key_env": "VLLM_TEST_KEY", "max_retries": 1, "timeout_s": 120}
    split, usage = sample(model, prompts, params, api={**api, "max_n": 2}, progress=False)
    whole, whole_usage = sample(model, prompts, params, api={**api, "max_n": 3}, progress=False)
    assert [len(row) for row in split] == [3] * len(prompts) and usage.requests == 2 * len(prompts)
    assert all(s["finish_reason"] in ("stop", "length") and 0 <= s["completion_tokens"] <= 8
               and s["prompt_tokens"] > 0 for row in split for s in row)
    assert usage.completion_tokens == whole_usage.completion_tokens > 0
    assert [[(s["text"], s["finish_reason"]) for s in row] for row in split] == \
        [[(s["text"], s["finish_reason"]) for s in row] for row in whole]
