# `snakemake plan`: memory per finetuning GPU and GPU-hours of the whole study, from the config alone
# (no model is loaded or run). The plan is about the whole configuration, so it takes all of it.


rule write_plan:
    output:
        f"{RESULTS}/plan.md",
    params:
        study_config=config,
        finetune_gpus=resources_of("finetune")["gpu"],
    log:
        f"{LOGS}/write_plan.log",
    localrule: True
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plan.py"


rule plan:
    input:
        rules.write_plan.output,
