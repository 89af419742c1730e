"""weakstrong.sampling.openai_backend against a fake OpenAI-compatible server on 127.0.0.1: endpoints and
settings, retries under injected faults, ``n`` split under the API's cap, the journal that lets a killed
shard resume without paying twice, and a model the API does not serve (retired) failing at once."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from helpers.fake_openai_server import FakeOpenAIServer, finish_reason, sample_text
from weakstrong.prompts import build_prompts
from weakstrong.sampling import SamplingParams
from weakstrong.sampling.openai_backend import (ModelNotFound, RequestFailed, Usage, _seconds, generate, sample,
                                                usage_cost)

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
        with pytest.raises(ModelNotFound, match=r"(?s)'base' .*/nowhere: HTTP 404: no route.*base_url"):
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


# --- a model the API does not serve ------------------------------------------------------------------------------

GEMINI_404 = ("models/{model} is not found for API version v1beta, or is not supported for generateContent. "
              "Call ListModels to see the list of available models and their supported methods.")


class ServingServer(FakeOpenAIServer):
    """The fake server serving only the models in ``serves``: a request for another gets ``status`` with
    ``message`` (by default the 404 Gemini gives a retired model). After ``retire_after`` answers every model is
    unknown, as if retired in the middle of a shard."""

    def __init__(self, *, serves=("gemini-current",), status: int = 404, message: str = GEMINI_404,
                 retire_after: int | None = None, **faults):
        super().__init__(**faults)
        self.serves, self.status, self.message, self.retire_after = set(serves), status, message, retire_after
        self.served = 0
        self.refused = 0

    def answer(self, path: str, body: bytes) -> tuple[int, bytes, dict]:
        model = json.loads(body)["model"]
        with self.lock:
            known = model in self.serves and (self.retire_after is None or self.served < self.retire_after)
            self.served += known
            self.refused += not known
        if known:
            return super().answer(path, body)
        error = {"code": self.status, "message": self.message.format(model=model), "status": "NOT_FOUND"}
        return self.status, json.dumps({"error": error}).encode(), {}


def test_unknown_model_fails_at_once_naming_model_and_key():
    """A retired model's 404 is not retried (max_retries would allow 5 tries): the error names the model, the
    config key it came from and the config with the current pair; without a journal it promises none."""
    with ServingServer() as server:
        with pytest.raises(ModelNotFound) as info:
            generate("gemini-1.5-pro", PROMPTS[:5], SamplingParams(n=2),
                     api=api(server, max_retries=4, concurrency=1, model_key="models.gemini-1.5-pro.source"),
                     progress=False)
    assert server.hits == server.refused == 1
    message = str(info.value)
    assert "'gemini-1.5-pro' (config key models.gemini-1.5-pro.source)" in message
    assert "HTTP 404: models/gemini-1.5-pro is not found" in message  # the provider's own words
    assert "retired" in message and "configs/gemini-current.yaml" in message
    assert "journal" not in message


def test_unknown_model_stops_requests_in_flight():
    """With 8 requests in flight the first 404 stops the shard: no request is sent twice, none after."""
    with ServingServer() as server:
        with pytest.raises(ModelNotFound, match="models.gemini-1.5-flash.source"):
            sample("gemini-1.5-flash", PROMPTS, SamplingParams(), progress=False,
                   api=api(server, concurrency=8, model_key="models.gemini-1.5-flash.source"))
    assert 1 <= server.hits == server.refused <= 8 and server.requests == []


def test_a_model_retired_mid_shard_keeps_the_finished_requests(tmp_path):
    """The model answers 12 requests and then is gone: the shard fails at once, naming the journal, which keeps
    the 12; served again (e.g. under its new name), the rerun asks only for the rest."""
    params = SamplingParams(n=2, seed=4)
    journal = tmp_path / "shard.journal"
    settings = {"concurrency": 1, "model_key": "models.gemini-current.source"}
    with ServingServer(retire_after=12) as server:
        with pytest.raises(ModelNotFound, match=rf"(?s)'gemini-current'.*The 12 requests that finished are kept "
                                                rf"in {journal}"):
            sample("gemini-current", PROMPTS[:40], params, api=api(server, **settings), journal=journal,
                   progress=False)
    assert server.hits == 13 and len(journal.read_text().splitlines()) == 12
    with ServingServer() as again:
        resumed, usage = sample("gemini-current", PROMPTS[:40], params, api=api(again, **settings),
                                journal=journal, progress=False)
    assert (usage.resumed, usage.requests, again.hits) == (12, 28, 28)
    assert texts(resumed) == expected(PROMPTS[:40], params)


@pytest.mark.parametrize("message", ["Model is not supported.", "The model `{model}` does not exist.",
                                     "models/{model} is not found for API version v1beta"])
def test_a_400_saying_the_model_is_unknown_is_an_unknown_model(message):
    with ServingServer(status=400, message=message) as server:
        with pytest.raises(ModelNotFound, match=r"'gemini-1.5-pro' \(config key the `source` of its entry"):
            sample("gemini-1.5-pro", ["x"], SamplingParams(), api=api(server), progress=False)
    assert server.hits == 1


def test_other_client_errors_fail_at_once_as_they_are():
    """A 400 about a parameter, even one naming the model, is not an unknown model (and not retried)."""
    with ServingServer(status=400, message="frequency_penalty is not supported for model {model}") as server:
        with pytest.raises(RequestFailed, match="'gemini-1.5-pro', prompt 0: .*frequency_penalty") as info:
            sample("gemini-1.5-pro", ["x"], SamplingParams(), api=api(server), progress=False)
    assert not isinstance(info.value, ModelNotFound) and server.hits == 1


def test_rate_limits_and_server_errors_are_still_retried():
    """429 and 500 before the answers: retried as before, for a served model."""
    with ServingServer(script=["429", "500", "500"]) as server:
        results, usage = sample("gemini-current", ["x", "y"], SamplingParams(n=1),
                                api=api(server, concurrency=1, model_key="models.gemini-current.source"),
                                progress=False)
    assert usage.retries == 3 and usage.requests == 2 and server.hits == 5 and server.refused == 0
    assert texts(results) == expected(["x", "y"], SamplingParams(n=1))


def test_a_retired_judge_model_names_the_judge_entry():
    """The judge's generator (make_judge, as the three judge scripts build it): its model gone, the error
    names the judge's entry under models and that it is the judge.model."""
    from weakstrong.sampling import make_judge

    with ServingServer(status=404, message="models/{model} is not found") as server:
        judge = make_judge("openai_api", "gemini-1.5-pro", "gemini-pro", api(server))
        with pytest.raises(ModelNotFound, match=r"models\.gemini-pro\.source \(the judge\.model\)"):
            judge(["x"], SamplingParams())
    assert server.hits == 1
