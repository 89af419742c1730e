"""A stand-in OpenAI-compatible server on 127.0.0.1, to test and time the API backend without a network.

``/v1/completions`` and ``/v1/chat/completions`` answer ``n`` choices whose texts depend only on the prompt
and the sample's seed (``seed + choice index``, as vLLM seeds the choices of one request), so a run is
reproducible whatever the concurrency, the retries or the way ``n`` is split.  Usage is one total per
request, like the real APIs.  Faults are injected by share (``faults={"429": 0.1, "500": 0.05, "drop": 0.05,
"slow": 0.05}``), by script (``script=["429", "ok"]`` answers the next hits in that order) or for good
(``fail_after=K``: every hit after K answers 500).  ``max_choices`` answers fewer choices than asked for, as
servers may.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUTCOMES = ("429", "500", "drop", "slow")


def sample_text(prompt, seed: int) -> str:
    """The text the server gives ``prompt`` under ``seed``; tests compare against it."""
    tag = hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()[:8]
    return f"{tag} sample {seed} \\boxed{{{seed % 10}}}"


def finish_reason(seed: int) -> str:
    return "length" if seed % 5 == 0 else "stop"


class FakeOpenAIServer:
    """Use as a context manager; ``url`` is the base URL for the client, ``hits`` counts every request
    received (faulty ones included), ``answered`` the ones answered with samples, ``requests`` their bodies."""

    def __init__(self, *, faults: dict | None = None, script: list | None = None, fail_after: int | None = None,
                 retry_after: str = "0", slow_s: float = 1.0, latency_s: float = 0.0, seed: int = 0,
                 max_choices: int | None = None):
        self.faults = faults or {}
        self.script = list(script or [])
        self.fail_after = fail_after
        self.retry_after = retry_after
        self.slow_s = slow_s
        self.latency_s = latency_s
        self.max_choices = max_choices
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.hits = 0
        self.answered = 0
        self.outcomes: dict[str, int] = {}
        self.requests: list[dict] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that timed out closed the socket
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def outcome(self) -> str:
        """What the next hit gets: ``ok`` or one of OUTCOMES."""
        with self.lock:
            self.hits += 1
            if self.script:
                chosen = self.script.pop(0)
            elif self.fail_after is not None and self.answered >= self.fail_after:
                chosen = "500"
            else:
                draw, chosen = self.random.random(), "ok"
                for name in OUTCOMES:
                    share = self.faults.get(name, 0.0)
                    if draw < share:
                        chosen = name
                        break
                    draw -= share
            self.outcomes[chosen] = self.outcomes.get(chosen, 0) + 1
            if chosen == "ok":
                self.answered += 1
            return chosen

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


def _handler(server: FakeOpenAIServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
        disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path not in ("/v1/completions", "/v1/chat/completions"):
                return self.reply(404, {"error": {"message": f"no route {self.path}"}})
            outcome = server.outcome()
            if server.latency_s:
                time.sleep(server.latency_s)
            if outcome == "drop":
                self.close_connection = True
                return
            if outcome == "429":
                return self.reply(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                  {"Retry-After": server.retry_after})
            if outcome == "500":
                return self.reply(500, {"error": {"message": "injected failure", "type": "server_error"}})
            if outcome == "slow":
                time.sleep(server.slow_s)
            self.reply(200, server.respond(self.path, body))

        def reply(self, status: int, payload: dict, headers: dict | None = None):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
