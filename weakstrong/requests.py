"""The training jobs' requests: what a Snakemake job hands to ``weakstrong.launch``, typed, and written to and
read from JSON in one place (``write_request`` / ``read_request``), since under ``accelerate launch`` each
training process reads it back from the file beside the output.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from weakstrong.training import TrainSettings


@dataclass(frozen=True)
class FitCheck:
    """What a finetune job checks, before loading the model, that it fits (``weakstrong.plan``)."""
    student: str
    parameters: float
    architecture: dict | None
    gpu_memory_gb: float


@dataclass(frozen=True)
class FinetuneRequest:
    """SFT of ``base_model`` on ``sft_data``, then every checkpoint scored on ``validation_problems`` of
    ``validation`` through ``eval_backend`` (greedy, ``max_tokens`` tokens)."""
    output: str
    base_model: str
    sft_data: str
    validation: str
    style: str
    validation_problems: int
    max_tokens: int
    eval_backend: str
    settings: TrainSettings
    fit: FitCheck | None = None
    machine: dict | None = None

    job = "finetune"


@dataclass(frozen=True)
class PretrainRequest:
    """A toy model from scratch: ``spec`` (``models.<m>.toy``) trained on ``corpus`` with ``tokenizer``."""
    output: str
    spec: dict
    settings: TrainSettings
    corpus: str
    tokenizer: str
    machine: dict | None = None

    job = "pretrain_toy"


REQUESTS = {kind.job: kind for kind in (FinetuneRequest, PretrainRequest)}


def resumable_part(request: FinetuneRequest | PretrainRequest) -> dict:
    """What a partial run's checkpoints depend on: a rerun resumes them only if all of it is unchanged."""
    record = to_record(request)
    return {key: record.get(key) for key in ("job", "settings", "base_model", "sft_data", "spec", "corpus",
                                             "tokenizer")}


def to_record(request: FinetuneRequest | PretrainRequest) -> dict:
    return {"job": request.job, **asdict(request)}


def from_record(record: dict, source: str = "request") -> FinetuneRequest | PretrainRequest:
    """The request a record describes; an unknown job or field is an error naming ``source``."""
    kind = REQUESTS.get(record.get("job"))
    if kind is None:
        raise ValueError(f"{source}: unknown training job {record.get('job')!r}; expected one of {sorted(REQUESTS)}")
    values = {key: value for key, value in record.items() if key != "job"}
    known = {field.name for field in fields(kind)}
    if set(values) - known:
        raise ValueError(f"{source}: unknown fields {sorted(set(values) - known)} for a {kind.job} request")
    values["settings"] = TrainSettings(**values["settings"])
    if values.get("fit") is not None:
        values["fit"] = FitCheck(**values["fit"])
    return kind(**values)


def write_request(request: FinetuneRequest | PretrainRequest, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_record(request), indent=2))


def read_request(path: str | Path) -> FinetuneRequest | PretrainRequest:
    return from_record(json.loads(Path(path).read_text()), source=str(path))
