"""Training jobs run under ``accelerate launch`` so one code path serves 1 CPU process or N GPUs.

``launch(request, num_processes)`` writes the request as JSON beside the output and runs
``accelerate launch --num_processes N -m weakstrong.launch REQUEST`` (a single process runs in-process, which
Accelerate supports without its launcher); the request then dispatches on ``request["job"]``: ``pretrain_toy`` (a toy generator or student from scratch) or ``finetune``
(SFT of a student on a generator's correct solutions, with validation accuracy at every checkpoint).
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


def partial_dir(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".partial")


def launch(request: dict, num_processes: int, threads: int) -> None:
    partial = partial_dir(request["output"])
    partial.mkdir(parents=True, exist_ok=True)
    request_path = partial / "request.json"
    request_path.write_text(json.dumps(request, indent=2))
    if num_processes <= 1:
        # One process needs no launcher: run in this process and save two interpreter start-ups.
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        run_request(request, threads)
    else:
        _accelerate_launch(request_path, num_processes, threads)
    shutil.rmtree(request["output"], ignore_errors=True)
    partial.rename(request["output"])


def _accelerate_launch(request_path: Path, num_processes: int, threads: int) -> None:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(num_processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "weakstrong.launch", str(request_path)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)


def _settings(request: dict):
    from weakstrong.training import TrainSettings
    return TrainSettings(**request["settings"])


def pretrain_toy(request: dict) -> None:
    """A toy model from scratch on the toy corpus; the final weights are the model."""
    from transformers import AutoTokenizer

    from weakstrong.data import read_jsonl
    from weakstrong.models import init_toy_model
    from weakstrong.training import train

    out = partial_dir(request["output"])
    tokenizer = AutoTokenizer.from_pretrained(request["tokenizer"])
    documents = [d["text"] for d in read_jsonl(request["corpus"])]
    settings = _settings(request)
    model = init_toy_model(request["spec"], tokenizer, settings.seed)
    started = time.time()
    records = train(model, tokenizer, [("", d) for d in documents], out / "training", settings)
    final = out / "training" / f"checkpoint-{settings.steps}"
    for item in final.iterdir():
        if item.is_file() and item.name != "scores.json":
            shutil.copy2(item, out / item.name)
    # No wall-clock time in the summary, so a rerun writes the same bytes; the rule's benchmark has it.
    summary = {"parameters": sum(p.numel() for p in model.parameters()), "steps": settings.steps,
               "final_train_loss": records[-1]["train_loss"]}
    (out / "pretraining.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(out / "training")
    print(f"pretrained {request['output']}: {summary['parameters']:,} parameters, {settings.steps} steps, "
          f"final loss {summary['final_train_loss']:.3f} in {time.time() - started:.1f} s")


def finetune(request: dict) -> None:
    """SFT on (question, solution) pairs; validation accuracy (greedy) at every checkpoint."""
    from weakstrong.data import read_jsonl
    from weakstrong.evaluation import evaluate
    from weakstrong.models import load_model_and_tokenizer
    from weakstrong.prompts import sft_prompt
    from weakstrong.sampling.transformers_backend import generate
    from weakstrong.training import save_base_checkpoint, train

    out = partial_dir(request["output"])
    model, tokenizer = load_model_and_tokenizer(request["base_model"])
    examples = [(sft_prompt(r["question"]), " " + r["solution"].strip()) for r in read_jsonl(request["sft_data"])]
    validation = read_jsonl(request["validation"])[:request["validation_problems"]]

    def validate(step, trained):
        # Validation runs in-process on the training model, so no extra engine start per checkpoint.
        result = evaluate(lambda prompts, params: generate(trained, prompts, params, tokenizer=tokenizer,
                                                           progress=False),
                          validation, request["style"], exemplars=None, max_tokens=request["max_tokens"],
                          seed=request["settings"]["seed"], workers=1)
        print(f"step {step}: validation accuracy {result['pass@1']:.3f}", flush=True)
        return {"validation_accuracy": result["pass@1"], "validation_problems": result["problems"]}

    if examples:
        records = train(model, tokenizer, examples, out, _settings(request), on_checkpoint=validate)
    else:
        # A generator with no correct solution leaves nothing to learn from: the untrained student is the
        # result (checkpoint-0), so the study goes on and the table shows the cell as trained on 0 examples.
        print(f"WARNING: {request['sft_data']} has no training examples (no correct solutions were kept); "
              f"keeping the base model as checkpoint-0", flush=True)
        records = [save_base_checkpoint(model, tokenizer, out, _settings(request), validate)]
    best = max(records, key=lambda r: (r["validation_accuracy"], r["step"]))
    (out / "scores.json").write_text(json.dumps({"examples": len(examples), "checkpoints": records}, indent=2))
    print(f"finetuned on {len(examples)} examples: best validation accuracy {best['validation_accuracy']:.3f} "
          f"at step {best['step']}")


JOBS = {"pretrain_toy": pretrain_toy, "finetune": finetune}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m weakstrong.launch REQUEST.json")
    run_request(json.loads(Path(argv[0]).read_text()), int(os.environ.get("OMP_NUM_THREADS", "1")))


def run_request(request: dict, threads: int) -> None:
    if request.get("job") not in JOBS:
        raise ValueError(f"unknown training job {request.get('job')!r}; expected one of {sorted(JOBS)}")
    import torch
    torch.set_num_threads(threads)
    JOBS[request["job"]](request)


if __name__ == "__main__":
    main()
