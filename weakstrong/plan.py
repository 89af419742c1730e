"""What the study needs before anything runs: GPU memory per finetuning job and GPU-hours of the grid.

Memory per GPU of one finetuning job (full AdamW finetuning; figures in GiB, 2**30 bytes), for P parameters,
G GPUs, a micro batch of B sequences of S = finetune.max_length tokens (T = B S tokens a forward pass), and a
model of L layers, hidden size h, vocabulary V and, where it runs eager attention, H attention heads; c is the
bytes of a working copy (2 in bf16, 4 in fp32):

* states: fp32 master weights 4P, fp32 gradients 4P, Adam moments 8P bytes, for bf16 (autocast mixed
  precision) and fp32 alike; with G > 1, FSDP full sharding divides them by G, and what FSDP gathers comes on
  top, at c bytes a parameter: the root unit, the tied embedding (V h; Gemma's ``embed_tokens``, which is
  also the LM head), stays unsharded from the start of the forward pass to the end of the backward pass,
  and so does its gradient; of the layers ((P - V h) / L parameters each), two are gathered at a time
  (prefetch) and one unsharded gradient waits for its reduce-scatter;
* activations: with gradient checkpointing, every layer's input (L T h c bytes) plus one layer's activations
  while it is recomputed, 34 T h bytes in bf16 (Korthikanti et al. 2022, without the attention scores);
  without checkpointing, L times that; doubled in fp32;
* logits: the loss upcasts T x V logits to fp32; at its peak (the backward of the cross-entropy) the fp32
  log-probabilities, their gradient and the gradient of the logits are alive at once: 12 T V bytes. A model
  that soft-caps its final logits (Gemma 2) keeps the tanh output too, c T V bytes more;
* attention scores: SDPA and flash attention store none. A soft-capping model (Gemma 2: the soft-capping is
  only in eager attention, so its training path runs eager attention) materialises B x H x S x S scores a
  layer and keeps 8 bytes of each for the backward (the tanh output and the bf16 probabilities, 2 bytes
  each, and the fp32 softmax output, 4; fp32 training: 4 + 4); the layer being back-propagated needs 10
  more (8 in fp32) for the gradients of the probabilities. With gradient checkpointing that is one layer's
  scores, 18 B H S^2 bytes; without, 8 B H S^2 bytes for each of the L layers plus 10 B H S^2;
* overhead: 2 GiB (CUDA context, NCCL buffers, allocator fragmentation).

The loss's peak (logits) and a layer's backward (its recomputed activations and attention scores) come one
after the other; the total counts both, which over-states the peak by the smaller of the two.  That slack
also covers what the layer term leaves out: 34 T h assumes an MLP 4h wide, and Gemma's gated MLPs (up to 8h)
keep about three times that in the recomputed layer.  Not counted: AdamW's temporary (4P / G bytes) at the
optimizer step, after the activations are freed.

Without an architecture (``models.<m>.architecture``; toy models derive theirs) activations are unknown and
the total is a lower bound.  ``plan.gpu_memory_gb`` is compared with the total as is.  Where a student does
not fit, or fits with under ``TIGHT_MARGIN`` of the GPU to spare, the plan names what makes it fit within the
job's GPUs (a smaller micro batch, whose gradient accumulation keeps the global batch, or gradient
checkpointing; see ``fit_options``).

GPU-hours take 2P FLOPs per generated token (sampling, validation, evaluation, at ``plan.sampling_mfu``) and
6P per trained token, 8P with gradient checkpointing (the forward pass again), at ``plan.training_mfu``, of
``plan.gpu_peak_tflops``.  Models served through an API (backend ``openai_api``) cost USD instead.
"""

from __future__ import annotations

from pathlib import Path

from weakstrong import study
from weakstrong.sources import in_scope
from weakstrong.study_config import Plan, Study
from weakstrong.training import resolve_precision

