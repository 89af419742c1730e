# Stage 5: finetune each student on each source's data at each learning rate and seed (a fixed number of steps,
# evenly spaced checkpoints scored on validation), then select the best (lr, checkpoint); the untrained
# student (its zero-shot validation score from evaluate_base) is a candidate too.


rule finetune:
    input:
        unpack(get_finetune_input),
    output:
        directory(f"{RESULTS}/finetune/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}/lr-{{lr}}"),
    params:
        get_finetune_params,
    log:
        f"{LOGS}/finetune/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}/lr-{{lr}}.log",
    benchmark:
        f"{BENCHMARKS}/finetune/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}/lr-{{lr}}.tsv"
    threads: threads_of("finetune")
    resources:
        **resources_of("finetune"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/finetune.py"


rule select_checkpoint:
    input:
        unpack(get_select_checkpoint_input),
    output:
        f"{RESULTS}/selection/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.json",
    log:
        f"{LOGS}/select_checkpoint/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.log",
    threads: 1
    resources:
        **resources_of("select_checkpoint"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/select_checkpoint.py"
