"""The finetuning path's GPU-scale mechanisms, tested on CPU: the attention kernel that honours Gemma2's
soft-capping, first-rank-only weight loading, fp32 buffers under FSDP mixed precision, checkpoint state
clean-up and resumption, and the per-epoch shuffle."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers.tiny_models import one_torch_thread  # noqa: F401 (autouse fixture)
from weakstrong import training
from weakstrong.requests import FinetuneRequest, write_request
from weakstrong.models import attention_implementation, init_toy_model, load_model_and_tokenizer, train_tokenizer

WORKER = Path(__file__).parent / "helpers" / "student_loading_worker.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer([f"the answer is {n} and {n + 1}" for n in range(200)], 300)


def _save_gemma2(path: Path, tokenizer, softcap: float | None):
    from transformers import Gemma2Config, Gemma2ForCausalLM

    torch.manual_seed(0)
    config = Gemma2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, head_dim=8, sliding_window=4,
                          attn_logit_softcapping=softcap, final_logit_softcapping=30.0, max_position_embeddings=64,
                          pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                          bos_token_id=tokenizer.eos_token_id)
    model = Gemma2ForCausalLM(config)
    with torch.no_grad():  # large query/key weights, so the cap (here 1.0) changes the attention a lot
        for layer in model.model.layers:
            layer.self_attn.q_proj.weight.mul_(20)
            layer.self_attn.k_proj.weight.mul_(20)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def test_gemma2_loads_with_an_attention_that_applies_soft_capping(tmp_path, tokenizer):
    from transformers import AutoModelForCausalLM

    _save_gemma2(tmp_path, tokenizer, softcap=1.0)
    model, _ = load_model_and_tokenizer(tmp_path, training=True)
    assert model.config._attn_implementation == "eager"
    inputs = torch.tensor([tokenizer("the answer is 12 and 13 and 14").input_ids])
    eager = AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32, attn_implementation="eager")
    sdpa = AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32, attn_implementation="sdpa")
    with torch.no_grad():
        ours, reference, uncapped = (m(input_ids=inputs).logits for m in (model, eager, sdpa))
    assert torch.equal(ours, reference)
    assert not torch.allclose(ours, uncapped, atol=1e-3)  # SDPA drops the cap: the check can fail


def test_models_without_soft_capping_keep_the_default_attention(tmp_path, tokenizer):
    model = init_toy_model({"hidden_size": 16, "layers": 1, "heads": 2, "intermediate_size": 32,
                            "max_positions": 64}, tokenizer, seed=0)
    assert attention_implementation(model.config) is None
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, _ = load_model_and_tokenizer(tmp_path, training=True)
    assert loaded.config._attn_implementation == "sdpa"


def test_only_the_first_rank_reads_the_weights(tmp_path, tokenizer):
    model_dir, out = tmp_path / "student", tmp_path / "out"
    out.mkdir()
    init_toy_model({"hidden_size": 16, "layers": 1, "heads": 2, "intermediate_size": 32, "max_positions": 64},
                   tokenizer, seed=3).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    done = subprocess.run(TORCHRUN + [str(WORKER), "load", str(model_dir), str(out)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["reads"] == [str(model_dir)] and ranks[1]["reads"] == []
    assert ranks[0]["tied"] and ranks[1]["tied"]
    assert ranks[0]["grad_norm"] == pytest.approx(ranks[1]["grad_norm"], rel=1e-6)
    saved, _ = load_model_and_tokenizer(model_dir, training=True)
    expected = saved.state_dict()
    for rank in (0, 1):
        state = torch.load(out / f"state-{rank}.pt")
        assert state.keys() == expected.keys()
        for name, tensor in expected.items():
            assert torch.equal(state[name], tensor), (rank, name)  # the rotary buffer included


@pytest.mark.parametrize("policy, expected", [("workflow", "torch.float32"), ("accelerate", "torch.bfloat16")])
def test_fsdp_mixed_precision_keeps_buffers_in_fp32(tmp_path, policy, expected):
    done = subprocess.run(TORCHRUN + [str(WORKER), "fsdp-buffers", policy, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):
        buffers = json.loads((tmp_path / f"rank-{rank}.json").read_text())
        assert buffers["model.rotary_emb.inv_freq"] == expected


def test_a_buffer_outside_fp32_stops_training():
    model = torch.nn.Module()
    model.register_buffer("inv_freq", torch.ones(4, dtype=torch.bfloat16), persistent=False)
    with pytest.raises(RuntimeError, match="inv_freq.*bfloat16.*fsdp_mixed_precision"):
        training.check_fp32_buffers(model)
    model.inv_freq = model.inv_freq.float()
    assert training.check_fp32_buffers(model) == ["torch.float32"]


def _finetune_request(tmp_path, tokenizer, **settings):
    from weakstrong.data import write_jsonl

    base = tmp_path / "base"
    init_toy_model({"hidden_size": 16, "layers": 1, "heads": 2, "intermediate_size": 32, "max_positions": 64},
                   tokenizer, seed=0).save_pretrained(base)
    tokenizer.save_pretrained(base)
    write_jsonl(tmp_path / "sft.jsonl", [{"question": f"what is {n} plus 1", "solution": f"the answer is {n + 1}"}
                                         for n in range(16)])
    return FinetuneRequest(output=str(tmp_path / "run"), base_model=str(base), sft_data=str(tmp_path / "sft.jsonl"),
                           validation=str(tmp_path / "validation.jsonl"), style="gsm8k", validation_problems=4,
                           max_tokens=8, eval_backend="transformers",
                           settings=training.TrainSettings(lr=1e-3, steps=4, batch_size=4, checkpoints=2, seed=0,
                                                           max_length=64, precision="fp32", **settings))


def test_a_finished_run_keeps_weights_only_and_reports_its_bytes(tmp_path, tokenizer):
    from weakstrong.launch import finetune, partial_dir

    request = _finetune_request(tmp_path, tokenizer)
    finetune(request)
    partial = partial_dir(request.output)
    summary = json.loads((partial / "training.json").read_text())
    assert not list(partial.rglob(training.STATE_DIR))  # the resumable state is gone once training is done
    assert sorted(p.name for p in partial.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    checkpoints = sum(training.directory_bytes(c) for c in partial.glob("checkpoint-*"))
    assert checkpoints < summary["bytes_kept"] < checkpoints + 4096  # the checkpoints and training.json
    # Each save wrote its weights and the state (fp32 weights and two AdamW moments): more than it keeps.
    assert summary["bytes_written"] > 2 * summary["bytes_kept"]
    assert summary["buffer_dtypes"] == ["torch.float32"] and summary["attention"] == "sdpa"
    finetune(request)  # a rerun (killed while scoring) does not train again
    assert json.loads((partial / "training.json").read_text()) == summary


def test_a_partial_run_with_other_settings_starts_afresh(tmp_path, tokenizer, monkeypatch):
    from weakstrong import launch as launch_module

    request = _finetune_request(tmp_path, tokenizer)
    partial = launch_module.partial_dir(request.output)
    partial.mkdir(parents=True)
    write_request(dataclasses.replace(request, settings=dataclasses.replace(request.settings, lr=1.0)),
                  partial / "request.json")
    (partial / "checkpoint-2").mkdir()
    monkeypatch.setattr(launch_module, "run_request", lambda request, threads: None)
    monkeypatch.setattr(launch_module, "score_checkpoints", lambda request, gpus, memory_mb: None)
    monkeypatch.setattr(launch_module.Path, "rename", lambda self, target: None)
    launch_module.launch(request, gpus=0, threads=1)
    assert not (partial / "checkpoint-2").exists()
    (partial / "checkpoint-2").mkdir()
    launch_module.launch(request, gpus=0, threads=1)  # the same request resumes: its checkpoints stay
    assert (partial / "checkpoint-2").exists()


def test_batches_are_shuffled_once_per_epoch():
    """The order of an epoch is drawn once and reused by every step of it; batches are unchanged."""
    training.epoch_order.cache_clear()
    batches = [training.batch_indices(10, 4, seed=7, step=step) for step in range(5)]
    assert training.epoch_order.cache_info().misses == 2  # epochs 0 and 1 over 5 steps of 4 of 10 examples
    flat = [i for batch in batches for i in batch]
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))
