"""Training jobs run under ``accelerate launch`` so one code path serves 1 CPU process or N GPUs.

``launch(request, gpus, threads)`` writes the request as JSON beside the output and, with more than one GPU,
runs ``accelerate launch --config_file accelerate/fsdp.yaml --num_processes N -m weakstrong.launch REQUEST``
(FSDP full sharding; one process runs in-process, which Accelerate supports without its launcher).  The
request (``weakstrong.requests``) is a ``PretrainRequest`` (a toy generator or student from scratch) or a
``FinetuneRequest`` (SFT of a student on a generator's correct solutions).  After a finetuning run, the job's own
process scores every checkpoint on validation through ``finetune.eval_backend`` (vLLM at paper scale,
transformers for the toy), once the training processes have exited and released the GPUs.
Training writes into ``<output>.partial/`` and renames it to ``<output>`` when done, so a requeued or rerun
job resumes from the last checkpoint (Snakemake deletes declared outputs, not the partial directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from weakstrong.requests import (FinetuneRequest, PretrainRequest, read_request, resumable_part,
                                  write_request)


def partial_dir(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".partial")


def launch(request: FinetuneRequest | PretrainRequest, gpus: int, threads: int, memory_mb: int | None = None,
           accelerate_config: str | Path | None = None) -> None:
    """Run a training job on ``gpus`` GPUs (0: CPU), then, for finetuning, score its checkpoints.

    More than one GPU needs ``accelerate_config``, the workflow's ``accelerate/fsdp.yaml``."""
    partial = partial_dir(request.output)
    request_path = partial / "request.json"
    if request_path.exists() and _left_by_other_inputs(request_path, request):
        print(f"{partial}: left by a run with other settings, model or data; it cannot be resumed, starting afresh",
              flush=True)
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    write_request(request, request_path)
    if isinstance(request, FinetuneRequest) and request.fit and gpus > 0:
        check_fit(request, gpus)  # before any weights are loaded
    if gpus <= 1:
        # One process needs no launcher: run in this process and save two interpreter start-ups.
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        run_request(request, threads)
    else:
        if accelerate_config is None:
            raise ValueError(f"{request.output}: {gpus} GPUs need an Accelerate config file (accelerate/fsdp.yaml)")
        _accelerate_launch(accelerate_command(request_path, gpus, request.settings.precision, accelerate_config),
                           gpus, threads)
    if isinstance(request, FinetuneRequest):
        from weakstrong.models import release_memory

        release_memory()  # an in-process training run's model and optimizer, before an engine loads
        score_checkpoints(request, gpus, memory_mb)
    shutil.rmtree(request.output, ignore_errors=True)
    partial.rename(request.output)


def _left_by_other_inputs(request_path: Path, request: FinetuneRequest | PretrainRequest) -> bool:
    """Whether the partial run beside ``request_path`` was started with other settings, model or data (or by a
    version whose request this one cannot read), so its checkpoints cannot be resumed."""
    try:
        previous = read_request(request_path)
    except (ValueError, TypeError, KeyError):
        return True
    return resumable_part(previous) != resumable_part(request)


def accelerate_command(request_path: Path, processes: int, precision: str, config_file: str | Path) -> list[str]:
    """``accelerate launch`` for one node with ``processes`` GPUs: the sharding from ``config_file`` (the
    workflow's ``accelerate/fsdp.yaml``), mixed precision as the finetune settings ask."""
    from weakstrong.training import resolve_precision

    mixed = "bf16" if resolve_precision(precision, cuda=True) == "bf16" else "no"
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file),
            "--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", mixed,
            "-m", "weakstrong.launch", str(request_path)]


def _accelerate_launch(command: list[str], processes: int, threads: int) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, threads // processes)), TOKENIZERS_PARALLELISM="false")
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)


def check_fit(request: FinetuneRequest, gpus: int) -> None:
    """Stop before loading the model when the planner says it cannot fit (see ``weakstrong.plan``)."""
    from weakstrong.plan import check_fits, finetune_memory
    from weakstrong.study import micro_batch
    from weakstrong.training import resolve_precision

    fit, settings = request.fit, request.settings
    micro = micro_batch(settings.batch_size, settings.micro_batch_size, gpus)
    memory = finetune_memory(fit.parameters, fit.architecture, gpus=gpus, micro_batch_size=micro,
                             max_length=settings.max_length, precision=resolve_precision(settings.precision, cuda=True),
                             gradient_checkpointing=settings.gradient_checkpointing)
    check_fits(memory, fit.gpu_memory_gb, student=fit.student, gpus=gpus)


