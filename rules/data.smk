# Stage 1: the problems (train / validation / test and the few-shot exemplars, in one schema, with a report of
# their sizes and sources) and, for the toy world, the corpus and tiny models pre-trained from scratch.


rule prepare_dataset:
    output:
        train=f"{RESULTS}/data/{{dataset}}/train.jsonl",
        validation=f"{RESULTS}/data/{{dataset}}/validation.jsonl",
        test=f"{RESULTS}/data/{{dataset}}/test.jsonl",
        exemplars=f"{RESULTS}/data/{{dataset}}/exemplars.jsonl",
        report=f"{RESULTS}/data/{{dataset}}/splits.json",
    params:
        dataset=lambda w: config["datasets"][w.dataset],
        seed=SEED,
    log:
        f"{LOGS}/prepare_dataset/{{dataset}}.log",
    threads: 1
    resources:
        **resources_of("prepare_dataset"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/prepare_dataset.py"


rule build_toy_corpus:
    output:
        # few-shot documents with some wrong solutions (generators), questions and arithmetic facts (students)
        solved=f"{RESULTS}/models/toy_corpus/solved.jsonl",
        unsolved=f"{RESULTS}/models/toy_corpus/unsolved.jsonl",
        tokenizer=directory(f"{RESULTS}/models/toy_tokenizer"),
    params:
        datasets=toy_datasets(),
        corpus=config.get("toy_corpus"),
        prompt_sha256=toy_prompt_digests(),
        seed=SEED,
    log:
        f"{LOGS}/build_toy_corpus.log",
    threads: 1
    resources:
        **resources_of("build_toy_corpus"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/build_toy_corpus.py"


rule train_toy_model:
    input:
        corpus=lambda w: f"{RESULTS}/models/toy_corpus/{toy_corpus_of(w.model)}.jsonl",
        tokenizer=rules.build_toy_corpus.output.tokenizer,
    output:
        directory(f"{RESULTS}/models/{{model}}"),
    params:
        get_train_toy_model_params,
    log:
        f"{LOGS}/train_toy_model/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/train_toy_model/{{model}}.tsv"
    threads: threads_of("train_toy_model")
    resources:
        **resources_of("train_toy_model"),
    conda:
        "../envs/weakstrong.yaml"
    script:
        "../scripts/train_toy_model.py"
