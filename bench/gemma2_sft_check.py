"""Gemma2 SFT on one GPU: the project's training path against a plain bf16 PyTorch loop, one run.

A randomly initialised ~1B model of Gemma2's architecture (``--model 1b``: hidden 1536, 16 layers alternating
sliding-window (4096) and global attention, 8 query heads of 256 with 4 key/value heads, MLP 6144, the real
256,000-token vocabulary with tied embeddings, attention soft-capping 50 and final-logit soft-capping 30:
997,295,616 parameters) is saved once, then loaded from that directory in fresh processes, alternating
``--repeats`` times as ``training_throughput.py`` does:

* project: ``make_accelerator`` + ``load_student`` (the finetune job's load path, which picks the attention
  kernel: eager for soft-capped models) and ``weakstrong.training.train`` with one checkpoint after the
  last step (bf16 weights + resumable state, ``_save_checkpoint``);
* plain: ``load_model_and_tokenizer(training=True)`` (the same fp32 master weights and attention kernel) and
  a bare loop over the same micro batches: AdamW, autocast bf16, nothing saved.

Printed: steady-state tokens/s of both and their ratio (goal >= 0.85), peak GPU memory, set-up times, the
checkpoint's bytes and save time, the save as a share of a 600-step run extrapolated from the steady-state
step time (goal < 10%; also for config.yaml's 10 checkpoints), the attention implementation in force, the
dtype of the rotary ``inv_freq`` buffers after the first step, and which of the project's other dependencies
(pyproject.toml's, beyond torch, transformers, accelerate and their requirements: vLLM, Snakemake, pandas,
...) were imported: none expected.  The last line, ``gemma2-check: {...}``, holds the same as JSON.  Token
ids come from the toy tokenizer (600 tokens; no network), so the batches use few distinct ids, but the
embedding and the logits are the full 256,000 wide.

Needs only torch, transformers and accelerate beside this repository (it puts the repository on sys.path).

Usage:
  python3 bench/gemma2_sft_check.py                       # one GPU: ~1B Gemma2, bf16, gradient checkpointing,
                                                          # batch 32 (micro 4), 30 steps, 2 repeats (~5 min)
  python3 -I bench/gemma2_sft_check.py --model tiny --steps 4 --warmup 1 --repeats 1 --batch-size 8 \\
      --micro-batch-size 4 --length 64 --examples 32 --threads 1
                                                          # CPU smoke test (vocabulary 4,096: smoke mode only)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]  # python -I leaves both out; weakstrong need not be installed

from training_throughput import RESULT, alternate, measure, run_plain, run_project, toy_texts  # noqa: E402

#: Gemma2 shapes.  ``1b`` has Gemma2-2B's attention (8 heads of 256, 4 key/value heads, sliding window 4096 on
#: every other layer), vocabulary and soft-capping, shallower and narrower (2B: 26 layers, hidden 2304, MLP
#: 9216); ``tiny`` is the CPU smoke test's, the only one with a smaller vocabulary than Gemma2's 256,000.
MODELS = {
    "1b": {"hidden_size": 1536, "layers": 16, "heads": 8, "kv_heads": 4, "head_dim": 256,
           "intermediate_size": 6144, "vocab_size": 256000, "sliding_window": 4096},
    "tiny": {"hidden_size": 64, "layers": 2, "heads": 4, "kv_heads": 2, "head_dim": 16,
             "intermediate_size": 128, "vocab_size": 4096, "sliding_window": 32},
}
GEMMA2_VOCABULARY = 256000
ALLOWED = ["torch", "transformers", "accelerate"]  # what this check may need installed (and their requirements)
SUMMARY = "gemma2-check: "


def gemma2_config(spec: dict, tokenizer):
    from transformers import Gemma2Config

    return Gemma2Config(
        vocab_size=spec["vocab_size"], hidden_size=spec["hidden_size"], intermediate_size=spec["intermediate_size"],
        num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"], num_key_value_heads=spec["kv_heads"],
        head_dim=spec["head_dim"], query_pre_attn_scalar=spec["head_dim"], sliding_window=spec["sliding_window"],
        attn_logit_softcapping=50.0, final_logit_softcapping=30.0, tie_word_embeddings=True,
        max_position_embeddings=8192, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id, dtype="float32")


def save_base_model(spec: dict, out: Path, length: int, examples: int) -> None:
    """The random-init Gemma2 and the toy tokenizer in ``out/base-model`` (fp32, as a hub checkpoint is read),
    the training examples in ``out/examples.json``."""
    import torch
    from transformers import Gemma2ForCausalLM

    tokenizer, texts = toy_texts(length, examples)
    torch.manual_seed(0)
    model = Gemma2ForCausalLM(gemma2_config(spec, tokenizer))
    model.save_pretrained(out / "base-model")
    tokenizer.save_pretrained(out / "base-model")
    (out / "examples.json").write_text(json.dumps(texts))


def record_inv_freq(dtypes: dict) -> None:
    """Fill ``dtypes`` with the rotary ``inv_freq`` buffers' dtypes as train() checks its buffers: after the
    first optimizer step, on the prepared model."""
    from weakstrong import training

    check = training.check_fp32_buffers

    def recording(model):
        dtypes.update({name: str(buffer.dtype).removeprefix("torch.") for name, buffer in model.named_buffers()
                       if name.endswith("inv_freq")})
        return check(model)

    training.check_fp32_buffers = recording


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(names: list[str]) -> set[str]:
    """The installed distributions ``names`` need: themselves and their requirements (extras aside, environment
    markers evaluated), followed transitively; canonical names."""
    from importlib import metadata

    from packaging.requirements import Requirement

    needed, todo = set(), list(names)
    while todo:
        name = canonical(todo.pop())
        if name in needed:
            continue
        needed.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [r.name for r in map(Requirement, requires) if r.marker is None or r.marker.evaluate({"extra": ""})]
    return needed


def project_imports() -> list[str]:
    """The project's other dependencies (pyproject.toml's, extras included) that this process imported: those
    that are neither torch, transformers, accelerate nor one of their requirements.  torch and transformers
    import some installed optional packages on their own (Pillow, triton); only the project's own
    dependencies are looked for, so none should be found."""
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement

    project = tomllib.loads((BENCH.parent / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    others = {canonical(Requirement(text).name) for text in listed} - requirement_closure(ALLOWED)
    owners = metadata.packages_distributions()
    imported = {canonical(dist) for module in {name.split(".")[0] for name in list(sys.modules)}
                for dist in owners.get(module, [])}
    return sorted(others & imported)


def child(args) -> None:
    import torch

    from weakstrong import training
    from weakstrong.models import load_model_and_tokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = Path(args.out)
    examples = [tuple(example) for example in json.loads((out / "examples.json").read_text())]
    inv_freq = {}
    started = time.perf_counter()
    if args.child == "project":
        accelerator = training.make_accelerator(training.resolve_precision(args.precision))
        model, tokenizer = training.load_student(out / "base-model", accelerator)
        loop = functools.partial(run_project, accelerator=accelerator)
        record_inv_freq(inv_freq)
    else:
        model, tokenizer = load_model_and_tokenizer(out / "base-model", training=True)
        loop = run_plain
    load_s = time.perf_counter() - started
    loaded_attention = model.config._attn_implementation
    result = measure(args, loop, model, tokenizer, examples, scratch=str(out))
    result.update(loop=args.child, load_s=load_s, vocab_size=model.config.vocab_size, inv_freq=inv_freq,
                  loaded_attention=loaded_attention, attention=result.get("attention") or loaded_attention,
                  project_imports=project_imports())
    print(RESULT + json.dumps(result), flush=True)


def report(args, runs: dict, base_s: float) -> dict:
    import torch

    def med(loop, key):
        values = [r[key] for r in runs[loop] if r.get(key) is not None]
        return median(values) if values else None

    spec, project = MODELS[args.model], runs["project"][0]
    ratios = [p["tokens_per_s"] / q["tokens_per_s"] for p, q in zip(runs["project"], runs["plain"])]
    step_s, save_s = med("project", "step_s"), med("project", "save_s")
    run_s = args.run_steps * step_s
    inv_freq = sorted({dtype for r in runs["project"] for dtype in r["inv_freq"].values()})
    other_imports = sorted({dist for loop in runs.values() for r in loop for dist in r["project_imports"]})
    summary = {
        "model": args.model, "parameters": project["parameters"], "vocab_size": project["vocab_size"],
        "smoke": project["vocab_size"] != GEMMA2_VOCABULARY,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {args.threads} threads",
        "tokens_per_s": {loop: med(loop, "tokens_per_s") for loop in runs},
        "mfu": {loop: med(loop, "mfu") for loop in runs}, "ratio": median(ratios), "ratios": ratios,
        "peak_memory_gb": {loop: med(loop, "peak_memory_gb") for loop in runs},
        "load_s": {loop: med(loop, "load_s") for loop in runs}, "setup_s": med("project", "setup_s"),
        "base_model_s": base_s, "bytes_written": med("project", "bytes_written"), "save_s": save_s,
        "step_s": step_s, "save_share": save_s / run_s, "save_share_config": args.run_checkpoints * save_s / run_s,
        "attention": {loop: sorted({r["attention"] for r in runs[loop]}) for loop in runs},
        "inv_freq_dtype": inv_freq, "inv_freq_buffers": sorted(project["inv_freq"]),
        "buffer_dtypes": sorted({d for r in runs["project"] for d in r["buffer_dtypes"] or []}),
        "project_imports": other_imports, "padding_share": med("project", "padding_share"),
    }
    s = summary
    print(f"\nGemma2 architecture, random init: {s['parameters']:,} parameters (hidden {spec['hidden_size']}, "
          f"{spec['layers']} layers alternating sliding-window {spec['sliding_window']} and global attention, "
          f"{spec['heads']} heads of {spec['head_dim']} with {spec['kv_heads']} key/value heads, MLP "
          f"{spec['intermediate_size']}, vocabulary {s['vocab_size']:,} tied, soft-capping 50 attention / 30 final) "
          f"on {s['device']}; precision {args.precision}, gradient checkpointing "
          f"{'on' if args.gradient_checkpointing else 'off'}, batch {args.batch_size} (micro "
          f"{args.micro_batch_size or args.batch_size}), examples up to {args.length} tokens (padding "
          f"{s['padding_share']:.1%}), {args.steps} steps ({args.warmup} warm-up), median of {args.repeats} "
          f"alternating repeats")
    if s["smoke"]:
        print(f"SMOKE MODE: vocabulary {s['vocab_size']:,}, not Gemma2's {GEMMA2_VOCABULARY:,} (CPU-sized); these "
              f"figures check the path, they are not the GPU check's")
    print("| loop | tokens/s | MFU | peak memory (GiB) | load (s) |")
    print("| --- | --- | --- | --- | --- |")
    for loop in ("project", "plain"):
        mfu = s["mfu"][loop]
        print(f"| {loop} | {s['tokens_per_s'][loop]:,.0f} | {f'{mfu:.1%}' if mfu else 'n/a'} | "
              f"{s['peak_memory_gb'][loop]:.2f} | {s['load_s'][loop]:.2f} |")
    print(f"ratio project / plain: {s['ratio']:.3f} (per repeat: {', '.join(f'{r:.3f}' for r in ratios)}; "
          f"goal >= 0.85)")
    print(f"attention in force: project {', '.join(s['attention']['project'])}, plain "
          f"{', '.join(s['attention']['plain'])}")
    print(f"rotary inv_freq after the first step: {', '.join(inv_freq) or 'none found'} "
          f"({', '.join(s['inv_freq_buffers'])}); floating-point buffers {', '.join(s['buffer_dtypes'])}")
    print(f"set-up: base model built and saved {base_s:.1f} s (once, outside both loops); project load "
          f"(make_accelerator + load_student) {s['load_s']['project']:.2f} s, train() to its first step "
          f"{s['setup_s']:.2f} s; plain load {s['load_s']['plain']:.2f} s")
    print(f"checkpoint: {s['bytes_written']:,.0f} bytes ({s['bytes_written'] / 2**30:.2f} GiB: bf16 weights + "
          f"resumable state) saved in {save_s:.2f} s")
    print(f"save share of a {args.run_steps}-step run ({args.run_steps} x {step_s:.3f} s = {run_s:.1f} s): one save "
          f"{s['save_share']:.1%} (goal < 10%); {args.run_checkpoints} saves (config.yaml's finetune.checkpoints) "
          f"{s['save_share_config']:.1%}")
    print(f"project dependencies imported beyond torch, transformers, accelerate and their requirements: "
          f"{', '.join(other_imports) or 'none'}")
    print(SUMMARY + json.dumps(summary), flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="1b")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--micro-batch-size", type=int, default=4)
    parser.add_argument("--length", type=int, default=512, help="about the longest example, in tokens")
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="bf16")
    parser.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--run-steps", type=int, default=600, help="the run the save share is taken of")
    parser.add_argument("--run-checkpoints", type=int, default=10, help="its checkpoints (config.yaml: 10)")
    parser.add_argument("--out", help="for the base model and checkpoints (default: a temporary directory)")
    parser.add_argument("--child", choices=["project", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.warmup >= args.steps:
        parser.error("--warmup must be below --steps")

    out = Path(args.out or tempfile.mkdtemp(prefix="gemma2-sft-check-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        save_base_model(MODELS[args.model], out, args.length, args.examples)
        base_s = time.perf_counter() - started
        print(f"base model saved in {base_s:.1f} s", flush=True)
        runs = alternate(__file__, sys.argv[1:] + ["--out", str(out)], args.repeats)
        report(args, runs, base_s)
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
