# Figures per (dataset, pair): Figure 3 of the paper (coverage, diversity and false-positive rate of SE vs
# WC data at each budget) and coverage@k curves of both generators. Each is written as PDF and PNG. The
# false-positive panel shows the LLM judge's rate when the config has a judge (the paper's measure), else
# the arithmetic checker's, labelled as such.


rule plot_data_metrics:
    input:
        unpack(get_plot_data_metrics_input),
    output:
        pdf=f"{RESULTS}/figures/{{dataset}}/{{pair}}/data_metrics.pdf",
        png=f"{RESULTS}/figures/{{dataset}}/{{pair}}/data_metrics.png",
    params:
        get_plot_data_metrics_params,
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
        png=f"{RESULTS}/figures/{{dataset}}/{{pair}}/coverage.png",
    params:
        get_plot_coverage_curves_params,
    log:
        f"{LOGS}/plot_coverage_curves/{{dataset}}/{{pair}}.log",
    threads: 1
    resources:
        **resources_of("plot_coverage_curves"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/plot_coverage_curves.py"
