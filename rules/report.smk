# Stage 8: what a researcher reads. results/paper.pdf (every table and figure, captions saying what was
# run), results/findings.md (each of the paper's findings as holding, not holding or unresolved here), and
# the description of `snakemake --report results/report.html`, which shows every output registered with
# report() (figures, tables, paper, findings), the rule graph and run statistics.


report: "../report/workflow.rst"


# The paper's LaTeX source is always written; its PDF needs pdflatex with booktabs (Debian's
# texlive-latex-base and texlive-latex-recommended), so `all` and `paper` ask for it only where pdflatex is
# installed (PAPER_FILES), and a run without it says at the end how to get it (Snakefile, onsuccess).
rule write_paper:
    input:
        # numbered as in the paper: Table 1 (finetuning), Table 2 (data quality), then Table 1's detail, Tables 1b
        # and 1c (without gold answers, mixed data) where the config has their sources, the cost ledger, the
        # students' reasoning errors and the table of each ablation the config turns on
        tables=[
            rules.make_table1.output.tex,
            rules.make_table2.output.tex,
            rules.make_table1.output.detail_tex,
            *targets.source_table_files(STUDY, LAYOUT, exts=("tex",)),
            rules.make_ledger.output.tex,
            *targets.student_error_files(STUDY, LAYOUT, exts=("tex",)),
            *targets.ablation_table_files(STUDY, LAYOUT, exts=("tex",)),
            *targets.transfer_table_files(STUDY, LAYOUT, exts=("tex",)),
        ],
        figures=[figure["path"] for figure in targets.paper_figures(STUDY, LAYOUT)],
        provenance=layout("provenance"),
    output:
        layout("paper", ext="tex"),
    log:
        log_path("write_paper", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("write_paper"),
    params:
        run=targets.run_description(STUDY, GRADER_VERSION),
        figures=targets.paper_figures(STUDY, LAYOUT),
        code_version=get_code_version("scripts/write_paper.py"),
    script:
        "../scripts/write_paper.py"


rule make_paper:
    input:
        tex=rules.write_paper.output[0],
        figures=[figure["path"] for figure in targets.paper_figures(STUDY, LAYOUT)],
    output:
        report(layout("paper", ext="pdf"), caption="../report/paper.rst", category="Paper"),
    log:
        log_path("make_paper", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_paper"),
    params:
        code_version=get_code_version("scripts/make_paper.py"),
    script:
        "../scripts/make_paper.py"


rule write_findings:
    input:
        metrics=targets.metrics_files(STUDY, LAYOUT),
        judge=targets.judge_summary_files(STUDY, LAYOUT),
        evaluations=targets.evaluation_files(STUDY, LAYOUT),
        base=targets.base_evaluation_files(STUDY, LAYOUT),
        number_matched=get_write_findings_number_matched,
        student_errors=get_write_findings_student_errors,
        # the transfer tables' rows (Functional MATH), where the config has a transfer dataset
        transfer=targets.transfer_table_files(STUDY, LAYOUT, exts=("json",)),
        # the rows of Tables 1b and 1c, where the config has their sources
        source_tables=targets.source_table_files(STUDY, LAYOUT, exts=("json",)),
        provenance=layout("provenance"),
    output:
        report(layout("findings"), caption="../report/findings.rst", category="Findings"),
    log:
        log_path("write_findings", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("write_findings"),
    params:
        data=targets.findings_data(STUDY, LAYOUT),
        cells=targets.table1_cells(STUDY, LAYOUT),
        matches={pair: spec.match for pair, spec in STUDY.generator_pairs.items()},
        # the students' reasoning errors: non-inferiority margin of WC minus SE
        student_errors_margin=STUDY.student_errors.margin,
        source_tables=targets.source_table_json(STUDY, LAYOUT),
        title=f"Findings of {STUDY.paths.tables} against the paper's",
        code_version=get_code_version("scripts/write_findings.py"),
    script:
        "../scripts/write_findings.py"
