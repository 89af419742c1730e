"""Coverage, diversity and false-positive rate of one budget's SE and WC data, plus the sampling ledger."""
from weakstrong.data import read_jsonl, write_json
from weakstrong.logs import log_to
from weakstrong.metrics import measure_budget
from weakstrong.study import sampling_ledger
from weakstrong.tables import fraction

with log_to(snakemake.log[0]):
    p = snakemake.params
    w = snakemake.wildcards
    se, wc = read_jsonl(snakemake.input.se), read_jsonl(snakemake.input.wc)
    metrics = measure_budget(se, wc, read_jsonl(snakemake.input.problems), k_se=p.k_se, ratio=p.ratio,
                             style=p.style)
    metrics["se"]["model"], metrics["wc"]["model"] = se[0]["generator"], wc[0]["generator"]
    metrics["ledger"] = sampling_ledger(se, wc, k_se=p.k_se, ratio=p.ratio, cost_ratio=p.cost_ratio,
                                        match=p.match)
    write_json(snakemake.output[0], metrics)
    se_m, wc_m = metrics["se"], metrics["wc"]
    print(f"{w.dataset}/{w.pair}/{w.budget}: coverage SE {fraction(se_m['coverage'])} vs WC "
          f"{fraction(wc_m['coverage'])}; false positives SE {fraction(se_m['false_positive_rate'])} vs WC "
          f"{fraction(wc_m['false_positive_rate'])}")
