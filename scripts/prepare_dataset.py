"""Write the train / validation / test splits of one dataset."""
from types import SimpleNamespace

from weakstrong.data import prepare_splits, write_jsonl
from weakstrong.logs import log_to

with log_to(snakemake.log[0]):
    p = SimpleNamespace(**snakemake.params[0])
    splits = prepare_splits(p.dataset, p.name, p.seed)
    for split, problems in splits.items():
        write_jsonl(snakemake.output[split], problems)
    print(f"{p.name}: " + ", ".join(f"{len(v)} {k}" for k, v in splits.items()) + " problems")
