"""Test accuracy (pass@1 greedy, maj@k) of a finetuned student's selected checkpoint, zero-shot."""
import json

from weakstrong.data import read_jsonl, write_json
from weakstrong.devices import claim_gpus
from weakstrong.evaluation import evaluate, evaluation_settings, reuse_base_evaluation
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_generator


def evaluate_selected(p, selection: dict) -> dict:
    with claim_gpus(snakemake.resources.gpu):
        return evaluate(make_generator(p.backend, selection["checkpoint"], gpus=snakemake.resources.gpu,
                                       memory_mb=snakemake.resources.mem_mb),
                        read_jsonl(snakemake.input.test), p.style, exemplars=None, max_tokens=p.max_tokens,
                        maj_k=p.maj_k, temperature=p.maj_temperature, seed=p.seed, workers=snakemake.threads)


if __name__ == "__main__":
    with log_to(snakemake.log[0]):
        p = snakemake.params
        selection = json.load(open(snakemake.input.selection))
        settings = evaluation_settings(backend=p.backend, max_tokens=p.max_tokens, maj_k=p.maj_k,
                                       temperature=p.maj_temperature, seed=p.seed, chat=False)
        base = json.load(open(snakemake.input.base))
        result = reuse_base_evaluation(selection, base, settings)
        if result is None:
            machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
            result = {**evaluate_selected(p, selection), "machine": machine}
        else:
            print(f"selection kept the untrained model: its base evaluation ({snakemake.input.base}) is this one")
            result = {**result, "machine": base.get("machine")}
        write_json(snakemake.output[0], {**result, "selection": selection})
        print(f"test pass@1 {result['pass@1']:.3f} on {result['problems']} problems with {selection['checkpoint']}")
