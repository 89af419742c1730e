# Stage 4: the quality of each budget's data, SE at k against WC at ratio*k: coverage, diversity and
# false-positive rate.


rule measure_data:
    input:
        problems=layout("data", split="train"),
        se=get_pair_graded("se"),
        wc=get_pair_graded("wc"),
    output:
        layout("metrics"),
    log:
        log_path("measure_data", "{dataset}/{pair}/{budget}"),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("measure_data"),
    params:
        k_se=get_setting("budgets/{budget}"),
        ratio=lambda wildcards: study.samples_ratio(STUDY, wildcards.pair),
        style=get_setting("datasets/{dataset}/style"),
        cost_ratio=lambda wildcards: study.cost_ratio(STUDY, wildcards.pair),
        match=get_setting("generator_pairs/{pair}/match"),
        code_version=get_code_version("scripts/measure_data.py"),
    script:
        "../scripts/measure_data.py"


# The LLM judge (optional: the config's `judge` section), per budget and source: greedy verdicts on a
# level-stratified sample of that budget's kept solutions (the first samples_per_question samples of each
# problem, as the SFT data and measure_data take them), so Table 2's false-positive rate describes the data
# each student trains on. Unparsable replies are counted apart from the flawed rate.


rule judge_solutions:
    input:
        graded=get_source_graded,
        problems=layout("data", split="train"),
        model=get_judge_model_inputs,
    output:
        records=layout("judge", ext="jsonl"),
        summary=layout("judge", ext="json"),
    log:
        log_path("judge_solutions", "{dataset}/{pair}/{budget}/{source}"),
    benchmark:
        benchmark_path("judge_solutions", "{dataset}/{pair}/{budget}/{source}")
    conda:
        MODEL_ENV
    threads: threads_of("judge_solutions")
    resources:
        **resources_of("judge_solutions"),
    params:
        numerics=NUMERICS,
        n=get_judge_setting("solutions_per_source"),
        seed=get_replicate_seed,
        generator=get_source_generator,
        per_question=get_samples_per_question,
        model=get_judge_model_path,
        judge=get_judge_setting("model"),
        backend=get_judge_backend,
        max_tokens=get_judge_setting("max_tokens"),
        template=JUDGE_TEMPLATE,
        template_sha256=versions.file_digest(JUDGE_TEMPLATE),
        openai_api=STUDY.openai_api,
        code_version=get_code_version("scripts/judge_solutions.py"),
    script:
        "../scripts/judge_solutions.py"


# The human audit, per budget: a blind rating form of `judge.audit_size` solutions per source, drawn from
# those the judge sees at that budget (so the judge's agreement with humans can be measured). Open
# form.html in a browser, rate, download the CSV and save it as
# <judge.ratings_dir, default audit>/{dataset}/{pair}/{budget}/ratings.csv (relative to the working
# directory); then `snakemake audit` (or the summary file itself) runs summarize_audit. It is not in `all`,
# as the ratings come from people; once they exist, Table 2 reads the summary as its "Human FP" column.


rule export_audit_form:
    input:
        problems=layout("data", split="train"),
        se=get_pair_graded("se"),
        wc=get_pair_graded("wc"),
    output:
        form=layout("audit", file="form.html"),
        template=layout("audit", file="ratings-template.csv"),
        # which solution each item is; for summarize_audit, never for raters (they stay blind)
        key=layout("audit", file="key.csv"),
    log:
        log_path("export_audit_form", "{dataset}/{pair}/{budget}"),
    # people rate one set of solutions: the first replicate's (targets.audit_file)
    wildcard_constraints:
        replicate=str(FIRST_REPLICATE),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("export_audit_form"),
    params:
        # the judge's selection, so that every audited solution is a judged one
        n=get_judge_setting("solutions_per_source"),
        seed=get_replicate_seed,
        per_source=get_judge_setting("audit_size"),
        per_question=get_export_audit_form_per_question,
        ratings=get_audit_ratings,
        code_version=get_code_version("scripts/export_audit_form.py"),
    script:
        "../scripts/export_audit_form.py"


rule summarize_audit:
    input:
        ratings=get_audit_ratings,
        key=rules.export_audit_form.output.key,
        judge=[layout("judge", source=source, ext="jsonl") for source in ("se", "wc")],
    output:
        layout("audit", file="summary.json"),
    log:
        log_path("summarize_audit", "{dataset}/{pair}/{budget}"),
    # people rate one set of solutions: the first replicate's (targets.audit_file)
    wildcard_constraints:
        replicate=str(FIRST_REPLICATE),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("summarize_audit"),
    params:
        code_version=get_code_version("scripts/summarize_audit.py"),
    script:
        "../scripts/summarize_audit.py"
