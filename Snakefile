# Smaller, Weaker, Yet Better: compute-optimal sampling for training LLM reasoners (Bansal et al., 2025).
# The paper's experiment is config.yaml; `--configfile configs/toy.yaml` runs the toy world instead.

from snakemake.utils import min_version

min_version("9.0")


# A --configfile replaces the paper's config rather than being merged into it.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/sample.smk"
include: "rules/grade.smk"
include: "rules/metrics.smk"
include: "rules/figures.smk"
include: "rules/finetune.smk"
include: "rules/evaluate.smk"
include: "rules/tables.smk"
include: "rules/students.smk"
include: "rules/ablations.smk"
include: "rules/transfer.smk"
include: "rules/sources.smk"
include: "rules/plan.smk"
include: "rules/report.smk"


# Without pdflatex the run writes the paper's LaTeX source, not its PDF: say so, and how to get it.
onsuccess:
    if not ws_paper.tex_engine():
        print(ws_paper.no_tex_notice(layout("paper", ext="tex")))


# The light rules, seconds each: under a cluster executor they run where Snakemake runs, not as cluster jobs
# (profiles/slurm).
localrules:
    gather_samples,
    build_sft_data,
    build_ablation_sft_data,
    build_extra_sft_data,
    measure_data,
    select_checkpoint,
    export_audit_form,
    summarize_audit,
    export_student_audit_form,
    summarize_student_audit,
    make_student_errors_table,
    plot_data_metrics,
    plot_coverage_curves,
    plot_coverage_cost,
    plot_finetuning,
    plot_majority,
    make_table1,
    make_table2,
    make_ablation_table,
    make_transfer_table,
    plot_transfer,
    make_source_table,
    make_ledger,
    write_paper,
    make_paper,
    record_provenance,
    write_findings,
    write_plan,


rule all:
    input:
        rules.make_table1.output,
        targets.source_table_files(STUDY, LAYOUT),
        rules.make_table2.output,
        rules.make_ledger.output,
        targets.ablation_table_files(STUDY, LAYOUT),
        targets.transfer_table_files(STUDY, LAYOUT),
        targets.figure_files(STUDY, LAYOUT),
        targets.judge_files(STUDY, LAYOUT),
        targets.student_error_files(STUDY, LAYOUT),
        PAPER_FILES,
        rules.write_findings.output,


rule data_metrics:
    input:
        rules.make_table2.output,


# The paper's ablations (the config's `ablations` section), a table each under ablations/.
rule ablations:
    input:
        targets.ablation_table_files(STUDY, LAYOUT),


# The finetuned students' reasoning errors: the table (arithmetic checker; the LLM judge's and the human audit's
# columns where they ran) and, with a judge, its verdicts and the students' audit forms.
rule student_errors:
    input:
        targets.student_error_files(STUDY, LAYOUT),
        targets.student_judge_files(STUDY, LAYOUT),


# What the samples cost, planned against realized.
rule ledger:
    input:
        rules.make_ledger.output,


# Each transfer dataset's table (Functional MATH: the paper's Figure 6) and its maj@k figure per pair.
rule transfer:
    input:
        targets.transfer_table_files(STUDY, LAYOUT),
        [figure["path"] for figure in targets.transfer_figures(STUDY, LAYOUT)],


rule figures:
    input:
        targets.figure_files(STUDY, LAYOUT),


# The paper (every table and figure in one PDF) and the findings of this run against the paper's.
rule paper:
    input:
        PAPER_FILES,
        rules.write_findings.output,


# LLM-judge summaries per budget and source, and an audit form per budget, of the data and of the finetuned
# students' correct test solutions; empty without a `judge` section in the config.
rule judge:
    input:
        targets.judge_files(STUDY, LAYOUT),


# Human-audit summaries of the forms whose ratings.csv the user has provided (see rules/metrics.smk).
rule audit:
    input:
        targets.audit_summary_files(STUDY, LAYOUT),
