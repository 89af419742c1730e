"""Finetuning data of a source beyond the main study's at one budget (weakstrong/sources.py): every sample, those
the LLM judge rates correct, those with the majority answer, or the union of the wc and se data."""
from weakstrong.data import read_jsonl, write_jsonl
from weakstrong.logs import log_to
from weakstrong.sources import build, parse

with log_to(snakemake.log[0]):
    p = snakemake.params
    source = parse(snakemake.wildcards.source)
    train = read_jsonl(snakemake.input.train)
    graded = {side: read_jsonl(path) for side, path in zip(source.sides, snakemake.input.graded)}
    verdicts = {side: read_jsonl(path) for side, path in zip(source.sides, snakemake.input.verdicts)}
    examples = build(source.name, train, graded, dict(zip(source.sides, p.per_question)), verdicts=verdicts)
    write_jsonl(snakemake.output[0], examples)
    covered = len({e["problem_id"] for e in examples})
    right = sum(e["correct"] for e in examples)
    how = "the filter" if source.filter == "answer" else "measured after filtering; the filter did not read it"
    print(f"{source.name} data: {len(examples)} solutions covering {covered} of {len(train)} questions, {right} of "
          f"them right by the gold answer ({how})")
