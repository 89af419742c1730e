"""LLM-judge verdicts on a finetuned student's correct test solutions (one arm: WC or SE data), and the flawed
rate."""
import json

from weakstrong.data import read_jsonl, write_json, write_jsonl
from weakstrong.devices import claim_gpus
from weakstrong.judge import load_template
from weakstrong.logs import log_to
from weakstrong.numerics import apply as apply_numerics
from weakstrong.sampling import make_judge
from weakstrong.student_errors import judge_student_solutions
from weakstrong.tables import fraction

if __name__ == "__main__":  # vLLM starts worker processes that re-import the main module
    with log_to(snakemake.log[0]), claim_gpus(snakemake.resources.gpu):
        p = snakemake.params
        machine = apply_numerics(p.numerics, snakemake.threads, p.backend)
        w = snakemake.wildcards
        evaluation = json.load(open(snakemake.input.evaluation))
        records, summary = judge_student_solutions(
            make_judge(p.backend, p.model, p.judge, p.openai_api, gpus=snakemake.resources.gpu,
                       memory_mb=snakemake.resources.mem_mb),
            evaluation, read_jsonl(snakemake.input.problems), load_template(p.template), source=w.source,
            generator=p.generator, n=p.n, seed=p.seed, max_tokens=p.max_tokens)
        write_jsonl(snakemake.output.records, records)
        write_json(snakemake.output.summary, {**summary, "dataset": w.dataset, "pair": w.pair, "budget": w.budget,
                                              "student": w.student, "source": w.source, "generator": p.generator,
                                              "judge": p.judge, "backend": p.backend, "max_tokens": p.max_tokens,
                                              "template_sha256": p.template_sha256, "machine": machine})
        print(f"{p.judge} judging {w.student} finetuned on {w.source.upper()} data ({p.generator}) of "
              f"{w.dataset}/{w.pair}/{w.budget}: {summary['n']} of its {summary['correct']} correct test solutions, "
              f"{summary['n_flawed']} flawed, {summary['n_correct']} correct, {summary['n_unparsable']} unparsable "
              f"(flawed rate {fraction(summary['rate'])})")
