"""Write the train / validation / test splits and the few-shot exemplars of one dataset, and splits.json."""
from weakstrong.data import prepare_splits, write_json, write_jsonl
from weakstrong.logs import log_to

with log_to(snakemake.log[0]):
    p = snakemake.params
    splits, report = prepare_splits(p.dataset, snakemake.wildcards.dataset, p.seed)
    for split, problems in splits.items():
        write_jsonl(snakemake.output[split], problems)
    write_json(snakemake.output.report, report)
    print(f"{snakemake.wildcards.dataset}: " + ", ".join(f"{len(v)} {k}" for k, v in splits.items()))
    for note in report["notes"]:
        print(f"  note: {note}")
