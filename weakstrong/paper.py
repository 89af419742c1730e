"""``results/paper.pdf``: the study's tables and figures in one LaTeX document, compiled with pdflatex.

The tables are :mod:`weakstrong.tables`' booktabs output, re-set for landscape pages: each is cut into parts
of at most :data:`ROWS_PER_PART` rows (a long table continues as the same numbered table) and shrunk to the
text width when wider.  Every caption says what was run: the pair's models and their parameters or prices,
how the pair is matched, the budgets, the replicates and the grader version.

The document needs pdflatex with booktabs, graphicx, geometry and caption: Debian's
``texlive-latex-base texlive-latex-recommended``.  It is written to compile to the same bytes on every run
(no dates, no trailer id, no file names in the PDF).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from weakstrong.tables import latex_escape

PDFLATEX_PACKAGES = "texlive-latex-base texlive-latex-recommended"
#: Body rows per part of a table: a part and its caption fit a landscape A4 page in \small.
ROWS_PER_PART = 24

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,landscape,margin=1.5cm]{geometry}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{caption}
\captionsetup{font=small,labelfont=bf}
% the same bytes on every compilation: no dates, no trailer id, no source file names
\pdfinfoomitdate=1
\pdftrailerid{}
\pdfsuppressptexinfo=-1
\newsavebox{\fitsavebox}
% a table at its natural size, or shrunk to the text width when wider
\newcommand{\fitwidth}[1]{\sbox{\fitsavebox}{#1}%
  \ifdim\wd\fitsavebox>\linewidth\resizebox{\linewidth}{!}{\usebox{\fitsavebox}}\else\usebox{\fitsavebox}\fi}
\setlength{\tabcolsep}{4pt}
"""

#: What each kind of figure shows; {dataset} and {pair} are filled in, the run's details follow.
FIGURE_CAPTIONS = {
    "data_metrics": ("Data quality on {dataset}, pair {pair} (the paper's Figure 3): coverage@k, diversity@k "
                     "(unique correct solutions per problem, by text and by reasoning) and false-positive rate of "
                     "SE data at k samples per problem against WC data at ratio times k, per budget; the "
                     "false-positive rate with its 95% Wilson interval (the LLM judge's where the run has one, "
                     "else the arithmetic checker's)."),
    "coverage_by_level": ("Coverage@k of SE data at k and WC data at ratio times k on {dataset}, pair {pair}, by "
                          "difficulty level (MATH's levels 1-5; the toy world's step count), per budget."),
    "coverage": ("Coverage@k of both generators of pair {pair} on {dataset} against k, estimated from all their "
                 "graded samples."),
    "coverage_cost": ("Coverage of both generators of pair {pair} on {dataset} against sampling cost: k samples per "
                      "problem cost k times the mean completion tokens times the cost of a token (2P FLOPs for a "
                      "model of P parameters on a compute-matched pair, the price on a price-matched one; prompts "
                      "left out, as in the paper's Equation 1), over all training problems. Dashed: the budgets; "
                      "dotted: the cost at which WC's coverage first lies above SE's."),
    "finetuning": ("Finetuning on {dataset} with data of pair {pair} (the paper's Figures 4 and 5): test pass@1 of "
                   "each student after training on SE, WC and gold data per budget, the setting in each panel's "
                   "title; error bars: 95% intervals over the replicates and test problems; dashed: the student "
                   "before finetuning, zero-shot as the finetuned students are evaluated."),
    "transfer": ("Transfer to {dataset} (the paper's Figure 6): maj@k of each student finetuned with data of pair "
                 "{pair} and selected on its training dataset's validation split, on {dataset}, whose problems vary "
                 "that dataset's test problems, after training on SE, WC and gold data, per budget, for k in "
                 "{maj_k}; error bars: 95% intervals over the replicates and problems."),
    "majority": ("Majority voting on {dataset} with data of pair {pair}: test maj@k of each student after "
                 "training on SE, WC and gold data, per budget, for k in {maj_k}; error bars: 95% intervals "
                 "over the replicates and test problems; dotted: the student before finetuning, zero-shot."),
}


def tex_engine() -> str | None:
    """The path of pdflatex, or None where TeX is not installed."""
    return shutil.which("pdflatex")


def require_pdflatex() -> None:
    """Raise with the Debian packages to install when pdflatex is missing."""
    if tex_engine() is None:
        raise RuntimeError("pdflatex is not installed; the paper needs it with booktabs (Debian: apt-get install "
                           f"--no-install-recommends {PDFLATEX_PACKAGES})")


