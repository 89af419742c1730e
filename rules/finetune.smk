# Stage 5: finetune each student on each source's data at each learning rate and seed (a fixed number of steps,
# evenly spaced checkpoints scored on validation), then select the best (lr, checkpoint); the untrained
# student (its zero-shot validation score from evaluate_base) is a candidate too.


rule finetune:
    input:
        sft=layout("sft"),
        validation=layout("data", split="validation"),
        model=lambda wildcards: model_inputs(wildcards.student),
    output:
        directory(layout("finetune")),
    log:
        f"{LOGS}/finetune/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}/lr-{{lr}}.log",
    benchmark:
        f"{BENCHMARKS}/finetune/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}/lr-{{lr}}.tsv"
    conda:
        MODEL_ENV
    threads: threads_of("finetune")
    resources:
        **resources_of("finetune"),
    params:
        numerics=NUMERICS,
        base_model=lambda wildcards: model_path(wildcards.student),
        style=lookup(dpath="datasets/{dataset}/style", within=config),
        prompt_sha256=get_prompt_sha256,
        settings=get_finetune_settings,
        # checkpoints are scored on validation, as the untrained student in evaluate_base
        validation_problems=config["finetune"]["validation_problems"],
        eval_backend=config["finetune"]["eval_backend"],
        max_tokens=config["evaluation"]["max_tokens"],
        fit=get_finetune_fit,
    script:
        "../scripts/finetune.py"


rule select_checkpoint:
    input:
        runs=get_select_checkpoint_runs,
        base=layout("base_evaluation", model="{student}"),
    output:
        layout("selection"),
    log:
        f"{LOGS}/select_checkpoint/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.log",
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("select_checkpoint"),
    params:
        code_version=code_version("weakstrong.selection"),
    script:
        "../scripts/select_checkpoint.py"
