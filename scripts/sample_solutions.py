"""Draw one shard of few-shot solutions from a generator (vLLM; tensor parallel over resources.gpu)."""
from pathlib import Path

from weakstrong.data import read_jsonl, write_json, write_jsonl
from weakstrong.devices import claim_gpus
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_generator
from weakstrong.solutions import draw_samples, shard_of, shard_seed

if __name__ == "__main__":  # vLLM starts worker processes that re-import the main module
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
        w = snakemake.wildcards
        shard = int(w.shard)
        problems = shard_of(read_jsonl(snakemake.input.train), shard, p.shards)
        # Finished API requests, kept when the job fails so that its rerun does not pay for them again.
        journal = Path(f"{snakemake.output.samples}.journal")
        # model_key: where the model came from, for the API backend's error if the API does not serve it
        api = {**p.openai_api, "model_key": f"models.{w.generator}.source"}
        records = draw_samples(
            make_generator(p.backend, p.model, gpus=snakemake.resources.gpu,
                           memory_mb=snakemake.resources.mem_mb, api=api, journal=str(journal)),
            problems, read_jsonl(snakemake.input.exemplars), style=p.style, generator=w.generator,
            backend=p.backend, samples_per_question=p.samples_per_question, temperature=p.temperature,
            top_k=p.top_k, top_p=p.top_p, max_tokens=p.max_tokens,
            seed=shard_seed(p.seed, w.generator, w.dataset, shard), chat=p.chat)
        write_jsonl(snakemake.output.samples, records)
        write_json(snakemake.output.machine, machine)
        journal.unlink(missing_ok=True)
        truncated = sum(r["finish_reason"] == "length" for r in records)
        print(f"{w.generator} on {w.dataset} shard {shard}: {len(records)} samples for {len(problems)} "
              f"problems ({truncated} hit max_tokens)")
