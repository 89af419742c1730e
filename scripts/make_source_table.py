"""Table 1b (the sources without gold answers) or 1c (the mixed pool), and its rows as JSON for the findings."""
import json
from pathlib import Path

from weakstrong.data import read_jsonl
from weakstrong.logs import log_to
from weakstrong.source_tables import source_rows, source_table

with log_to(snakemake.log[0]):
    table = snakemake.wildcards.table
    evaluations = {path: json.loads(Path(path).read_text()) for path in snakemake.input.evaluations}
    data = {path: read_jsonl(path) for path in snakemake.input.sft}
    machines = json.loads(Path(snakemake.input.provenance).read_text())["caption"]
    rows = source_rows(table, snakemake.params.cells, evaluations, data)
    latex, markdown = source_table(table, rows, machines, snakemake.params.judge_model)
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    Path(snakemake.output.json).write_text(json.dumps(rows, indent=1))
    print(markdown)
