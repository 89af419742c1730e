"""Test pass@1 after finetuning on SE, WC and gold data, per student and budget, of one dataset and pair."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.plots import plot_finetuning
from weakstrong.tables import table1_rows


def load(paths):
    return {path: json.loads(Path(path).read_text()) for path in paths}


with log_to(snakemake.log[0]):
    p = snakemake.params
    rows = table1_rows(p.cells, load(snakemake.input.evaluations), load(snakemake.input.base))
    written = plot_finetuning(rows, snakemake.output.pdf, p.title)
    print(f"{p.title}: {len(rows)} rows; wrote {', '.join(map(str, written))}")
