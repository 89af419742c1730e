"""Pick the best (learning rate, checkpoint) on validation accuracy; the untrained student is a candidate where
the config says so (finetune.untrained_candidate) or there was nothing to train on."""
import json

from weakstrong.data import write_json
from weakstrong.logs import log_to
from weakstrong.selection import select_best

with log_to(snakemake.log[0]):
    runs = {run_dir: json.load(open(f"{run_dir}/scores.json")) for run_dir in snakemake.input.runs}
    base = json.load(open(snakemake.input.base))
    best = select_best(runs, {"checkpoint": base["model"], "validation_accuracy": base["validation"]["pass@1"]},
                       untrained_candidate=snakemake.params.untrained_candidate)
    write_json(snakemake.output[0], best)
    what = "the untrained student" if best["step"] == 0 else best["checkpoint"]
    print(f"selected {what} (validation accuracy {best['validation_accuracy']:.3f} of "
          f"{len(best['candidates'])} candidates; the untrained student scored "
          f"{best['untrained']['validation_accuracy']:.3f})")
