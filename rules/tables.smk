# Stage 7: the paper's tables (booktabs LaTeX and Markdown) and figures.


# The machines every number was computed on, from the machine record each model job wrote beside its output
# (weakstrong.numerics): Table 1's caption, the findings and the paper name them.
rule record_provenance:
    input:
        toy_models=targets.toy_model_dirs(STUDY, LAYOUT),
        samples=targets.sample_machine_files(STUDY, LAYOUT),
        finetune_runs=targets.finetune_run_dirs(STUDY, LAYOUT),
        evaluations=targets.evaluation_files(STUDY, LAYOUT),
        base=targets.base_evaluation_files(STUDY, LAYOUT),
        transfer=targets.transfer_evaluation_files(STUDY, LAYOUT),
    output:
        layout("provenance"),
    log:
        log_path("record_provenance", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("record_provenance"),
    params:
        numerics=NUMERICS,
        code_version=get_code_version("scripts/record_provenance.py"),
    script:
        "../scripts/record_provenance.py"


rule make_table1:
    input:
        evaluations=targets.evaluation_files(STUDY, LAYOUT),
        base=targets.base_evaluation_files(STUDY, LAYOUT),
        provenance=layout("provenance"),
    output:
        tex=report(layout("table1", ext="tex"), caption="../report/table1.rst", category="Tables"),
        md=report(layout("table1", ext="md"), caption="../report/table1.rst", category="Tables"),
        # pass@1 and maj@k of every cell, with the selected checkpoint
        detail_tex=report(layout("table1_detail", ext="tex"), caption="../report/table1_detail.rst", category="Tables"),
        detail_md=report(layout("table1_detail", ext="md"), caption="../report/table1_detail.rst", category="Tables"),
    log:
        log_path("make_table1", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_table1"),
    params:
        cells=targets.table1_cells(STUDY, LAYOUT),
        maj_k=STUDY.evaluation.maj_k,
        code_version=get_code_version("scripts/make_table1.py"),
    script:
        "../scripts/make_table1.py"


# Table 2's false-positive rate is the LLM judge's per budget and source (the paper's measure), with the
# human audit's where ratings exist; the arithmetic checker's rate is a column of its own.
rule make_table2:
    input:
        metrics=targets.metrics_files(STUDY, LAYOUT),
        judge=targets.judge_summary_files(STUDY, LAYOUT),
        audit=targets.audit_summary_files(STUDY, LAYOUT),
    output:
        tex=report(layout("table2", ext="tex"), caption="../report/table2.rst", category="Tables"),
        md=report(layout("table2", ext="md"), caption="../report/table2.rst", category="Tables"),
    log:
        log_path("make_table2", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_table2"),
    params:
        cells=targets.table2_cells(STUDY, LAYOUT),
        judge_model=JUDGE.model if JUDGE else None,
        code_version=get_code_version("scripts/make_table2.py"),
    script:
        "../scripts/make_table2.py"
