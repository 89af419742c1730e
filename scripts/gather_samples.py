"""Concatenate the shards of one (dataset, generator) in problem order."""
from weakstrong.data import read_jsonl, write_jsonl
from weakstrong.logs import log_to

with log_to(snakemake.log[0]):
    records = [r for path in snakemake.input for r in read_jsonl(path)]
    count = write_jsonl(snakemake.output[0], records)
    print(f"gathered {count} samples from {len(snakemake.input)} shards")
