"""Held-out accuracy of a model before finetuning, with the few-shot prompt used for sampling."""
from types import SimpleNamespace


from weakstrong.data import read_jsonl, write_json
from weakstrong.devices import claim_gpus
from weakstrong.evaluation import evaluate
from weakstrong.logs import log_to
from weakstrong.prompts import pick_exemplars
from weakstrong.sampling import make_generator

if __name__ == "__main__":
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = SimpleNamespace(**snakemake.params[0])
        exemplars = pick_exemplars(read_jsonl(snakemake.input.train), p.few_shot, seed=0)
        result = evaluate(make_generator(p.backend, p.model, gpus=snakemake.resources.gpu,
                                         memory_mb=snakemake.resources.mem_mb, api=p.openai_api),
                          read_jsonl(snakemake.input.test), p.style, exemplars=exemplars,
                          max_tokens=p.max_tokens, maj_k=p.maj_k, seed=p.seed, workers=snakemake.threads)
        write_json(snakemake.output[0], {**result, "model": p.model, "few_shot": p.few_shot})
        print(f"{snakemake.wildcards.model} base {p.few_shot}-shot test pass@1 {result['pass@1']:.3f}")
