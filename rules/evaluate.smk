# Stage 6: test accuracy of the selected checkpoints, and of every model before finetuning.


rule evaluate:
    input:
        unpack(get_evaluate_input),
    output:
        f"{RESULTS}/evaluation/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}.json",
    params:
        get_evaluate_params,
    log:
        f"{LOGS}/evaluate/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}.tsv"
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/evaluate.py"


rule evaluate_base:
    input:
        unpack(get_evaluate_base_input),
    output:
        f"{RESULTS}/evaluation/{{dataset}}/base/{{model}}.json",
    params:
        get_evaluate_base_params,
    log:
        f"{LOGS}/evaluate_base/{{dataset}}/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate_base/{{dataset}}/{{model}}.tsv"
    threads: threads_of("evaluate_base")
    resources:
        **resources_of("evaluate_base"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/evaluate_base.py"
