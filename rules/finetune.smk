# Stage 5: finetune each student on each source's data at each learning rate in each replicate (a fixed number of
# steps, evenly spaced checkpoints scored on validation), then select the best (lr, checkpoint), as the paper does; the
# untrained student (its zero-shot validation score from evaluate_base) is recorded beside the choice, and is a
# candidate too with finetune.untrained_candidate.


rule finetune:
    input:
        sft=layout("sft"),
        validation=layout("data", split="validation"),
        model=get_model_inputs("student"),
    output:
        directory(layout("finetune")),
    log:
        log_path("finetune", "{dataset}/{pair}/{budget}/{student}/{source}/lr-{lr}"),
    benchmark:
        benchmark_path("finetune", "{dataset}/{pair}/{budget}/{student}/{source}/lr-{lr}")
    conda:
        MODEL_ENV
    threads: threads_of("finetune")
    resources:
        **resources_of("finetune"),
    params:
        numerics=NUMERICS,
        base_model=get_model_path("student"),
        style=get_setting("datasets/{dataset}/style"),
        prompt_sha256=get_prompt_sha256,
        settings=get_finetune_settings,
        # checkpoints are scored on validation, as the untrained student in evaluate_base
        validation_problems=STUDY.finetune.validation_problems,
        eval_backend=STUDY.finetune.eval_backend,
        max_tokens=STUDY.evaluation.max_tokens,
        fit=get_finetune_fit,
    script:
        "../scripts/finetune.py"


rule select_checkpoint:
    input:
        runs=get_select_checkpoint_runs,
        base=layout("base_evaluation", model="{student}"),
    output:
        layout("selection"),
    log:
        log_path("select_checkpoint", "{dataset}/{pair}/{budget}/{student}/{source}"),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("select_checkpoint"),
    params:
        untrained_candidate=STUDY.finetune.untrained_candidate,
        code_version=get_code_version("scripts/select_checkpoint.py"),
    script:
        "../scripts/select_checkpoint.py"
