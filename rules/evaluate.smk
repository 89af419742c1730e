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
        f"{LOGS}/evaluate/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.tsv"
    conda:
        MODEL_ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        numerics=NUMERICS,
        style=lookup(dpath="datasets/{dataset}/style", within=config),
        prompt_sha256=get_prompt_sha256,
        backend=config["evaluation"]["backend"],
        max_tokens=config["evaluation"]["max_tokens"],
        maj_k=MAJ_K,
        maj_temperature=config["evaluation"]["maj_temperature"],
        # the run seed also seeds the maj@k votes
        seed=lambda wildcards: int(wildcards.seed),
    script:
        "../scripts/evaluate.py"


rule evaluate_base:
    input:
        test=layout("data", split="test"),
        exemplars=layout("data", split="exemplars"),
        model=lambda wildcards: model_inputs(wildcards.model),
        validation=get_evaluate_base_validation,
    output:
        layout("base_evaluation"),
    log:
        f"{LOGS}/evaluate_base/{{dataset}}/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate_base/{{dataset}}/{{model}}.tsv"
    conda:
        MODEL_ENV
    threads: threads_of("evaluate_base")
    resources:
        **resources_of("evaluate_base"),
    params:
        numerics=NUMERICS,
        model=lambda wildcards: model_path(wildcards.model),
        backend=lambda wildcards: study.model_backend(config, wildcards.model, config["evaluation"]["backend"]),
        chat=lookup(dpath="models/{model}/chat", within=config),
        style=lookup(dpath="datasets/{dataset}/style", within=config),
        prompt_sha256=get_prompt_sha256,
        max_tokens=config["evaluation"]["max_tokens"],
        maj_k=MAJ_K,
        maj_temperature=config["evaluation"]["maj_temperature"],
        # the untrained student's validation score, as finetune scores its checkpoints
        validation_problems=config["finetune"]["validation_problems"],
        seed=SEED,
        openai_api=config["openai_api"],
    script:
        "../scripts/evaluate_base.py"
