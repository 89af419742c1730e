"""weakstrong.sampling.openai_backend against a fake OpenAI-compatible server on 127.0.0.1: endpoints and
settings, retries under injected faults, ``n`` split under the API's cap, and the journal that lets a killed
shard resume without paying twice."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from helpers.fake_openai_server import FakeOpenAIServer, finish_reason, sample_text
from weakstrong.prompts import build_prompts
from weakstrong.sampling import SamplingParams
from weakstrong.sampling.openai_backend import Usage, _seconds, generate, sample, usage_cost

PROMPTS = [f"Problem:\nWhat is {i} + {i}?\n\nSolution:" for i in range(100)]
FAULTS = {"429": 0.1, "500": 0.06, "drop": 0.06, "slow": 0.03}  # 25% of hits fail


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("TEST_KEY", "secret")


def api(server: FakeOpenAIServer, **settings) -> dict:
    """Test settings: short backoffs and a client timeout well under the server's slow replies."""
    return {"base_url": server.url, "api_key_env": "TEST_KEY", "backoff_s": 0.01, "max_backoff_s": 0.05,
            "timeout_s": 0.5, **settings}


def expected(prompts: list, params: SamplingParams) -> list[list[tuple[str, str]]]:
    return [[(sample_text(p, params.seed + j), finish_reason(params.seed + j)) for j in range(params.n)]
            for p in prompts]


def texts(results: list[list[dict]]) -> list[list[tuple[str, str]]]:
    return [[(s["text"], s["finish_reason"]) for s in row] for row in results]


def test_chat_and_text_prompts_reach_their_endpoints():
    exemplars = [{"question": "1+1?", "solution": "\\boxed{2}"}]
    chat_prompt = build_prompts(["2+2?"], exemplars, "math", chat=True)
    text_prompt = build_prompts(["2+2?"], exemplars, "math")
    with FakeOpenAIServer() as server:
        chat = generate("flash", chat_prompt, SamplingParams(n=2, temperature=0.7, max_tokens=64, seed=3),
                        api=api(server), progress=False)
        text = generate("base", text_prompt, SamplingParams(n=1, top_k=20, stop=("\nProblem:",)),
                        api=api(server), progress=False)
    request, text_request = server.requests
    assert request["messages"][-1] == {"role": "user", "content": "2+2?"}
    assert (request["n"], request["temperature"], request["max_tokens"], request["seed"], request["stop"]) == \
        (2, 0.7, 64, 3, None) and "top_k" not in request
    assert texts(chat) == expected(chat_prompt, SamplingParams(n=2, seed=3))
    assert text_request["prompt"].endswith("Problem:\n2+2?\n\nSolution:")
    assert text_request["stop"] == ["\nProblem:"] and text_request["top_k"] == 20
    [[sample]] = text
    assert sample == {"text": sample_text(text_prompt[0], 0), "finish_reason": "length",
                      "completion_tokens": 4, "prompt_tokens": len(json.dumps(text_prompt[0]).split())}


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("TEST_KEY")
    with pytest.raises(RuntimeError, match="'flash'.*TEST_KEY"):
        generate("flash", ["x"], SamplingParams(), api={"api_key_env": "TEST_KEY"}, progress=False)


def test_faults_lose_and_duplicate_nothing():
    """A quarter of the hits fail (429, 500, dropped connections, replies past the timeout); the shard still
    gets exactly the samples of a fault-free run, in order."""
    params = SamplingParams(n=4, seed=11)
    with FakeOpenAIServer(faults=FAULTS, slow_s=1.0, seed=1) as server:
        results, usage = sample("base", PROMPTS, params, api=api(server, max_n=2, concurrency=16), progress=False)
    assert texts(results) == expected(PROMPTS, params)
    assert all(server.outcomes.get(kind) for kind in FAULTS)
    assert sum(server.outcomes[kind] for kind in FAULTS) >= 0.2 * server.hits
    assert usage.requests == 200 and usage.retries == server.hits - 200
    assert usage.completion_tokens == sum(s["completion_tokens"] for row in results for s in row)


def test_retry_after_is_honoured():
    with FakeOpenAIServer(script=["429"], retry_after="1") as server:
        started = time.monotonic()
        results, usage = sample("base", ["x"], SamplingParams(), api=api(server), progress=False)
    assert time.monotonic() - started >= 1.0
    assert server.hits == 2 and usage.retries == 1 and len(results[0]) == 1


def test_gives_up_naming_model_prompt_and_error():
    with FakeOpenAIServer(script=["ok", "500", "500", "500"]) as server:
        with pytest.raises(RuntimeError, match=r"'base', prompt 1 .*3 attempts.*InternalServerError"):
            generate("base", ["x", "y"], SamplingParams(), api=api(server, max_retries=2, concurrency=1),
                     progress=False)


def test_client_errors_are_not_retried():
    with FakeOpenAIServer() as server:
        with pytest.raises(RuntimeError, match="'base', prompt 0: .*404"):
            sample("base", ["x"], SamplingParams(), api=api(server, base_url=server.url + "/nowhere"),
                   progress=False)
    assert server.hits == 0  # the 404 comes from routing, before any sample is drawn