GIB = 1024 ** 3
OVERHEAD_GIB = 2.0
BYTES_PER_PARAMETER = {"weights": 4, "gradients": 4, "optimizer": 8}
COPY_BYTES = {"bf16": 2, "fp32": 4}  # a gathered parameter or gradient, an activation
LAYER_ACTIVATION_BYTES = 34   # per token and hidden unit of one layer, bf16 (Korthikanti et al. 2022)
LOGIT_BYTES = 12              # per token and vocabulary entry at the loss's peak: three fp32 T x V tensors
# Eager attention, per score (micro batch x heads x S x S a layer): kept for the backward, and needed on top
# of that while the layer is back-propagated.
SCORE_BYTES = {"bf16": 2 + 4 + 2, "fp32": 4 + 4}
SCORE_BACKWARD_BYTES = {"bf16": 2 + 4 + 4, "fp32": 4 + 4}
# A job that fits with less than this share of the GPU to spare is flagged, with what gives it more room.
TIGHT_MARGIN = 0.05
MEMORY_PARTS = ("weights", "gradients", "optimizer", "activations", "logits", "attention", "overhead")
STAGES = ("sampling", "finetuning", "validation", "evaluation", "base evaluation")


class PlanError(ValueError):
    """The plan's configuration is incomplete, or a job would not fit; the message names the config keys."""


# --- memory ---------------------------------------------------------------------------------------

def gpu_precision(precision: str) -> str:
    """The planner assumes GPUs, where ``auto`` trains in bf16 mixed precision."""
    return resolve_precision(precision, cuda=True)


def model_architecture(config: Study, model: str) -> dict | None:
    """``{layers, hidden_size, vocab_size}`` of a model, with ``heads`` and ``soft_capping`` where the config
    gives them, or None if the config does not say."""
    spec = config.models[model]
    if spec.architecture is not None:
        arch = spec.architecture
        return {key: arch[key] for key in ("layers", "hidden_size", "vocab_size", "heads", "soft_capping")
                if key in arch}
    if spec.is_toy and config.toy_corpus is not None:
        return {"layers": spec.toy["layers"], "hidden_size": spec.toy["hidden_size"],
                "vocab_size": config.toy_corpus.vocab_size, "heads": spec.toy["heads"]}
    return None


def finetune_memory(parameters: float, architecture: dict | None, *, gpus: int, micro_batch_size: int,
                    max_length: int, precision: str, gradient_checkpointing: bool) -> dict:
    """GiB per GPU of one finetuning job (see the module docstring); ``precision`` is bf16 or fp32.

    ``architecture``: ``layers``, ``hidden_size``, ``vocab_size``, and for a model that soft-caps its logits
    (``soft_capping: true``, trained with eager attention) ``heads``; None where unknown (a lower bound)."""
    if precision not in COPY_BYTES:
        raise PlanError(f"precision must be resolved to bf16 or fp32 (see gpu_precision), got {precision!r}")
    gpus = max(1, gpus)
    copy_bytes = COPY_BYTES[precision]
    memory = {name: per * parameters / gpus for name, per in BYTES_PER_PARAMETER.items()}
    activations = logits = attention = None
    if architecture is not None:
        layers, hidden, vocab = architecture["layers"], architecture["hidden_size"], architecture["vocab_size"]
        soft_capping = bool(architecture.get("soft_capping", False))
        if gpus > 1:
            # FSDP: the root unit (the tied embedding) is gathered, with its gradient, for the whole step; two
            # layers are gathered at a time and one layer's gradient waits for its reduce-scatter.
            embedding = vocab * hidden
            layer_parameters = max(0.0, parameters - embedding) / layers
            memory["weights"] += (embedding + 2 * layer_parameters) * copy_bytes
            memory["gradients"] += (embedding + layer_parameters) * copy_bytes
        tokens = micro_batch_size * max_length
        one_layer = LAYER_ACTIVATION_BYTES * tokens * hidden * copy_bytes / 2
        if gradient_checkpointing:
            activations = layers * tokens * hidden * copy_bytes + one_layer
        else:
            activations = layers * one_layer
        logits = tokens * vocab * (LOGIT_BYTES + (copy_bytes if soft_capping else 0))
        attention = 0.0
        if soft_capping:
            heads = architecture.get("heads")
            if not heads:
                raise PlanError("a model with soft_capping: true trains with eager attention, whose scores need "
                                "its attention heads: config key 'models.<model>.architecture.heads' "
                                "(num_attention_heads of its config.json)")
            scores = micro_batch_size * heads * max_length ** 2
            kept = 1 if gradient_checkpointing else layers
            attention = scores * (kept * SCORE_BYTES[precision] + SCORE_BACKWARD_BYTES[precision])
    memory = {name: value / GIB for name, value in memory.items()}
    for name, value in (("activations", activations), ("logits", logits), ("attention", attention)):
        memory[name] = None if value is None else value / GIB
    memory["overhead"] = OVERHEAD_GIB
    memory["total"] = sum(memory[name] for name in MEMORY_PARTS if memory[name] is not None)
    memory["lower_bound"] = activations is None
    return memory


