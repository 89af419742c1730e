# The reasoning errors of the finetuned students (weakstrong/student_errors.py): false positives among each
# selected student's correct greedy test solutions, which the evaluations keep, measured as Table 2 measures the
# data. The arithmetic checker runs in every replicate, inside make_student_errors_table (text checks, seconds);
# with a `judge` section the LLM judge rates each arm's solutions of the first replicate and a blind audit form
# mixes both arms of a student. WC against SE is paired over the test problems both students solved.


rule judge_student_solutions:
    input:
        evaluation=layout("evaluation"),
        problems=layout("data", split="test"),
        model=get_judge_model_inputs,
    output:
        records=layout("student_judge", ext="jsonl"),
        summary=layout("student_judge", ext="json"),
    log:
        log_path("judge_student_solutions", "{dataset}/{pair}/{budget}/{student}/{source}"),
    benchmark:
        benchmark_path("judge_student_solutions", "{dataset}/{pair}/{budget}/{student}/{source}")
    # the judge rates the first replicate's students (targets.student_judge_file), finetuned on WC or SE data
    wildcard_constraints:
        replicate=str(FIRST_REPLICATE),
        source="wc|se",
    conda:
        MODEL_ENV
    threads: threads_of("judge_student_solutions")
    resources:
        **resources_of("judge_student_solutions"),
    params:
        numerics=NUMERICS,
        # the same number per arm as the data's judge; one order of the test problems for both arms (the seed)
        n=get_judge_setting("solutions_per_source"),
        seed=get_replicate_seed,
        generator=get_source_generator,
        model=get_judge_model_path,
        judge=get_judge_setting("model"),
        backend=get_judge_backend,
        max_tokens=get_judge_setting("max_tokens"),
        template=JUDGE_TEMPLATE,
        template_sha256=versions.file_digest(JUDGE_TEMPLATE),
        openai_api=STUDY.openai_api,
        code_version=get_code_version("scripts/judge_student_solutions.py"),
    script:
        "../scripts/judge_student_solutions.py"


# A blind form of `judge.audit_size` judged solutions of each arm of a student, in one random order; rate it, save
# the CSV as <judge.ratings_dir>/students/{dataset}/{pair}/{budget}/{student}/ratings.csv, and `snakemake audit`
# writes its summary (summarize_student_audit), which the student-errors table then reads.


rule export_student_audit_form:
    input:
        problems=layout("data", split="test"),
        se=layout("evaluation", source="se"),
        wc=layout("evaluation", source="wc"),
    output:
        form=layout("student_audit", file="form.html"),
        template=layout("student_audit", file="ratings-template.csv"),
        # which arm wrote each item; for summarize_student_audit, never for raters
        key=layout("student_audit", file="key.csv"),
    log:
        log_path("export_student_audit_form", "{dataset}/{pair}/{budget}/{student}"),
    wildcard_constraints:
        replicate=str(FIRST_REPLICATE),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("export_student_audit_form"),
    params:
        # the judge's selection, so that every audited solution is a judged one
        n=get_judge_setting("solutions_per_source"),
        seed=get_replicate_seed,
        per_source=get_judge_setting("audit_size"),
        generators=lambda wildcards: targets.student_generators(STUDY, wildcards.pair),
        ratings=get_student_audit_ratings,
        code_version=get_code_version("scripts/export_student_audit_form.py"),
    script:
        "../scripts/export_student_audit_form.py"


rule summarize_student_audit:
    input:
        ratings=get_student_audit_ratings,
        key=rules.export_student_audit_form.output.key,
        judge=[layout("student_judge", source=source, ext="jsonl") for source in ("se", "wc")],
    output:
        layout("student_audit", file="summary.json"),
    log:
        log_path("summarize_student_audit", "{dataset}/{pair}/{budget}/{student}"),
    wildcard_constraints:
        replicate=str(FIRST_REPLICATE),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("summarize_student_audit"),
    params:
        code_version=get_code_version("scripts/summarize_audit.py"),
    script:
        "../scripts/summarize_audit.py"


# The table (Table 2's style, one row per student and data) and its rows as JSON for the findings.
rule make_student_errors_table:
    input:
        evaluations=targets.student_error_inputs(STUDY, LAYOUT, "paths"),
        judge=targets.student_error_inputs(STUDY, LAYOUT, "judge"),
        audit=targets.student_error_inputs(STUDY, LAYOUT, "audit"),
    output:
        tex=report(layout("student_errors", ext="tex"), caption="../report/student_errors.rst", category="Tables"),
        md=report(layout("student_errors", ext="md"), caption="../report/student_errors.rst", category="Tables"),
        json=layout("student_errors", ext="json"),
    log:
        log_path("make_student_errors_table", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_student_errors_table"),
    params:
        cells=targets.student_error_cells(STUDY, LAYOUT),
        judge_model=JUDGE.model if JUDGE else None,
        code_version=get_code_version("scripts/make_student_errors_table.py"),
    script:
        "../scripts/make_student_errors_table.py"
