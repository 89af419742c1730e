"""Coverage of one pair's SE and WC generators against sampling cost (FLOPs or USD), from their graded samples."""
from weakstrong.data import read_jsonl
from weakstrong.logs import log_to
from weakstrong.plots import COST_UNITS, coverage_cost_curve, plot_coverage_cost

with log_to(snakemake.log[0]):
    p = snakemake.params
    problems = read_jsonl(snakemake.input.problems)
    curves = {source: coverage_cost_curve(read_jsonl(snakemake.input[source]), problems, p.cost_per_token[source])
              for source in ("se", "wc")}
    written = plot_coverage_cost(curves, snakemake.output.pdf, p.title, unit=COST_UNITS[p.match], labels=p.labels,
                                 budgets=p.budgets)
    for source, curve in curves.items():
        print(f"{p.labels[source]}: {curve['mean_tokens']:.1f} completion tokens per sample, "
              f"{curve['cost_per_sample']:.4g} {COST_UNITS[p.match]} per sample of every problem")
    print(f"{p.title}: wrote {', '.join(map(str, written))}")
