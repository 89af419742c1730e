# Stage 7b: the paper's ablations and the realized-cost ledger. An ablation's arms are variants of the
# finetuning data picked from the samples already drawn and named by what they keep, {source} =
# <wc|se>.k<n>[.keep<m>][.first<N>] (weakstrong/ablations.py); finetune, select_checkpoint and evaluate run
# them as they run wc and se, so an arm that is a main-study source reuses the main study's runs.


rule build_ablation_sft_data:
    input:
        train=layout("data", split="train"),
        graded=get_build_ablation_sft_data_graded,
    output:
        layout("sft"),
    log:
        log_path("build_ablation_sft_data", "{dataset}/{pair}/{budget}/{source}"),
    # the main study's sources are build_sft_data's
    wildcard_constraints:
        source=ablations.VARIANT_PATTERN,
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("build_ablation_sft_data"),
    params:
        code_version=get_code_version("scripts/build_ablation_sft_data.py"),
    script:
        "../scripts/build_ablation_sft_data.py"


rule make_ablation_table:
    input:
        evaluations=get_cell_files(get_make_ablation_table_cells, "paths"),
        sft=get_cell_files(get_make_ablation_table_cells, "sft"),
    output:
        tex=report(layout("ablation_table", ext="tex"), caption="../report/ablations.rst", category="Ablations"),
        md=report(layout("ablation_table", ext="md"), caption="../report/ablations.rst", category="Ablations"),
        # the rows, for the findings (write_findings)
        json=layout("ablation_table", ext="json"),
    log:
        log_path("make_ablation_table", "{ablation}", replicate=False),
    wildcard_constraints:
        ablation=targets.wildcard_choices(STUDY.ablations),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_ablation_table"),
    params:
        cells=get_make_ablation_table_cells,
        description=lambda w: ablations.DESCRIPTIONS[w.ablation],
        # the tables rerun when the code that computes them changes
        code_version=get_code_version("scripts/make_ablation_table.py"),
    script:
        "../scripts/make_ablation_table.py"


# What each experiment's samples cost, planned against realized, from the ledger measure_data writes.
rule make_ledger:
    input:
        metrics=targets.metrics_files(STUDY, LAYOUT),
    output:
        tex=report(layout("ledger", ext="tex"), caption="../report/ledger.rst", category="Tables"),
        md=report(layout("ledger", ext="md"), caption="../report/ledger.rst", category="Tables"),
    log:
        log_path("make_ledger", replicate=False),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_ledger"),
    params:
        cells=targets.ledger_cells(STUDY, LAYOUT),
        code_version=get_code_version("scripts/make_ledger.py"),
    script:
        "../scripts/make_ledger.py"
