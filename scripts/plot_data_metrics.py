"""Figure 3: coverage, diversity and false-positive rate (the LLM judge's where there is one) of SE vs WC
data at each budget of one pair; and coverage by difficulty level."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.plots import plot_coverage_by_level, plot_data_metrics


def load(path):
    return json.loads(Path(path).read_text())


with log_to(snakemake.log[0]):
    p = snakemake.params
    metrics = {budget: load(path) for budget, path in p.metrics.items()}
    judge = {budget: {source: load(path) for source, path in paths.items()} for budget, paths in p.judge.items()}
    written = plot_data_metrics(metrics, snakemake.output.pdf, p.title, judge or None)
    written += plot_coverage_by_level(metrics, snakemake.output.level_pdf, f"{p.title}: coverage by level")
    print(f"{p.title} ({', '.join(metrics)}; false positives by "
          f"{'the LLM judge' if judge else 'the arithmetic checker'}): wrote {', '.join(map(str, written))}")
