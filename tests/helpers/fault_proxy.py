"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real OpenAI-compatible server (``vllm serve``).

Each POST to the completion endpoints draws its outcome as ``helpers.faulty_server`` describes (429 with
Retry-After, 500, a dropped connection, a slow reply, by share, script or ``fail_after``); the hits that get
an answer are forwarded to ``upstream`` and get its reply unchanged.  A faulted hit never reaches the server,
except a slow one, whose reply is held back.  ``forwarded`` holds the bodies of the forwarded requests, so a
test can tell which samples were asked of the server.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from helpers.faulty_server import FaultyServer


class FaultProxy(FaultyServer):
    """``FaultProxy(upstream, faults=..., ...)``, ``upstream`` the server's base URL (``http://HOST:PORT/v1``)."""

    def __init__(self, upstream: str, *, upstream_timeout_s: float = 600, **faults):
        super().__init__(**faults)
        self.upstream = upstream.rstrip("/").removesuffix("/v1")
        self.upstream_timeout_s = upstream_timeout_s
        self.forwarded: list[dict] = []

    def answer(self, path: str, body: bytes) -> tuple[int, bytes, dict]:
        with self.lock:
            self.forwarded.append(json.loads(body))
        request = urllib.request.Request(self.upstream + path, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.upstream_timeout_s) as response:
                return response.status, response.read(), {}
        except urllib.error.HTTPError as error:  # the server's own error replies pass through
            return error.code, error.read(), {}
