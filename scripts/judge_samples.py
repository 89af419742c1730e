"""The LLM judge's verdict on every sample of a generator (the budgets' first samples per question), from the
question and the solution alone: the judged sources keep those it rates correct (weakstrong/judge_filter.py)."""
from pathlib import Path

from weakstrong.data import read_jsonl, write_json, write_jsonl
from weakstrong.devices import claim_gpus
from weakstrong.judge_filter import judge_samples, load_template
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_judge
from weakstrong.tables import fraction

if __name__ == "__main__":  # vLLM starts worker processes that re-import the main module
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
        w = snakemake.wildcards
        # Finished API requests, kept when the job fails so that its rerun does not pay for them again.
        journal = Path(f"{snakemake.output.records}.journal")
        records, summary = judge_samples(
            make_judge(p.backend, p.model, p.judge, p.openai_api, gpus=snakemake.resources.gpu,
                       memory_mb=snakemake.resources.mem_mb, journal=str(journal)),
            read_jsonl(snakemake.input.graded), read_jsonl(snakemake.input.problems), load_template(p.template),
            per_question=p.per_question, seed=p.seed, max_tokens=p.max_tokens)
        write_jsonl(snakemake.output.records, records)
        write_json(snakemake.output.summary, {**summary, "dataset": w.dataset, "generator": w.generator,
                                              "per_question": p.per_question, "judge": p.judge, "backend": p.backend,
                                              "max_tokens": p.max_tokens, "template_sha256": p.template_sha256,
                                              "machine": machine})
        journal.unlink(missing_ok=True)
        print(f"{p.judge} judging {summary['n']} samples of {w.generator} on {w.dataset} ({p.per_question} per "
              f"question) without gold answers: {summary['n_correct']} correct, {summary['n_flawed']} flawed, "
              f"{summary['n_unparsable']} unparsable; against the gold answer, precision "
              f"{fraction(summary['precision']['rate'])}, recall {fraction(summary['recall']['rate'])}")
