"""Pre-train one toy model from scratch (Accelerate, same loop as finetuning)."""
from pathlib import Path

from weakstrong.launch import launch
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.requests import PretrainRequest
from weakstrong.training import TrainSettings

# Snakemake sets __file__ to this script's place in the workflow; more than one GPU shards with this config.
ACCELERATE_CONFIG = Path(__file__).resolve().parent.parent / "accelerate" / "fsdp.yaml"

if __name__ == "__main__":
    with log_to(snakemake.log[0]):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads)
        spec = p.spec
        settings = TrainSettings(lr=spec["lr"], steps=spec["steps"], batch_size=spec["batch_size"],
                                 checkpoints=max(1, min(4, spec["steps"])), seed=p.seed, max_length=spec["max_positions"])
        request = PretrainRequest(output=snakemake.output[0], spec=spec, settings=settings,
                                  corpus=snakemake.input.corpus, tokenizer=snakemake.input.tokenizer, machine=machine)
        launch(request, gpus=snakemake.resources.gpu, threads=machine["threads"], accelerate_config=ACCELERATE_CONFIG)