def check_fits(memory: dict, gpu_memory_gb: float, *, student: str, gpus: int) -> None:
    """Raise PlanError, naming the config keys that shrink the job, if it needs more than one GPU has."""
    if memory["total"] <= gpu_memory_gb:
        return
    parts = ", ".join(f"{name} {memory[name]:.1f}" for name in MEMORY_PARTS if memory.get(name))
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


def job_memory(config: Study, student: str, budget: str, gpus: int, *, micro_batch_size: int | None = None,
               gradient_checkpointing: bool | None = None) -> dict:
    """``finetune_memory`` of one student's finetuning job on ``gpus`` GPUs, from the config (or with the micro
    batch or gradient checkpointing given here instead)."""
    settings = study.finetune_settings(config, student, budget)
    return finetune_memory(study.model_parameters(config, student), model_architecture(config, student),
                           gpus=gpus, micro_batch_size=micro_batch_size or _micro_batch(settings, gpus),
                           max_length=config.finetune.max_length,
                           precision=gpu_precision(settings["precision"]),
                           gradient_checkpointing=(settings["gradient_checkpointing"] if gradient_checkpointing is None
                                                   else gradient_checkpointing))


def fit_options(config: Study, student: str, budget: str, gpus: int, gpu_memory_gb: float) -> list[dict]:
    """What makes a student fit in ``gpu_memory_gb`` on the job's ``gpus`` GPUs (one node), other than the
    configured setting: for gradient checkpointing as configured, and then on where it is off, the largest
    micro batch up to the configured one that fits (gradient accumulation keeps the global batch).  Each option
    is ``{micro_batch_size, accumulation, gradient_checkpointing, memory}``; none where nothing fits or the
    global batch cannot be split over the GPUs."""
    settings = study.finetune_settings(config, student, budget)
    try:
        configured = study.micro_batch(settings["batch_size"], settings["micro_batch_size"], gpus)
    except ValueError:
        return []
    per_process = settings["batch_size"] // max(1, gpus)
    micros = [m for m in range(configured, 0, -1) if per_process % m == 0]
    checkpointing = [settings["gradient_checkpointing"]] + ([True] if not settings["gradient_checkpointing"] else [])
    options = []
    for on in checkpointing:
        for micro in micros:
            if (micro, on) == (configured, settings["gradient_checkpointing"]):
                continue
            memory = job_memory(config, student, budget, gpus, micro_batch_size=micro, gradient_checkpointing=on)
            if memory["total"] <= gpu_memory_gb:
                options.append({"micro_batch_size": micro, "accumulation": per_process // micro,
                                "gradient_checkpointing": on, "memory": memory})
                break
    return options


# --- the whole study ------------------------------------------------------------------------------

def _plan_section(config: Study) -> Plan:
    if config.plan is None:
        raise PlanError("config has no 'plan' section: add config key 'plan' with gpu_memory_gb, gpu_peak_tflops, "
                        "training_mfu, sampling_mfu, mean_prompt_tokens, mean_completion_tokens, gpu_counts and "
                        "dataset_sizes (see config.yaml)")
    return config.plan


