# `snakemake plan`: memory per finetuning GPU and GPU-hours of the whole study, from the config alone
# (no model is loaded or run). The plan is about the whole configuration, so it takes all of it.


rule write_plan:
    output:
        layout("plan"),
    log:
        log_path("write_plan", replicate=False),
    conda:
        MODEL_ENV
    params:
        study=STUDY,
        finetune_gpus=resources_of("finetune")["gpu"],
        code_version=get_code_version("scripts/plan.py"),
    script:
        "../scripts/plan.py"


rule plan:
    input:
        rules.write_plan.output,
