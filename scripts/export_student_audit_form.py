"""A blind human-audit form (HTML), its CSV template and key for a finetuned student's correct test solutions,
both arms (WC and SE data) mixed, drawn from the judged ones."""
import json

from weakstrong.data import read_jsonl
from weakstrong.logs import log_to
from weakstrong.student_errors import export_student_form

with log_to(snakemake.log[0]):
    p = snakemake.params
    w = snakemake.wildcards
    evaluations = {source: json.load(open(snakemake.input[source])) for source in ("se", "wc")}
    items = export_student_form(evaluations, read_jsonl(snakemake.input.problems), snakemake.output.form,
                                snakemake.output.template, snakemake.output.key, generators=p.generators,
                                per_source=p.per_source, judge_n=p.n, seed=p.seed)
    print(f"{w.dataset}/{w.pair}/{w.budget}/{w.student}: {len(items)} solutions to rate in {snakemake.output.form}; "
          f"save the downloaded ratings as {p.ratings}")
