"""Finetune a student on one source's data at one learning rate (accelerate launch over resources.gpu)."""
from types import SimpleNamespace

from weakstrong.launch import launch
from weakstrong.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0]):
        p = SimpleNamespace(**snakemake.params[0])
        settings = {"lr": p.lr, "steps": p.steps, "batch_size": p.batch_size, "checkpoints": p.checkpoints,
                    "seed": p.seed, "max_length": p.max_length, "gradient_accumulation": p.gradient_accumulation}
        launch({"job": "finetune", "output": snakemake.output[0], "base_model": p.base_model,
                "sft_data": snakemake.input.sft, "validation": snakemake.input.validation, "style": p.style,
                "validation_problems": p.validation_problems, "max_tokens": p.max_tokens, "settings": settings},
               num_processes=snakemake.resources.gpu, threads=snakemake.threads)
