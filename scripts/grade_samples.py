"""Grade every sample of one (dataset, generator) and write the grader's version and settings beside it."""
from weakstrong.data import read_jsonl, write_json, write_jsonl
from weakstrong.grading import grader_settings, undecided_summary
from weakstrong.logs import log_to
from weakstrong.solutions import grade_samples

with log_to(snakemake.log[0]):
    p = snakemake.params
    graded = grade_samples(read_jsonl(snakemake.input.samples), read_jsonl(snakemake.input.train), p.style,
                           workers=snakemake.threads, timeout=p.timeout)
    write_jsonl(snakemake.output.graded, graded)
    undecided = undecided_summary(graded)
    write_json(snakemake.output.grader, {**grader_settings(), "workers": snakemake.threads, "timeout": p.timeout,
                                         "undecided": undecided})
    correct = sum(g["correct"] for g in graded)
    print(f"graded {len(graded)} samples: {correct} correct ({correct / max(1, len(graded)):.1%}), "
          f"{undecided['undecided']} undecided {undecided['by_reason']}")
