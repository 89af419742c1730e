# Stage 6: test accuracy of the selected checkpoints, and of every model before finetuning (zero-shot as the
# students are evaluated, and few-shot as the generators sample).


rule evaluate:
    input:
        selection=layout("selection"),
        test=layout("data", split="test"),
        # reused when selection keeps the untrained student (scripts/evaluate.py)
        base=layout("base_evaluation", model="{student}"),
    output:
        layout("evaluation"),
    log:
        log_path("evaluate", "{dataset}/{pair}/{budget}/{student}/{source}"),
    benchmark:
        benchmark_path("evaluate", "{dataset}/{pair}/{budget}/{student}/{source}")
    conda:
        MODEL_ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        numerics=NUMERICS,
        style=get_setting("datasets/{dataset}/style"),
        prompt_sha256=get_prompt_sha256,
        backend=STUDY.evaluation.backend,
        max_tokens=STUDY.evaluation.max_tokens,
        maj_k=STUDY.evaluation.maj_k,
        maj_temperature=STUDY.evaluation.maj_temperature,
        # the replicate's seed also seeds the maj@k votes
        seed=get_replicate_seed,
        # what the file holds (weakstrong.evaluation): a new format reruns the evaluations
        evaluation_format=EVALUATION_FORMAT,
    script:
        "../scripts/evaluate.py"


rule evaluate_base:
    input:
        test=layout("data", split="test"),
        exemplars=layout("data", split="exemplars"),
        model=get_model_inputs("model"),
        validation=get_evaluate_base_validation,
    output:
        layout("base_evaluation"),
    log:
        log_path("evaluate_base", "{dataset}/{model}"),
    benchmark:
        benchmark_path("evaluate_base", "{dataset}/{model}")
    conda:
        MODEL_ENV
    threads: threads_of("evaluate_base")
    resources:
        **resources_of("evaluate_base"),
    params:
        numerics=NUMERICS,
        model=get_model_path("model"),
        backend=lambda wildcards: study.model_backend(STUDY, wildcards.model, STUDY.evaluation.backend),
        chat=get_setting("models/{model}/chat"),
        style=get_setting("datasets/{dataset}/style"),
        prompt_sha256=get_prompt_sha256,
        max_tokens=STUDY.evaluation.max_tokens,
        maj_k=STUDY.evaluation.maj_k,
        maj_temperature=STUDY.evaluation.maj_temperature,
        # the untrained student's validation score, as finetune scores its checkpoints
        validation_problems=STUDY.finetune.validation_problems,
        seed=get_replicate_seed,
        openai_api=STUDY.openai_api,
    script:
        "../scripts/evaluate_base.py"
