"""Supervised training of causal LMs with Accelerate: toy pre-training and the study's finetuning.

One loop serves both: an example is (prompt, completion); the loss covers completion tokens only (toy
pre-training passes an empty prompt).  Training runs a fixed number of optimizer steps and writes
``checkpoint-<step>/`` at evenly spaced steps, each in Hugging Face format and written atomically.  The
newest checkpoint also keeps the optimizer and scheduler state, so a killed or requeued job resumes from it
and redoes at most the steps since.  Batches are a pure function of (seed, step), so a resumed run sees
exactly the batches an uninterrupted one would have.  The same code runs in 1 process or N (DDP or FSDP,
chosen by ``accelerate launch``); scoring checkpoints is separate (``weakstrong.launch``).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import math
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from tqdm import tqdm

STATE_DIR = "training_state"
CHECKPOINT_PREFIX = "checkpoint-"


@dataclass(frozen=True)
class TrainSettings:
    """``batch_size`` is the global batch (examples per optimizer step, over all processes); each process runs
    ``micro_batch_size`` examples per forward pass (None: the global batch split over the processes) and
    accumulates gradients over as many passes as it takes.  ``precision`` is ``bf16`` (autocast, with fp32
    master weights and optimizer state), ``fp32``, or ``auto`` (bf16 on a GPU, fp32 on CPU)."""
    lr: float
    steps: int
    batch_size: int
    checkpoints: int
    seed: int
    max_length: int
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    micro_batch_size: int | None = None
    precision: str = "auto"
    gradient_checkpointing: bool = False


PRECISIONS = ("auto", "bf16", "fp32")


def resolve_precision(precision: str, *, cuda: bool | None = None) -> str:
    """``auto`` means bf16 where a GPU supports it and fp32 on CPU; ``bf16`` and ``fp32`` stay as asked."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} (config key 'finetune.precision') is not one of {PRECISIONS}")
    if precision != "auto":
        return precision
    if cuda is None:
        import torch
        cuda = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return "bf16" if cuda else "fp32"


#: How long a collective waits for every rank: saving a checkpoint gathers the full weights on the first rank
#: and writes them while the others wait at the next barrier, which for 27B takes longer than NCCL's default
#: of 10 minutes.
COLLECTIVE_TIMEOUT = datetime.timedelta(hours=1)


def fsdp_mixed_precision(precision: str):
    """FSDP's mixed-precision policy: bf16 parameters and gradient reduction, buffers kept in fp32.
    Accelerate's own bf16 policy casts buffers to bf16 too, which rounds the rotary embedding's ``inv_freq``
    so position phases drift at long contexts, and an 8-GPU run would differ from a 1-GPU one.  None (FSDP's
    default, full precision) unless training in bf16."""
    if precision != "bf16":
        return None
    import torch
    from torch.distributed.fsdp import MixedPrecision

    return MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16, buffer_dtype=torch.float32)


def make_accelerator(precision: str):
    """The run's Accelerator, created before the model is loaded so that the process group exists and only
    the first rank reads the weights (``load_student``).  Under ``accelerate launch`` with the workflow's
    FSDP config, the FSDP plugin carries ``fsdp_mixed_precision``; the collective timeout covers saves."""
    import torch
    from accelerate import Accelerator, FullyShardedDataParallelPlugin
    from accelerate.utils import InitProcessGroupKwargs

    fsdp = None
    if os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true":
        fsdp = FullyShardedDataParallelPlugin(mixed_precision_policy=fsdp_mixed_precision(precision))
    # Without a GPU, cpu=True lets Accelerate join the processes of a CPU launch (torchrun, gloo).
    return Accelerator(mixed_precision="bf16" if precision == "bf16" else "no", cpu=not torch.cuda.is_available(),
                       fsdp_plugin=fsdp, kwargs_handlers=[InitProcessGroupKwargs(timeout=COLLECTIVE_TIMEOUT)])


def load_student(path: str | Path, accelerator):
    """The model to finetune and its tokenizer.  Only the first rank reads the weight files; every other rank
    builds the model from its config on the meta device, so N ranks hold one copy of the weights in host
    memory, not N.  Preparing the model gives the others the first rank's weights: FSDP with
    ``sync_module_states`` materialises their meta parameters and broadcasts; under DDP they are
    materialised here (uninitialised, ties restored) and DDP broadcasts parameters and buffers when it wraps
    the model."""
    from accelerate.utils import DistributedType

    from weakstrong.models import load_model_and_tokenizer

    reads = accelerator.is_main_process
    model, tokenizer = load_model_and_tokenizer(path, training=True, read_weights=reads)
    if not reads and accelerator.distributed_type != DistributedType.FSDP:
        model.to_empty(device=accelerator.device)
        model.tie_weights()  # to_empty replaces each parameter, which unties the embedding and the LM head
    return model, tokenizer


