"""Finetune a student on one source's data at one learning rate (accelerate launch over resources.gpu),
then score its checkpoints on validation."""
from pathlib import Path

from weakstrong.devices import claim_gpus
from weakstrong.launch import launch
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.requests import FinetuneRequest, FitCheck
from weakstrong.training import TrainSettings

# Snakemake sets __file__ to this script's place in the workflow; more than one GPU shards with this config.
ACCELERATE_CONFIG = Path(__file__).resolve().parent.parent / "accelerate" / "fsdp.yaml"

if __name__ == "__main__":
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads, p.eval_backend)
        request = FinetuneRequest(
            output=snakemake.output[0], base_model=p.base_model, sft_data=snakemake.input.sft,
            validation=snakemake.input.validation, style=p.style, validation_problems=p.validation_problems,
            max_tokens=p.max_tokens, eval_backend=p.eval_backend, settings=TrainSettings(**p.settings),
            fit=FitCheck(**p.fit) if p.fit else None, machine=machine)
        launch(request, gpus=snakemake.resources.gpu, threads=machine["threads"], memory_mb=snakemake.resources.mem_mb,
               accelerate_config=ACCELERATE_CONFIG)
