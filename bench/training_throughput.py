"""The project's training loop against a plain PyTorch loop: same model, batches and precision, one run.

Each measurement runs in a fresh process (Accelerate keeps one state per process), alternating the two
loops ``--repeats`` times so that drift of the machine's speed hits both alike.  Both loops train the same
randomly initialised Llama on the same micro batches (``weakstrong.training``'s length-grouped split) with
AdamW, in the same precision, with gradient checkpointing or not.  Printed per loop (median over repeats):
steady-state tokens/s (steps after ``--warmup``, before the final checkpoint; padding counted as tokens in
both, since both compute it), model FLOP utilisation where the device's peak is known, peak memory, the
project's set-up time and checkpoint saving apart, and the ratio project / plain.

Usage:
  python bench/training_throughput.py                      # CPU, a toy model (the size of the toy SE model)
  python bench/training_throughput.py --model 1b --batch-size 8 --length 512 --precision bf16 \\
      --gradient-checkpointing                             # a GPU: a 1.1B Llama (TinyLlama's shape)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from statistics import median

RESULT = "bench-result: "
MODELS = {  # Llama shapes; the vocabulary is the toy tokenizer's, so the body dominates the FLOPs
    "toy": {"hidden_size": 160, "layers": 4, "heads": 5, "intermediate_size": 400, "max_positions": 1024},
    "1b": {"hidden_size": 2048, "layers": 22, "heads": 32, "intermediate_size": 5632, "max_positions": 2048},
}
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0}  # dense bf16


def peak_tflops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((peak for key, peak in PEAK_TFLOPS.items() if key in name), None)


def toy_texts(length: int, examples: int, seed: int = 0):
    """A toy tokenizer and documents of about ``length`` tokens as (empty prompt, text) examples."""
    from weakstrong.models import train_tokenizer
    from weakstrong.toy import make_splits, pretraining_documents

    problems = make_splits("gsm8k", {"pretrain": 400}, seed)["pretrain"]
    documents = pretraining_documents({"gsm8k": problems}, per_document=3, seed=seed)
    tokenizer = train_tokenizer(documents, 600)
    texts, current = [], ""
    for i in range(examples * 64):
        current += documents[i % len(documents)] + "\n"
        if len(tokenizer(current, add_special_tokens=False)["input_ids"]) >= length * (0.5 + (i % 7) / 12):
            texts.append(("", current))
            current = ""
            if len(texts) == examples:
                break
    return tokenizer, texts


def workload(model_name: str, length: int, examples: int, seed: int = 0):
    """A toy tokenizer, a random-init model and documents of about ``length`` tokens (empty prompts)."""
    from weakstrong.models import init_toy_model

    tokenizer, texts = toy_texts(length, examples, seed)
    model = init_toy_model(MODELS[model_name], tokenizer, seed)
    return model, tokenizer, texts


def step_positions(tokenizer, examples, max_length: int, batch_size: int, micro_batch_size: int | None,
                   steps: int, seed: int = 0) -> list[int]:
    """Token positions (padding included) that one process computes at each optimizer step."""
    from weakstrong import training
    from weakstrong.study import accumulation_steps

    encoded = training.tokenize_examples(tokenizer, examples, max_length)
    lengths = [len(ids) for ids, _ in encoded]
    splits = accumulation_steps(batch_size, micro_batch_size, 1)
    return [sum(len(c) * max(lengths[i] for i in c) for c in training.micro_batches(
        training.batch_indices(len(encoded), batch_size, seed, step), lengths, splits)) for step in range(steps)]


def _synchronize():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_memory_gb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def instrument_training() -> tuple[list[float], list[tuple[float, float]]]:
    """Patch ``weakstrong.training`` to record when each optimizer step starts and each checkpoint save's
    (start, seconds); the lists fill as the project's loop runs."""
    from weakstrong import training

    steps, saves = [], []
    split, save = training.own_micro_batches, training._save_checkpoint

    def stamped_split(*a, **kw):  # called once at the start of every optimizer step
        _synchronize()
        steps.append(time.perf_counter())
        return split(*a, **kw)

    def timed_save(*a, **kw):
        _synchronize()
        started = time.perf_counter()
        written = save(*a, **kw)
        saves.append((started, time.perf_counter() - started))
        return written

    training.own_micro_batches, training._save_checkpoint = stamped_split, timed_save
    return steps, saves


def run_project(args, model, tokenizer, examples, out_dir, accelerator=None) -> dict:
    """The project's loop (``weakstrong.training.train``) with one checkpoint, saved after the last step;
    ``accelerator``: the one the model was loaded under (None: train() makes it)."""
    from weakstrong import training

    steps, saves = instrument_training()
    settings = training.TrainSettings(lr=1e-4, steps=args.steps, batch_size=args.batch_size,
                                      micro_batch_size=args.micro_batch_size, checkpoints=1, seed=0,
                                      max_length=args.length, precision=args.precision,
                                      gradient_checkpointing=args.gradient_checkpointing)
    started = time.perf_counter()
    summary = training.train(model, tokenizer, examples, out_dir, settings, progress=False, accelerator=accelerator)
    total = time.perf_counter() - started
    # The one save starts when the last step ends.
    return {"stamps": steps + [saves[-1][0]], "save_s": sum(d for _, d in saves), "total_s": total,
            "setup_s": steps[0] - started, "padding_share": summary["padding_share"],
            "attention": summary.get("attention"), "buffer_dtypes": summary.get("buffer_dtypes"),
            "bytes_written": training.directory_bytes(out_dir)}  # the one checkpoint: weights and state