def check_fp32_buffers(model) -> list[str]:
    """The dtypes of the model's floating-point buffers, after they have been through the wrapper; an error
    names any buffer that is not fp32 (see ``fsdp_mixed_precision``)."""
    import torch

    buffers = {name: buffer.dtype for name, buffer in model.named_buffers() if buffer.is_floating_point()}
    wrong = {name: str(dtype) for name, dtype in buffers.items() if dtype != torch.float32}
    if wrong:
        raise RuntimeError(f"buffers not in fp32 after the first training step: {wrong}; the mixed-precision "
                           f"policy casts them (weakstrong.training.fsdp_mixed_precision)")
    return sorted({str(dtype) for dtype in buffers.values()})


def directory_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in Path(path).rglob("*") if item.is_file())


def finish_training(out_dir: str | Path) -> dict:
    """Delete the resumable training state once a run is complete (its weights are the checkpoints).  Returns
    the bytes the run wrote, every checkpoint's weights and, at each save, a training state of the size of the
    newest (the same whether or not the run was interrupted and resumed), the files one save writes (the newest
    checkpoint's, state included), and the bytes it keeps."""
    out_dir = Path(out_dir)
    checkpoints = [path for path in out_dir.glob(f"{CHECKPOINT_PREFIX}*") if path.is_dir()]
    states = [path / STATE_DIR for path in checkpoints if (path / STATE_DIR).is_dir()]
    state_bytes = max((directory_bytes(state) for state in states), default=0)
    weights_bytes = sum(directory_bytes(path) for path in checkpoints) - sum(directory_bytes(s) for s in states)
    files_per_save = max((sum(item.is_file() for item in state.parent.rglob("*")) for state in states), default=0)
    for state in states:
        shutil.rmtree(state)
    return {"bytes_written": weights_bytes + len(checkpoints) * state_bytes, "files_per_save": files_per_save,
            "bytes_kept": directory_bytes(out_dir)}


def checkpoint_steps(steps: int, count: int) -> list[int]:
    """``count`` evenly spaced steps ending at ``steps`` (fewer if there are fewer steps)."""
    if steps < 1 or count < 1:
        raise ValueError(f"need steps >= 1 and checkpoints >= 1, got steps={steps}, checkpoints={count}")
    return sorted({max(1, round(steps * (i + 1) / count)) for i in range(count)})


def tokenize_examples(tokenizer, examples: list[tuple[str, str]], max_length: int) -> list[tuple[list, list]]:
    """(input_ids, labels) per example, with the token boundaries of ``weakstrong.tokens`` (the prompt as
    sampling and evaluation encode it, the completion ending in EOS); labels mask the prompt with -100."""
    from weakstrong.tokens import encode_completion, encode_prompts

    encoded = []
    prompts = encode_prompts(tokenizer, [prompt for prompt, _ in examples])
    for prompt_ids, (_, completion) in zip(prompts, examples):
        completion_ids = encode_completion(tokenizer, completion)
        ids = (prompt_ids + completion_ids)[:max_length]
        labels = ([-100] * len(prompt_ids) + completion_ids)[:max_length]
        if predicted_tokens(labels):
            encoded.append((ids, labels))
    if not encoded:
        raise ValueError("no training example has a completion token within max_length")
    return encoded


@functools.lru_cache(maxsize=2)
def epoch_order(n_examples: int, seed: int, epoch: int) -> tuple[int, ...]:
    """The example order of one epoch, shuffled once (a step needs at most two epochs: its own and the next)."""
    order = list(range(n_examples))
    random.Random(f"{seed}/{epoch}").shuffle(order)
    return tuple(order)


def batch_indices(n_examples: int, batch_size: int, seed: int, step: int) -> list[int]:
    """Indices of the batch for optimizer step ``step`` (0-based): epoch-wise shuffles seeded by the epoch."""
    start = step * batch_size
    indices = []
    while len(indices) < batch_size:
        epoch, offset = divmod(start + len(indices), n_examples)
        indices.extend(epoch_order(n_examples, seed, epoch)[offset:offset + batch_size - len(indices)])
    return indices


def micro_batches(indices: list[int], lengths: list[int], count: int) -> list[list[int]]:
    """The global batch split into ``count`` equal micro batches of similar lengths (sorted, then cut), so
    little padding is computed; the batch, and so the optimizer step, is the same as unsplit."""
    ordered = sorted(indices, key=lambda i: (lengths[i], i))
    size = len(ordered) // count
    return [ordered[k * size:(k + 1) * size] for k in range(count)]


