"""weakstrong.training and weakstrong.models: batching, masking, and a real (tiny) training run with resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from weakstrong.models import EOS, PAD, count_toy_parameters, init_toy_model, train_tokenizer
from weakstrong.prompts import format_question, sft_example
from weakstrong.toy import make_splits, pretraining_documents
from weakstrong import training
from weakstrong.study import accumulation_steps, micro_batch
from helpers.requests import scoring_request
from helpers.tiny_models import TINY_SPEC as SPEC, one_torch_thread  # noqa: F401 (autouse fixture)
from weakstrong.training import (CHECKPOINT_PREFIX, STATE_DIR, TrainSettings, batch_indices, checkpoint_steps,
                                 collate, collect_checkpoint_scores, micro_batches, own_micro_batches,
                                 padding_share, resolve_precision, tokenize_examples, train)



# --- pure helpers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("steps, count, expected", [
    (600, 10, [60, 120, 180, 240, 300, 360, 420, 480, 540, 600]),
    (80, 3, [27, 53, 80]),          # round(80/3) = 27, round(160/3) = 53
    (6, 2, [3, 6]),
    (10, 1, [10]),
    (2, 5, [1, 2]),                 # fewer steps than checkpoints: no duplicates, never step 0
    (1, 3, [1]),
])
def test_checkpoint_steps(steps, count, expected):
    assert checkpoint_steps(steps, count) == expected


@pytest.mark.parametrize("steps, count", [(0, 1), (5, 0), (-1, 2)])
def test_checkpoint_steps_rejects_nonpositive(steps, count):
    with pytest.raises(ValueError):
        checkpoint_steps(steps, count)


def test_batch_indices_deterministic_and_seeded():
    assert batch_indices(20, 4, seed=3, step=7) == batch_indices(20, 4, seed=3, step=7)
    assert [batch_indices(20, 4, 3, s) for s in range(5)] != [batch_indices(20, 4, 4, s) for s in range(5)]
    assert len(batch_indices(20, 4, 3, 0)) == 4


def test_batch_indices_cover_each_epoch_once():
    # 20 examples, batches of 4: steps 0-4 are epoch 0, steps 5-9 epoch 1; each epoch is a permutation
    epoch0 = [i for step in range(5) for i in batch_indices(20, 4, 1, step)]
    epoch1 = [i for step in range(5, 10) for i in batch_indices(20, 4, 1, step)]
    assert sorted(epoch0) == list(range(20)) and sorted(epoch1) == list(range(20))
    assert epoch0 != epoch1  # reshuffled per epoch


def test_batch_indices_across_epoch_boundary():
    # 10 examples, batches of 4: step 2 takes the last 2 of epoch 0 and the first 2 of epoch 1
    flat = [i for step in range(5) for i in batch_indices(10, 4, 0, step)]
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))
    # batch larger than the data set spans several epochs
    big = batch_indices(3, 7, 0, 0)
    assert len(big) == 7 and sorted(big[:3]) == [0, 1, 2] and sorted(big[3:6]) == [0, 1, 2]


@pytest.fixture(scope="module")
def problems():
    return make_splits("gsm8k", {"train": 64, "pretrain": 300}, 5)


@pytest.fixture(scope="module")
def tokenizer(problems):
    documents = pretraining_documents({"gsm8k": problems["pretrain"]}, per_document=3, seed=0)
    return train_tokenizer(documents, 300)


def test_tokenizer_special_tokens(tokenizer):
    assert tokenizer.pad_token == PAD and tokenizer.eos_token == EOS
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert len(tokenizer) <= 300
    text = "Question: Mia has 3 apples.\nAnswer: 3 + 4 = <<3+4=7>>7 apples.\n#### 7"
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text


def test_tokenize_examples_masks_prompt(tokenizer):
    prompt, completion = sft_example("Mia has 3 apples. How many apples does Mia have?", "#### 3", "gsm8k")
    [(ids, labels)] = tokenize_examples(tokenizer, [(prompt, completion)], max_length=512)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    assert ids == prompt_ids + completion_ids + [tokenizer.eos_token_id]
    assert labels == [-100] * len(prompt_ids) + completion_ids + [tokenizer.eos_token_id]
    assert len(ids) == len(labels)


def test_tokenize_examples_empty_prompt_and_truncation(tokenizer):
    [(ids, labels)] = tokenize_examples(tokenizer, [("", "Mia has 3 apples.")], max_length=512)
    assert ids == labels and ids[-1] == tokenizer.eos_token_id
    long_prompt = format_question("Mia has 3 apples. " * 20, "gsm8k")
    n_prompt = len(tokenizer(long_prompt, add_special_tokens=False)["input_ids"])
    # a completion cut off entirely by max_length leaves no label: the example is dropped
    kept = tokenize_examples(tokenizer, [(long_prompt, " 3"), ("", "ok")], max_length=n_prompt)
    assert len(kept) == 1 and kept[0][0][-1] == tokenizer.eos_token_id
    [(ids, labels)] = tokenize_examples(tokenizer, [(long_prompt, " 3 + 4 = 7")], max_length=n_prompt + 2)
    assert len(ids) == len(labels) == n_prompt + 2
    assert labels[:n_prompt] == [-100] * n_prompt and all(x != -100 for x in labels[n_prompt:])
    with pytest.raises(ValueError, match="max_length"):
        tokenize_examples(tokenizer, [(long_prompt, " 3")], max_length=n_prompt)


def test_collate_pads_and_masks():
    batch = collate([([5, 6, 7], [-100, 6, 7]), ([8], [8])], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_count_toy_parameters_matches_built_model(tokenizer):
    model = init_toy_model(SPEC, tokenizer, seed=0)
    assert count_toy_parameters(SPEC, len(tokenizer)) == sum(p.numel() for p in model.parameters())
    # init is seeded
    again = init_toy_model(SPEC, tokenizer, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


# --- a real training run ------------------------------------------------------------------------------------

def _examples(problems):
    return [sft_example(p["question"], p["solution"], "gsm8k") for p in problems["train"]]


def _eval_loss(model, tokenizer, examples) -> float:
    batch = collate(tokenize_examples(tokenizer, examples, 256), tokenizer.pad_token_id)
    model.eval()
    with torch.no_grad():
        return model(**batch).loss.item()


def _settings(**overrides):
    values = dict(lr=3e-3, steps=30, batch_size=8, checkpoints=3, seed=11, max_length=256)
    values.update(overrides)
    return TrainSettings(**values)


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _count_saves(monkeypatch):
    """Steps at which train() saves a checkpoint, recorded as it happens."""
    saved = []
    original = training._save_checkpoint

    def recording(accelerator, model, tokenizer, out_dir, step, *args):
        saved.append(step)
        return original(accelerator, model, tokenizer, out_dir, step, *args)

    monkeypatch.setattr(training, "_save_checkpoint", recording)
    return saved


def test_training_lowers_loss_and_writes_checkpoints(tmp_path, problems, tokenizer, monkeypatch):
    examples = _examples(problems)
    model = init_toy_model(SPEC, tokenizer, seed=0)
    before = _eval_loss(model, tokenizer, examples[:16])
    saved = _count_saves(monkeypatch)
    summary = train(model, tokenizer, examples, tmp_path, _settings(), progress=False)
    after = _eval_loss(model, tokenizer, examples[:16])
    assert after < before - 1.0, (before, after)  # from ~log(300) to well below
    assert summary["examples"] == len(examples) and summary["precision"] == "fp32"
    assert summary["processes"] == 1 and summary["accumulation_steps"] == 1
    assert 0 <= summary["padding_share"] < 0.5

    records = collect_checkpoint_scores(tmp_path)
    assert saved == [10, 20, 30]
    assert [r["step"] for r in records] == [10, 20, 30]
    assert all(r["settings"]["lr"] == 3e-3 and r["settings"]["steps"] == 30 for r in records)
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"{CHECKPOINT_PREFIX}10", f"{CHECKPOINT_PREFIX}20", f"{CHECKPOINT_PREFIX}30"]  # no .tmp left
    for step in (10, 20, 30):
        checkpoint = tmp_path / f"{CHECKPOINT_PREFIX}{step}"
        assert (checkpoint / "config.json").is_file()
        assert (checkpoint / "model.safetensors").is_file()
        assert (checkpoint / "tokenizer.json").is_file()
        assert json.loads((checkpoint / "scores.json").read_text())["step"] == step
        # only the newest checkpoint keeps optimizer state
        assert (checkpoint / STATE_DIR).is_dir() == (step == 30)

    # The saved checkpoint is the trained model: it loads and gives the same loss.
    from weakstrong.models import load_model_and_tokenizer
    loaded, loaded_tokenizer = load_model_and_tokenizer(tmp_path / f"{CHECKPOINT_PREFIX}30")
    assert loaded_tokenizer.pad_token_id == tokenizer.pad_token_id
    assert _eval_loss(loaded, loaded_tokenizer, examples[:16]) == pytest.approx(after, rel=1e-5)

    # Running again on a finished directory does no step and keeps the records.
    saved.clear()
    train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, examples, tmp_path, _settings(), progress=False)
    assert saved == []
    assert collect_checkpoint_scores(tmp_path) == records


class _Killed(RuntimeError):
    pass


def test_resume_after_interruption_continues_exactly(tmp_path, problems, tokenizer, monkeypatch):
    examples = _examples(problems)
    settings = _settings(steps=20, checkpoints=2)

    # Reference: an uninterrupted run.
    reference = init_toy_model(SPEC, tokenizer, seed=0)
    train(reference, tokenizer, examples, tmp_path / "reference", settings, progress=False)
    expected = _weights(reference)

    # The same run, killed while saving its second checkpoint (after step 20's update, with the weights
    # written but not the training state).
    out = tmp_path / "resumed"
    original = training._save_checkpoint

    def killed_at_20(accelerator, model, tokenizer, out_dir, step, *args):
        if step == 20:
            accelerator.unwrap_model(model).save_pretrained(out_dir / f".{CHECKPOINT_PREFIX}20.tmp")
            raise _Killed
        return original(accelerator, model, tokenizer, out_dir, step, *args)

    monkeypatch.setattr(training, "_save_checkpoint", killed_at_20)
    with pytest.raises(_Killed):
        train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, examples, out, settings, progress=False)
    assert (out / f"{CHECKPOINT_PREFIX}10" / STATE_DIR).is_dir()
    assert not (out / f"{CHECKPOINT_PREFIX}20").exists()
    first_scores = json.loads((out / f"{CHECKPOINT_PREFIX}10" / "scores.json").read_text())

    # Requeued: a fresh model (different init) resumes from checkpoint-10 and does steps 11-20 only.
    monkeypatch.setattr(training, "_save_checkpoint", original)
    saved = _count_saves(monkeypatch)
    resumed = init_toy_model(SPEC, tokenizer, seed=123)
    train(resumed, tokenizer, examples, out, settings, progress=False)
    assert saved == [20]
    records = collect_checkpoint_scores(out)
    assert [r["step"] for r in records] == [10, 20]
    assert records[0] == first_scores  # the earlier checkpoint is kept as it was
    assert sorted(p.name for p in out.iterdir()) == [f"{CHECKPOINT_PREFIX}10", f"{CHECKPOINT_PREFIX}20"]
    assert not (out / f"{CHECKPOINT_PREFIX}10" / STATE_DIR).exists()
    assert (out / f"{CHECKPOINT_PREFIX}20" / STATE_DIR).is_dir()

    # Batches are a function of (seed, step) and optimizer/scheduler state was restored: same weights.
    got = _weights(resumed)
    assert got.keys() == expected.keys()
    for name in expected:
        assert torch.allclose(got[name], expected[name], atol=1e-5, rtol=1e-4), name


def test_checkpoint_without_state_is_not_resumed(tmp_path, problems, tokenizer, monkeypatch):
    # A directory that merely looks like a checkpoint (no training state) is not a resume point.
    (tmp_path / f"{CHECKPOINT_PREFIX}3").mkdir()
    saved = _count_saves(monkeypatch)
    train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, _examples(problems)[:8], tmp_path,
          _settings(steps=4, checkpoints=2, batch_size=4), progress=False)
    assert saved == [2, 4]


# --- precision, batch splitting, processes -----------------------------------------------------------------

def test_resolve_precision():
    assert resolve_precision("auto", cuda=False) == "fp32"
    assert resolve_precision("auto", cuda=True) == "bf16"
    assert resolve_precision("bf16", cuda=False) == "bf16" and resolve_precision("fp32", cuda=True) == "fp32"
    with pytest.raises(ValueError, match="finetune.precision"):
        resolve_precision("fp16", cuda=True)


@pytest.mark.parametrize("batch, micro, processes, expected_micro, expected_accumulation", [
    (32, 4, 8, 4, 1),      # the paper's Gemma2 students on 8 GPUs
    (32, 4, 1, 4, 8),      # one GPU accumulates 8 micro batches
    (32, None, 2, 16, 1),  # no bound: the batch split over the processes
    (32, 4, 16, 2, 1),     # more GPUs than the bound needs: smaller micro batches
    (8, 1, 8, 1, 1),       # Gemma-7B
    (12, 8, 1, 6, 2),      # the largest micro batch within the bound that splits the batch evenly
    (30, 4, 1, 3, 10),
])
def test_accumulation_steps(batch, micro, processes, expected_micro, expected_accumulation):
    assert accumulation_steps(batch, micro, processes) == expected_accumulation
    assert micro_batch(batch, micro, processes) == expected_micro


@pytest.mark.parametrize("batch, micro, processes", [(8, 1, 16), (10, 4, 4), (32, 4, 3)])
def test_accumulation_steps_rejects_uneven_split(batch, micro, processes):
    with pytest.raises(ValueError, match="finetune.batch_size.*resources.finetune.gpu"):
        accumulation_steps(batch, micro, processes)


def test_micro_batches_are_the_same_for_any_process_count():
    lengths = [5, 1, 9, 3, 7, 2, 8, 4]
    indices = [6, 1, 0, 3, 7, 2, 5, 4]
    chunks = micro_batches(indices, lengths, 4)
    assert chunks == [[1, 5], [3, 7], [0, 4], [6, 2]]  # sorted by length, cut in equal parts
    assert sorted(i for chunk in chunks for i in chunk) == sorted(indices)
    # 1 process x 4 accumulation steps, 2 processes x 2, 4 processes x 1: the same micro batches in all
    for processes in (1, 2, 4):
        owned = [own_micro_batches(chunks, p, processes) for p in range(processes)]
        assert sorted(map(tuple, (c for mine in owned for c in mine))) == sorted(map(tuple, chunks))
        assert owned[0][0] == chunks[0]


def test_length_grouping_reduces_padding(problems, tokenizer):
    encoded = tokenize_examples(tokenizer, _examples(problems), 256)
    settings = _settings(steps=20, batch_size=16)
    grouped = padding_share(encoded, settings, 4)
    lengths = [len(ids) for ids, _ in encoded]
    real = total = 0
    for step in range(settings.steps):  # the same micro batches cut in draw order, without grouping
        indices = batch_indices(len(encoded), 16, settings.seed, step)
        for k in range(4):
            chunk = indices[k * 4:(k + 1) * 4]
            real += sum(lengths[i] for i in chunk)
            total += 4 * max(lengths[i] for i in chunk)
    assert 0 <= grouped < 1 - real / total


def test_accumulated_micro_batches_equal_one_batch(tmp_path, problems, tokenizer):
    """The loss is normalised by the global batch's tokens, so splitting the batch changes nothing."""
    examples = _examples(problems)
    whole = init_toy_model(SPEC, tokenizer, seed=0)
    train(whole, tokenizer, examples, tmp_path / "whole", _settings(steps=6, checkpoints=1), progress=False)
    split = init_toy_model(SPEC, tokenizer, seed=0)
    summary = train(split, tokenizer, examples, tmp_path / "split",
                    _settings(steps=6, checkpoints=1, micro_batch_size=2), progress=False)
    assert summary["accumulation_steps"] == 4
    for (name, a), b in zip(_weights(whole).items(), _weights(split).values()):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), name


