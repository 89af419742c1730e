# Stage 7: the paper's tables (booktabs LaTeX and Markdown) and figures.


# The machines every number was computed on, from the machine record each model job wrote beside its output
# (weakstrong.numerics): Table 1's caption, the findings and the paper name them.
rule record_provenance:
    input:
        toy_models=toy_model_dirs(),
        samples=sample_machine_files(),
        finetune_runs=finetune_run_dirs(),
        evaluations=evaluation_files(),
        base=base_evaluation_files(),
    output:
        layout("provenance"),
    log:
        f"{LOGS}/record_provenance.log",
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("record_provenance"),
    params:
        numerics=NUMERICS,
        code_version=code_version("weakstrong.provenance"),
    script:
        "../scripts/record_provenance.py"


rule make_table1:
    input:
        evaluations=evaluation_files(),
        base=base_evaluation_files(),
        provenance=layout("provenance"),
    output:
        tex=report(layout("table1", ext="tex"), caption="../report/table1.rst", category="Tables"),
        md=report(layout("table1", ext="md"), caption="../report/table1.rst", category="Tables"),
        # pass@1 and maj@k of every cell, with the selected checkpoint
        detail_tex=report(layout("table1_detail", ext="tex"), caption="../report/table1_detail.rst", category="Tables"),
        detail_md=report(layout("table1_detail", ext="md"), caption="../report/table1_detail.rst", category="Tables"),
    log:
        f"{LOGS}/make_table1.log",
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_table1"),
    params:
        cells=table1_cells(),
        maj_k=MAJ_K,
        code_version=code_version("weakstrong.tables", "weakstrong.stats"),
    script:
        "../scripts/make_table1.py"


# Table 2's false-positive rate is the LLM judge's per budget and source (the paper's measure), with the
# human audit's where ratings exist; the arithmetic checker's rate is a column of its own.
rule make_table2:
    input:
        metrics=metrics_files(),
        judge=judge_summary_files(),
        audit=audit_summary_files(),
    output:
        tex=report(layout("table2", ext="tex"), caption="../report/table2.rst", category="Tables"),
        md=report(layout("table2", ext="md"), caption="../report/table2.rst", category="Tables"),
    log:
        f"{LOGS}/make_table2.log",
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_table2"),
    params:
        cells=table2_cells(),
        judge_model=JUDGE["model"] if JUDGE else None,
        code_version=code_version("weakstrong.tables", "weakstrong.stats"),
    script:
        "../scripts/make_table2.py"
