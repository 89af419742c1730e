"""Table 1: finetuning results per student and setting, SE data against WC data (and gold), with the
students before finetuning; and its detail table (selected checkpoints, maj@k)."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.tables import table1, table1_detail, table1_rows

with log_to(snakemake.log[0]):
    cells = snakemake.params.cells
    evaluations = {path: json.load(open(path)) for path in snakemake.input.evaluations}
    bases = {path: json.load(open(path)) for path in snakemake.input.base}
    machines = json.load(open(snakemake.input.provenance))["caption"]
    latex, markdown = table1(table1_rows(cells, evaluations, bases), machines)
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    detail_latex, detail_markdown = table1_detail(cells, evaluations, snakemake.params.maj_k)
    Path(snakemake.output.detail_tex).write_text(detail_latex)
    Path(snakemake.output.detail_md).write_text(detail_markdown)
    print(markdown)
