"""What the fake OpenAI-compatible server and the fault proxy share: an HTTP server on 127.0.0.1 whose POSTs to
``/v1/completions`` and ``/v1/chat/completions`` each draw an outcome, ``ok`` or a fault, and get it.

Faults are injected by share (``faults={"429": 0.1, "500": 0.05, "drop": 0.05, "slow": 0.05}``), by script
(``script=["429", "ok"]`` answers the next hits in that order) or for good (``fail_after=K``: every hit after K
answered ones gets 500).  ``429`` comes with ``Retry-After: retry_after``, ``drop`` closes the connection
without a reply, ``slow`` answers ``slow_s`` seconds late.  What an answered hit gets is the subclass's
:meth:`FaultyServer.answer`: samples made up (``fake_openai_server``) or the real server's reply
(``fault_proxy``).
"""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUTCOMES = ("429", "500", "drop", "slow")
ROUTES = ("/v1/completions", "/v1/chat/completions")


class FaultyServer:
    """Use as a context manager; ``url`` is the base URL for the client, ``hits`` counts every request
    received (faulty ones included), ``answered`` the ones answered with samples, ``outcomes`` each
    outcome's hits."""

    def __init__(self, *, faults: dict | None = None, script: list | None = None, fail_after: int | None = None,
                 retry_after: str = "0", slow_s: float = 1.0, latency_s: float = 0.0, seed: int = 0):
        self.faults = faults or {}
        self.script = list(script or [])
        self.fail_after = fail_after
        self.retry_after = retry_after
        self.slow_s = slow_s
        self.latency_s = latency_s
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.hits = 0
        self.answered = 0
        self.outcomes: dict[str, int] = {}
        self.httpd = _Server(("127.0.0.1", 0), _handler(self))
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

    def failed(self) -> int:
        """Hits that got a fault."""
        return sum(count for outcome, count in self.outcomes.items() if outcome != "ok")

    def answer(self, path: str, body: bytes) -> tuple[int, bytes, dict]:
        """Status, JSON body and headers of the reply to a hit that gets an answer."""
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The client opens up to its concurrency's connections at once; with the default backlog of 5 the kernel
    # refused some, so the client counted retries for requests the server never saw.
    request_queue_size = 128


def _handler(server: FaultyServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
        disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path not in ROUTES:
                return self.reply(404, json.dumps({"error": {"message": f"no route {self.path}"}}).encode())
            outcome = server.outcome()
            if server.latency_s:
                time.sleep(server.latency_s)
            if outcome == "drop":
                self.close_connection = True
                return
            if outcome == "429":
                return self.reply(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                                  {"Retry-After": server.retry_after})
            if outcome == "500":
                return self.reply(500, b'{"error": {"message": "injected failure", "type": "server_error"}}')
            answer = server.answer(self.path, body)
            if outcome == "slow":  # answered, but late
                time.sleep(server.slow_s)
            self.reply(*answer)

        def reply(self, status: int, data: bytes, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
