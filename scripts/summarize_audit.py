"""Human false-positive rate of one pair's audited solutions at one budget, and the LLM judge's agreement
with it."""
from weakstrong.audit import summarize_pair_audit
from weakstrong.data import read_jsonl, write_json
from weakstrong.logs import log_to

with log_to(snakemake.log[0]):
    w = snakemake.wildcards
    summary = summarize_pair_audit(snakemake.input.ratings, snakemake.input.key,
                                   [r for path in snakemake.input.judge for r in read_jsonl(path)])
    write_json(snakemake.output[0], summary)
    agreement = summary["agreement"]
    kappa = "n/a" if agreement["cohens_kappa"] is None else f"{agreement['cohens_kappa']:.2f}"
    percent = "n/a" if agreement["percent_agreement"] is None else f"{agreement['percent_agreement']:.1f}%"
    print(f"{w.dataset}/{w.pair}/{w.budget}: humans rate {summary['n_flawed']} of {summary['n']} flawed "
          f"({summary['rate']:.3f}); judge agrees on {percent} of {agreement['n_compared']} (kappa {kappa}), "
          f"{agreement['n_judge_unparsable']} judge verdicts unparsable")
