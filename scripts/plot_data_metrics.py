"""Figure 3: coverage, diversity and false-positive rate of SE vs WC data at each budget of one pair."""
import json
from types import SimpleNamespace

from weakstrong.logs import log_to
from weakstrong.plots import plot_data_metrics

with log_to(snakemake.log[0]):
    p = SimpleNamespace(**snakemake.params[0])
    metrics = {budget: json.load(open(path)) for budget, path in zip(p.budgets, snakemake.input)}
    written = plot_data_metrics(metrics, snakemake.output.pdf, p.title)
    print(f"{p.title} ({', '.join(p.budgets)}): wrote {', '.join(map(str, written))}")