def run_plain(args, model, tokenizer, examples, out_dir) -> dict:
    """The same steps as a bare PyTorch loop: AdamW, autocast in bf16, no Accelerate, nothing saved."""
    import contextlib

    import torch

    from weakstrong import training
    from weakstrong.study import accumulation_steps

    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = training.resolve_precision(args.precision)
    encoded = training.tokenize_examples(tokenizer, examples, args.length)
    lengths = [len(ids) for ids, _ in encoded]
    accumulation = accumulation_steps(args.batch_size, args.micro_batch_size, 1)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = (torch.autocast(device_type=device, dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())
    stamps = []
    for step in range(args.steps):
        _synchronize()
        stamps.append(time.perf_counter())
        indices = training.batch_indices(len(encoded), args.batch_size, 0, step)
        tokens = sum(training.predicted_tokens(encoded[i][1]) for i in indices)
        for chunk in training.micro_batches(indices, lengths, accumulation):
            batch = {k: v.to(device) for k, v in training.collate([encoded[i] for i in chunk],
                                                                   tokenizer.pad_token_id).items()}
            with autocast:
                loss = model(**batch, num_items_in_batch=tokens).loss
            loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    _synchronize()
    stamps.append(time.perf_counter())
    return {"stamps": stamps}


def measure(args, loop, model, tokenizer, examples, scratch: str | None = None) -> dict:
    """Run ``loop`` (``run_project`` or ``run_plain``) on the model; its steady-state tokens/s (steps after
    ``args.warmup``, padding counted), seconds per step, MFU where the device's peak is known, peak memory and
    what the loop itself reports.  Checkpoints go to a temporary directory under ``scratch``."""
    parameters = sum(p.numel() for p in model.parameters())
    positions = step_positions(tokenizer, examples, args.length, args.batch_size, args.micro_batch_size, args.steps)
    with tempfile.TemporaryDirectory(dir=scratch) as out_dir:
        measured = loop(args, model, tokenizer, examples, out_dir)
    stamps = measured.pop("stamps")
    # Steady state: steps warmup .. steps-1 (the last step's end is when the final save starts).
    seconds = stamps[args.steps] - stamps[args.warmup]
    tokens = sum(positions[args.warmup:args.steps])
    result = {"parameters": parameters, "tokens_per_s": tokens / seconds,
              "step_s": seconds / (args.steps - args.warmup), "peak_memory_gb": _peak_memory_gb(), **measured}
    peak = peak_tflops()
    factor = 8 if args.gradient_checkpointing else 6  # 6P per token, plus a forward recomputed
    if peak:
        result["mfu"] = factor * parameters * result["tokens_per_s"] / (peak * 1e12)
    return result


def child(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, tokenizer, examples = workload(args.model, args.length, args.examples)
    result = measure(args, run_project if args.child == "project" else run_plain, model, tokenizer, examples)
    print(RESULT + json.dumps({"loop": args.child, **result}), flush=True)


def alternate(script: str, argv: list[str], repeats: int) -> dict[str, list[dict]]:
    """Each loop's results over ``repeats`` rounds: every measurement runs ``script --child LOOP argv`` in a
    fresh process (with this one's isolation, ``python -I``), project and plain alternating."""
    runs = {"project": [], "plain": []}
    isolated = ["-I"] if sys.flags.isolated else []
    for repeat in range(repeats):
        for loop in ("project", "plain"):
            command = [sys.executable, *isolated, script, "--child", loop] + argv
            done = subprocess.run(command, capture_output=True, text=True)
            lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
            if done.returncode or not lines:
                sys.exit(f"{loop} loop failed:\n{done.stderr[-4000:]}")
            runs[loop].append(json.loads(lines[-1][len(RESULT):]))
            print(f"repeat {repeat + 1}/{repeats} {loop}: {runs[loop][-1]['tokens_per_s']:,.0f} tokens/s",
                  flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="toy")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--micro-batch-size", type=int, default=None)
    parser.add_argument("--length", type=int, default=256, help="about the longest example, in tokens")
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", choices=["project", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    runs = alternate(__file__, sys.argv[1:], args.repeats)

    def med(loop, key):
        values = [r[key] for r in runs[loop] if r.get(key) is not None]
        return median(values) if values else None

    import torch
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {args.threads} threads"
    print(f"\n{runs['project'][0]['parameters']:,}-parameter Llama ({args.model}), {device}, precision "
          f"{args.precision}, gradient checkpointing {'on' if args.gradient_checkpointing else 'off'}, batch "
          f"{args.batch_size} (micro {args.micro_batch_size or args.batch_size}), up to {args.length} tokens, "
          f"{args.steps} steps ({args.warmup} warm-up), median of {args.repeats}")
    print("| loop | tokens/s | MFU | peak memory (GiB) |")
    print("| --- | --- | --- | --- |")
    for loop in ("project", "plain"):
        mfu = med(loop, "mfu")
        print(f"| {loop} | {med(loop, 'tokens_per_s'):,.0f} | {f'{mfu:.1%}' if mfu else 'n/a'} | "
              f"{med(loop, 'peak_memory_gb'):.2f} |")
    ratios = [p["tokens_per_s"] / q["tokens_per_s"] for p, q in zip(runs["project"], runs["plain"])]
    print(f"steady-state ratio project / plain: {median(ratios):.3f} (per repeat: "
          f"{', '.join(f'{r:.3f}' for r in ratios)})")
    print(f"project set-up {med('project', 'setup_s'):.2f} s, final checkpoint save {med('project', 'save_s'):.2f} s, "
          f"padding {med('project', 'padding_share'):.1%} of token positions")


if __name__ == "__main__":
    main()