def dataset_problems(config: Study, dataset: str) -> dict:
    """Train (sampled, after the validation hold-out), validation and test problems of a dataset."""
    spec = config.datasets[dataset]
    toy = spec.toy
    if toy is not None:
        return {"train": toy["train"], "validation": toy["validation"], "test": toy["test"]}
    sizes = (_plan_section(config).dataset_sizes or {}).get(dataset)
    if sizes is None:
        raise PlanError(f"config key 'plan.dataset_sizes.{dataset}' is needed: train and test problems of "
                        f"dataset {dataset!r}")
    validation = spec.validation
    exemplars_from = (spec.exemplars or {"from": "train"}).get("from")
    taken = {split: (validation["size"] if validation["from"] == split else 0)
             + (spec.few_shot if exemplars_from == split else 0) for split in ("train", "test")}
    # Validation from test comes out of the test set only when the test set is the source's test split.
    if spec.test_source is not None:
        taken["test"] = 0
    for split, count in taken.items():
        if count >= sizes[split]:
            raise PlanError(f"config keys 'datasets.{dataset}.validation' and '.exemplars' take {count} problems, "
                            f"all of plan.dataset_sizes.{dataset}.{split} ({sizes[split]})")
    return {"train": sizes["train"] - taken["train"], "validation": validation["size"],
            "test": sizes["test"] - taken["test"]}


def _students(config: Study) -> list[tuple[str, str]]:
    """Every student once, with the first budget it trains at."""
    seen = {}
    for spec in config.generator_pairs.values():
        for student in spec.students:
            seen.setdefault(student, spec.budgets[0])
    return list(seen.items())


def _gpu_hours(flops: float, plan: Plan, mfu: float) -> float:
    return flops / (plan.gpu_peak_tflops * 1e12 * mfu) / 3600


def _generation_cost(config: Study, plan: Plan, model: str, tokens: float, default_backend: str) -> dict:
    """GPU-hours (2P FLOPs a token at the sampling MFU) or, for API models, USD (``study.token_cost``)."""
    backend = study.model_backend(config, model, default_backend)
    if backend == "openai_api":
        if config.models[model].price_per_million_tokens is None:
            raise PlanError(f"config key 'models.{model}.price_per_million_tokens' is needed to price its API calls")
        return {"backend": backend, "gpu_hours": 0.0, "usd": tokens * study.token_cost(config, model, "usd")}
    flops = tokens * study.token_cost(config, model, "flops")
    return {"backend": backend, "gpu_hours": _gpu_hours(flops, plan, plan.sampling_mfu), "usd": 0.0}


def _memory_rows(config: Study, plan: Plan, finetune_gpus: int) -> list[dict]:
    counts = sorted(set(plan.gpu_counts) | {max(1, finetune_gpus)})
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
            configured = gpus == max(1, finetune_gpus)
            limit = plan.gpu_memory_gb
            fits = memory["total"] <= limit
            tight = fits and memory["total"] > (1 - TIGHT_MARGIN) * limit
            options = []
            if configured and (tight or not fits):
                options = fit_options(config, student, budget, gpus, (1 - TIGHT_MARGIN) * limit if fits else limit)
            rows.append({"student": student, "gpus": gpus, "configured": configured,
                         "batch_size": settings["batch_size"], "micro_batch_size": micro,
                         "accumulation": accumulation, "gradient_checkpointing": settings["gradient_checkpointing"],
                         "precision": gpu_precision(settings["precision"]), "memory": memory, "fits": fits,
                         "tight": tight, "options": options})
    return rows


def _sampling_rows(config: Study, plan: Plan) -> list[dict]:
    rows = []
    for dataset, generator in study.generators(config):
        problems = dataset_problems(config, dataset)["train"]
        per_question = study.max_samples(config, dataset, generator)
        tokens = problems * per_question * plan.mean_completion_tokens
        rows.append({"dataset": dataset, "generator": generator, "problems": problems,
                     "samples_per_question": per_question, "tokens": tokens,
                     **_generation_cost(config, plan, generator, tokens, config.sampling.backend)})
    return rows


