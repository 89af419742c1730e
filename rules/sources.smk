# Stage 3b, 7c: the sources of finetuning data beyond wc, se and gold (weakstrong/sources.py), named by what they
# keep of a budget's samples: <side>.unfiltered (every sample), <side>.judged (those the LLM judge rates correct
# without the gold answer), <side>.majority (those with the question's majority answer) and mix (the union of the
# wc and se data). They sample nothing; finetune, select_checkpoint and evaluate run them as they run wc and se,
# and Tables 1b (without gold answers) and 1c (mixed) compare them.


rule build_extra_sft_data:
    input:
        train=layout("data", split="train"),
        graded=get_extra_source_inputs("graded"),
        verdicts=get_extra_source_inputs("verdicts"),
    output:
        layout("sft"),
    log:
        log_path("build_extra_sft_data", "{dataset}/{pair}/{budget}/{source}"),
    # wc, se and gold are build_sft_data's, the ablations' variants build_ablation_sft_data's
    wildcard_constraints:
        source=EXTRA_SOURCES,
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("build_extra_sft_data"),
    params:
        per_question=get_build_extra_sft_data_per_question,
        code_version=get_code_version("scripts/build_extra_sft_data.py"),
    script:
        "../scripts/build_extra_sft_data.py"


# The LLM judge as a filter without gold answers: a greedy verdict on every one of a generator's samples that a
# judged source needs (the most any finetuned budget takes per question), from prompts/judge-nogold.txt, which
# shows the question and the solution only. Table 2's judge (judge_solutions) is another: it sees the reference
# solution and rates the reasoning of kept solutions.


rule judge_samples:
    input:
        graded=layout("graded"),
        problems=layout("data", split="train"),
        model=get_judge_model_inputs,
    output:
        records=layout("verdicts", ext="jsonl"),
        summary=layout("verdicts", ext="json"),
    log:
        log_path("judge_samples", "{dataset}/{generator}"),
    benchmark:
        benchmark_path("judge_samples", "{dataset}/{generator}")
    conda:
        MODEL_ENV
    threads: threads_of("judge_samples")
    resources:
        **resources_of("judge_samples"),
    params:
        numerics=NUMERICS,
        per_question=get_judge_samples_per_question,
        seed=get_replicate_seed,
        model=get_judge_model_path,
        judge=get_judge_setting("model"),
        backend=lambda wildcards: study.model_backend(STUDY, JUDGE.model, STUDY.evaluation.backend),
        max_tokens=get_judge_setting("max_tokens"),
        template=JUDGE_FILTER_TEMPLATE,
        template_sha256=versions.file_digest(JUDGE_FILTER_TEMPLATE),
        openai_api=STUDY.openai_api,
        code_version=get_code_version("scripts/judge_samples.py"),
    script:
        "../scripts/judge_samples.py"


# Table 1b (table: nogold) and 1c (mixed), with their rows as JSON for the findings.


rule make_source_table:
    input:
        evaluations=get_cell_files(get_make_source_table_cells, "paths"),
        sft=get_cell_files(get_make_source_table_cells, "sft"),
        provenance=layout("provenance"),
    output:
        tex=report(layout("source_table", ext="tex"), caption="../report/source_tables.rst", category="Tables"),
        md=report(layout("source_table", ext="md"), caption="../report/source_tables.rst", category="Tables"),
        json=layout("source_table", ext="json"),
    log:
        log_path("make_source_table", "{table}", replicate=False),
    wildcard_constraints:
        table=targets.wildcard_choices(targets.SOURCE_TABLES),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_source_table"),
    params:
        cells=get_make_source_table_cells,
        judge_model=JUDGE.model if JUDGE else None,
        code_version=get_code_version("scripts/make_source_table.py"),
    script:
        "../scripts/make_source_table.py"
