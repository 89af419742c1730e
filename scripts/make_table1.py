"""Table 1: finetuning results per student and setting, SE data against WC data."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.tables import table1, table1_rows

with log_to(snakemake.log[0]):
    cells = snakemake.params[0]["cells"]
    evaluations = {c["path"]: json.load(open(c["path"])) for c in cells}
    accuracy = {path: evaluation["pass@1"] for path, evaluation in evaluations.items()}
    untrained = frozenset(path for path, evaluation in evaluations.items() if evaluation["selection"]["step"] == 0)
    base = {}
    for path in snakemake.input.base:
        dataset, model = Path(path).parts[-3], Path(path).stem
        base[(dataset, model)] = json.load(open(path))["pass@1"]
    latex, markdown = table1(table1_rows(cells, accuracy, base, untrained))
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    print(markdown)
