"""Write a transfer dataset's problems (test.jsonl), each a variant of a test problem of the dataset its students
are trained on, and splits.json: the source's provenance and every row left out, with why."""
import sys

from weakstrong.data import read_jsonl, write_json, write_jsonl
from weakstrong.logs import log_to
from weakstrong.transfer import left_out_warning, prepare_transfer, toy_pretraining_questions

name = snakemake.wildcards.dataset
with log_to(snakemake.log[0]):
    p = snakemake.params
    base = {split: read_jsonl(path) for split, path in snakemake.input.items()}
    # a toy dataset's variants avoid the toy pre-training corpora, as its test problems do
    avoid = toy_pretraining_questions(**p.toy_corpus) if p.toy_corpus else set()
    problems, report = prepare_transfer(p.dataset, name, base, p.seed, avoid)
    write_jsonl(snakemake.output.test, problems)
    write_json(snakemake.output.report, report)
    print(f"{name}: " + "; ".join(report["notes"]))
    warning = left_out_warning(name, report)
    if warning:
        print(warning)
if warning:  # on the terminal too
    print(warning, file=sys.stderr)
