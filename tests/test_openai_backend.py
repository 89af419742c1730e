"""weakstrong.sampling.openai_backend with a stand-in client: chat prompts go to chat completions, text
prompts to completions, with the same sampling settings."""

from __future__ import annotations

from types import SimpleNamespace

import openai
import pytest

from weakstrong.prompts import build_prompts
from weakstrong.sampling import SamplingParams
from weakstrong.sampling.openai_backend import generate


class FakeClient:
    calls: list = []

    def __init__(self, base_url=None, api_key=None):
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._chat))
        self.completions = SimpleNamespace(create=self._text)

    @staticmethod
    def _response(n, make_choice):
        return SimpleNamespace(choices=[make_choice(i) for i in range(n)],
                               usage=SimpleNamespace(completion_tokens=10 * n, prompt_tokens=7))

    def _chat(self, **request):
        FakeClient.calls.append(("chat", request))
        return self._response(request["n"], lambda i: SimpleNamespace(
            message=SimpleNamespace(content=f"chat {i} \\boxed{{4}}"), finish_reason="stop"))

    def _text(self, **request):
        FakeClient.calls.append(("text", request))
        return self._response(request["n"], lambda i: SimpleNamespace(text=f" text {i}", finish_reason="length"))


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setattr(openai, "OpenAI", FakeClient)
    monkeypatch.setenv("TEST_KEY", "secret")
    FakeClient.calls = []
    return FakeClient


def test_chat_and_text_prompts_reach_their_endpoints(client):
    exemplars = [{"question": "1+1?", "solution": "\\boxed{2}"}]
    params = SamplingParams(n=2, temperature=0.7, max_tokens=64, seed=3)
    chat = generate("flash", build_prompts(["2+2?"], exemplars, "math", chat=True), params,
                    api={"api_key_env": "TEST_KEY"}, progress=False)
    text = generate("base", build_prompts(["2+2?"], exemplars, "math"),
                    SamplingParams(n=1, stop=("\nProblem:",)), api={"api_key_env": "TEST_KEY"}, progress=False)
    (kind, request), (text_kind, text_request) = client.calls
    assert kind == "chat" and request["messages"][-1] == {"role": "user", "content": "2+2?"}
    assert (request["n"], request["temperature"], request["max_tokens"], request["seed"], request["stop"]) == \
        (2, 0.7, 64, 3, None)
    assert [c["text"] for c in chat[0]] == ["chat 0 \\boxed{4}", "chat 1 \\boxed{4}"]
    assert chat[0][0]["completion_tokens"] == 10 and chat[0][0]["prompt_tokens"] == 7
    assert text_kind == "text" and text_request["prompt"].endswith("Problem:\n2+2?\n\nSolution:")
    assert text_request["stop"] == ["\nProblem:"] and text[0][0] == {
        "text": " text 0", "completion_tokens": 10, "prompt_tokens": 7, "finish_reason": "length"}


def test_missing_key_names_the_variable(client, monkeypatch):
    monkeypatch.delenv("TEST_KEY")
    with pytest.raises(RuntimeError, match="TEST_KEY"):
        generate("flash", ["x"], SamplingParams(), api={"api_key_env": "TEST_KEY"}, progress=False)
