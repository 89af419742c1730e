# Figures per (dataset, pair), each written as PDF and PNG (the PNG goes into `snakemake --report`):
# - of the data, under RESULTS: Figure 3 of the paper (coverage, diversity and false-positive rate of SE vs WC
#   data at each budget), coverage@k curves of both generators, and their coverage against sampling cost;
#   the false-positive panel shows the LLM judge's rate when the config has a judge (the paper's measure),
#   else the arithmetic checker's, labelled as such;
# - of the finetuning runs, under the tables' directory (they combine the replicates): test pass@1 per student, budget and
#   source (Figures 4 and 5), and maj@k curves when `evaluation.maj_k` is not empty.
# Each rule's code_version param reruns it when the package code that draws the figure changes.


rule plot_data_metrics:
    input:
        metrics=lambda wildcards: list(get_plot_data_metrics_metrics(wildcards).values()),
        judge=lambda wildcards: [
            path for paths in get_plot_data_metrics_judge(wildcards).values() for path in paths.values()
        ],
    output:
        pdf=layout("data_figure", figure="data_metrics", ext="pdf"),
        png=report(
            layout("data_figure", figure="data_metrics", ext="png"),
            caption="../report/data_metrics.rst",
            category="Data quality",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage, diversity, false positives"},
        ),
        level_pdf=layout("data_figure", figure="coverage_by_level", ext="pdf"),
        level_png=report(
            layout("data_figure", figure="coverage_by_level", ext="png"),
            caption="../report/data_metrics.rst",
            category="Data quality",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage by level"},
        ),
    log:
        log_path("plot_data_metrics", "{dataset}/{pair}"),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("plot_data_metrics"),
    params:
        metrics=get_plot_data_metrics_metrics,
        judge=get_plot_data_metrics_judge,
        title=lambda wildcards: f"{wildcards.dataset}: {wildcards.pair} data, SE vs WC",
        code_version=get_code_version("scripts/plot_data_metrics.py"),
    script:
        "../scripts/plot_data_metrics.py"


rule plot_coverage_curves:
    input:
        problems=layout("data", split="train"),
        se=get_pair_graded("se"),
        wc=get_pair_graded("wc"),
    output:
        pdf=layout("data_figure", figure="coverage", ext="pdf"),
        png=report(
            layout("data_figure", figure="coverage", ext="png"),
            caption="../report/coverage.rst",
            category="Data quality",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage@k"},
        ),
    log:
        log_path("plot_coverage_curves", "{dataset}/{pair}"),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("plot_coverage_curves"),
    params:
        labels=get_coverage_labels,
        title=lambda wildcards: f"{wildcards.dataset}: coverage@k, {wildcards.pair}",
        code_version=get_code_version("scripts/plot_coverage_curves.py"),
    script:
        "../scripts/plot_coverage_curves.py"


# The x-axis is what sampling costs (FLOPs on a compute-matched pair, USD on a price-matched one), not the
# sample count, so the budget at which WC overtakes SE can be read off.
rule plot_coverage_cost:
    input:
        problems=layout("data", split="train"),
        se=get_pair_graded("se"),
        wc=get_pair_graded("wc"),
    output:
        pdf=layout("data_figure", figure="coverage_cost", ext="pdf"),
        png=report(
            layout("data_figure", figure="coverage_cost", ext="png"),
            caption="../report/coverage_cost.rst",
            category="Data quality",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage against cost"},
        ),
    log:
        log_path("plot_coverage_cost", "{dataset}/{pair}"),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("plot_coverage_cost"),
    params:
        cost_per_token=get_plot_coverage_cost_per_token,
        match=get_setting("generator_pairs/{pair}/match"),
        labels=get_coverage_labels,
        budgets=get_plot_coverage_cost_budgets,
        title=lambda wildcards: f"{wildcards.dataset}: coverage against sampling cost, {wildcards.pair}",
        code_version=get_code_version("scripts/plot_coverage_cost.py"),
    script:
        "../scripts/plot_coverage_cost.py"


rule plot_finetuning:
    input:
        evaluations=get_cell_files(get_pair_cells, "paths"),
        base=get_cell_files(get_pair_cells, "bases"),
    output:
        pdf=layout("training_figure", figure="finetuning", ext="pdf"),
        png=report(
            layout("training_figure", figure="finetuning", ext="png"),
            caption="../report/finetuning.rst",
            category="Finetuning",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "test pass@1"},
        ),
    log:
        log_path("plot_finetuning", "{dataset}/{pair}", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("plot_finetuning"),
    params:
        cells=get_pair_cells,
        title=lambda wildcards: f"{wildcards.dataset}: finetuning on {wildcards.pair} data",
        code_version=get_code_version("scripts/plot_finetuning.py"),
    script:
        "../scripts/plot_finetuning.py"


rule plot_majority:
    input:
        evaluations=get_cell_files(get_pair_cells, "paths"),
        base=get_cell_files(get_pair_cells, "bases"),
    output:
        pdf=layout("training_figure", figure="majority", ext="pdf"),
        png=report(
            layout("training_figure", figure="majority", ext="png"),
            caption="../report/majority.rst",
            category="Finetuning",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "maj@k"},
        ),
    log:
        log_path("plot_majority", "{dataset}/{pair}", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("plot_majority"),
    params:
        cells=get_pair_cells,
        maj_k=STUDY.evaluation.maj_k,
        title=lambda wildcards: f"{wildcards.dataset}: finetuning on {wildcards.pair} data",
        code_version=get_code_version("scripts/plot_majority.py"),
    script:
        "../scripts/plot_majority.py"
