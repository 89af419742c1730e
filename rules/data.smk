# Stage 1: the problems (train / validation / test and the few-shot exemplars, in one schema, with a report of
# their sizes and sources) and, for the toy world, the corpus and tiny models pre-trained from scratch.


rule prepare_dataset:
    output:
        train=layout("data", split="train"),
        validation=layout("data", split="validation"),
        test=layout("data", split="test"),
        exemplars=layout("data", split="exemplars"),
        report=layout("splits"),
    log:
        log_path("prepare_dataset", "{dataset}", replicate=False),
    # the datasets that are sampled and trained on; a transfer dataset is prepare_transfer_dataset's
    wildcard_constraints:
        dataset=targets.wildcard_choices(targets.trained_datasets(STUDY)),
    conda:
        "../envs/light.yaml"
    threads: 1
    resources:
        **resources_of("prepare_dataset"),
    params:
        dataset=lambda wildcards: STUDY.datasets[wildcards.dataset].as_dict(),
        seed=STUDY.seed,
    script:
        "../scripts/prepare_dataset.py"


rule build_toy_corpus:
    output:
        # few-shot documents with some wrong solutions (generators), questions and arithmetic facts (students)
        solved=layout("toy_corpus", corpus="solved"),
        unsolved=layout("toy_corpus", corpus="unsolved"),
        tokenizer=directory(layout("toy_tokenizer")),
    log:
        log_path("build_toy_corpus"),
    conda:
        MODEL_ENV
    threads: 1
    resources:
        **resources_of("build_toy_corpus"),
    params:
        datasets=targets.toy_datasets(STUDY),
        # read per job: a config without toy models has no toy corpus, and no job of this rule
        corpus=lambda wildcards: STUDY.toy_corpus.as_dict(),
        prompt_sha256=targets.toy_prompt_digests(STUDY),
        # the problems' seed keeps the corpus clear of every split's questions; the replicate's draws the corpus
        data_seed=STUDY.seed,
        seed=get_replicate_seed,
    script:
        "../scripts/build_toy_corpus.py"


rule train_toy_model:
    input:
        corpus=get_train_toy_model_corpus,
        tokenizer=rules.build_toy_corpus.output.tokenizer,
    output:
        directory(layout("toy_model")),
    log:
        log_path("train_toy_model", "{model}"),
    benchmark:
        benchmark_path("train_toy_model", "{model}")
    conda:
        MODEL_ENV
    threads: threads_of("train_toy_model")
    resources:
        **resources_of("train_toy_model"),
    params:
        numerics=NUMERICS,
        spec=get_setting("models/{model}/toy"),
        seed=get_train_toy_model_seed,
    script:
        "../scripts/train_toy_model.py"
