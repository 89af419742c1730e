"""results/paper.pdf: the paper's LaTeX source compiled with pdflatex."""
import sys

from weakstrong.logs import log_to
from weakstrong.paper import compile_pdf, require_pdflatex

try:
    require_pdflatex()
except RuntimeError as error:
    sys.exit(f"make_paper: {error}")  # before log_to, so the message reaches the terminal, not only the log

with log_to(snakemake.log[0]):
    print(compile_pdf(snakemake.input.tex, snakemake.output[0]))
    print(f"wrote {snakemake.output[0]} from {snakemake.input.tex}")
