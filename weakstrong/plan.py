"""What the study needs before anything runs: GPU memory per finetuning job and GPU-hours of the grid.

Memory per GPU of one finetuning job (full AdamW finetuning; figures in GiB, 2**30 bytes), for P parameters,
G GPUs, T = micro_batch_size x max_length tokens per forward pass, and a model of L layers, hidden size h
and vocabulary V:

* states: fp32 master weights 4P, fp32 gradients 4P, Adam moments 8P bytes, for bf16 (autocast mixed
  precision) and fp32 alike; with G > 1, FSDP full sharding divides them by G and the weights gain the
  gathered copy of the largest unit, one transformer layer of (P - V h) / L parameters, twice (prefetch),
  at 2 bytes a parameter in bf16 and 4 in fp32;
* activations: with gradient checkpointing, every layer's input (L T h x 2 bytes in bf16) plus one layer's
  activations while it is recomputed, 34 T h bytes in bf16 (Korthikanti et al. 2022, without the attention
  scores that SDPA / flash attention do not store); without checkpointing, L times that; everything doubled
  in fp32.  Plus the logits: T V (2 + 4 + 4) bytes in bf16 (logits, their fp32 upcast for the loss, its
  gradient), T V 8 bytes in fp32;
* overhead: 2 GiB (CUDA context, NCCL buffers, allocator fragmentation).

Without an architecture (``models.<m>.architecture``; toy models derive theirs) activations are unknown and
the total is a lower bound.  ``plan.gpu_memory_gb`` is compared with the total as is.

GPU-hours take 2P FLOPs per generated token (sampling, validation, evaluation, at ``plan.sampling_mfu``) and
6P per trained token, 8P with gradient checkpointing (the forward pass again), at ``plan.training_mfu``, of
``plan.gpu_peak_tflops``.  Models served through an API (backend ``openai_api``) cost USD instead.
"""

from __future__ import annotations

from pathlib import Path

from weakstrong import study
from weakstrong.training import resolve_precision

GIB = 1024 ** 3
OVERHEAD_GIB = 2.0
BYTES_PER_PARAMETER = {"weights": 4, "gradients": 4, "optimizer": 8}
LAYER_ACTIVATION_BYTES = 34   # per token and hidden unit of one layer, bf16 (Korthikanti et al. 2022)
LOGIT_BYTES = {"bf16": 2 + 4 + 4, "fp32": 8}
STAGES = ("sampling", "finetuning", "validation", "evaluation", "base evaluation")


class PlanError(ValueError):
    """The plan's configuration is incomplete, or a job would not fit; the message names the config keys."""


# --- memory ---------------------------------------------------------------------------------------

def gpu_precision(precision: str) -> str:
    """The planner assumes GPUs, where ``auto`` trains in bf16 mixed precision."""
    return resolve_precision(precision, cuda=True)


def model_architecture(config: dict, model: str) -> dict | None:
    """``{layers, hidden_size, vocab_size}`` of a model, or None if the config does not say."""
    spec = config["models"][model]
    if "architecture" in spec:
        arch = spec["architecture"]
        return {key: arch[key] for key in ("layers", "hidden_size", "vocab_size")}
    if "toy" in spec and "toy_corpus" in config:
        return {"layers": spec["toy"]["layers"], "hidden_size": spec["toy"]["hidden_size"],
                "vocab_size": config["toy_corpus"]["vocab_size"]}
    return None


def finetune_memory(parameters: float, architecture: dict | None, *, gpus: int, micro_batch_size: int,
                    max_length: int, precision: str, gradient_checkpointing: bool) -> dict:
    """GiB per GPU of one finetuning job (see the module docstring); ``precision`` is bf16 or fp32."""
    if precision not in LOGIT_BYTES:
        raise PlanError(f"precision must be resolved to bf16 or fp32 (see gpu_precision), got {precision!r}")
    gpus = max(1, gpus)
    copy_bytes = 2 if precision == "bf16" else 4
    memory = {name: per * parameters / gpus for name, per in BYTES_PER_PARAMETER.items()}
    activations = None
    if architecture is not None:
        layers, hidden, vocab = architecture["layers"], architecture["hidden_size"], architecture["vocab_size"]
        if gpus > 1:
            layer_parameters = max(0.0, parameters - vocab * hidden) / layers
            memory["weights"] += 2 * layer_parameters * copy_bytes
        tokens = micro_batch_size * max_length
        one_layer = LAYER_ACTIVATION_BYTES * tokens * hidden * copy_bytes / 2
        if gradient_checkpointing:
            activations = layers * tokens * hidden * copy_bytes + one_layer
        else:
            activations = layers * one_layer
        activations += tokens * vocab * LOGIT_BYTES[precision]
    memory = {name: value / GIB for name, value in memory.items()}
    memory["activations"] = None if activations is None else activations / GIB
    memory["overhead"] = OVERHEAD_GIB
    memory["total"] = sum(value for value in memory.values() if value is not None)
    memory["lower_bound"] = activations is None
    return memory


