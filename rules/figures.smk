# Figures per (dataset, pair), each written as PDF and PNG (the PNG goes into `snakemake --report`):
# - of the data, under RESULTS: Figure 3 of the paper (coverage, diversity and false-positive rate of SE vs WC
#   data at each budget), coverage@k curves of both generators, and their coverage against sampling cost;
#   the false-positive panel shows the LLM judge's rate when the config has a judge (the paper's measure),
#   else the arithmetic checker's, labelled as such;
# - of the finetuning runs, under TABLES (they summarise the run seeds): test pass@1 per student, budget and
#   source (Figures 4 and 5), and maj@k curves when `evaluation.maj_k` is not empty.
# Each rule's code_version param reruns it when the package code that draws the figure changes.


rule plot_data_metrics:
    input:
        unpack(get_plot_data_metrics_input),
    output:
        pdf=f"{RESULTS}/figures/{{dataset}}/{{pair}}/data_metrics.pdf",
        png=report(f"{RESULTS}/figures/{{dataset}}/{{pair}}/data_metrics.png",
                   caption="../report/data_metrics.rst", category="Data quality", subcategory="{dataset}, {pair}",
                   labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage, diversity, false positives"}),
        level_pdf=f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage_by_level.pdf",
        level_png=report(f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage_by_level.png",
                         caption="../report/data_metrics.rst", category="Data quality", subcategory="{dataset}, {pair}",
                         labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage by level"}),
    params:
        get_plot_data_metrics_params,
        code_version=code_version("weakstrong.plots"),
    log:
        f"{LOGS}/plot_data_metrics/{{dataset}}/{{pair}}.log",
    threads: 1
    resources:
        **resources_of("plot_data_metrics"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plot_data_metrics.py"


rule plot_coverage_curves:
    input:
        unpack(get_measure_data_input),
    output:
        pdf=f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage.pdf",
        png=report(f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage.png",
                   caption="../report/coverage.rst", category="Data quality", subcategory="{dataset}, {pair}",
                   labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage@k"}),
    params:
        get_plot_coverage_curves_params,
        code_version=code_version("weakstrong.plots", "weakstrong.metrics"),
    log:
        f"{LOGS}/plot_coverage_curves/{{dataset}}/{{pair}}.log",
    threads: 1
    resources:
        **resources_of("plot_coverage_curves"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plot_coverage_curves.py"


# The x-axis is what sampling costs (FLOPs on a compute-matched pair, USD on a price-matched one), not the
# sample count, so the budget at which WC overtakes SE can be read off.
rule plot_coverage_cost:
    input:
        unpack(get_measure_data_input),
    output:
        pdf=f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage_cost.pdf",
        png=report(f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage_cost.png",
                   caption="../report/coverage_cost.rst", category="Data quality", subcategory="{dataset}, {pair}",
                   labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "coverage against cost"}),
    params:
        figure=get_plot_coverage_cost_params,
        code_version=code_version("weakstrong.plots", "weakstrong.metrics"),
    log:
        f"{LOGS}/plot_coverage_cost/{{dataset}}/{{pair}}.log",
    threads: 1
    resources:
        **resources_of("plot_coverage_cost"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plot_coverage_cost.py"


rule plot_finetuning:
    input:
        unpack(get_plot_training_input),
    output:
        pdf=f"{TABLES}/figures/{{dataset}}/{{pair}}/finetuning.pdf",
        png=report(f"{TABLES}/figures/{{dataset}}/{{pair}}/finetuning.png",
                   caption="../report/finetuning.rst", category="Finetuning", subcategory="{dataset}, {pair}",
                   labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "test pass@1"}),
    params:
        figure=get_plot_training_params,
        code_version=code_version("weakstrong.plots", "weakstrong.tables", "weakstrong.stats"),
    log:
        f"{LOGS}/plot_finetuning/{{dataset}}/{{pair}}.log",
    threads: 1
    resources:
        **resources_of("plot_finetuning"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plot_finetuning.py"


rule plot_majority:
    input:
        unpack(get_plot_training_input),
    output:
        pdf=f"{TABLES}/figures/{{dataset}}/{{pair}}/majority.pdf",
        png=report(f"{TABLES}/figures/{{dataset}}/{{pair}}/majority.png",
                   caption="../report/majority.rst", category="Finetuning", subcategory="{dataset}, {pair}",
                   labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "maj@k"}),
    params:
        figure=get_plot_training_params,
        code_version=code_version("weakstrong.plots", "weakstrong.stats"),
    log:
        f"{LOGS}/plot_majority/{{dataset}}/{{pair}}.log",
    threads: 1
    resources:
        **resources_of("plot_majority"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plot_majority.py"
