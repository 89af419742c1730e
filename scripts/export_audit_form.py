"""A blind human-audit form (HTML), its CSV template and key for one pair's kept solutions at one budget,
drawn from the judged ones."""
from weakstrong.audit import export_pair_form
from weakstrong.data import read_jsonl
from weakstrong.logs import log_to

with log_to(snakemake.log[0]):
    p = snakemake.params
    w = snakemake.wildcards
    items = export_pair_form({source: read_jsonl(snakemake.input[source]) for source in ("se", "wc")},
                             read_jsonl(snakemake.input.problems), snakemake.output.form,
                             snakemake.output.template, snakemake.output.key, per_source=p.per_source,
                             judge_n=p.n, seed=p.seed, per_question=p.per_question)
    print(f"{w.dataset}/{w.pair}/{w.budget}: {len(items)} solutions to rate in {snakemake.output.form}; "
          f"save the downloaded ratings as {p.ratings}")