def check_fits(memory: dict, gpu_memory_gb: float, *, student: str, gpus: int) -> None:
    """Raise PlanError, naming the config keys that shrink the job, if it needs more than one GPU has."""
    if memory["total"] <= gpu_memory_gb:
        return
    parts = ", ".join(f"{name} {memory[name]:.1f}" for name in ("weights", "gradients", "optimizer",
                                                                 "activations", "overhead")
                      if memory.get(name) is not None)
    bound = "at least " if memory.get("lower_bound") else ""
    raise PlanError(
        f"finetuning {student} on {gpus} GPU(s) needs {bound}{memory['total']:.1f} GiB per GPU ({parts}), more "
        f"than plan.gpu_memory_gb = {gpu_memory_gb:g}. To fit it: more GPUs in resources.finetune.gpu (FSDP "
        f"shards weights, gradients and optimizer state over them); a smaller finetune.micro_batch_size or "
        f"finetune.students.{student}.micro_batch_size (gradient accumulation keeps the global batch); a "
        f"shorter finetune.max_length; finetune.gradient_checkpointing: true; or plan.gpu_memory_gb if your "
        f"GPUs have more memory.")


def _micro_batch(settings: dict, gpus: int) -> int:
    """The job's micro batch, or the configured bound where the batch cannot be split (the table says so)."""
    try:
        return study.micro_batch(settings["batch_size"], settings["micro_batch_size"], gpus)
    except ValueError:
        return settings["micro_batch_size"] or max(1, settings["batch_size"] // max(1, gpus))


def job_memory(config: dict, student: str, budget: str, gpus: int) -> dict:
    """``finetune_memory`` of one student's finetuning job on ``gpus`` GPUs, from the config."""
    settings = study.finetune_settings(config, student, budget)
    return finetune_memory(study.model_parameters(config, student), model_architecture(config, student),
                           gpus=gpus, micro_batch_size=_micro_batch(settings, gpus),
                           max_length=config["finetune"].get("max_length", 1024),
                           precision=gpu_precision(settings["precision"]),
                           gradient_checkpointing=settings["gradient_checkpointing"])


# --- the whole study ------------------------------------------------------------------------------

def _plan_section(config: dict) -> dict:
    if "plan" not in config:
        raise PlanError("config has no 'plan' section: add config key 'plan' with gpu_memory_gb, gpu_peak_tflops, "
                        "training_mfu, sampling_mfu, mean_prompt_tokens, mean_completion_tokens, gpu_counts and "
                        "dataset_sizes (see config.yaml)")
    return config["plan"]


def dataset_problems(config: dict, dataset: str) -> dict:
    """Train (sampled, after the validation hold-out), validation and test problems of a dataset."""
    spec = config["datasets"][dataset]
    toy = spec["source"].get("toy")
    if toy is not None:
        return {"train": toy["train"], "validation": toy["validation"], "test": toy["test"]}
    sizes = _plan_section(config).get("dataset_sizes", {}).get(dataset)
    if sizes is None:
        raise PlanError(f"config key 'plan.dataset_sizes.{dataset}' is needed: train and test problems of "
                        f"dataset {dataset!r}")
    validation = spec["validation"]
    exemplars_from = spec.get("exemplars", {"from": "train"}).get("from")
    taken = {split: (validation["size"] if validation["from"] == split else 0)
             + (spec["few_shot"] if exemplars_from == split else 0) for split in ("train", "test")}
    # Validation from test comes out of the test set only when the test set is the source's test split.
    if "test_source" in spec:
        taken["test"] = 0
    for split, count in taken.items():
        if count >= sizes[split]:
            raise PlanError(f"config keys 'datasets.{dataset}.validation' and '.exemplars' take {count} problems, "
                            f"all of plan.dataset_sizes.{dataset}.{split} ({sizes[split]})")
    return {"train": sizes["train"] - taken["train"], "validation": validation["size"],
            "test": sizes["test"] - taken["test"]}


def _students(config: dict) -> list[tuple[str, str]]:
    """Every student once, with the first budget it trains at."""
    seen = {}
    for spec in config["generator_pairs"].values():
        for student in spec["students"]:
            seen.setdefault(student, spec["budgets"][0])
    return list(seen.items())


def _gpu_hours(flops: float, plan: dict, mfu_key: str) -> float:
    return flops / (plan["gpu_peak_tflops"] * 1e12 * plan[mfu_key]) / 3600


def _price(config: dict, model: str) -> float:
    try:
        return config["models"][model]["price_per_million_tokens"]
    except KeyError:
        raise PlanError(f"config key 'models.{model}.price_per_million_tokens' is needed to price its API "
                        f"calls") from None


def _generation_cost(config: dict, plan: dict, model: str, tokens: float, default_backend: str) -> dict:
    """GPU-hours (2P FLOPs a token at the sampling MFU) or, for API models, USD."""
    backend = study.model_backend(config, model, default_backend)
    if backend == "openai_api":
        return {"backend": backend, "gpu_hours": 0.0, "usd": tokens * _price(config, model) / 1e6}
    flops = tokens * 2 * study.model_parameters(config, model)
    return {"backend": backend, "gpu_hours": _gpu_hours(flops, plan, "sampling_mfu"), "usd": 0.0}


def _memory_rows(config: dict, plan: dict, finetune_gpus: int) -> list[dict]:
    counts = sorted(set(plan["gpu_counts"]) | {max(1, finetune_gpus)})
    rows = []
    for student, budget in _students(config):
        settings = study.finetune_settings(config, student, budget)
        for gpus in counts:
            micro = _micro_batch(settings, gpus)
            try:
                accumulation = study.accumulation_steps(settings["batch_size"], settings["micro_batch_size"], gpus)
            except ValueError:
                accumulation = None
            memory = job_memory(config, student, budget, gpus)
            rows.append({"student": student, "gpus": gpus, "configured": gpus == max(1, finetune_gpus),
                         "batch_size": settings["batch_size"], "micro_batch_size": micro,
                         "accumulation": accumulation, "gradient_checkpointing": settings["gradient_checkpointing"],
                         "precision": gpu_precision(settings["precision"]), "memory": memory,
                         "fits": memory["total"] <= plan["gpu_memory_gb"]})
    return rows


def _sampling_rows(config: dict, plan: dict) -> list[dict]:
    rows = []
    for dataset, generator in study.generators(config):
        problems = dataset_problems(config, dataset)["train"]
        per_question = study.max_samples(config, dataset, generator)
        tokens = problems * per_question * plan["mean_completion_tokens"]
        rows.append({"dataset": dataset, "generator": generator, "problems": problems,
                     "samples_per_question": per_question, "tokens": tokens,
                     **_generation_cost(config, plan, generator, tokens, config["sampling"]["backend"])})
    return rows


def _finetune_rows(config: dict, plan: dict) -> list[dict]:
    finetune, evaluation = config["finetune"], config["evaluation"]
    sources = config.get("sources", ["wc", "se"])
    completion = plan["mean_completion_tokens"]
    rows, gold_seen = [], set()
    for exp in study.experiments(config):
        problems = dataset_problems(config, exp.dataset)
        validation = min(finetune.get("validation_problems", 500), problems["validation"])
        for student in config["generator_pairs"][exp.pair]["students"]:
            settings = study.finetune_settings(config, student, exp.budget)
            parameters = study.model_parameters(config, student)
            # gold runs are shared by the pairs: counted with the first pair that has them
            row_sources = [s for s in sources if s != "gold" or (exp.dataset, exp.budget, student) not in gold_seen]
            gold_seen.add((exp.dataset, exp.budget, student))
            runs = len(row_sources) * len(study.student_lrs(config, student))
            tokens = settings["steps"] * settings["batch_size"] * (plan["mean_prompt_tokens"] + completion)
            per_token = 6 * parameters * (4 / 3 if settings["gradient_checkpointing"] else 1)
            validation_tokens = finetune["checkpoints"] * validation * completion
            test_tokens = problems["test"] * (1 + max(evaluation.get("maj_k", []), default=0)) * completion
            rows.append({
                "dataset": exp.dataset, "pair": exp.pair, "budget": exp.budget, "student": student,
                "runs": runs, "sources": len(row_sources), "lrs": len(study.student_lrs(config, student)),
                "steps": settings["steps"],
                "batch_size": settings["batch_size"], "train_tokens": runs * tokens,
                "finetuning": _gpu_hours(runs * tokens * per_token, plan, "training_mfu"),
                "validation": _gpu_hours(runs * validation_tokens * 2 * parameters, plan, "sampling_mfu"),
                "evaluation": _gpu_hours(len(row_sources) * test_tokens * 2 * parameters, plan, "sampling_mfu"),
            })
    return rows


def _base_evaluation_rows(config: dict, plan: dict) -> list[dict]:
    """Every generator and student evaluated before finetuning, once per dataset (rule evaluate_base)."""
    evaluation = config["evaluation"]
    rows, seen = [], set()
    for exp in study.experiments(config):
        spec = config["generator_pairs"][exp.pair]
        for model in [spec["weak"], spec["strong"], *spec["students"]]:
            if (exp.dataset, model) in seen:
                continue
            seen.add((exp.dataset, model))
            # zero-shot greedy and maj@k votes, few-shot greedy, and zero-shot greedy on validation
            problems = dataset_problems(config, exp.dataset)
            tokens = ((problems["test"] * (2 + max(evaluation.get("maj_k", []), default=0)) + problems["validation"])
                      * plan["mean_completion_tokens"])
            rows.append({"dataset": exp.dataset, "model": model, "tokens": tokens,
                         **_generation_cost(config, plan, model, tokens, evaluation["backend"])})
    return rows


def study_plan(config: dict, finetune_gpus: int) -> dict:
    """Memory per finetuning job and GPU-hours (and API USD) of every stage of the study."""
    plan = _plan_section(config)
    memory = _memory_rows(config, plan, finetune_gpus)
    sampling = _sampling_rows(config, plan)
    finetuning = _finetune_rows(config, plan)
    base = _base_evaluation_rows(config, plan)
    totals = {
        "sampling": {"gpu_hours": sum(r["gpu_hours"] for r in sampling), "usd": sum(r["usd"] for r in sampling)},
        **{stage: {"gpu_hours": sum(r[stage] for r in finetuning), "usd": 0.0}
           for stage in ("finetuning", "validation", "evaluation")},
        "base evaluation": {"gpu_hours": sum(r["gpu_hours"] for r in base), "usd": sum(r["usd"] for r in base)},
    }
    totals["total"] = {key: sum(totals[stage][key] for stage in STAGES) for key in ("gpu_hours", "usd")}
    configured = [row for row in memory if row["configured"]]
    return {
        "assumptions": {**plan, "precision": gpu_precision(config["finetune"].get("precision", "auto")),
                        "finetune_gpus": finetune_gpus, "sources": config.get("sources", ["wc", "se"])},
        "memory": memory, "sampling": sampling, "finetuning": finetuning, "base_evaluation": base,
        "totals": totals,
        "configured": {"gpus": max(1, finetune_gpus), "students": len(configured),
                       "fit": sum(row["fits"] for row in configured),
                       "too_big": [row["student"] for row in configured if not row["fits"]]},
    }


# --- Markdown -------------------------------------------------------------------------------------

def _hours(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _usd(value: float) -> str:
    if value == 0:
        return "-"
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def _gib(value: float | None) -> str:
    if value is None:
        return "?"
    return "<0.1" if 0 < value < 0.05 else f"{value:.1f}"


def _gpus(count: int) -> str:
    return f"{count} GPU" if count == 1 else f"{count} GPUs"


def _count(value: float) -> str:
    """Token counts: 2.25M, 1.3B."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.0f}"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    from tabulate import tabulate

    align = ["right" if i in numeric else "left" for i in range(len(headers))]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True, colalign=align)


def _checkpointing(plan: dict) -> str:
    on = list(dict.fromkeys(row["student"] for row in plan["memory"] if row["gradient_checkpointing"]))
    off = list(dict.fromkeys(row["student"] for row in plan["memory"] if not row["gradient_checkpointing"]))
    if not off:
        return "on"
    if not on:
        return "off"
    return f"on for {', '.join(on)}, off for {', '.join(off)}"


def _assumptions(plan: dict) -> str:
    a = plan["assumptions"]
    gpus = a["finetune_gpus"]
    configured = (f"{_gpus(gpus)} per finetuning job (resources.finetune.gpu)" if gpus >= 1 else
                  "resources.finetune.gpu is 0 (finetuning on CPU); the 1-GPU rows stand for it")
    lines = [
        f"- GPU: {a['gpu_memory_gb']:g} GB of memory (plan.gpu_memory_gb), {a['gpu_peak_tflops']:g} TFLOP/s "
        f"dense bf16 peak (plan.gpu_peak_tflops).",
        f"- Utilisation: {a['training_mfu']:.0%} of peak when training (plan.training_mfu), "
        f"{a['sampling_mfu']:.0%} when generating (plan.sampling_mfu).",
        f"- Tokens: {a['mean_prompt_tokens']} per question and {a['mean_completion_tokens']} per solution "
        f"(plan.mean_prompt_tokens, plan.mean_completion_tokens); generation counts solution tokens only "
        f"(few-shot prompt prefill is not counted).",
        f"- Finetuning: full AdamW in {a['precision']} (finetune.precision; auto is bf16 on GPUs) with fp32 "
        f"master weights, gradients and Adam moments (16 bytes a parameter), FSDP full sharding over the "
        f"GPUs of a job; gradient checkpointing {_checkpointing(plan)} (finetune.gradient_checkpointing; "
        f"default on for real models, off for toy ones); {configured}; tabulated GPU counts "
        f"{', '.join(map(str, a['gpu_counts']))} (plan.gpu_counts).",
        "- FLOPs: 2P a generated token, 6P a trained token (8P with gradient checkpointing).",
        f"- Finetuning runs per cell: {len(a['sources'])} sources ({', '.join(a['sources'])}; gold runs once per "
        f"dataset, budget and student) x the learning "
        f"rates of finetune.lrs; each scores finetune.checkpoints checkpoints on the validation problems.",
        "- Train problems are the dataset's train split (plan.dataset_sizes) less what datasets.<d>.validation "
        "and datasets.<d>.exemplars take from it; toy datasets state their own sizes.",
        "- Not counted: the LLM judge and human audit, data preparation, grading, tables and figures, and the "
        "start of an inference engine (vLLM scores each checkpoint with a fresh engine, about a minute or two "
        "of the job's GPUs each for a 9B-27B model; sampling and evaluation jobs start one each).",
    ]
    if a.get("dataset_sizes"):
        sizes = "; ".join(f"{d}: train {s['train']}, test {s['test']}" for d, s in a["dataset_sizes"].items())
        lines.append(f"- Dataset sizes (plan.dataset_sizes): {sizes}.")
    return "\n".join(lines)


def _memory_table(plan: dict) -> str:
    limit = plan["assumptions"]["gpu_memory_gb"]
    headers = ["student", "GPUs", "micro batch", "accumulation", "weights", "gradients", "optimizer",
               "activations", "total", f"fits {limit:g} GB"]
    rows = []
    for row in plan["memory"]:
        m = row["memory"]
        if row["accumulation"] is None:
            accumulation = f"batch {row['batch_size']} cannot be split over {row['gpus']} GPUs"
        else:
            accumulation = str(row["accumulation"])
        total = (">= " if m["lower_bound"] else "") + _gib(m["total"])
        rows.append([row["student"], f"{row['gpus']}{' (configured)' if row['configured'] else ''}",
                     str(row["micro_batch_size"]), accumulation, _gib(m["weights"]), _gib(m["gradients"]),
                     _gib(m["optimizer"]), _gib(m["activations"]), total, "fits" if row["fits"] else "does not fit"])
    return _table(headers, rows, {1, 2, 4, 5, 6, 7, 8})


def _verdict(plan: dict) -> str:
    c = plan["configured"]
    if not c["too_big"]:
        return f"At the configured {_gpus(c['gpus'])} per finetuning job, all {c['students']} students fit."
    return (f"At the configured {_gpus(c['gpus'])} per finetuning job, {c['fit']} of {c['students']} students "
            f"fit; **not {', '.join(c['too_big'])}**: raise resources.finetune.gpu, lower "
            f"finetune.micro_batch_size (or finetune.students.<student>.micro_batch_size) or finetune.max_length, "
            f"or turn on finetune.gradient_checkpointing.")


def render_plan(plan: dict) -> str:
    """The plan as Markdown: assumptions, memory per GPU, GPU-hours per stage and per cell."""
    totals = plan["totals"]
    stage_rows = [[stage, _hours(totals[stage]["gpu_hours"]), _usd(totals[stage]["usd"])] for stage in STAGES]
    total = totals["total"]
    stage_rows.append(["**total**", f"**{_hours(total['gpu_hours'])}**", f"**{_usd(total['usd'])}**"])
    sampling_rows = [[r["dataset"], r["generator"], r["backend"], f"{r['problems']:,}",
                      str(r["samples_per_question"]), _count(r["tokens"]), _hours(r["gpu_hours"]), _usd(r["usd"])]
                     for r in plan["sampling"]]
    finetune_rows = [[r["dataset"], r["pair"], r["budget"], r["student"],
                      f"{r['runs']} ({r['sources']} x {r['lrs']})", f"{r['steps']:,}", str(r["batch_size"]),
                      _count(r["train_tokens"]), _hours(r["finetuning"]), _hours(r["validation"]),
                      _hours(r["evaluation"]), _hours(r["finetuning"] + r["validation"] + r["evaluation"])]
                     for r in plan["finetuning"]]
    base_rows = [[r["dataset"], r["model"], r["backend"], _count(r["tokens"]), _hours(r["gpu_hours"]),
                  _usd(r["usd"])] for r in plan["base_evaluation"]]
    runs = sum(r["runs"] for r in plan["finetuning"])
    parts = [
        "# Plan: memory and GPU-hours of the study",
        "Estimates from the configuration alone (`snakemake plan`); nothing was run.",
        "## Assumptions",
        _assumptions(plan),
        "## Finetuning memory per GPU (GiB)",
        _verdict(plan),
        _memory_table(plan),
        "Accumulation: forward passes per GPU and optimizer step (global batch = GPUs x micro batch x "
        "accumulation). Weights include, with more than one GPU, two gathered layers (FSDP prefetch); "
        "activations include the logits; total includes 2 GiB of overhead."
        + (" `?`: no architecture in the config (models.<m>.architecture), so the total is a lower bound."
           if any(row["memory"]["lower_bound"] for row in plan["memory"]) else ""),
        "## GPU-hours",
        _table(["stage", "GPU-hours", "API USD"], stage_rows, {1, 2}),
        "### Sampling (per dataset and generator)",
        _table(["dataset", "generator", "backend", "train problems", "samples per question", "tokens",
                "GPU-hours", "API USD"], sampling_rows, {3, 4, 5, 6, 7}),
        f"### Finetuning, checkpoint validation and test evaluation ({runs} finetuning runs)",
        _table(["dataset", "pair", "budget", "student", "runs (sources x lrs)", "steps", "batch",
                "trained tokens", "finetuning", "validation", "evaluation", "GPU-hours"],
               finetune_rows, {4, 5, 6, 7, 8, 9, 10, 11}),
        "### Base evaluation (before finetuning)",
        _table(["dataset", "model", "backend", "tokens", "GPU-hours", "API USD"], base_rows, {3, 4, 5}),
    ]
    return "\n\n".join(parts) + "\n"


def summary(plan: dict) -> str:
    totals, c = plan["totals"]["total"], plan["configured"]
    api = f" and {_usd(totals['usd'])} of API calls" if totals["usd"] else ""
    return (f"plan: {_hours(totals['gpu_hours'])} GPU-hours{api} in all; {c['fit']} of {c['students']} "
            f"students fit in {plan['assumptions']['gpu_memory_gb']:g} GB at {_gpus(c['gpus'])} per finetuning job")


def write_plan(config: dict, finetune_gpus: int, path: str | Path) -> dict:
    """Write the Markdown plan to ``path``; returns the plan."""
    plan = study_plan(config, finetune_gpus)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_plan(plan))
    return plan
