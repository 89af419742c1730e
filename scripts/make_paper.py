"""results/paper.pdf: every table and figure in one LaTeX document, compiled with pdflatex."""
import sys
from pathlib import Path

from weakstrong.logs import log_to
from weakstrong.paper import compile_pdf, paper_latex, require_pdflatex

try:
    require_pdflatex()
except RuntimeError as error:
    sys.exit(f"make_paper: {error}")  # before log_to, so the message reaches the terminal, not only the log

with log_to(snakemake.log[0]):
    p = snakemake.params
    tables = [Path(path).read_text() for path in snakemake.input.tables]
    tex = Path(snakemake.output.tex)
    tex.write_text(paper_latex(tables, p.figures, p.run, tex.parent))
    print(compile_pdf(tex, snakemake.output.pdf))
    print(f"wrote {tex} and {snakemake.output.pdf}: {len(tables)} tables, {len(p.figures)} figures")