def no_tex_notice(tex_path: str | Path) -> str:
    """What a run without pdflatex prints at its end: the tables, figures and findings are written; the PDF
    needs TeX, and the same command builds it once TeX is there."""
    return (f"No pdflatex on this machine, so the paper is {tex_path} (LaTeX source) and not its PDF; to get the "
            f"PDF, install TeX (Debian: apt-get install --no-install-recommends {PDFLATEX_PACKAGES}) and run the "
            f"same command again.")


def parse_table(tex: str) -> dict:
    """Caption, label, column alignment, header rows and body rows (``\\midrule`` lines kept) of a table
    written by :func:`weakstrong.tables.to_latex`."""
    def one(pattern: str, what: str) -> str:
        match = re.search(pattern, tex, re.MULTILINE | re.DOTALL)
        if match is None:
            raise ValueError(f"not a weakstrong.tables table: no {what}")
        return match.group(1)

    caption = one(r"^\\caption\{([^\n]*)\}$", "\\caption")
    label = one(r"^\\label\{([^\n]*)\}$", "\\label")
    align = one(r"^\\begin\{tabular\}\{([^\n]*)\}$", "\\begin{tabular}")
    rows = one(r"^\\toprule$\n(.*?)^\\bottomrule$", "\\toprule ... \\bottomrule").splitlines()
    split = rows.index("\\midrule")
    return {"caption": caption, "label": label, "align": align, "header": rows[:split], "body": rows[split + 1:]}


def _parts(body: list[str], size: int) -> list[list[str]]:
    """Body rows in parts of at most ``size`` rows; a rule that would end a part is dropped."""
    parts: list[list[str]] = [[]]
    for line in body:
        rows = sum(row != "\\midrule" for row in parts[-1])
        if line == "\\midrule":
            if rows < size:
                parts[-1].append(line)
            continue
        if rows == size:
            parts.append([])
        parts[-1].append(line)
    return parts


def table_latex(tex: str, note: str = "") -> str:
    """A :mod:`weakstrong.tables` table re-set for the paper: its caption followed by ``note`` (plain text),
    cut into parts of at most :data:`ROWS_PER_PART` rows, each at most the text width."""
    table = parse_table(tex)
    caption = table["caption"] + (" " + latex_escape(note) if note else "")
    blocks = []
    for number, part in enumerate(_parts(table["body"], ROWS_PER_PART)):
        head = (f"\\caption{{{caption}}}\n\\label{{{table['label']}}}" if number == 0
                else "\\ContinuedFloat\n\\caption[]{(continued)}")
        tabular = "\n".join([f"\\begin{{tabular}}{{{table['align']}}}", "\\toprule", *table["header"], "\\midrule",
                             *part, "\\bottomrule", "\\end{tabular}"])
        blocks.append(f"\\begin{{table}}[!htbp]\n\\centering\n\\small\n{head}\n\\fitwidth{{{tabular}}}\n\\end{{table}}")
    return "\n\n".join(blocks)


