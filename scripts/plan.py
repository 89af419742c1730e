"""The study's plan without running a model: memory per finetuning GPU and GPU-hours (results/plan.md)."""
from weakstrong.logs import log_to
from weakstrong.plan import summary, write_plan

with log_to(snakemake.log[0]):
    plan = write_plan(snakemake.params.study, snakemake.params.finetune_gpus, snakemake.output[0])
    print(summary(plan))
