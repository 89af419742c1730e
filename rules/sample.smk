# Stage 2: few-shot solutions from each generator, drawn once at the largest per-question count any budget
# needs (a budget takes the first k samples of each question), in shards that finish independently.


rule sample_solutions:
    input:
        train=layout("data", split="train"),
        exemplars=layout("data", split="exemplars"),
        model=get_model_inputs("generator"),
    output:
        samples=layout("shard"),
        # the machine the shard was drawn on (numerics.machine_record), for results' provenance
        machine=layout("shard_machine"),
    log:
        log_path("sample_solutions", "{dataset}/{generator}/shard-{shard}"),
    benchmark:
        benchmark_path("sample_solutions", "{dataset}/{generator}/shard-{shard}")
    conda:
        MODEL_ENV
    threads: threads_of("sample_solutions")
    resources:
        **resources_of("sample_solutions"),
    params:
        numerics=NUMERICS,
        model=get_model_path("generator"),
        backend=lambda wildcards: study.model_backend(STUDY, wildcards.generator, STUDY.sampling.backend),
        chat=get_setting("models/{generator}/chat"),
        style=get_setting("datasets/{dataset}/style"),
        prompt_sha256=get_prompt_sha256,
        samples_per_question=lambda wildcards: study.max_samples(STUDY, wildcards.dataset, wildcards.generator),
        temperature=STUDY.sampling.temperature,
        top_k=STUDY.sampling.top_k,
        top_p=STUDY.sampling.top_p,
        max_tokens=STUDY.sampling.max_tokens,
        shards=STUDY.sampling.shards,
        seed=get_replicate_seed,
        openai_api=STUDY.openai_api,
    script:
        "../scripts/sample_solutions.py"


rule gather_samples:
    input:
        expand(layout("shard"), shard=range(STUDY.sampling.shards), allow_missing=True),
    output:
        layout("samples"),
    log:
        log_path("gather_samples", "{dataset}/{generator}"),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("gather_samples"),
    params:
        code_version=get_code_version("scripts/gather_samples.py"),
    script:
        "../scripts/gather_samples.py"
