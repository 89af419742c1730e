"""What the configuration implies: sample counts, settings and the list of experiments.

Equation 1 of the paper: sampling costs 2P FLOPs per token, so at equal compute
``samples_WC = (P_SE / P_WC) * samples_SE``.  Pairs matched on price use the price ratio instead.  The ratio
is rounded to a whole number of samples per question.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from weakstrong.study_config import Study

SETTINGS = ("knowledge distillation", "self-improvement", "weak-to-strong")


def model_parameters(config: Study, model: str) -> float:
    """Parameter count: declared for real models, computed from the architecture for toy ones."""
    spec = config.models[model]
    if spec.is_toy:
        from weakstrong.models import count_toy_parameters
        return float(count_toy_parameters(spec.toy, config.toy_corpus.vocab_size))
    if spec.parameters is None:
        raise KeyError(f"config key 'models.{model}.parameters' is needed to compare compute")
    return float(spec.parameters)


def cost_ratio(config: Study, pair: str) -> float:
    """How many times more a SE sample costs than a WC sample (unrounded)."""
    return pair_token_cost(config, pair, "se") / pair_token_cost(config, pair, "wc")


def samples_ratio(config: Study, pair: str) -> int:
    return max(1, round(cost_ratio(config, pair)))


def samples_per_question(config: Study, pair: str, budget: str, source: str) -> int:
    """Per-question sample count of a source ('se' or 'wc') at a budget."""
    se = config.budgets[budget]
    if source == "se":
        return se
    if source == "wc":
        return samples_ratio(config, pair) * se
    raise ValueError(f"source {source!r} is not sampled (expected 'se' or 'wc')")


def generator_of(config: Study, pair: str, source: str) -> str:
    return config.generator_pairs[pair].generator(source)


def setting(config: Study, pair: str, student: str, source: str) -> str:
    """The paper's setting for training ``student`` on ``source`` data of a pair.

    The WC model on WC data is self-improvement, on SE data distillation; the SE model on WC data is
    weak-to-strong, on its own data self-improvement; any other student is distilled into.
    """
    spec = config.generator_pairs[pair]
    if source == "gold":
        return "gold"
    if student == spec.weak:
        return "self-improvement" if source == "wc" else "knowledge distillation"
    if student == spec.strong:
        return "weak-to-strong" if source == "wc" else "self-improvement"
    return "knowledge distillation"


def max_samples(config: Study, dataset: str, generator: str) -> int:
    """Samples per question to draw once from a generator: the most any budget needs (a budget of k takes
    the first k samples of each question; samples are i.i.d., so this equals separate sampling)."""
    counts = [samples_per_question(config, pair, budget, source)
              for pair, spec in config.generator_pairs.items() if dataset in spec.datasets
              for budget in spec.budgets for source in ("se", "wc")
              if generator_of(config, pair, source) == generator]
    if not counts:
        raise ValueError(f"model {generator!r} generates nothing for dataset {dataset!r}")
    return max(counts)


@dataclass(frozen=True)
class Experiment:
    dataset: str
    pair: str
    budget: str


def experiments(config: Study) -> list[Experiment]:
    return [Experiment(d, p, b) for p, spec in config.generator_pairs.items()
            for d, b in product(spec.datasets, spec.budgets)]


def generators(config: Study) -> list[tuple[str, str]]:
    """(dataset, generator) pairs to sample from."""
    seen = []
    for exp in experiments(config):
        for source in ("wc", "se"):
            key = (exp.dataset, generator_of(config, exp.pair, source))
            if key not in seen:
                seen.append(key)
    return seen


#: Replicates' seeds lie this far apart, so that the offsets a replicate adds to its seed (one per toy model)
#: never reach the next replicate's.
REPLICATE_SEED_STRIDE = 1000


def replicates(config: Study) -> list[int]:
    """The study's replicates, 1..``replicates``: each redraws every random choice a new run of the study would
    make (docs/protocol.md, "Replicates and intervals"), on the same problems."""
    return list(range(1, config.replicates + 1))


def replicate_seed(seed: int, replicate: int) -> int:
    """The seed of a replicate: the config's ``seed`` for the first, then :data:`REPLICATE_SEED_STRIDE` apart.
    It seeds the toy corpus's draw, the toy models' initialisation and pre-training, sampling, finetuning and
    the maj@k votes of that replicate; the problems (the data's seed) are the same in every replicate."""
    if replicate < 1:
        raise ValueError(f"replicates are numbered from 1, got {replicate}")
    return seed + REPLICATE_SEED_STRIDE * (replicate - 1)


def lr_label(lr: float) -> str:
    """Stable text for a learning rate in paths: 1e-06, 0.0003."""
    return f"{lr:g}"


def toy_models(config: Study) -> list[str]:
    return [name for name, spec in config.models.items() if spec.is_toy]


def model_backend(config: Study, model: str, default: str) -> str:
    """The model's own backend, else ``default`` (the stage's: sampling.backend, evaluation.backend)."""
    return config.models[model].backend or default


def sampling_ledger(se_samples: list[dict], wc_samples: list[dict], *, k_se: int, ratio: int,
                    cost_ratio: float, match: str) -> dict:
    """What the budget's samples cost, planned and realized, with WC's cost relative to SE's.

    A SE token weighs ``cost_ratio`` WC tokens (P_SE/P_WC FLOPs, or the price ratio in USD).  Planned is
    Equation 1's ``ratio / cost_ratio`` (samples of equal length, prompts left out); realized weighs the
    generated tokens of the budget's samples.  The token counts include the prompts' (each question's prompt
    once per side: its samples share one prefill, as vLLM draws them), from which the ledger table prices the
    cost with prompts (:func:`weakstrong.tables.ledger_table`)."""
    se, wc = _side_tokens(se_samples, k_se), _side_tokens(wc_samples, ratio * k_se)
    return {"match": match, "cost_ratio": cost_ratio, "samples_ratio": ratio,
            **{f"{side}_{key}": value for side, tokens in (("se", se), ("wc", wc)) for key, value in tokens.items()},
            "planned_wc_cost_relative_to_se": ratio / cost_ratio,
            "wc_cost_relative_to_se": wc["tokens"] / (se["tokens"] * cost_ratio) if se["tokens"] else float("nan")}


def _side_tokens(samples: list[dict], per_question: int) -> dict:
    """Questions, samples, generated tokens and prompt tokens (once per question) of the first ``per_question``
    samples of each question."""
    used = [s for s in samples if s["sample_index"] < per_question]
    prompts = {s["problem_id"]: s["prompt_tokens"] for s in used}
    return {"questions": len(prompts), "samples": len(used), "tokens": sum(s["completion_tokens"] for s in used),
            "prompt_tokens": sum(prompts.values())}


def finetune_settings(config: Study, student: str, budget: str) -> dict:
    """Steps, batch sizes, precision and gradient checkpointing of one student at one budget.

    ``finetune.students.<student>`` overrides the ``finetune`` defaults; ``steps`` is one number or one per
    budget.  Gradient checkpointing defaults to on for real models and off for toy ones (they are tiny).
    """
    finetune = config.finetune
    steps, where = finetune.setting(student, "steps")
    if isinstance(steps, dict):
        if budget not in steps:
            raise KeyError(f"config key '{where}' has no entry for budget {budget!r}")
        steps = steps[budget]
    checkpointing = finetune.gradient_checkpointing
    return {
        "steps": steps,
        "batch_size": finetune.setting(student, "batch_size")[0],
        "micro_batch_size": finetune.setting(student, "micro_batch_size")[0],
        "precision": finetune.precision,
        "gradient_checkpointing": (not config.models[student].is_toy) if checkpointing is None else checkpointing,
    }


def student_lrs(config: Study, student: str) -> list[float]:
    """The learning-rate grid of a student: ``finetune.students.<student>.lrs`` or ``finetune.lrs``."""
    return config.finetune.setting(student, "lrs")[0]


def all_lrs(config: Study) -> list[float]:
    """Every learning rate any student trains at, each once, in config order."""
    return list(dict.fromkeys([*config.finetune.lrs, *(lr for s in config.students for lr in student_lrs(config, s))]))


def micro_batch(batch_size: int, micro_batch_size: int | None, processes: int) -> int:
    """Examples per device and forward pass: the largest divisor of the per-process batch that is at most
    ``micro_batch_size`` (None: no bound), so the global batch splits evenly and no example is dropped."""
    processes = max(1, processes)
    if batch_size % processes:
        raise ValueError(
            f"global batch {batch_size} (config key 'finetune.batch_size', or "
            f"'finetune.students.<student>.batch_size') cannot be split evenly over {processes} processes: change "
            f"it or the job's GPU count (resources.finetune.gpu); finetune.micro_batch_size bounds what one "
            f"device runs at once")
    per_process = batch_size // processes
    bound = min(micro_batch_size or per_process, per_process)
    return max(d for d in range(1, bound + 1) if per_process % d == 0)


def accumulation_steps(batch_size: int, micro_batch_size: int | None, processes: int) -> int:
    """Forward passes per process and optimizer step: processes x micro batch x this = global batch."""
    processes = max(1, processes)
    return batch_size // (processes * micro_batch(batch_size, micro_batch_size, processes))


def token_cost(config: Study, model: str, unit: str, *, prompt: bool = False) -> float:
    """What one token of ``model`` costs, in ``unit``: ``"flops"``, 2P FLOPs (Equation 1; a prompt token as a
    generated one); ``"usd"``, the config's price per million output tokens, or with ``prompt`` per million
    input tokens (0 where the config has no input price: prompts unpriced), over a million."""
    if unit == "usd":
        spec = config.models[model]
        return (spec.input_price_per_million_tokens or 0 if prompt else spec.price_per_million_tokens) / 1e6
    if unit == "flops":
        return 2 * model_parameters(config, model)
    raise ValueError(f"unit {unit!r} is not a cost (expected 'flops' or 'usd')")


def pair_token_cost(config: Study, pair: str, source: str, *, prompt: bool = False) -> float:
    """:func:`token_cost` of the generator of a pair's ``source`` ('se' or 'wc') in the unit the pair is matched
    on: USD on a price-matched pair, FLOPs on a compute-matched one."""
    unit = "usd" if config.generator_pairs[pair].match == "price" else "flops"
    return token_cost(config, generator_of(config, pair, source), unit, prompt=prompt)
