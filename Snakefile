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
include: "rules/plan.smk"
include: "rules/report.smk"


rule all:
    input:
        rules.make_table1.output,
        rules.make_table2.output,
        figure_files(),
        judge_files(),
        rules.make_paper.output.pdf,
        rules.write_findings.output,


rule data_metrics:
    input:
        rules.make_table2.output,


rule figures:
    input:
        figure_files(),


# The paper (every table and figure in one PDF) and the findings of this run against the paper's.
rule paper:
    input:
        rules.make_paper.output.pdf,
        rules.write_findings.output,


# LLM-judge summaries per budget and source, and an audit form per budget; empty without a `judge` section
# in the config.
rule judge:
    input:
        judge_files(),


# Human-audit summaries of the forms whose ratings.csv the user has provided (see rules/metrics.smk).
rule audit:
    input:
        audit_summary_files(),
