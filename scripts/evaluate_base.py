"""Accuracy of a model before finetuning on the test set: zero-shot (as the finetuned students are evaluated)
and few-shot (the prompt it samples with); for a student, also its zero-shot validation score, which makes
the untrained student a candidate in checkpoint selection."""
from weakstrong.data import read_jsonl, write_json
from weakstrong.devices import claim_gpus
from weakstrong.evaluation import evaluate, evaluation_settings
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_generator

if __name__ == "__main__":
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
        generate = make_generator(p.backend, p.model, gpus=snakemake.resources.gpu,
                                  memory_mb=snakemake.resources.mem_mb, api=p.openai_api)
        test = read_jsonl(snakemake.input.test)
        exemplars = read_jsonl(snakemake.input.exemplars)
        common = {"max_tokens": p.max_tokens, "seed": p.seed, "workers": snakemake.threads, "chat": p.chat}
        result = {"model": p.model, "machine": machine,
                  "zero_shot": evaluate(generate, test, p.style, exemplars=None, maj_k=p.maj_k,
                                        temperature=p.maj_temperature, **common),
                  # a finetuned student's evaluation reuses zero_shot when selection keeps this model
                  "settings": evaluation_settings(backend=p.backend, max_tokens=p.max_tokens, maj_k=p.maj_k,
                                                  temperature=p.maj_temperature, seed=p.seed, chat=p.chat),
                  "few_shot": {**evaluate(generate, test, p.style, exemplars=exemplars, **common),
                               "shots": len(exemplars)}}
        if snakemake.input.validation:  # a student's: the untrained student is a selection candidate
            validation = read_jsonl(snakemake.input.validation)[:p.validation_problems]
            result["validation"] = evaluate(generate, validation, p.style, exemplars=None, **common)
        write_json(snakemake.output[0], result)
        print(f"{snakemake.wildcards.model} before finetuning: test pass@1 {result['zero_shot']['pass@1']:.3f} "
              f"zero-shot, {result['few_shot']['pass@1']:.3f} {len(exemplars)}-shot"
              + (f"; validation {result['validation']['pass@1']:.3f}" if "validation" in result else ""))
