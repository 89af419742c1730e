"""Test accuracy (pass@1 greedy, maj@k) of a finetuned student's selected checkpoint, zero-shot."""
import json

from weakstrong.data import read_jsonl, write_json
from weakstrong.devices import claim_gpus
from weakstrong.evaluation import evaluate
from weakstrong.logs import log_to
from weakstrong.sampling import make_generator

if __name__ == "__main__":
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        selection = json.load(open(snakemake.input.selection))
        result = evaluate(make_generator(p.backend, selection["checkpoint"], gpus=snakemake.resources.gpu,
                                         memory_mb=snakemake.resources.mem_mb),
                          read_jsonl(snakemake.input.test), p.style, exemplars=None, max_tokens=p.max_tokens,
                          maj_k=p.maj_k, temperature=p.maj_temperature, seed=p.seed, workers=snakemake.threads)
        write_json(snakemake.output[0], {**result, "selection": selection})
        print(f"test pass@1 {result['pass@1']:.3f} on {result['problems']} problems with {selection['checkpoint']}")
