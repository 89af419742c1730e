"""Coverage@k curves of one pair's SE and WC generators, from all their graded samples."""
from weakstrong.data import read_jsonl
from weakstrong.logs import log_to
from weakstrong.plots import plot_graded_coverage

with log_to(snakemake.log[0]):
    p = snakemake.params
    written = plot_graded_coverage({p.labels[s]: read_jsonl(snakemake.input[s]) for s in ("se", "wc")},
                                   read_jsonl(snakemake.input.problems), snakemake.output.pdf, p.title)
    print(f"{p.title}: wrote {', '.join(map(str, written))}")