def _amount(parameters: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if parameters >= size:
            return f"{parameters / size:.3g}{suffix}"
    return f"{parameters:.0f}"


def model_text(model: dict) -> str:
    """``gemma2-9b (9.24B parameters)`` or ``gemini-1.5-pro (USD 10.5 per million output tokens, 3.5 per million
    input tokens)``."""
    details = []
    if model.get("parameters") is not None:
        details.append(f"{_amount(model['parameters'])} parameters")
    if model.get("price_per_million_tokens") is not None:
        details.append(f"USD {model['price_per_million_tokens']:g} per million output tokens")
    if model.get("input_price_per_million_tokens") is not None:
        details.append(f"{'' if details else 'USD '}{model['input_price_per_million_tokens']:g} per million input tokens")
    return f"{model['name']} ({', '.join(details)})" if details else model["name"]


def pair_text(name: str, pair: dict) -> str:
    """One sentence on a generator pair: models, matching, budgets, datasets and students."""
    match = ("matched on compute: a SE sample costs {ratio:.3g} WC samples" if pair["match"] == "compute"
             else "matched on price: a SE token costs {ratio:.3g} WC tokens").format(ratio=pair["cost_ratio"])
    budgets = ", ".join(f"{budget} (SE {counts['se']} vs WC {counts['wc']} samples per problem)"
                        for budget, counts in pair["budgets"].items())
    return (f"Pair {name}: WC {model_text(pair['weak'])} vs SE {model_text(pair['strong'])}, {match}, so WC "
            f"draws {pair['samples_ratio']} samples per SE sample; budgets {budgets}; datasets "
            f"{', '.join(pair['datasets'])}; students {', '.join(model_text(s) for s in pair['students'])}.")


def run_text(run: dict) -> str:
    """Replicates, seed and grader: what every result of the run shares."""
    replicates = run["replicates"]
    repeats = ("One replicate" if len(replicates) == 1 else
               f"{len(replicates)} replicates, each redrawing the toy models, samples and finetuning runs with its "
               f"own seed; figures of the data show the first")
    return f"{repeats} on the same problems; seed {run['seed']}; grader version {run['grader_version']}."


def figure_latex(figure: dict, run: dict, tex_dir: str | Path) -> str:
    """A figure float: the PDF (``figure["path"]``, relative to the working directory) referred to from
    ``tex_dir``, captioned by its kind, its pair's sentence and the run's replicates and grader."""
    maj_k = run.get("maj_k", [])
    if figure["kind"] == "transfer":  # a transfer dataset's own maj_k
        maj_k = run.get("transfer_maj_k", {}).get(figure["dataset"], maj_k)
    caption = FIGURE_CAPTIONS[figure["kind"]].format(dataset=figure["dataset"], pair=figure["pair"],
                                                     maj_k=", ".join(map(str, maj_k)))
    caption += " " + pair_text(figure["pair"], run["pairs"][figure["pair"]]) + " " + run_text(run)
    path = Path(os.path.relpath(figure["path"], tex_dir)).as_posix()
    return (f"\\begin{{figure}}[!htbp]\n\\centering\n"
            f"\\includegraphics[width=\\linewidth,height=0.7\\textheight,keepaspectratio]{{{path}}}\n"
            f"\\caption{{{latex_escape(caption)}}}\n"
            f"\\label{{fig:{figure['kind']}:{figure['dataset']}:{figure['pair']}}}\n\\end{{figure}}")


def paper_latex(tables: list[str], figures: list[dict], run: dict, tex_dir: str | Path) -> str:
    """The document: what was run, every table in the given order, then the figures of each (dataset, pair)
    from a new page.

    ``tables`` are the tables' LaTeX (:mod:`weakstrong.tables`); ``figures`` carry ``path``, ``kind`` (a key of
    :data:`FIGURE_CAPTIONS`), ``dataset`` and ``pair``; ``run`` carries ``results`` (the results directory),
    ``pairs`` (name -> models as ``{"name", "parameters"?, "price_per_million_tokens"?}``, ``match``,
    ``cost_ratio``, ``samples_ratio``, ``budgets`` {label: {"se", "wc"}}, ``datasets``, ``students``),
    ``replicates``, ``seed``, ``grader_version`` and ``maj_k``.
    """
    note = " ".join(pair_text(name, pair) for name, pair in run["pairs"].items()) + " " + run_text(run)
    if run.get("machines"):
        note += " " + run["machines"]
    lines = [PREAMBLE, "\\begin{document}",
             f"\\section*{{Smaller, Weaker, Yet Better: results of {latex_escape(run['results'])}}}",
             latex_escape("Compute-optimal sampling (Bansal et al., ICLR 2025) as this run did it. " + note),
             "", "\\section*{Tables}", ""]
    lines += [table_latex(tex, "This run: " + run_text(run)) + "\n" for tex in tables]
    groups = list(dict.fromkeys((figure["dataset"], figure["pair"]) for figure in figures))
    for dataset, pair in groups:
        lines += ["\\clearpage", f"\\section*{{Figures: {latex_escape(dataset)}, pair {latex_escape(pair)}}}", ""]
        lines += [figure_latex(figure, run, tex_dir) + "\n" for figure in figures
                  if (figure["dataset"], figure["pair"]) == (dataset, pair)]
    lines += ["\\end{document}", ""]
    return "\n".join(lines)


def compile_pdf(tex_path: str | Path, pdf_path: str | Path) -> str:
    """Compile ``tex_path`` with pdflatex in its own directory (figure paths are relative to it), with the
    auxiliary files in a temporary directory; write ``pdf_path`` and return pdflatex's output."""
    require_pdflatex()
    tex_path = Path(tex_path).resolve()
    with tempfile.TemporaryDirectory() as build:
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"-output-directory={build}",
                               tex_path.name], cwd=tex_path.parent, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace")
        built = Path(build) / tex_path.with_suffix(".pdf").name
        if proc.returncode != 0 or not built.exists():
            errors = [line for line in proc.stdout.splitlines() if line.startswith("!")]
            raise RuntimeError(f"pdflatex failed on {tex_path} ({'; '.join(errors) or 'no error line'}):\n"
                               + proc.stdout[-3000:])
        Path(pdf_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, pdf_path)
    return proc.stdout
