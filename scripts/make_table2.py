"""Table 2: coverage, diversity and false positives (LLM judge, human audit, arithmetic checker) of SE and
WC data per dataset and budget."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.tables import table2


def load(paths):
    return {path: json.loads(Path(path).read_text()) for path in paths}


with log_to(snakemake.log[0]):
    p = snakemake.params
    latex, markdown = table2(p.cells, load(snakemake.input.metrics), load(snakemake.input.judge),
                             load(snakemake.input.audit), judge_model=p.judge_model)
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    print(markdown)
