"""LLM-judge verdicts on a level-stratified sample of one source's kept solutions at one budget, and the
flawed rate."""
from weakstrong.data import read_jsonl, write_json, write_jsonl
from weakstrong.devices import claim_gpus
from weakstrong.judge import judge_solutions, load_template
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_judge
from weakstrong.tables import fraction

if __name__ == "__main__":  # vLLM starts worker processes that re-import the main module
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
        w = snakemake.wildcards
        records, summary = judge_solutions(
            make_judge(p.backend, p.model, p.judge, p.openai_api, gpus=snakemake.resources.gpu,
                       memory_mb=snakemake.resources.mem_mb),
            read_jsonl(snakemake.input.graded), read_jsonl(snakemake.input.problems), load_template(p.template),
            n=p.n, seed=p.seed, per_question=p.per_question, max_tokens=p.max_tokens)
        write_jsonl(snakemake.output.records, records)
        write_json(snakemake.output.summary, {**summary, "dataset": w.dataset, "pair": w.pair, "budget": w.budget,
                                              "source": w.source, "generator": p.generator,
                                              "per_question": p.per_question, "judge": p.judge,
                                              "backend": p.backend, "max_tokens": p.max_tokens,
                                              "template_sha256": p.template_sha256, "machine": machine})
        print(f"{p.judge} judging {w.source.upper()} ({p.generator}, {p.per_question} per question) of "
              f"{w.dataset}/{w.pair}/{w.budget}: {summary['n']} of {summary['kept']} kept solutions, "
              f"{summary['n_flawed']} flawed, {summary['n_correct']} correct, {summary['n_unparsable']} unparsable "
              f"(flawed rate {fraction(summary['rate'])})")