def test_gradient_checkpointing_trains_the_same(tmp_path, problems, tokenizer):
    examples = _examples(problems)
    plain = init_toy_model(SPEC, tokenizer, seed=0)
    train(plain, tokenizer, examples, tmp_path / "plain", _settings(steps=4, checkpoints=1), progress=False)
    checkpointed = init_toy_model(SPEC, tokenizer, seed=0)
    train(checkpointed, tokenizer, examples, tmp_path / "gc",
          _settings(steps=4, checkpoints=1, gradient_checkpointing=True), progress=False)
    assert checkpointed.is_gradient_checkpointing and not plain.is_gradient_checkpointing
    for (name, a), b in zip(_weights(plain).items(), _weights(checkpointed).values()):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), name


@pytest.fixture
def fresh_accelerator_state():
    """Accelerate keeps one state per process; a test that changes its precision starts and ends afresh."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


def test_bf16_training_keeps_fp32_master_weights(tmp_path, problems, tokenizer, fresh_accelerator_state):
    """bf16 autocasts the forward pass; the weights, optimizer state and resume state stay fp32, and the
    checkpoint for evaluation is written in bf16."""
    from safetensors.torch import load_file

    model = init_toy_model(SPEC, tokenizer, seed=0)
    summary = train(model, tokenizer, _examples(problems), tmp_path, _settings(steps=4, checkpoints=1,
                                                                              precision="bf16"), progress=False)
    assert summary["precision"] == "bf16"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    checkpoint = tmp_path / f"{CHECKPOINT_PREFIX}4"
    assert {t.dtype for t in load_file(checkpoint / "model.safetensors").values()} == {torch.bfloat16}
    assert {t.dtype for t in load_file(checkpoint / STATE_DIR / "model.safetensors").values()} == {torch.float32}
    assert json.loads((checkpoint / "scores.json").read_text())["train_loss"] < 6


def test_two_processes_train_like_one(tmp_path):
    """2 CPU processes (torchrun, gloo) and 1 process with the same global batch and micro batches: the
    same weights and a schedule that stepped once per optimizer step, not once per process."""
    from safetensors.torch import load_file

    worker = Path(__file__).parent / "helpers" / "train_worker.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one, two = tmp_path / "one", tmp_path / "two"
    subprocess.run([sys.executable, str(worker), str(one), "4"], check=True, env=env, capture_output=True,
                   timeout=300)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(torchrun + [str(worker), str(two), "4"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 processes x 4 x 1 accumulation steps" in done.stdout + done.stderr
    final = f"{CHECKPOINT_PREFIX}12"
    for run in (one, two):
        scheduler = torch.load(run / final / STATE_DIR / "custom_checkpoint_0.pkl", weights_only=False)
        assert scheduler["last_epoch"] == 12, run
    a, b = load_file(one / final / "model.safetensors"), load_file(two / final / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name
    losses = [json.loads((run / final / "scores.json").read_text())["train_loss"] for run in (one, two)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)


# --- the finetune job: fit check, checkpoint scoring --------------------------------------------------------

def test_finetune_job_that_cannot_fit_stops_before_loading_the_model(tmp_path):
    from weakstrong.launch import launch
    from weakstrong.plan import PlanError

    from weakstrong.requests import FinetuneRequest, FitCheck

    request = FinetuneRequest(
        output=str(tmp_path / "run"), base_model=str(tmp_path / "no-such-model"), sft_data=str(tmp_path / "sft.jsonl"),
        validation=str(tmp_path / "validation.jsonl"), style="math", validation_problems=500, max_tokens=512,
        eval_backend="vllm",
        settings=TrainSettings(lr=1e-6, steps=600, batch_size=32, micro_batch_size=4, checkpoints=10, seed=0,
                               max_length=1024, precision="auto", gradient_checkpointing=True),
        fit=FitCheck(student="gemma2-27b", parameters=27.2e9, gpu_memory_gb=80,
                     architecture={"layers": 46, "hidden_size": 4608, "vocab_size": 256000}))
    with pytest.raises(PlanError, match="resources.finetune.gpu.*finetune.students.gemma2-27b.micro_batch_size"):
        launch(request, gpus=1, threads=1)
    assert not (tmp_path / "run").exists()


def test_checkpoints_are_scored_once_through_the_eval_backend(tmp_path, problems, tokenizer, monkeypatch):
    from weakstrong import launch as launch_module
    from weakstrong.data import write_jsonl

    out = tmp_path / "run"
    partial = launch_module.partial_dir(out)
    train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, _examples(problems), partial,
          _settings(steps=4, checkpoints=2), progress=False)
    (partial / "training.json").write_text(json.dumps({"examples": len(problems["train"])}))
    write_jsonl(tmp_path / "validation.jsonl", problems["train"][:4])
    request = scoring_request(out, tmp_path / "validation.jsonl", validation_problems=3, eval_backend="transformers",
                              style="gsm8k", max_tokens=8)
    loaded = []
    from weakstrong import sampling

    original = sampling.make_generator

    def recording(backend, model, **kwargs):
        loaded.append((backend, Path(model).name))
        return original(backend, model, **kwargs)

    monkeypatch.setattr(sampling, "make_generator", recording)
    launch_module.score_checkpoints(request, gpus=0)
    assert loaded == [("transformers", f"{CHECKPOINT_PREFIX}2"), ("transformers", f"{CHECKPOINT_PREFIX}4")]
    scores = json.loads((partial / "scores.json").read_text())
    assert [c["step"] for c in scores["checkpoints"]] == [2, 4]
    assert all(c["validation_problems"] == 3 and 0 <= c["validation_accuracy"] <= 1 for c in scores["checkpoints"])
    loaded.clear()
    launch_module.score_checkpoints(request, gpus=0)  # a rerun (resumed job) scores nothing again
    assert loaded == [] and json.loads((partial / "scores.json").read_text()) == scores


def test_multi_gpu_jobs_launch_fsdp_from_the_repository_config(tmp_path):
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    from weakstrong.launch import accelerate_command

    fsdp = Path(__file__).resolve().parents[1] / "accelerate" / "fsdp.yaml"
    command = accelerate_command(tmp_path / "request.json", 8, "auto", fsdp)
    assert command[command.index("--config_file") + 1] == str(fsdp)
    assert command[command.index("--num_processes") + 1] == "8"
    assert command[command.index("--mixed_precision") + 1] == "bf16"  # auto is bf16 on GPUs
    assert accelerate_command(tmp_path / "r.json", 2, "fp32", fsdp)[command.index("--mixed_precision") + 1] == "no"
    config = load_config_from_file(str(fsdp))
    assert config.distributed_type == DistributedType.FSDP
    assert config.fsdp_config["fsdp_sharding_strategy"] == "FULL_SHARD"
    assert config.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"


def test_finish_training_counts_what_every_save_wrote_and_keeps_only_weights(tmp_path):
    """bytes_written counts each checkpoint's weights and one training state per save (the size of the newest),
    so a run resumed after a kill reports what an uninterrupted one does; the states are deleted."""
    for step, state_bytes in ((2, 0), (4, 0), (6, 30)):
        checkpoint = tmp_path / f"{CHECKPOINT_PREFIX}{step}"
        checkpoint.mkdir()
        (checkpoint / "model.safetensors").write_bytes(b"w" * 10)
        if state_bytes:
            (checkpoint / STATE_DIR).mkdir()
            (checkpoint / STATE_DIR / "optimizer.bin").write_bytes(b"o" * 20)
            (checkpoint / STATE_DIR / "scheduler.bin").write_bytes(b"s" * 10)
    summary = training.finish_training(tmp_path)
    assert summary == {"bytes_written": 3 * 10 + 3 * 30, "files_per_save": 3, "bytes_kept": 30}
    assert not list(tmp_path.rglob(STATE_DIR))
