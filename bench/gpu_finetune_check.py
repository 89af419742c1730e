"""The finetune path on one GPU, as a Snakemake finetune job runs it: a 1B-class random-init Llama trained in
bf16 with gradient checkpointing, checkpoints saved, then each checkpoint scored on validation problems.

Prints the figures for docs/gpu.md: training tokens/s in steady state, peak GPU memory, set-up, checkpoint
saving and validation time, and the share of the job that validation takes.  Needs PyTorch, transformers
and accelerate, no vLLM (``--eval-backend transformers``) and no network: the model is built from scratch
with the toy tokenizer, the data are toy problems.

Usage (GPU): python bench/gpu_finetune_check.py --out /tmp/gpu-check
       (CPU smoke test of the same path): python bench/gpu_finetune_check.py --model toy --steps 6 --validation 8
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_throughput import (MODELS, _peak_memory_gb, _synchronize, instrument_training,  # noqa: E402
                                 peak_tflops, step_positions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="1b")
    parser.add_argument("--out", default="gpu-finetune-check")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument("--checkpoints", type=int, default=3)
    parser.add_argument("--validation", type=int, default=100, help="validation problems per checkpoint")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--eval-backend", default="transformers")
    args = parser.parse_args()

    import gc

    import torch

    from weakstrong import launch, training
    from weakstrong.data import write_jsonl
    from weakstrong.models import count_toy_parameters, init_toy_model, train_tokenizer
    from weakstrong.prompts import sft_example
    from weakstrong.requests import from_record
    from weakstrong.toy import make_splits, pretraining_documents

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = make_splits("gsm8k", {"train": 2000, "validation": args.validation, "pretrain": 400}, 0)
    tokenizer = train_tokenizer(pretraining_documents({"gsm8k": splits["pretrain"]}, per_document=3, seed=0), 600)
    base = out / "base-model"
    init_toy_model(MODELS[args.model], tokenizer, 0).save_pretrained(base)
    tokenizer.save_pretrained(base)
    write_jsonl(out / "sft.jsonl", splits["train"])
    write_jsonl(out / "validation.jsonl", splits["validation"])
    request = from_record({"job": "finetune", "output": str(out / "finetune"), "base_model": str(base),
               "sft_data": str(out / "sft.jsonl"), "validation": str(out / "validation.jsonl"), "style": "gsm8k",
               "validation_problems": args.validation, "max_tokens": args.max_tokens,
               "eval_backend": args.eval_backend, "fit": None,
               "settings": {"lr": 1e-5, "steps": args.steps, "batch_size": args.batch_size,
                            "micro_batch_size": args.micro_batch_size, "checkpoints": args.checkpoints, "seed": 0,
                            "max_length": 512, "precision": "auto", "gradient_checkpointing": True}})
    partial = launch.partial_dir(request.output)
    partial.mkdir(parents=True, exist_ok=True)

    stamps, saves = instrument_training()
    started = train_started = time.perf_counter()
    launch.finetune(request)
    _synchronize()
    training_s = time.perf_counter() - started
    peak_gb = _peak_memory_gb()
    summary = json.loads((partial / "training.json").read_text())
    examples = [sft_example(p["question"], p["solution"], "gsm8k") for p in splits["train"]]
    positions = step_positions(tokenizer, examples, 512, args.batch_size, args.micro_batch_size, args.steps)
    warm = 3  # steady state: steps warm .. steps-1, less the ones that ended in a checkpoint save
    step_s = [b - a for a, b in zip(stamps[warm:], stamps[warm + 1:])]
    ends = range(warm + 1, args.steps)
    saved_after = set(training.checkpoint_steps(args.steps, args.checkpoints))
    kept = [(t, positions[step - 1]) for t, step in zip(step_s, ends) if step not in saved_after]
    tokens_per_s = sum(p for _, p in kept) / sum(t for t, _ in kept)

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    started = time.perf_counter()
    launch.score_checkpoints(request, gpus=1)
    validation_s = time.perf_counter() - started

    spec = MODELS[args.model]
    parameters = count_toy_parameters(spec, len(tokenizer))
    peak = peak_tflops()
    mfu = f", MFU {8 * parameters * tokens_per_s / (peak * 1e12):.1%}" if peak else ""
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"\n{parameters:,}-parameter Llama on {device}, precision {summary['precision']}, gradient "
          f"checkpointing on, batch {args.batch_size} ({summary['accumulation_steps']} x micro batch "
          f"{args.batch_size // summary['accumulation_steps']}), {args.steps} steps, padding "
          f"{summary['padding_share']:.1%}")
    print(f"training: {tokens_per_s:,.0f} tokens/s in steady state{mfu}; peak memory {peak_gb:.1f} GiB; "
          f"{len(saves)} checkpoint saves {sum(d for _, d in saves):.1f} s; set-up {stamps[0] - train_started:.1f} s; "
          f"whole training {training_s:.1f} s")
    print(f"validation: {args.checkpoints} checkpoints x {args.validation} problems ({args.eval_backend}) "
          f"{validation_s:.1f} s = {validation_s / training_s:.1%} of the training time")
    scores = json.loads((partial / "scores.json").read_text())
    print("checkpoints: " + ", ".join(f"step {c['step']} loss {c['train_loss']:.3f} validation "
                                      f"{c['validation_accuracy']:.2f}" for c in scores["checkpoints"]))


if __name__ == "__main__":
    main()
