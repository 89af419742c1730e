"""Table 2: coverage, diversity and false-positive rate of SE and WC data per dataset and budget."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.tables import table2

with log_to(snakemake.log[0]):
    cells = snakemake.params[0]["cells"]
    latex, markdown = table2(cells, {c["path"]: json.load(open(c["path"])) for c in cells})
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    print(markdown)
