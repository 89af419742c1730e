# Stage 2: few-shot solutions from each generator, drawn once at the largest per-question count any budget
# needs (a budget takes the first k samples of each question), in shards that finish independently.


rule sample_solutions:
    input:
        unpack(get_sample_solutions_input),
    output:
        f"{RESULTS}/samples/{{dataset}}/{{generator}}/shard-{{shard}}.jsonl",
    params:
        model=lambda w: model_path(w.generator),
        backend=lambda w: study.model_backend(config, w.generator, config["sampling"]["backend"]),
        chat=lambda w: is_chat(w.generator),
        style=lambda w: dataset_style(w.dataset),
        prompt_sha256=lambda w: prompt_digest(dataset_style(w.dataset)),
        samples_per_question=lambda w: study.max_samples(config, w.dataset, w.generator),
        temperature=config["sampling"]["temperature"],
        top_k=config["sampling"].get("top_k", -1),
        top_p=config["sampling"].get("top_p", 1.0),
        max_tokens=config["sampling"]["max_tokens"],
        shards=config["sampling"]["shards"],
        seed=SEED,
        openai_api=config.get("openai_api", {}),
    log:
        f"{LOGS}/sample_solutions/{{dataset}}/{{generator}}/shard-{{shard}}.log",
    benchmark:
        f"{BENCHMARKS}/sample_solutions/{{dataset}}/{{generator}}/shard-{{shard}}.tsv"
    threads: threads_of("sample_solutions")
    resources:
        **resources_of("sample_solutions"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/sample_solutions.py"


rule gather_samples:
    input:
        get_gather_samples_input,
    output:
        f"{RESULTS}/samples/{{dataset}}/{{generator}}.jsonl",
    log:
        f"{LOGS}/gather_samples/{{dataset}}/{{generator}}.log",
    threads: 1
    resources:
        **resources_of("gather_samples"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/gather_samples.py"
