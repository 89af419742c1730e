"""Supervised training of causal LMs with Accelerate: toy pre-training and the study's finetuning.

One loop serves both: an example is (prompt, completion); the loss covers completion tokens only (toy
pre-training passes an empty prompt).  Training runs a fixed number of optimizer steps and writes
``checkpoint-<step>/`` at evenly spaced steps, each in Hugging Face format and written atomically.  The
newest checkpoint also keeps the optimizer and scheduler state, so a killed or requeued job resumes from it
and redoes at most the steps since.  Batches are a pure function of (seed, step), so a resumed run sees
exactly the batches an uninterrupted one would have.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from tqdm import tqdm

STATE_DIR = "training_state"
CHECKPOINT_PREFIX = "checkpoint-"


@dataclass(frozen=True)
class TrainSettings:
    lr: float
    steps: int
    batch_size: int
    checkpoints: int
    seed: int
    max_length: int = 512
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    gradient_accumulation: int = 1


def checkpoint_steps(steps: int, count: int) -> list[int]:
    """``count`` evenly spaced steps ending at ``steps`` (fewer if there are fewer steps)."""
    if steps < 1 or count < 1:
        raise ValueError(f"need steps >= 1 and checkpoints >= 1, got steps={steps}, checkpoints={count}")
    return sorted({max(1, round(steps * (i + 1) / count)) for i in range(count)})


def tokenize_examples(tokenizer, examples: list[tuple[str, str]], max_length: int) -> list[tuple[list, list]]:
    """(input_ids, labels) per example; labels mask the prompt with -100 and the completion ends in EOS."""
    encoded = []
    for prompt, completion in examples:
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if prompt else []
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids = (prompt_ids + completion_ids)[:max_length]
        labels = ([-100] * len(prompt_ids) + completion_ids)[:max_length]
        if any(label != -100 for label in labels):
            encoded.append((ids, labels))
    if not encoded:
        raise ValueError("no training example has a completion token within max_length")
    return encoded


def batch_indices(n_examples: int, batch_size: int, seed: int, step: int) -> list[int]:
    """Indices of the batch for optimizer step ``step`` (0-based): epoch-wise shuffles seeded by the epoch."""
    start = step * batch_size
    indices = []
    while len(indices) < batch_size:
        epoch, offset = divmod(start + len(indices), n_examples)
        order = list(range(n_examples))
        random.Random(f"{seed}/{epoch}").shuffle(order)
        indices.extend(order[offset:offset + batch_size - len(indices)])
    return indices


def collate(encoded: list[tuple[list, list]], pad_id: int):
    import torch

    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), -100, dtype=torch.long)
    attention = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(encoded):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        labels[row, :len(labs)] = torch.tensor(labs)
        attention[row, :len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def _latest_checkpoint(out_dir: Path) -> tuple[int, Path] | None:
    found = [(int(p.name[len(CHECKPOINT_PREFIX):]), p) for p in out_dir.glob(f"{CHECKPOINT_PREFIX}*")
             if p.is_dir() and p.name[len(CHECKPOINT_PREFIX):].isdigit() and (p / STATE_DIR).is_dir()]
    return max(found) if found else None


def train(model, tokenizer, examples: list[tuple[str, str]], out_dir: str | Path, settings: TrainSettings,
          on_checkpoint: Callable[[int, object], dict] | None = None, progress: bool = True) -> list[dict]:
    """Train ``model`` and write checkpoints under ``out_dir``; returns one record per checkpoint.

    ``on_checkpoint(step, model)`` (e.g. validation accuracy) runs on the main process after each save and
    its result is stored in ``checkpoint-<step>/scores.json``, so a resumed run keeps earlier scores.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import get_cosine_schedule_with_warmup

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator(gradient_accumulation_steps=settings.gradient_accumulation)
    set_seed(settings.seed)
    encoded = tokenize_examples(tokenizer, examples, settings.max_length)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(
        optimizer, math.ceil(settings.warmup_ratio * settings.steps), settings.steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    start = 0
    latest = _latest_checkpoint(out_dir)
    if latest is not None:
        start, path = latest
        accelerator.load_state(str(path / STATE_DIR))
        accelerator.print(f"resuming from {path} (step {start} of {settings.steps})")

    saves = checkpoint_steps(settings.steps, settings.checkpoints)
    per_process = settings.batch_size // accelerator.num_processes or 1
    model.train()
    bar = tqdm(range(start, settings.steps), desc="train", disable=not (progress and accelerator.is_main_process),
               initial=start, total=settings.steps)
    loss_value = float("nan")
    for step in bar:
        for micro in range(settings.gradient_accumulation):
            indices = batch_indices(len(encoded), settings.batch_size,
                                    settings.seed, step * settings.gradient_accumulation + micro)
            mine = indices[accelerator.process_index * per_process:(accelerator.process_index + 1) * per_process]
            batch = {k: v.to(accelerator.device) for k, v in collate([encoded[i] for i in mine],
                                                                     tokenizer.pad_token_id).items()}
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            loss_value = loss.item()
        bar.set_postfix(loss=f"{loss_value:.3f}")
        if step + 1 in saves:
            _save_checkpoint(accelerator, model, tokenizer, out_dir, step + 1, settings, loss_value,
                             on_checkpoint)
    accelerator.wait_for_everyone()
    return collect_checkpoint_scores(out_dir)


def _save_checkpoint(accelerator, model, tokenizer, out_dir: Path, step: int, settings: TrainSettings,
                     loss: float, on_checkpoint) -> None:
    final = out_dir / f"{CHECKPOINT_PREFIX}{step}"
    tmp = out_dir / f".{CHECKPOINT_PREFIX}{step}.tmp"
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        accelerator.unwrap_model(model).save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    accelerator.save_state(str(tmp / STATE_DIR))
    if accelerator.is_main_process:
        record = {"step": step, "train_loss": loss, "settings": asdict(settings)}
        if on_checkpoint is not None:
            was_training = model.training
            record.update(on_checkpoint(step, accelerator.unwrap_model(model)))
            model.train(was_training)
        (tmp / "scores.json").write_text(json.dumps(record, indent=2))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        # Only the newest checkpoint needs optimizer state to resume; older ones keep just the weights.
        for older in out_dir.glob(f"{CHECKPOINT_PREFIX}*"):
            if older != final and (older / STATE_DIR).exists():
                shutil.rmtree(older / STATE_DIR)
    accelerator.wait_for_everyone()


def save_base_checkpoint(model, tokenizer, out_dir: str | Path, settings: TrainSettings,
                         on_checkpoint: Callable[[int, object], dict] | None = None) -> dict:
    """The untrained model as ``checkpoint-0`` (scored like any checkpoint), for a run with no examples."""
    path = Path(out_dir) / f"{CHECKPOINT_PREFIX}0"
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    record = {"step": 0, "train_loss": None, "settings": asdict(settings)}
    if on_checkpoint is not None:
        record.update(on_checkpoint(0, model))
    (path / "scores.json").write_text(json.dumps(record, indent=2))
    return record


def collect_checkpoint_scores(out_dir: str | Path) -> list[dict]:
    records = [json.loads(p.read_text()) for p in Path(out_dir).glob(f"{CHECKPOINT_PREFIX}*/scores.json")]
    return sorted(records, key=lambda r: r["step"])
