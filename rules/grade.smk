# Stage 3: grade final answers against gold, and keep each budget's correct solutions as finetuning data.


rule grade_samples:
    input:
        samples=layout("samples"),
        train=layout("data", split="train"),
    output:
        graded=layout("graded"),
        grader=layout("grader"),
    log:
        log_path("grade_samples", "{dataset}/{generator}"),
    benchmark:
        benchmark_path("grade_samples", "{dataset}/{generator}")
    conda:
        "../envs/light.yaml"
    threads: threads_of("grade_samples")
    resources:
        **resources_of("grade_samples"),
    params:
        style=get_setting("datasets/{dataset}/style"),
        timeout=STUDY.grading.timeout,
        # a new grader version may change verdicts: regrade. Its version, not a digest of its code, so that
        # editing a comment in weakstrong/grading/ does not regrade and refinetune a whole GPU study
        grader_version=GRADER_VERSION,
    script:
        "../scripts/grade_samples.py"


rule build_sft_data:
    input:
        train=layout("data", split="train"),
        graded=get_source_graded,
    output:
        layout("sft"),
    log:
        log_path("build_sft_data", "{dataset}/{pair}/{budget}/{source}"),
    # the ablations' variants of wc and se are build_ablation_sft_data's (rules/ablations.smk)
    wildcard_constraints:
        source=DATA_SOURCES,
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("build_sft_data"),
    params:
        per_question=get_samples_per_question,
        code_version=get_code_version("scripts/build_sft_data.py"),
    script:
        "../scripts/build_sft_data.py"
