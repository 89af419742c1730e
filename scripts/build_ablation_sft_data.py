"""Finetuning data of an ablation's variant at one budget: what its name says it keeps of the graded samples."""
from weakstrong.ablations import keep, parse_variant
from weakstrong.data import read_jsonl, write_jsonl
from weakstrong.logs import log_to

with log_to(snakemake.log[0]):
    selection = parse_variant(snakemake.wildcards.source)
    train = read_jsonl(snakemake.input.train)
    examples = keep(read_jsonl(snakemake.input.graded), train, selection, graded_path=snakemake.input.graded)
    write_jsonl(snakemake.output[0], examples)
    covered = len({e["problem_id"] for e in examples})
    print(f"{selection.name} data: {len(examples)} solutions covering {covered} of "
          f"{selection.problems or len(train)} questions")
