"""Accuracy on a transfer dataset (pass@1 greedy, maj@k) of a finetuned student's checkpoint selected on the
validation split of the dataset it was trained on, zero-shot, as scripts/evaluate.py evaluates on the test set."""
import json

from weakstrong.data import read_jsonl, write_json
from weakstrong.devices import claim_gpus
from weakstrong.evaluation import evaluate, evaluation_settings
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_generator

if __name__ == "__main__":
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        selection = json.load(open(snakemake.input.selection))
        machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
        generate = make_generator(p.backend, selection["checkpoint"], gpus=snakemake.resources.gpu,
                                  memory_mb=snakemake.resources.mem_mb)
        result = evaluate(generate, read_jsonl(snakemake.input.test), p.style, exemplars=None, max_tokens=p.max_tokens,
                          maj_k=p.maj_k, temperature=p.maj_temperature, seed=p.seed, workers=snakemake.threads)
        settings = evaluation_settings(backend=p.backend, max_tokens=p.max_tokens, maj_k=p.maj_k,
                                       temperature=p.maj_temperature, seed=p.seed, chat=False)
        write_json(snakemake.output[0], {**result, "machine": machine, "settings": settings, "selection": selection})
        print(f"{snakemake.wildcards.dataset}: pass@1 {result['pass@1']:.3f} on {result['problems']} problems with "
              f"{selection['checkpoint']}" + "".join(f", maj@{k} {result[f'maj@{k}']:.3f}" for k in sorted(p.maj_k)))
