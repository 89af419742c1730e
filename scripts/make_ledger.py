"""The realized-cost ledger: what each experiment's SE and WC samples cost, planned against realized."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.tables import ledger_table

with log_to(snakemake.log[0]):
    metrics = {path: json.loads(Path(path).read_text()) for path in snakemake.input.metrics}
    latex, markdown = ledger_table(snakemake.params.cells, metrics)
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    print(markdown)
