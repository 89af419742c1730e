"""Table 1: finetuning results per student and setting, SE data against WC data."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.tables import table1, table1_rows

with log_to(snakemake.log[0]):
    cells = snakemake.params[0]["cells"]
    accuracy = {c["path"]: json.load(open(c["path"]))["pass@1"] for c in cells}
    base = {}
    for path in snakemake.input.base:
        dataset, model = Path(path).parts[-3], Path(path).stem
        base[(dataset, model)] = json.load(open(path))["pass@1"]
    latex, markdown = table1(table1_rows(cells, accuracy, base))
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    print(markdown)
