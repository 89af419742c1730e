"""A transfer dataset's table: each student's pass@1 and maj@k on it after training on SE and on WC data, WC minus
SE paired by replicate and problem, and the same students on the test problems it varies; its rows as JSON for
the findings."""
import json
from pathlib import Path

from weakstrong.data import read_jsonl
from weakstrong.logs import log_to
from weakstrong.tables import transfer_rows, transfer_table


def load(paths):
    return {path: json.loads(Path(path).read_text()) for path in paths}


with log_to(snakemake.log[0]):
    p = snakemake.params
    variant_of = {problem["id"]: problem["variant_of"] for problem in read_jsonl(snakemake.input.test)}
    rows = transfer_rows(p.cells, load(snakemake.input.evaluations), p.metrics, load(snakemake.input.static),
                         variant_of)
    latex, markdown = transfer_table(rows, json.loads(Path(snakemake.input.report).read_text()))
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    Path(snakemake.output.json).write_text(json.dumps(rows, indent=1))
    print(markdown)
