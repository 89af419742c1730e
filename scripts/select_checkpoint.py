"""Pick the best (learning rate, checkpoint) on validation accuracy."""
import json

from weakstrong.data import write_json
from weakstrong.logs import log_to
from weakstrong.selection import select_best

with log_to(snakemake.log[0]):
    runs = {}
    for run_dir in snakemake.input:
        runs[run_dir] = json.load(open(f"{run_dir}/scores.json"))
    best = select_best(runs)
    write_json(snakemake.output[0], best)
    print(f"selected {best['checkpoint']} (validation accuracy {best['validation_accuracy']:.3f})")