def _finetune_rows(config: Study, plan: Plan) -> list[dict]:
    finetune, evaluation = config.finetune, config.evaluation
    completion = plan.mean_completion_tokens
    rows, gold_seen = [], set()
    for exp in study.experiments(config):
        problems = dataset_problems(config, exp.dataset)
        validation = min(finetune.validation_problems, problems["validation"])
        for student in config.generator_pairs[exp.pair].students:
            settings = study.finetune_settings(config, student, exp.budget)
            parameters = study.model_parameters(config, student)
            # gold runs are shared by the pairs: counted with the first pair that has them; the sources beyond
            # wc, se and gold run where source_scope lets them
            row_sources = [s for s in config.sources if (s != "gold" or (exp.dataset, exp.budget, student) not in gold_seen)
                           and in_scope(config, s, exp.dataset, exp.budget, student)]
            gold_seen.add((exp.dataset, exp.budget, student))
            runs = len(row_sources) * len(study.student_lrs(config, student))
            tokens = settings["steps"] * settings["batch_size"] * (plan.mean_prompt_tokens + completion)
            per_token = 6 * parameters * (4 / 3 if settings["gradient_checkpointing"] else 1)
            validation_tokens = finetune.checkpoints * validation * completion
            test_tokens = problems["test"] * (1 + max(evaluation.maj_k, default=0)) * completion
            rows.append({
                "dataset": exp.dataset, "pair": exp.pair, "budget": exp.budget, "student": student,
                "runs": runs, "sources": len(row_sources), "lrs": len(study.student_lrs(config, student)),
                "steps": settings["steps"],
                "batch_size": settings["batch_size"], "train_tokens": runs * tokens,
                "finetuning": _gpu_hours(runs * tokens * per_token, plan, plan.training_mfu),
                "validation": _gpu_hours(runs * validation_tokens * 2 * parameters, plan, plan.sampling_mfu),
                "evaluation": _gpu_hours(len(row_sources) * test_tokens * 2 * parameters, plan, plan.sampling_mfu),
            })
    return rows


def _base_evaluation_rows(config: Study, plan: Plan) -> list[dict]:
    """Every generator and student evaluated before finetuning, once per dataset (rule evaluate_base)."""
    evaluation = config.evaluation
    rows, seen = [], set()
    for exp in study.experiments(config):
        for model in config.generator_pairs[exp.pair].models:
            if (exp.dataset, model) in seen:
                continue
            seen.add((exp.dataset, model))
            # zero-shot greedy and maj@k votes, few-shot greedy, and zero-shot greedy on validation
            problems = dataset_problems(config, exp.dataset)
            tokens = ((problems["test"] * (2 + max(evaluation.maj_k, default=0)) + problems["validation"])
                      * plan.mean_completion_tokens)
            rows.append({"dataset": exp.dataset, "model": model, "tokens": tokens,
                         **_generation_cost(config, plan, model, tokens, evaluation.backend)})
    return rows


def study_plan(config: Study, finetune_gpus: int) -> dict:
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
        "assumptions": {**plan.as_dict(), "precision": gpu_precision(config.finetune.precision),
                        "finetune_gpus": finetune_gpus, "sources": config.sources,
                        "max_length": config.finetune.max_length},
        "memory": memory, "sampling": sampling, "finetuning": finetuning, "base_evaluation": base,
        "totals": totals,
        "configured": {"gpus": max(1, finetune_gpus), "students": len(configured),
                       "fit": sum(row["fits"] for row in configured),
                       "too_big": [row["student"] for row in configured if not row["fits"]],
                       "rows": configured},
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
               "activations", "logits", "attention scores", "total", f"fits {limit:g} GB"]
    rows = []
    for row in plan["memory"]:
        m = row["memory"]
        if row["accumulation"] is None:
            accumulation = f"batch {row['batch_size']} cannot be split over {row['gpus']} GPUs"
        else:
            accumulation = str(row["accumulation"])
        total = (">= " if m["lower_bound"] else "") + _gib(m["total"])
        attention = "-" if m["attention"] == 0 else _gib(m["attention"])
        rows.append([row["student"], f"{row['gpus']}{' (configured)' if row['configured'] else ''}",
                     str(row["micro_batch_size"]), accumulation, _gib(m["weights"]), _gib(m["gradients"]),
                     _gib(m["optimizer"]), _gib(m["activations"]), _gib(m["logits"]), attention, total,
                     "fits" if row["fits"] else "does not fit"])
    return _table(headers, rows, {1, 2, 4, 5, 6, 7, 8, 9, 10})


def _how(micro: int, accumulation: int | None, checkpointing: bool) -> str:
    steps = "" if accumulation is None else f", {accumulation} accumulation step{'s' if accumulation != 1 else ''}"
    return f"micro batch {micro}{steps}, gradient checkpointing {'on' if checkpointing else 'off'}"


