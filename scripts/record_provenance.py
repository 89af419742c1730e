"""provenance.json: the machines the study's numbers were computed on, from each model job's machine record."""
import json
from pathlib import Path

from weakstrong.data import write_json
from weakstrong.logs import log_to
from weakstrong.provenance import provenance


def machine_of(path: str | Path):
    return json.loads(Path(path).read_text()).get("machine")


with log_to(snakemake.log[0]):
    i = snakemake.input
    records = {
        "pre-training": [machine_of(Path(model) / "pretraining.json") for model in i.toy_models],
        "sampling": [json.loads(Path(path).read_text()) for path in i.samples],
        "finetuning": [machine_of(Path(run) / "scores.json") for run in i.finetune_runs],
        "evaluation": [machine_of(path) for path in [*i.evaluations, *i.base, *i.transfer]],
    }
    result = provenance(records, snakemake.params.numerics)
    write_json(snakemake.output[0], result)
    print(result["caption"])
