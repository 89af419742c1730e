"""One ablation's table: each arm's finetuning results against the arm it is compared with; its rows as JSON
for the findings."""
import json
from pathlib import Path

from weakstrong.ablations import table_rows
from weakstrong.data import read_jsonl
from weakstrong.logs import log_to
from weakstrong.tables import ablation_table

with log_to(snakemake.log[0]):
    evaluations = {path: json.loads(Path(path).read_text()) for path in snakemake.input.evaluations}
    data = {path: read_jsonl(path) for path in snakemake.input.sft}
    rows = table_rows(snakemake.params.cells, evaluations, data)
    latex, markdown = ablation_table(snakemake.params.description, rows,
                                     f"tab:ablation-{snakemake.wildcards.ablation.replace('_', '-')}")
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    Path(snakemake.output.json).write_text(json.dumps(rows, indent=1))
    print(markdown)
