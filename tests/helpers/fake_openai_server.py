"""A stand-in OpenAI-compatible server on 127.0.0.1, to test and time the API backend without a network.

``/v1/completions`` and ``/v1/chat/completions`` answer ``n`` choices whose texts depend only on the prompt
and the sample's seed (``seed + choice index``, as vLLM seeds the choices of one request), so a run is
reproducible whatever the concurrency, the retries or the way ``n`` is split.  Usage is one total per
request, like the real APIs.  Faults are injected as ``helpers.faulty_server`` describes (by share, by script
or for good after ``fail_after`` answers).  ``max_choices`` answers fewer choices than asked for, as servers
may.
"""

from __future__ import annotations

import hashlib
import json
import sys

from helpers.faulty_server import FaultyServer


def sample_text(prompt, seed: int) -> str:
    """The text the server gives ``prompt`` under ``seed``; tests compare against it."""
    tag = hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()[:8]
    return f"{tag} sample {seed} \\boxed{{{seed % 10}}}"


def finish_reason(seed: int) -> str:
    return "length" if seed % 5 == 0 else "stop"


class FakeOpenAIServer(FaultyServer):
    """A :class:`FaultyServer` that makes its samples up; ``requests`` holds the bodies of the answered hits."""

    def __init__(self, *, max_choices: int | None = None, **faults):
        super().__init__(**faults)
        self.max_choices = max_choices
        self.requests: list[dict] = []

    def answer(self, path: str, body: bytes) -> tuple[int, bytes, dict]:
        return 200, json.dumps(self.respond(path, json.loads(body))).encode(), {}

    def respond(self, path: str, body: dict) -> dict:
        chat = path.endswith("/chat/completions")
        prompt = body["messages"] if chat else body["prompt"]
        seed = body.get("seed") or 0
        with self.lock:
            self.requests.append(body)
        choices = []
        for i in range(min(body.get("n") or 1, self.max_choices or sys.maxsize)):
            text, reason = sample_text(prompt, seed + i), finish_reason(seed + i)
            choices.append({"index": i, "finish_reason": reason, "logprobs": None,
                            **({"message": {"role": "assistant", "content": text}} if chat else {"text": text})})
        completion = sum(len(c["message"]["content"].split()) if chat else len(c["text"].split()) for c in choices)
        prompt_tokens = len(json.dumps(prompt).split())
        return {"id": "fake", "object": "chat.completion" if chat else "text_completion", "created": 0,
                "model": body["model"], "choices": choices,
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                          "total_tokens": prompt_tokens + completion}}
