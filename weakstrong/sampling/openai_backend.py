"""Models behind an OpenAI-compatible API: chat prompts (message lists, e.g. Gemini's compatibility endpoint)
go to chat completions, text prompts (a base model behind `vllm serve`) to completions.

A shard is thousands of paid requests, so the client is built to finish it once:

* requests run concurrently (``openai_api.concurrency``, default 8);
* 429, 408/409, 5xx, timeouts and dropped connections are retried with exponential backoff and jitter, or
  after the server's ``Retry-After`` (``max_retries``, ``backoff_s``, ``max_backoff_s``, ``timeout_s``); the
  openai client's own retries are off so that the count is ours;
* other 4xx fail at once; a model the API does not know (HTTP 404, or a 400 saying the model is not found or
  not supported: a retired model, such as the paper's Gemini 1.5 pair) fails with :class:`ModelNotFound`,
  which names the model, the config key it came from (``api["model_key"]``, which the workflow's scripts
  set, e.g. ``models.gemini-1.5-pro.source``) and ``configs/gemini-current.yaml``;
* ``n`` is split into requests of at most ``max_n`` samples (Gemini caps it at 8); the request covering
  samples ``start..`` carries seed ``seed + start``, the seed vLLM gives those samples of an unsplit
  request, so splitting does not change what a seeded vLLM server draws;
* with ``journal=``, every finished request is appended to a JSON Lines file at once, and a rerun takes
  what is there instead of asking again; a line cut short by a kill is ignored.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import re
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from weakstrong.sampling.params import SamplingParams

DEFAULTS = {"concurrency": 8, "max_retries": 8, "timeout_s": 600.0, "max_n": 8, "backoff_s": 1.0,
            "max_backoff_s": 60.0}
RETRY_STATUS = {408, 409, 429}  # and every 5xx
# The config that swaps the paper's retired Gemini pair for one the API serves.
CURRENT_GEMINI_CONFIG = "configs/gemini-current.yaml"


@dataclass
class Usage:
    """What a shard cost: requests sent now (``resumed``: taken from the journal instead), retries, and the
    tokens of every request the result rests on, journaled ones included."""
    requests: int = 0
    resumed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __str__(self) -> str:
        return (f"{self.requests} requests ({self.retries} retries, {self.resumed} more from the journal), "
                f"{self.prompt_tokens} prompt and {self.completion_tokens} completion tokens")


def usage_cost(usage: Usage, price_per_million_tokens: float, input_price_per_million_tokens: float = 0.0) -> float:
    """USD at the config's prices: ``models.<name>.price_per_million_tokens`` per output token, as the plan
    prices API models, and ``input_price_per_million_tokens`` per prompt token (the API's count: every
    request's prompt)."""
    return (usage.completion_tokens * price_per_million_tokens
            + usage.prompt_tokens * input_price_per_million_tokens) / 1e6


class RequestFailed(RuntimeError):
    """A request that cannot succeed (a 4xx other than 408/409/429) or ran out of retries."""


class ModelNotFound(RequestFailed):
    """The API does not serve the model (HTTP 404, or a 400 saying so): retired, misspelled, or the wrong
    ``base_url``. Never retried."""


@dataclass(frozen=True)
class _Request:
    prompt: int
    start: int
    count: int


def generate(model: str, prompts: list, params: SamplingParams, *, api: dict, progress: bool = True,
             journal: str | Path | None = None) -> list[list[dict]]:
    """``params.n`` samples per prompt, in order; the usage summary goes to stderr (the job's log)."""
    results, usage = sample(model, prompts, params, api=api, progress=progress, journal=journal)
    print(f"{model}: {usage}", file=sys.stderr)
    return results


def sample(model: str, prompts: list, params: SamplingParams, *, api: dict, progress: bool = True,
           journal: str | Path | None = None) -> tuple[list[list[dict]], Usage]:
    """``generate`` with its usage summary returned."""
    settings = {**DEFAULTS, **api}
    client = _client(model, settings)
    digests = [_sha256(prompt) for prompt in prompts]
    settings_digest = _sha256({"model": model, **params.record(), "stop": list(params.stop)})
    samples: list[list[dict | None]] = [[None] * params.n for _ in prompts]
    usage = Usage()
    if journal is not None:
        usage.resumed = _resume(Path(journal), samples, digests, settings_digest, usage)
    todo = [_Request(i, start, count) for i, row in enumerate(samples) for start, count in
            _missing_runs(row, settings["max_n"])]
    stop = threading.Event()
    lock = threading.Lock()

    def run(request: _Request) -> dict:
        return _with_retries(client, model, prompts[request.prompt], request, params, settings, stop, usage, lock)

    writer = _Journal(Path(journal)) if journal is not None else None
    bar = tqdm(total=len(prompts) * params.n, initial=sum(s is not None for row in samples for s in row),
               desc=f"{model} samples", disable=not progress)

    def keep(request: _Request, entry: dict) -> _Request | None:
        entry.update(prompt=request.prompt, prompt_sha256=digests[request.prompt], settings_sha256=settings_digest)
        if writer is not None:
            writer.append(entry)
        _fill(samples[request.prompt], entry, usage)
        bar.update(len(entry["samples"]))
        got = len(entry["samples"])
        if got < request.count:  # the API returned fewer choices than asked for
            return _Request(request.prompt, request.start + got, request.count - got)
        return None

    try:
        failure = _run_all(todo, run, settings["concurrency"], stop, keep)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    finished = usage.requests + usage.resumed
    if isinstance(failure, ModelNotFound) and journal is not None and finished:
        raise ModelNotFound(f"{failure} The {finished} requests that finished are kept in {journal}; the rerun "
                            f"takes them from there.") from failure.__cause__
    if failure is not None:
        raise failure
    return samples, usage


def _run_all(todo: list[_Request], run, concurrency: int, stop: threading.Event, keep) -> Exception | None:
    """Runs the requests ``concurrency`` at a time and hands each result to ``keep`` as it arrives (``keep``
    may ask for a follow-up request).  On the first failure the rest are cancelled, the ones in flight are
    still kept if they succeed, and the failure is returned (an unknown model before the requests it
    abandoned)."""
    failure = None
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        running = {pool.submit(run, request): request for request in todo}
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    request = running.pop(future)
                    if future.exception() is not None:
                        if failure is None:
                            stop.set()
                            for other in running:
                                other.cancel()
                        if failure is None or (isinstance(future.exception(), ModelNotFound)
                                               and not isinstance(failure, ModelNotFound)):
                            failure = future.exception()  # the cause, not a request it abandoned
                        continue
                    follow_up = keep(request, future.result())
                    if follow_up is not None and failure is None:
                        running[pool.submit(run, follow_up)] = follow_up
                running = {f: r for f, r in running.items() if not f.cancelled()}
        finally:
            stop.set()  # on an interrupt, the workers give up their retries instead of holding the exit
    return failure


def _client(model: str, settings: dict):
    from openai import OpenAI

    key_env = settings.get("api_key_env", "OPENAI_API_KEY")
    if not os.environ.get(key_env):
        raise RuntimeError(f"model {model!r} is served by an API: set the environment variable {key_env} "
                           f"(config key 'openai_api.api_key_env')")
    return OpenAI(base_url=settings.get("base_url"), api_key=os.environ[key_env], max_retries=0,
                  timeout=settings["timeout_s"])


def _with_retries(client, model: str, prompt, request: _Request, params: SamplingParams, settings: dict,
                  stop: threading.Event, usage: Usage, lock: threading.Lock) -> dict:
    import openai

    for attempt in range(settings["max_retries"] + 1):
        if stop.is_set():
            raise RequestFailed(f"model {model!r}, prompt {request.prompt}: abandoned after another request failed")
        try:
            entry = _request(client, model, prompt, request, params)
        except (openai.APIConnectionError, openai.APIStatusError) as error:  # timeouts are connection errors
            status = getattr(error, "status_code", None)
            if _unknown_model(error, model):
                stop.set()  # every other request would get the same answer: send none
                raise ModelNotFound(_unknown_model_message(model, error, settings)) from error
            if status is not None and status not in RETRY_STATUS and status < 500:
                raise RequestFailed(f"model {model!r}, prompt {request.prompt}: {error}") from error
            last = error
        else:
            if entry["samples"]:
                with lock:
                    usage.requests += 1
                return entry
            last = RuntimeError("the response had no choices")
        if attempt == settings["max_retries"]:
            break
        with lock:
            usage.retries += 1
        stop.wait(_delay(last, attempt, settings))
    raise RequestFailed(f"model {model!r}, prompt {request.prompt} (samples {request.start}.."
                        f"{request.start + request.count - 1}): gave up after {settings['max_retries'] + 1} "
                        f"attempts; last error: {last!r}") from last


def _unknown_model(error: Exception, model: str) -> bool:
    """A reply saying the API does not serve ``model``: any 404 (Gemini, OpenAI and vLLM answer an unknown
    model so), or a 400 whose message says the model is not found, not supported or does not exist (and not,
    say, that a parameter is not supported for the model)."""
    status = getattr(error, "status_code", None)
    if status == 404:
        return True
    if status != 400:
        return False
    text = str(getattr(error, "message", "") or error)
    names = "|".join(re.escape(name) for name in {model, model.rsplit("/", 1)[-1]} if name)
    subject = rf"(?:\bmodel|{names})" if names else r"\bmodel"
    return bool(re.search(rf"{subject}[`'\"]?\s+(?:is\s+)?(?:not found|not supported|does not exist|unknown)"
                          r"|\bunknown model\b|\bno such model\b|model_not_found", text, re.IGNORECASE))


def _unknown_model_message(model: str, error: Exception, settings: dict) -> str:
    key = settings.get("model_key") or "the `source` of its entry under `models`"
    body = getattr(error, "body", None)
    said = body["message"] if isinstance(body, dict) and body.get("message") else str(error)
    return (f"model {model!r} (config key {key}) is not served by {settings.get('base_url') or 'the API'}: "
            f"HTTP {getattr(error, 'status_code', '?')}: {said}\n"
            f"It may have been retired, as the paper's Gemini 1.5 Pro and Flash (its price-matched pair and its "
            f"judge) have been. Name a model the API serves in {key}, or run the paper's Gemini experiment on "
            f"the current pair: snakemake --configfile config.yaml {CURRENT_GEMINI_CONFIG}. If the model is "
            f"served, check openai_api.base_url. Not retried.")


def _request(client, model: str, prompt, request: _Request, params: SamplingParams) -> dict:
    """One API call for samples ``request.start ..``; the journal entry of what came back."""
    common = {"model": model, "n": request.count, "temperature": params.temperature, "top_p": params.top_p,
              "max_tokens": params.max_tokens, "stop": list(params.stop) or None, "seed": params.seed + request.start}
    if params.top_k > 0:  # vLLM's extension; -1 (off) is left out for servers that do not know it
        common["extra_body"] = {"top_k": params.top_k}
    if isinstance(prompt, str):
        response = client.completions.create(prompt=prompt, **common)
        texts = [choice.text or "" for choice in response.choices]
    else:
        response = client.chat.completions.create(messages=prompt, **common)
        texts = [choice.message.content or "" for choice in response.choices]
    choices = response.choices[:request.count]
    usage = response.usage
    total = usage.completion_tokens if usage else 0
    share, extra = divmod(total, max(1, len(choices)))  # the API counts the request, not each choice
    return {"samples": list(range(request.start, request.start + len(choices))),
            "texts": texts[:len(choices)],
            "finish_reasons": ["length" if choice.finish_reason == "length" else "stop" for choice in choices],
            "completion_tokens": [share + (k < extra) for k in range(len(choices))],
            "prompt_tokens": usage.prompt_tokens if usage else 0}


def _delay(error: Exception, attempt: int, settings: dict) -> float:
    """The server's ``Retry-After`` when it gives one, else exponential backoff with jitter (half fixed, half
    random, so that the workers that failed together do not retry together)."""
    response = getattr(error, "response", None)
    retry_after = _seconds(response.headers.get("retry-after")) if response is not None else None
    if retry_after is not None:
        return retry_after
    ceiling = min(settings["max_backoff_s"], settings["backoff_s"] * 2 ** attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds or an HTTP date; None if absent or garbled."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _fill(row: list, entry: dict, usage: Usage) -> None:
    for index, text, reason, tokens in zip(entry["samples"], entry["texts"], entry["finish_reasons"],
                                           entry["completion_tokens"]):
        row[index] = {"text": text, "completion_tokens": tokens, "prompt_tokens": entry["prompt_tokens"],
                      "finish_reason": reason}
    usage.prompt_tokens += entry["prompt_tokens"]
    usage.completion_tokens += sum(entry["completion_tokens"])


def _missing_runs(row: list, max_n: int) -> list[tuple[int, int]]:
    """(start, count) of the requests that fetch the samples still missing, at most ``max_n`` each."""
    runs, start = [], None
    for index, value in enumerate([*row, True]):  # a filled sentinel closes the last run
        if value is None and start is None:
            start = index
        elif value is not None and start is not None:
            runs += [(s, min(max_n, index - s)) for s in range(start, index, max_n)]
            start = None
    return runs


def _resume(path: Path, samples: list, digests: list, settings_digest: str, usage: Usage) -> int:
    """Fill ``samples`` from the journal; entries for another prompt or other settings, and lines cut short,
    are skipped.  Returns how many requests it saved."""
    if not path.exists():
        return 0
    resumed = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            i = entry["prompt"]
            valid = (0 <= i < len(samples) and entry["prompt_sha256"] == digests[i]
                     and entry["settings_sha256"] == settings_digest
                     and all(0 <= s < len(samples[i]) and samples[i][s] is None for s in entry["samples"])
                     and len(entry["samples"]) == len(entry["texts"]) == len(entry["finish_reasons"])
                     == len(entry["completion_tokens"]))
        except (ValueError, KeyError, TypeError):
            continue
        if valid:
            _fill(samples[i], entry, usage)
            resumed += 1
    return resumed


class _Journal:
    """Appends one line per finished request and flushes it, so that a kill loses at most the line being
    written; a line left without its newline by such a kill is closed first, so the next one stays whole."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a+b")
        if self.file.tell() > 0:
            self.file.seek(-1, os.SEEK_END)
            if self.file.read(1) != b"\n":
                self.file.write(b"\n")

    def append(self, entry: dict) -> None:
        self.file.write((json.dumps(entry, ensure_ascii=False) + "\n").encode())
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _sha256(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