def own_micro_batches(chunks: list[list[int]], process: int, processes: int) -> list[list[int]]:
    """Micro batch m of process p is chunk m * processes + p: the split is the same for any process count
    with the same micro batch size, so 1 process with accumulation equals N processes without."""
    return chunks[process::processes]


def padding_share(encoded: list[tuple[list, list]], settings: TrainSettings, count: int) -> float:
    """Share of computed token positions that are padding over the whole run (a pure function of the
    settings, so a resumed run reports what an uninterrupted one would)."""
    lengths = [len(ids) for ids, _ in encoded]
    real = total = 0
    for step in range(settings.steps):
        for chunk in micro_batches(batch_indices(len(encoded), settings.batch_size, settings.seed, step),
                                   lengths, count):
            real += sum(lengths[i] for i in chunk)
            total += len(chunk) * max(lengths[i] for i in chunk)
    return 1 - real / total


def predicted_tokens(labels: list[int]) -> int:
    """Tokens the loss covers: labels after the shift by one that causal LMs apply."""
    return sum(label != -100 for label in labels[1:])


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
          progress: bool = True, accelerator=None) -> dict:
    """Train ``model`` and write ``checkpoint-<step>/`` under ``out_dir``; returns a summary of the run.

    The loss of an optimizer step is the mean over all predicted tokens of the global batch, however the
    batch is split over processes and micro batches: each micro batch contributes its token-loss sum divided
    by the batch's token count (known to every process, since every process draws the same batch indices).
    The schedule steps once per optimizer step, whatever the number of processes.  ``accelerator``: the
    one the model was loaded under (``make_accelerator``); None creates it.
    """
    import torch
    from accelerate.utils import set_seed
    from transformers import get_cosine_schedule_with_warmup

    from weakstrong.study import accumulation_steps

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    precision = resolve_precision(settings.precision)
    accelerator = accelerator or make_accelerator(precision)
    set_seed(settings.seed)
    processes = accelerator.num_processes
    accumulation = accumulation_steps(settings.batch_size, settings.micro_batch_size, processes)
    encoded = tokenize_examples(tokenizer, examples, settings.max_length)
    lengths = [len(ids) for ids, _ in encoded]
    padding = padding_share(encoded, settings, processes * accumulation)
    accelerator.print(f"{len(encoded)} examples, global batch {settings.batch_size} = {processes} processes x "
                      f"{settings.batch_size // (processes * accumulation)} x {accumulation} accumulation steps; "
                      f"precision {precision}; padding {padding:.1%} of token positions")
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    # The model is prepared (wrapped by DDP or sharded by FSDP) before the optimizer is built over its
    # parameters, as FSDP requires; the scheduler stays unprepared so it steps once per optimizer step.
    model = accelerator.prepare(model)
    optimizer = accelerator.prepare(torch.optim.AdamW(model.parameters(), lr=settings.lr,
                                                      weight_decay=settings.weight_decay))
    scheduler = get_cosine_schedule_with_warmup(
        optimizer.optimizer, math.ceil(settings.warmup_ratio * settings.steps), settings.steps)
    accelerator.register_for_checkpointing(scheduler)

    start = 0
    latest = _latest_checkpoint(out_dir)
    if latest is not None:
        start, path = latest
        accelerator.load_state(str(path / STATE_DIR))
        accelerator.print(f"resuming from {path} (step {start} of {settings.steps})")

    saves = checkpoint_steps(settings.steps, settings.checkpoints)
    model.train()
    bar = tqdm(range(start, settings.steps), desc="train", disable=not (progress and accelerator.is_main_process),
               initial=start, total=settings.steps)
    step_loss = torch.zeros((), device=accelerator.device)
    buffer_dtypes = []
    for step in bar:
        indices = batch_indices(len(encoded), settings.batch_size, settings.seed, step)
        tokens = sum(predicted_tokens(encoded[i][1]) for i in indices)
        chunks = own_micro_batches(micro_batches(indices, lengths, processes * accumulation),
                                   accelerator.process_index, processes)
        step_loss.zero_()
        for micro, chunk in enumerate(chunks):
            batch = {k: v.to(accelerator.device)
                     for k, v in collate([encoded[i] for i in chunk], tokenizer.pad_token_id).items()}
            # Gradients are all-reduced (averaged over processes) only on the last micro batch.
            sync = contextlib.nullcontext() if micro == len(chunks) - 1 else accelerator.no_sync(model)
            with sync:
                loss = model(**batch, num_items_in_batch=tokens).loss
                accelerator.backward(loss * processes)  # DDP and FSDP average gradients over processes
            step_loss += loss.detach()
        # A NaN or inf loss would make the weights NaN at optimizer.step(): every process stops before it
        # (the loss is summed over processes, so all see the same value), and nothing of this step is saved.
        loss_value = accelerator.reduce(step_loss, reduction="sum").item()
        if not math.isfinite(loss_value):
            raise FloatingPointError(_diverged(out_dir, f"the training loss is {loss_value}", step + 1, settings,
                                               indices))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step == start:  # FSDP casts buffers at its first forward pass
            buffer_dtypes = check_fp32_buffers(model)
        if step + 1 in saves:
            _check_finite_weights(accelerator, model, out_dir, step + 1, settings, indices)
            bar.set_postfix(loss=f"{loss_value:.3f}")
            _save_checkpoint(accelerator, model, tokenizer, out_dir, step + 1, settings, loss_value, precision)
    accelerator.wait_for_everyone()
    return {"examples": len(encoded), "padding_share": padding, "precision": precision,
            "processes": processes, "accumulation_steps": accumulation, "buffer_dtypes": buffer_dtypes,
            "attention": getattr(accelerator.unwrap_model(model).config, "_attn_implementation", None)}