def test_n_is_split_under_the_cap():
    """n=10 under a cap of 4: requests of 4, 4 and 2 samples seeded at 0, 4 and 8 give the samples of one
    unsplit request."""
    params = SamplingParams(n=10, seed=5)
    with FakeOpenAIServer() as server:
        results, usage = sample("flash", [[{"role": "user", "content": "hi"}]], params,
                                api=api(server, max_n=4), progress=False)
    assert sorted((r["n"], r["seed"]) for r in server.requests) == [(2, 13), (4, 5), (4, 9)]
    assert texts(results) == expected([[{"role": "user", "content": "hi"}]], params)
    assert usage.requests == 3


def test_fewer_choices_than_asked_are_made_up():
    params = SamplingParams(n=5, seed=1)
    with FakeOpenAIServer(max_choices=2) as server:
        results, usage = sample("base", ["x"], params, api=api(server), progress=False)
    assert [(r["n"], r["seed"]) for r in server.requests] == [(5, 1), (3, 3), (1, 5)]
    assert texts(results) == expected(["x"], params) and usage.requests == 3


def test_retry_after_forms():
    assert _seconds("2") == 2.0 and _seconds("0.5") == 0.5
    assert _seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: retry now
    assert 50 < _seconds(email.utils.formatdate(time.time() + 60, usegmt=True)) <= 60
    assert _seconds("soon") is None and _seconds(None) is None


def test_usage_is_split_across_choices_and_priced():
    params = SamplingParams(n=3, seed=0)
    with FakeOpenAIServer() as server:
        [row], usage = sample("base", ["x"], params, api=api(server), progress=False)
    words = sum(len(s["text"].split()) for s in row)  # the server's total for the request
    assert [s["completion_tokens"] for s in row] == [words // 3 + (k < words % 3) for k in range(3)]
    assert usage.completion_tokens == words and usage.requests == 1
    assert usage_cost(Usage(completion_tokens=2_000_000), 10.5) == pytest.approx(21.0)


def test_journal_resumes_a_failed_shard(tmp_path):
    """The server fails for good after 30 requests, so the shard fails; rerun against a healthy server, it
    asks only for what the journal lacks and returns what an uninterrupted run returns."""
    params = SamplingParams(n=4, seed=2)
    settings = {"max_n": 2, "max_retries": 2}
    journal = tmp_path / "shard.journal"
    with FakeOpenAIServer() as server:
        uninterrupted, _ = sample("base", PROMPTS, params, api=api(server, **settings), progress=False)
    with FakeOpenAIServer(fail_after=30) as failing:
        with pytest.raises(RuntimeError, match="gave up"):
            sample("base", PROMPTS, params, api=api(failing, **settings), journal=journal, progress=False)
    kept = len(journal.read_text().splitlines())
    assert kept == 30
    with FakeOpenAIServer() as healthy:
        resumed, usage = sample("base", PROMPTS, params, api=api(healthy, **settings), journal=journal,
                                progress=False)
    assert healthy.hits == 200 - kept and (usage.resumed, usage.requests) == (kept, 200 - kept)
    assert resumed == uninterrupted
    with FakeOpenAIServer() as idle:
        again, _ = sample("base", PROMPTS, params, api=api(idle, **settings), journal=journal, progress=False)
    assert idle.hits == 0 and again == uninterrupted


def test_journal_tolerates_a_line_cut_short(tmp_path):
    """A kill mid-write leaves half a line: it is ignored (its request is sent again), and the lines
    appended after it stay readable."""
    params = SamplingParams(n=2)
    journal = tmp_path / "shard.journal"
    with FakeOpenAIServer() as server:
        complete, _ = sample("base", PROMPTS[:10], params, api=api(server), journal=journal, progress=False)
    journal.write_text(journal.read_text()[:-20])
    with FakeOpenAIServer() as server:
        resumed, _ = sample("base", PROMPTS[:10], params, api=api(server), journal=journal, progress=False)
    assert server.hits == 1 and resumed == complete
    with FakeOpenAIServer() as server:
        sample("base", PROMPTS[:10], params, api=api(server), journal=journal, progress=False)
    assert server.hits == 0


def test_journal_of_other_settings_is_not_reused(tmp_path):
    journal = tmp_path / "shard.journal"
    with FakeOpenAIServer() as server:
        sample("base", ["x", "y"], SamplingParams(n=2, temperature=0.7), api=api(server), journal=journal,
               progress=False)
        sample("base", ["x", "y"], SamplingParams(n=2, temperature=1.0), api=api(server), journal=journal,
               progress=False)
        assert server.hits == 4
        more, usage = sample("base", ["x", "y"], SamplingParams(n=3, temperature=1.0), api=api(server),
                             journal=journal, progress=False)
    assert server.hits == 6 and usage.resumed == 2  # a larger n keeps the samples already drawn
    assert [s["text"] for s in more[0]] == [sample_text("x", j) for j in range(3)]
