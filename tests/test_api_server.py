"""The API backend against a real vLLM OpenAI-compatible server (CPU build), serving a tiny random Llama, and
through a fault-injecting proxy in front of it (``helpers.fault_proxy``).  Start-up takes one to two minutes on
CPU; the tests after it about a minute."""

from __future__ import annotations

import importlib.util

import pytest

from helpers.fault_proxy import FaultProxy
from helpers.vllm_server import ServerFailed, vllm_server
from weakstrong.models import init_toy_model, train_tokenizer
from weakstrong.sampling import SamplingParams
from weakstrong.sampling.openai_backend import sample
from weakstrong.toy import make_splits, pretraining_documents

SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}
#: A shard of 200 requests (100 prompts, 4 samples each, 2 per request) of few tokens.
PROMPTS = [f"Problem:\nWhat is {i} + {i}?\n\nSolution:" for i in range(100)]
PARAMS = SamplingParams(n=4, temperature=1.0, max_tokens=4, seed=7, stop=("\nProblem:",))
FAULTS = {"429": 0.1, "500": 0.06, "drop": 0.06, "slow": 0.03}  # 25% of hits fail


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


def settings(url: str, **more) -> dict:
    """Short backoffs; the client's timeout under the proxy's slow replies (6 s), far above a real reply."""
    return {"base_url": url, "api_key_env": "VLLM_TEST_KEY", "max_n": 2, "backoff_s": 0.01, "max_backoff_s": 0.05,
            "timeout_s": 5, **more}


def texts(results: list[list[dict]]) -> list[list[tuple[str, str]]]:
    return [[(s["text"], s["finish_reason"]) for s in row] for row in results]


def asked(bodies: list[dict]) -> list[tuple[str, int]]:
    """(prompt, seed) of each request that reached the server: which samples it was asked for."""
    return sorted((body["prompt"], body["seed"]) for body in bodies)


@pytest.fixture(scope="module")
def uninterrupted(served):
    """The shard drawn straight from the server, without faults."""
    url, model = served
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VLLM_TEST_KEY", "EMPTY")
        results, usage = sample(model, PROMPTS, PARAMS, api=settings(url), progress=False)
    assert usage.requests == 200 and usage.retries == 0
    return results


@pytest.mark.e2e
def test_faults_in_front_of_vllm_serve_lose_and_duplicate_nothing(served, uninterrupted, monkeypatch):
    """A quarter of the hits fail at the proxy (429, 500, dropped connections, replies past the client's
    timeout); the shard still gets exactly the samples of the fault-free run, each request answered once,
    and every failed hit is counted as a retry."""
    url, model = served
    monkeypatch.setenv("VLLM_TEST_KEY", "EMPTY")
    with FaultProxy(url, faults=FAULTS, slow_s=6.0, seed=1) as proxy:
        results, usage = sample(model, PROMPTS, PARAMS, api=settings(proxy.url, concurrency=16), progress=False)
    assert [len(row) for row in results] == [PARAMS.n] * len(PROMPTS)
    assert texts(results) == texts(uninterrupted)
    assert all(proxy.outcomes.get(kind) for kind in FAULTS) and proxy.failed() >= 0.2 * proxy.hits
    assert usage.requests == 200 and usage.retries == proxy.hits - 200 == proxy.failed()
    # each request was asked of the server once, and once more for each slow reply the client gave up on
    assert len(proxy.forwarded) == 200 + proxy.outcomes["slow"]
    assert sorted(set(asked(proxy.forwarded))) == asked([{"prompt": p, "seed": PARAMS.seed + start}
                                                         for p in PROMPTS for start in (0, 2)])

@pytest.mark.e2e
def test_a_shard_killed_midway_resumes_from_its_journal(served, uninterrupted, tmp_path, monkeypatch):
    """The proxy fails every hit after 60 answered ones, so the shard fails; rerun through a healthy proxy, it
    asks the server only for the samples its journal lacks and returns those of the uninterrupted run."""
    url, model = served
    monkeypatch.setenv("VLLM_TEST_KEY", "EMPTY")
    journal = tmp_path / "shard.journal"
    with FaultProxy(url, fail_after=60) as failing:
        with pytest.raises(RuntimeError, match="gave up"):
            sample(model, PROMPTS, PARAMS, api=settings(failing.url, max_retries=2), journal=journal,
                   progress=False)
    kept = len(journal.read_text().splitlines())
    assert kept == len(failing.forwarded) == 60
    with FaultProxy(url) as healthy:
        resumed, usage = sample(model, PROMPTS, PARAMS, api=settings(healthy.url), journal=journal,
                                progress=False)
    assert (usage.resumed, usage.requests) == (kept, 200 - kept)
    assert len(healthy.forwarded) == 200 - kept and not set(asked(healthy.forwarded)) & set(asked(failing.forwarded))
    assert texts(resumed) == texts(uninterrupted)
