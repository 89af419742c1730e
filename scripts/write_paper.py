"""results/paper.tex: every table and figure in one LaTeX document, with what was run and on which machines."""
import json
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.paper import paper_latex

with log_to(snakemake.log[0]):
    p = snakemake.params
    tables = [Path(path).read_text() for path in snakemake.input.tables]
    machines = json.loads(Path(snakemake.input.provenance).read_text())["caption"]
    tex = Path(snakemake.output[0])
    tex.write_text(paper_latex(tables, p.figures, {**p.run, "machines": machines}, tex.parent))
    print(f"wrote {tex}: {len(tables)} tables, {len(p.figures)} figures")