def pretrain_toy(request: PretrainRequest) -> None:
    """A toy model from scratch on the toy corpus; the final weights are the model."""
    from transformers import AutoTokenizer

    from weakstrong.data import read_jsonl
    from weakstrong.models import init_toy_model
    from weakstrong.training import collect_checkpoint_scores, train

    out = partial_dir(request.output)
    tokenizer = AutoTokenizer.from_pretrained(request.tokenizer)
    documents = [d["text"] for d in read_jsonl(request.corpus)]
    settings = request.settings
    model = init_toy_model(request.spec, tokenizer, settings.seed)
    started = time.time()
    train(model, tokenizer, [("", d) for d in documents], out / "training", settings)
    records = collect_checkpoint_scores(out / "training")
    final = out / "training" / f"checkpoint-{settings.steps}"
    for item in final.iterdir():
        if item.is_file() and item.name != "scores.json":
            shutil.copy2(item, out / item.name)
    # No wall-clock time in the summary, so a rerun writes the same bytes; the rule's benchmark has it.
    summary = {"parameters": sum(p.numel() for p in model.parameters()), "steps": settings.steps,
               "final_train_loss": records[-1]["train_loss"], "machine": request.machine}
    (out / "pretraining.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(out / "training")
    print(f"pretrained {request.output}: {summary['parameters']:,} parameters, {settings.steps} steps, "
          f"final loss {summary['final_train_loss']:.3f} in {time.time() - started:.1f} s")


def finetune(request: FinetuneRequest) -> None:
    """SFT of a student on (question, solution) pairs: checkpoints only, scored afterwards.  A job rerun after
    its training finished (killed while scoring) goes straight to scoring."""
    from weakstrong.data import read_jsonl
    from weakstrong.prompts import sft_example
    from weakstrong.training import finish_training, load_student, make_accelerator, resolve_precision, train

    out = partial_dir(request.output)
    if (out / "training.json").exists():
        print(f"{out}: training finished earlier; its checkpoints are scored next", flush=True)
        return
    examples = [sft_example(r["question"], r["solution"], request.style) for r in read_jsonl(request.sft_data)]
    settings = request.settings
    if examples:
        accelerator = make_accelerator(resolve_precision(settings.precision))
        model, tokenizer = load_student(request.base_model, accelerator)
        summary = train(model, tokenizer, examples, out, settings, accelerator=accelerator)
        main = accelerator.is_main_process
    else:
        # No correct solution was kept: nothing to learn from. The untrained student stays a candidate in
        # selection (scored by evaluate_base), so the study goes on and the table marks the cell.
        print(f"WARNING: {request.sft_data} has no training examples (no correct solutions were kept); "
              f"no checkpoints", flush=True)
        summary, main = {"examples": 0}, int(os.environ.get("RANK", "0")) == 0
    if main:
        # training.json first: once it exists a rerun does not train again, so the state can go.
        summary = {**summary, "machine": request.machine}
        (out / "training.json").write_text(json.dumps(summary, indent=2))
        summary.update(finish_training(out))
        (out / "training.json").write_text(json.dumps(summary, indent=2))
        print(f"training wrote {summary['bytes_written'] / 2**30:.2f} GiB of checkpoints; "
              f"keeps {summary['bytes_kept'] / 2**30:.2f} GiB", flush=True)


def score_checkpoints(request: FinetuneRequest, gpus: int, memory_mb: int | None = None) -> None:
    """Validation accuracy (greedy) of every checkpoint through ``request.eval_backend``, each checkpoint
    loaded as test evaluation loads it.  Runs after training has released its memory; a checkpoint already
    scored (a resumed job) is not scored again.  With vLLM, one engine scores all of them: started on the first
    checkpoint, it loads each next one's weights (``vllm_backend.load_checkpoint``)."""
    from weakstrong.data import read_jsonl
    from weakstrong.evaluation import evaluate
    from weakstrong.sampling import make_generator
    from weakstrong.training import CHECKPOINT_PREFIX, collect_checkpoint_scores

    out = partial_dir(request.output)
    validation = read_jsonl(request.validation)[:request.validation_problems]
    backend = request.eval_backend
    checkpoints = sorted(out.glob(f"{CHECKPOINT_PREFIX}*/scores.json"),
                         key=lambda p: int(p.parent.name[len(CHECKPOINT_PREFIX):]))
    engine_holds = None  # the checkpoint whose weights the cached vLLM engine holds
    for path in checkpoints:
        record = json.loads(path.read_text())
        if "validation_accuracy" in record:
            continue
        started = time.time()
        model = str(path.parent)
        if backend == "vllm" and engine_holds is not None:
            # Not a new engine per checkpoint: starting one (loading, memory profiling, CUDA graph capture)
            # costs far more than loading weights, and a run's checkpoints differ in nothing else.
            from weakstrong.sampling.vllm_backend import load_checkpoint
            load_checkpoint(engine_holds, model)
        result = evaluate(make_generator(backend, model, gpus=gpus, memory_mb=memory_mb),
                          validation, request.style, exemplars=None, max_tokens=request.max_tokens,
                          seed=request.settings.seed, workers=1)
        engine_holds = model
        record.update(validation_accuracy=result["pass@1"], validation_problems=result["problems"])
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.rename(path)
        print(f"step {record['step']}: validation accuracy {result['pass@1']:.3f} ({backend}, "
              f"{time.time() - started:.1f} s)", flush=True)
    if backend == "vllm":
        from weakstrong.sampling.vllm_backend import close_engines
        close_engines()
    records = collect_checkpoint_scores(out)
    training = json.loads((out / "training.json").read_text())
    (out / "scores.json").write_text(json.dumps({**training, "checkpoints": records}, indent=2))
    if records:
        best = max(records, key=lambda r: (r["validation_accuracy"], r["step"]))
        print(f"finetuned on {training['examples']} examples: best validation accuracy "
              f"{best['validation_accuracy']:.3f} at step {best['step']} of {len(records)} checkpoints")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m weakstrong.launch REQUEST.json")
    run_request(read_request(argv[0]), int(os.environ.get("OMP_NUM_THREADS", "1")))


def run_request(request: FinetuneRequest | PretrainRequest, threads: int) -> None:
    import torch
    torch.set_num_threads(threads)
    (finetune if isinstance(request, FinetuneRequest) else pretrain_toy)(request)


if __name__ == "__main__":
    main()
