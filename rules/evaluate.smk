# Stage 6: test accuracy of the selected checkpoints, and of every model before finetuning (zero-shot as the
# students are evaluated, and few-shot as the generators sample).


rule evaluate:
    input:
        unpack(get_evaluate_input),
    output:
        f"{RESULTS}/evaluation/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.json",
    params:
        style=lambda w: dataset_style(w.dataset),
        prompt_sha256=lambda w: prompt_digest(dataset_style(w.dataset)),
        backend=config["evaluation"]["backend"],
        max_tokens=config["evaluation"]["max_tokens"],
        maj_k=config["evaluation"].get("maj_k", []),
        maj_temperature=config["evaluation"].get("maj_temperature", 0.7),
        # the run seed also seeds the maj@k votes
        seed=lambda w: int(w.seed),
    log:
        f"{LOGS}/evaluate/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate/{{dataset}}/{{pair}}/{{budget}}/{{student}}/{{source}}/seed-{{seed}}.tsv"
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/evaluate.py"


rule evaluate_base:
    input:
        unpack(get_evaluate_base_input),
    output:
        f"{RESULTS}/evaluation/{{dataset}}/base/{{model}}.json",
    params:
        model=lambda w: model_path(w.model),
        backend=lambda w: study.model_backend(config, w.model, config["evaluation"]["backend"]),
        chat=lambda w: is_chat(w.model),
        style=lambda w: dataset_style(w.dataset),
        prompt_sha256=lambda w: prompt_digest(dataset_style(w.dataset)),
        max_tokens=config["evaluation"]["max_tokens"],
        maj_k=config["evaluation"].get("maj_k", []),
        maj_temperature=config["evaluation"].get("maj_temperature", 0.7),
        # the untrained student's validation score, as finetune scores its checkpoints
        validation_problems=config["finetune"].get("validation_problems", 500),
        seed=SEED,
        openai_api=config.get("openai_api", {}),
    log:
        f"{LOGS}/evaluate_base/{{dataset}}/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate_base/{{dataset}}/{{model}}.tsv"
    threads: threads_of("evaluate_base")
    resources:
        **resources_of("evaluate_base"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/evaluate_base.py"
