"""Finetuning data of one source at one budget: the correct solutions among each question's first k, or the
datasets' own solutions (gold)."""
from weakstrong.data import read_jsonl, write_jsonl
from weakstrong.logs import log_to
from weakstrong.solutions import gold_examples, sft_examples

with log_to(snakemake.log[0]):
    train = read_jsonl(snakemake.input.train)
    if snakemake.wildcards.source == "gold":
        examples = gold_examples(train)
    else:
        examples = sft_examples(read_jsonl(snakemake.input.graded), train, snakemake.params.per_question)
    write_jsonl(snakemake.output[0], examples)
    covered = len({e["problem_id"] for e in examples})
    print(f"{snakemake.wildcards.source} data: {len(examples)} solutions covering {covered} of {len(train)} questions")
