"""weakstrong.training and weakstrong.models: batching, masking, and a real (tiny) training run with resume."""

from __future__ import annotations

import json

import pytest
import torch

from weakstrong.models import EOS, PAD, count_toy_parameters, init_toy_model, train_tokenizer
from weakstrong.prompts import format_question, sft_prompt
from weakstrong.toy import make_splits, pretraining_documents
from weakstrong.training import (CHECKPOINT_PREFIX, STATE_DIR, TrainSettings, batch_indices, checkpoint_steps,
                                 collate, collect_checkpoint_scores, tokenize_examples, train)

SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models train fastest on one thread, and do not slow to a crawl when other jobs use the cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


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
    documents = pretraining_documents(problems["pretrain"], per_document=3, seed=0)
    return train_tokenizer(documents, 300)


def test_tokenizer_special_tokens(tokenizer):
    assert tokenizer.pad_token == PAD and tokenizer.eos_token == EOS
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert len(tokenizer) <= 300
    text = "Question: Mia has 3 apples.\nAnswer: 3 + 4 = <<3+4=7>>7 apples.\n#### 7"
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text


def test_tokenize_examples_masks_prompt(tokenizer):
    prompt, completion = sft_prompt("Mia has 3 apples. How many apples does Mia have?"), " #### 3"
    [(ids, labels)] = tokenize_examples(tokenizer, [(prompt, completion)], max_length=512)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    assert ids == prompt_ids + completion_ids + [tokenizer.eos_token_id]
    assert labels == [-100] * len(prompt_ids) + completion_ids + [tokenizer.eos_token_id]
    assert len(ids) == len(labels)


def test_tokenize_examples_empty_prompt_and_truncation(tokenizer):
    [(ids, labels)] = tokenize_examples(tokenizer, [("", "Mia has 3 apples.")], max_length=512)
    assert ids == labels and ids[-1] == tokenizer.eos_token_id
    long_prompt = format_question("Mia has 3 apples. " * 20)
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
    return [(sft_prompt(p["question"]), " " + p["solution"]) for p in problems["train"]]


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


def test_training_lowers_loss_and_writes_checkpoints(tmp_path, problems, tokenizer):
    examples = _examples(problems)
    model = init_toy_model(SPEC, tokenizer, seed=0)
    before = _eval_loss(model, tokenizer, examples[:16])
    seen = []
    records = train(model, tokenizer, examples, tmp_path, _settings(),
                    on_checkpoint=lambda step, m: seen.append(step) or {"validation_accuracy": step / 100},
                    progress=False)
    after = _eval_loss(model, tokenizer, examples[:16])
    assert after < before - 1.0, (before, after)  # from ~log(300) to well below

    assert seen == [10, 20, 30]
    assert [r["step"] for r in records] == [10, 20, 30]
    assert [r["validation_accuracy"] for r in records] == [0.1, 0.2, 0.3]
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
    assert collect_checkpoint_scores(tmp_path) == records

    # The saved checkpoint is the trained model: it loads and gives the same loss.
    from weakstrong.models import load_model_and_tokenizer
    loaded, loaded_tokenizer = load_model_and_tokenizer(tmp_path / f"{CHECKPOINT_PREFIX}30")
    assert loaded_tokenizer.pad_token_id == tokenizer.pad_token_id
    assert _eval_loss(loaded, loaded_tokenizer, examples[:16]) == pytest.approx(after, rel=1e-5)

    # Running again on a finished directory does no step and keeps the scores.
    again = []
    model2 = init_toy_model(SPEC, tokenizer, seed=0)
    records2 = train(model2, tokenizer, examples, tmp_path, _settings(),
                     on_checkpoint=lambda step, m: again.append(step) or {}, progress=False)
    assert again == []
    assert records2 == records


class _Killed(RuntimeError):
    pass


def test_resume_after_interruption_continues_exactly(tmp_path, problems, tokenizer):
    examples = _examples(problems)
    settings = _settings(steps=20, checkpoints=2)

    # Reference: an uninterrupted run.
    reference = init_toy_model(SPEC, tokenizer, seed=0)
    train(reference, tokenizer, examples, tmp_path / "reference", settings, progress=False)
    expected = _weights(reference)

    # The same run, killed while saving its second checkpoint (after step 20's update).
    out = tmp_path / "resumed"
    calls = []

    def killed_at_20(step, model):
        calls.append(step)
        if step == 20:
            raise _Killed
        return {"validation_accuracy": 0.5}

    with pytest.raises(_Killed):
        train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, examples, out, settings,
              on_checkpoint=killed_at_20, progress=False)
    assert calls == [10, 20]
    assert (out / f"{CHECKPOINT_PREFIX}10" / STATE_DIR).is_dir()
    assert not (out / f"{CHECKPOINT_PREFIX}20").exists()

    # Requeued: a fresh model (different init) resumes from checkpoint-10 and does steps 11-20 only.
    calls.clear()
    resumed = init_toy_model(SPEC, tokenizer, seed=123)
    records = train(resumed, tokenizer, examples, out, settings,
                    on_checkpoint=lambda step, m: calls.append(step) or {"validation_accuracy": 0.7},
                    progress=False)
    assert calls == [20]
    assert [r["step"] for r in records] == [10, 20]
    assert records[0]["validation_accuracy"] == 0.5  # the earlier score is kept
    assert records[1]["validation_accuracy"] == 0.7
    assert sorted(p.name for p in out.iterdir()) == [f"{CHECKPOINT_PREFIX}10", f"{CHECKPOINT_PREFIX}20"]
    assert not (out / f"{CHECKPOINT_PREFIX}10" / STATE_DIR).exists()
    assert (out / f"{CHECKPOINT_PREFIX}20" / STATE_DIR).is_dir()

    # Batches are a function of (seed, step) and optimizer/scheduler state was restored: same weights.
    got = _weights(resumed)
    assert got.keys() == expected.keys()
    for name in expected:
        assert torch.allclose(got[name], expected[name], atol=1e-5, rtol=1e-4), name


def test_checkpoint_without_state_is_not_resumed(tmp_path, problems, tokenizer):
    # A directory that merely looks like a checkpoint (no training state) is not a resume point.
    (tmp_path / f"{CHECKPOINT_PREFIX}3").mkdir()
    calls = []
    train(init_toy_model(SPEC, tokenizer, seed=0), tokenizer, _examples(problems)[:8], tmp_path,
          _settings(steps=4, checkpoints=2, batch_size=4),
          on_checkpoint=lambda step, m: calls.append(step) or {}, progress=False)
    assert calls == [2, 4]
