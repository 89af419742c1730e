"""maj@k against k on a transfer dataset of the students finetuned with one pair's data (the paper's Figure 6)."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.plots import majority_curves, plot_majority_curves

with log_to(snakemake.log[0]):
    p = snakemake.params
    evaluations = {path: json.loads(Path(path).read_text()) for path in snakemake.input.evaluations}
    written = plot_majority_curves(majority_curves(p.cells, evaluations, p.maj_k), snakemake.output.pdf, p.title,
                                   ylabel=p.ylabel)
    print(f"{p.title}: maj@k for k in {sorted(p.maj_k)}; wrote {', '.join(map(str, written))}")
