"""One rule for token boundaries: finetuning, checkpoint validation, sampling and test evaluation encode a
prompt the same way, with BOS where the tokenizer adds one (Gemma, Llama) and never without it."""

from __future__ import annotations

import sys
import types

import pytest
from tokenizers.processors import TemplateProcessing

from weakstrong.models import init_toy_model, train_tokenizer
from weakstrong.prompts import format_question, sft_example
from weakstrong.sampling import SamplingParams
from weakstrong.tokens import adds_bos, encode_completion, encode_prompt, encode_prompts
from weakstrong.toy import make_splits, pretraining_documents
from weakstrong.training import tokenize_examples

BOS = "<bos>"
SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}


@pytest.fixture(scope="module")
def problems():
    return make_splits("gsm8k", {"train": 8, "pretrain": 200}, 3)


@pytest.fixture(scope="module")
def plain_tokenizer(problems):
    """The toy tokenizer: no BOS is added to text."""
    return train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)


@pytest.fixture(scope="module")
def bos_tokenizer(problems, tmp_path_factory):
    """A tokenizer that, like Gemma's, puts BOS in front of encoded text; saved and reloaded as a checkpoint
    directory would be, so the post-processor survives the round trip."""
    from transformers import AutoTokenizer

    tokenizer = train_tokenizer(pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0), 300)
    tokenizer.add_special_tokens({"bos_token": BOS})
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"{BOS} $A", special_tokens=[(BOS, tokenizer.convert_tokens_to_ids(BOS))])
    path = tmp_path_factory.mktemp("bos-tokenizer")
    tokenizer.save_pretrained(path)
    return AutoTokenizer.from_pretrained(path)


def test_adds_bos(plain_tokenizer, bos_tokenizer):
    assert adds_bos(bos_tokenizer) and not adds_bos(plain_tokenizer)


@pytest.mark.parametrize("name", ["plain_tokenizer", "bos_tokenizer"])
def test_prompt_is_encoded_as_the_tokenizer_encodes_text(name, request, problems):
    """vLLM encodes a text prompt with the tokenizer's defaults: the rule gives exactly those ids."""
    tokenizer = request.getfixturevalue(name)
    prompt = format_question(problems["train"][0]["question"], "gsm8k")
    assert encode_prompt(tokenizer, prompt) == tokenizer(prompt)["input_ids"]
    assert encode_prompts(tokenizer, [prompt, "x"]) == [tokenizer(prompt)["input_ids"], tokenizer("x")["input_ids"]]


def test_finetuning_examples_start_with_bos_and_end_with_eos(bos_tokenizer, problems):
    problem = problems["train"][0]
    prompt, completion = sft_example(problem["question"], problem["solution"], "gsm8k")
    [(ids, labels)] = tokenize_examples(bos_tokenizer, [(prompt, completion)], max_length=512)
    prompt_ids = encode_prompt(bos_tokenizer, prompt)
    assert ids[0] == bos_tokenizer.bos_token_id and ids.count(bos_tokenizer.bos_token_id) == 1
    assert ids == prompt_ids + encode_completion(bos_tokenizer, completion)
    assert ids[-1] == bos_tokenizer.eos_token_id
    assert labels[:len(prompt_ids)] == [-100] * len(prompt_ids)  # BOS and question are not learned


def test_transformers_generation_sees_the_training_prompt(bos_tokenizer, problems):
    """Checkpoint validation and toy evaluation (transformers) feed the model the same prompt ids as SFT."""
    import torch

    from weakstrong.sampling.transformers_backend import generate

    model = init_toy_model(SPEC, bos_tokenizer, seed=0)
    seen = []
    original = model.generate

    def recording(input_ids, attention_mask, **kwargs):
        seen.extend(row[mask.bool()].tolist() for row, mask in zip(input_ids, attention_mask))
        return original(input_ids=input_ids, attention_mask=attention_mask, **kwargs)

    model.generate = recording
    prompts = [format_question(p["question"], "gsm8k") for p in problems["train"][:3]]
    with torch.no_grad():
        out = generate(model, prompts, SamplingParams(temperature=0, max_tokens=2), tokenizer=bos_tokenizer,
                       progress=False)
    assert seen == encode_prompts(bos_tokenizer, prompts)
    assert [o[0]["prompt_tokens"] for o in out] == [len(ids) for ids in seen]


@pytest.fixture
def fake_vllm(bos_tokenizer, monkeypatch):
    """vLLM replaced by an engine that records its arguments (``engines``) and the prompts it gets
    (``prompts``), and answers " 1" to each; ``vllm_backend`` starts with no cached engine."""
    from weakstrong.sampling import vllm_backend

    seen = types.SimpleNamespace(engines=[], prompts=[])

    class FakeLLM:
        def __init__(self, **kwargs):
            seen.engines.append(kwargs)

        def get_tokenizer(self):
            return bos_tokenizer

        def generate(self, prompts, sampling, use_tqdm):
            seen.prompts.extend(prompts)
            completion = types.SimpleNamespace(text=" 1", token_ids=[5], finish_reason="stop")
            return [types.SimpleNamespace(outputs=[completion], prompt_token_ids=p["prompt_token_ids"])
                    for p in prompts]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=FakeLLM, SamplingParams=lambda **kw: kw))
    monkeypatch.setattr(vllm_backend, "_ENGINES", {})
    monkeypatch.setattr(vllm_backend, "engine_on_cpu", lambda: True)  # the fake has no vllm.platforms
    return seen


def test_vllm_receives_the_training_prompt_ids(bos_tokenizer, problems, fake_vllm):
    """Sampling and test evaluation (vLLM) get token ids from the same rule, not text to encode their way."""
    from weakstrong.sampling import vllm_backend

    received = fake_vllm.prompts
    prompts = [format_question(p["question"], "gsm8k") for p in problems["train"][:3]]
    out = vllm_backend.generate("model-dir", prompts, SamplingParams(temperature=0, max_tokens=2))
    assert [p["prompt_token_ids"] for p in received] == encode_prompts(bos_tokenizer, prompts)
    assert all(p["prompt_token_ids"][0] == bos_tokenizer.bos_token_id for p in received)
    assert [o[0]["prompt_tokens"] for o in out] == [len(p["prompt_token_ids"]) for p in received]


@pytest.mark.parametrize("cuda", [False, True])
def test_vllm_engine_runs_eager_on_cpu_only(fake_vllm, monkeypatch, cuda):
    """On CPU the engine skips graph compilation (it cost more than it saved) and sizes its KV cache from the
    job's memory; on GPUs vLLM's defaults apply."""
    from weakstrong.sampling import vllm_backend

    monkeypatch.setattr(vllm_backend, "engine_on_cpu", lambda: not cuda)
    vllm_backend.generate("model-dir", [], SamplingParams(temperature=0, max_tokens=2), memory_mb=1000)
    [engine] = fake_vllm.engines
    assert engine["enforce_eager"] is (not cuda)
    assert ("kv_cache_memory_bytes" in engine) is (not cuda)
