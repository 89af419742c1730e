"""maj@k of the finetuned students (and before finetuning) against k, of one dataset and pair."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.plots import base_majority, majority_curves, plot_majority_curves


def load(paths):
    return {path: json.loads(Path(path).read_text()) for path in paths}


with log_to(snakemake.log[0]):
    p = snakemake.params
    curves = majority_curves(p.cells, load(snakemake.input.evaluations), p.maj_k)
    base = base_majority(p.cells, load(snakemake.input.base), p.maj_k)
    written = plot_majority_curves(curves, snakemake.output.pdf, p.title, base)
    print(f"{p.title}: maj@k for k in {sorted(p.maj_k)}; wrote {', '.join(map(str, written))}")