def _option(student: str, row: dict, option: dict, limit: float) -> str:
    changes = []
    if option["micro_batch_size"] != row["micro_batch_size"]:
        changes.append(f"finetune.students.{student}.micro_batch_size: {option['micro_batch_size']}")
    if option["gradient_checkpointing"] != row["gradient_checkpointing"]:
        changes.append("finetune.gradient_checkpointing: true")
    return (f"{_how(option['micro_batch_size'], option['accumulation'], option['gradient_checkpointing'])} "
            f"({'; '.join(changes)}): {_gib(option['memory']['total'])} GiB, "
            f"{_gib(limit - option['memory']['total'])} to spare")


def _student_verdicts(plan: dict) -> str:
    """One line a student at the configured GPU count: its memory, whether it fits, and if not what would."""
    limit = plan["assumptions"]["gpu_memory_gb"]
    lines = []
    for row in plan["configured"]["rows"]:
        student, m = row["student"], row["memory"]
        how = _how(row["micro_batch_size"], row["accumulation"], row["gradient_checkpointing"])
        total = ("at least " if m["lower_bound"] else "") + f"{_gib(m['total'])} GiB per GPU"
        if row["fits"] and not row["tight"]:
            lines.append(f"- {student}: {total} ({how}): fits, {_gib(limit - m['total'])} GiB to spare.")
            continue
        if row["fits"]:
            line = (f"- {student}: {total} ({how}): fits, but only {_gib(limit - m['total'])} GiB to spare (under "
                    f"{TIGHT_MARGIN:.0%} of the GPU, within the estimate's error).")
            if row["options"]:
                line += " More room: " + "; or ".join(_option(student, row, o, limit) for o in row["options"]) + "."
            lines.append(line)
            continue
        line = f"- {student}: {total} ({how}): **does not fit** {limit:g} GB."
        if row["options"]:
            line += " It fits with " + "; or with ".join(_option(student, row, o, limit) for o in row["options"]) + "."
        else:
            line += (" No smaller micro batch fits, with gradient checkpointing or without: it needs more GPUs "
                     "than one node's (resources.finetune.gpu), a shorter finetune.max_length, or GPUs with more "
                     "memory (plan.gpu_memory_gb).")
        lines.append(line)
    return "\n".join(lines)


def _verdict(plan: dict) -> str:
    c = plan["configured"]
    where = (f"At the configured {_gpus(c['gpus'])} per finetuning job and finetune.max_length "
             f"{plan['assumptions']['max_length']}")
    if not c["too_big"]:
        head = f"{where}, all {c['students']} students fit:"
    else:
        head = f"{where}, {c['fit']} of {c['students']} students fit; **not {', '.join(c['too_big'])}**:"
    return head + "\n\n" + _student_verdicts(plan)


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
        "accumulation). With more than one GPU, weights and gradients include what FSDP gathers: the root unit's "
        "tied embedding (vocabulary x hidden, the LM head's too) and its gradient for the whole step, two layers "
        "(prefetch) and one layer's gradient. Activations: every layer's input and one recomputed layer with "
        "gradient checkpointing, every layer's activations without. Logits: the loss's fp32 micro batch x "
        "max_length x vocabulary tensors. Attention scores: eager attention's micro batch x heads x max_length^2 "
        "scores, for soft-capping models (Gemma 2); `-`: SDPA stores none. Total includes 2 GiB of overhead and "
        "counts both the loss's peak and a layer's backward, which come one after the other (an upper bound); "
        "the byte counts are in weakstrong/plan.py."
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
    tight = [row["student"] for row in c["rows"] if row["tight"]]
    too_big = f" (not {', '.join(c['too_big'])})" if c["too_big"] else ""
    margin = f"; {', '.join(tight)} with under {TIGHT_MARGIN:.0%} to spare" if tight else ""
    return (f"plan: {_hours(totals['gpu_hours'])} GPU-hours{api} in all; {c['fit']} of {c['students']} "
            f"students fit in {plan['assumptions']['gpu_memory_gb']:g} GB at {_gpus(c['gpus'])} per finetuning "
            f"job{too_big}{margin}")


def write_plan(config: Study, finetune_gpus: int, path: str | Path) -> dict:
    """Write the Markdown plan to ``path``; returns the plan."""
    plan = study_plan(config, finetune_gpus)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_plan(plan))
    return plan
