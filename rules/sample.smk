# Stage 2: few-shot solutions from each generator, drawn once at the largest per-question count any budget
# needs (a budget takes the first k samples of each question), in shards that finish independently.


rule sample_solutions:
    input:
        unpack(get_sample_solutions_input),
    output:
        f"{RESULTS}/samples/{{dataset}}/{{generator}}/shard-{{shard}}.jsonl",
    params:
        get_sample_solutions_params,
    log:
        f"{LOGS}/sample_solutions/{{dataset}}/{{generator}}/shard-{{shard}}.log",
    benchmark:
        f"{BENCHMARKS}/sample_solutions/{{dataset}}/{{generator}}/shard-{{shard}}.tsv"
    threads: threads_of("sample_solutions")
    resources:
        **resources_of("sample_solutions"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/sample_solutions.py"


rule gather_samples:
    input:
        get_gather_samples_input,
    output:
        f"{RESULTS}/samples/{{dataset}}/{{generator}}.jsonl",
    log:
        f"{LOGS}/gather_samples/{{dataset}}/{{generator}}.log",
    threads: 1
    resources:
        **resources_of("gather_samples"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/gather_samples.py"
