# Transfer (the paper's Figure 6): the students finetuned on a dataset, each the checkpoint selected on that
# dataset's validation split, evaluated on a transfer dataset (`transfer_of`) that is never sampled or trained on,
# whose every problem varies one of that dataset's test problems: Functional MATH for MATH (weakstrong/transfer.py,
# docs/transfer.md). A table and a maj@k figure per transfer dataset, and findings beside the paper's.


rule prepare_transfer_dataset:
    input:
        # the dataset it varies: its test set (rows of other problems are left out and reported) and the problems
        # trained on, validated on and shown as exemplars (a toy variant avoids them)
        unpack(get_transfer_base_splits),
    output:
        test=layout("data", split="test"),
        report=layout("splits"),
    log:
        log_path("prepare_transfer_dataset", "{dataset}", replicate=False),
    wildcard_constraints:
        dataset=targets.wildcard_choices(targets.transfer_datasets(STUDY)),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("prepare_transfer_dataset"),
    params:
        # what the problems depend on (maj_k does not)
        dataset=lambda wildcards: targets.transfer_data_spec(STUDY, wildcards.dataset),
        # a toy variant's numbers are drawn by the data's seed
        seed=STUDY.seed,
        toy_corpus=lambda wildcards: targets.transfer_toy_corpus(STUDY, wildcards.dataset),
    script:
        "../scripts/prepare_transfer_dataset.py"


rule evaluate_transfer:
    input:
        selection=get_evaluate_transfer_selection,
        test=layout("data", split="test"),
    output:
        layout("transfer_evaluation"),
    log:
        log_path("evaluate_transfer", "{dataset}/{pair}/{budget}/{student}/{source}"),
    benchmark:
        benchmark_path("evaluate_transfer", "{dataset}/{pair}/{budget}/{student}/{source}")
    wildcard_constraints:
        dataset=targets.wildcard_choices(targets.transfer_datasets(STUDY)),
    conda:
        MODEL_ENV
    threads: threads_of("evaluate_transfer")
    resources:
        **resources_of("evaluate_transfer"),
    params:
        numerics=NUMERICS,
        style=get_setting("datasets/{dataset}/style"),
        prompt_sha256=get_prompt_sha256,
        backend=STUDY.evaluation.backend,
        max_tokens=STUDY.evaluation.max_tokens,
        maj_k=get_setting("datasets/{dataset}/maj_k"),
        maj_temperature=STUDY.evaluation.maj_temperature,
        # the replicate's seed also seeds the maj@k votes
        seed=get_replicate_seed,
    script:
        "../scripts/evaluate_transfer.py"


rule make_transfer_table:
    input:
        evaluations=get_cell_files(get_transfer_cells, "paths"),
        # the same students on the test problems the transfer problems vary
        static=get_cell_files(get_transfer_cells, "static"),
        test=layout("data", split="test"),
        report=layout("splits"),
    output:
        tex=report(layout("transfer_table", ext="tex"), caption="../report/transfer.rst", category="Transfer"),
        md=report(layout("transfer_table", ext="md"), caption="../report/transfer.rst", category="Transfer"),
        # the rows, for the findings (write_findings)
        json=layout("transfer_table", ext="json"),
    log:
        log_path("make_transfer_table", "{dataset}", replicate=False),
    wildcard_constraints:
        dataset=targets.wildcard_choices(targets.transfer_datasets(STUDY)),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("make_transfer_table"),
    params:
        cells=get_transfer_cells,
        metrics=lambda wildcards: targets.transfer_metrics(STUDY, wildcards.dataset),
        code_version=get_code_version("scripts/make_transfer_table.py"),
    script:
        "../scripts/make_transfer_table.py"


rule plot_transfer:
    input:
        evaluations=get_cell_files(get_transfer_cells, "paths"),
    output:
        pdf=layout("training_figure", figure="transfer", ext="pdf"),
        png=report(
            layout("training_figure", figure="transfer", ext="png"),
            caption="../report/transfer_figure.rst",
            category="Transfer",
            subcategory="{dataset}, {pair}",
            labels={"dataset": "{dataset}", "pair": "{pair}", "figure": "maj@k"},
        ),
    log:
        log_path("plot_transfer", "{dataset}/{pair}", replicate=False),
    wildcard_constraints:
        dataset=targets.wildcard_choices(targets.transfer_datasets(STUDY)),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("plot_transfer"),
    params:
        cells=get_transfer_cells,
        maj_k=get_setting("datasets/{dataset}/maj_k"),
        title=lambda wildcards: f"{wildcards.dataset}: students finetuned on {wildcards.pair} data",
        ylabel=lambda wildcards: f"{wildcards.dataset} maj@k (%)",
        code_version=get_code_version("scripts/plot_transfer.py"),
    script:
        "../scripts/plot_transfer.py"