def _diverged(out_dir: Path, what: str, step: int, settings: TrainSettings, indices: list[int]) -> str:
    """The error of a run that stopped on a non-finite loss or weights: the step, the batch, and what is kept."""
    latest = _latest_checkpoint(out_dir)
    kept = (f"the last good checkpoint, {latest[1]}, is kept and a rerun resumes from it (at step {latest[0]})"
            if latest else "no checkpoint had been written yet")
    return (f"{out_dir}: {what} at step {step} of {settings.steps} (lr {settings.lr:g}, batch of examples "
            f"{sorted(indices)[:16]}{' ...' if len(indices) > 16 else ''}); training stopped and nothing of this "
            f"step was saved; {kept}. Batches are fixed by the seed, so a rerun meets the same step: lower the "
            f"learning rate (config key 'finetune.lrs') or check the training data")


def _check_finite_weights(accelerator, model, out_dir: Path, step: int, settings: TrainSettings,
                          indices: list[int]) -> None:
    """Refuse to save weights that are not all finite (a finite loss can still give an overflowing update).
    Each process checks its own parameters (its shards under FSDP); the count is summed over processes."""
    import torch

    checks = [torch.isfinite(p.detach()).all() for p in model.parameters() if p.numel()]
    finite = torch.stack(checks).all() if checks else torch.tensor(True)
    bad = accelerator.reduce((~finite).float().reshape(1).to(accelerator.device), reduction="sum").item()
    if bad:
        raise FloatingPointError(_diverged(out_dir, "the weights are no longer finite (NaN or inf)", step,
                                           settings, indices))


def _save_checkpoint(accelerator, model, tokenizer, out_dir: Path, step: int, settings: TrainSettings,
                     loss: float, precision: str) -> int:
    """Weights for evaluation (bf16 when training in bf16: the dtype they are served in) and, in the newest
    checkpoint only, the full training state (fp32 master weights, optimizer, scheduler) to resume from.
    Returns the bytes written (on the main process; 0 on the others)."""
    import torch

    final = out_dir / f"{CHECKPOINT_PREFIX}{step}"
    tmp = out_dir / f".{CHECKPOINT_PREFIX}{step}.tmp"
    accelerator.wait_for_everyone()
    state = accelerator.get_state_dict(model)  # gathered on the main process under FSDP; every rank calls it
    written = 0
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        if precision == "bf16":
            for name, tensor in state.items():  # one tensor at a time: no second full copy in host memory
                if tensor.is_floating_point():
                    state[name] = tensor.to(torch.bfloat16)
        accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=state, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    del state
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp / STATE_DIR))
    if accelerator.is_main_process:
        record = {"step": step, "train_loss": loss, "settings": asdict(settings)}
        (tmp / "scores.json").write_text(json.dumps(record, indent=2))
        written = directory_bytes(tmp)
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        # Only the newest checkpoint needs optimizer state to resume; older ones keep just the weights.
        for older in out_dir.glob(f"{CHECKPOINT_PREFIX}*"):
            if older != final and (older / STATE_DIR).exists():
                shutil.rmtree(older / STATE_DIR)
    accelerator.wait_for_everyone()
    return written


def collect_checkpoint_scores(out_dir: str | Path) -> list[dict]:
    records = [json.loads(p.read_text()) for p in Path(out_dir).glob(f"{CHECKPOINT_PREFIX}*/scores.json")]
    return sorted(records, key=lambda r: r["step"])
