# Stage 3: grade final answers against gold, and keep each budget's correct solutions as finetuning data.


rule grade_samples:
    input:
        samples=f"{RESULTS}/samples/{{dataset}}/{{generator}}.jsonl",
        train=f"{RESULTS}/data/{{dataset}}/train.jsonl",
    output:
        graded=f"{RESULTS}/graded/{{dataset}}/{{generator}}.jsonl",
        grader=f"{RESULTS}/graded/{{dataset}}/{{generator}}.grader.json",
    params:
        style=lambda w: dataset_style(w.dataset),
        timeout=5.0,
        # a new grader version may change verdicts: regrade
        grader_version=GRADER_VERSION,
    log:
        f"{LOGS}/grade_samples/{{dataset}}/{{generator}}.log",
    benchmark:
        f"{BENCHMARKS}/grade_samples/{{dataset}}/{{generator}}.tsv"
    threads: threads_of("grade_samples")
    resources:
        **resources_of("grade_samples"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/grade_samples.py"


rule build_sft_data:
    input:
        unpack(get_build_sft_data_input),
    output:
        f"{RESULTS}/sft/{{dataset}}/{{pair}}/{{budget}}/{{source}}.jsonl",
    params:
        per_question=get_build_sft_data_per_question,
    log:
        f"{LOGS}/build_sft_data/{{dataset}}/{{pair}}/{{budget}}/{{source}}.log",
    threads: 1
    resources:
        **resources_of("build_sft_data"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/build_sft_data.py"
