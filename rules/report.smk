# Stage 8: what a researcher reads. results/paper.pdf (every table and figure, captions saying what was
# run), results/findings.md (each of the paper's findings as holding, not holding or unresolved here), and
# the description of `snakemake --report results/report.html`, which shows every output registered with
# report() (figures, tables, paper, findings), the rule graph and run statistics.


report: "../report/workflow.rst"


# pdflatex with booktabs comes from Debian's texlive-latex-base and texlive-latex-recommended; the script
# stops with that message when pdflatex is missing.
rule make_paper:
    input:
        # numbered as in the paper: Table 1 (finetuning), Table 2 (data quality), then Table 1's detail
        tables=[rules.make_table1.output.tex, rules.make_table2.output.tex, rules.make_table1.output.detail_tex],
        figures=[figure["path"] for figure in paper_figures()],
    output:
        pdf=report(f"{TABLES}/paper.pdf", caption="../report/paper.rst", category="Paper"),
        tex=f"{TABLES}/paper.tex",
    params:
        paper=get_make_paper_params,
        code_version=code_version("weakstrong.paper", "weakstrong.tables"),
    log:
        f"{LOGS}/make_paper.log",
    threads: 1
    resources:
        **resources_of("make_paper"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/make_paper.py"


rule write_findings:
    input:
        unpack(get_write_findings_input),
    output:
        report(f"{TABLES}/findings.md", caption="../report/findings.rst", category="Findings"),
    params:
        findings=get_write_findings_params,
        code_version=code_version("weakstrong.findings", "weakstrong.tables", "weakstrong.stats"),
    log:
        f"{LOGS}/write_findings.log",
    threads: 1
    resources:
        **resources_of("write_findings"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/write_findings.py"
