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
include: "rules/finetune.smk"
include: "rules/evaluate.smk"
include: "rules/tables.smk"


rule all:
    input:
        rules.make_table1.output,
        rules.make_table2.output,


rule data_metrics:
    input:
        rules.make_table2.output,
