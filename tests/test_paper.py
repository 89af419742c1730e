"""results/paper.pdf: tables re-set for the page, captions that say what was run, a PDF that compiles to the same
bytes and holds the tables' numbers; and, on the test study, the paper, the findings and the Snakemake report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import TEST_CONFIG, snakemake
from test_plots import training_cells
from weakstrong import paper, study
from weakstrong.config import load
from weakstrong.ablations import table_rows
from weakstrong.plots import plot_coverage_curves
from weakstrong.tables import ablation_table, ledger_table, table1, table1_detail, table1_rows, table2, to_latex

RUN = {"results": "results/toy", "replicates": [1, 2], "seed": 7, "grader_version": "9.9.9", "maj_k": [1, 4],
       "pairs": {"toy": {"weak": {"name": "toy-wc", "parameters": 134400.0},
                         "strong": {"name": "toy-se", "parameters": 410688.0},
                         "students": [{"name": "toy-student", "parameters": 115968.0}], "match": "compute",
                         "cost_ratio": 3.0557, "samples_ratio": 3, "datasets": ["math"],
                         "budgets": {"low": {"se": 1, "wc": 3}, "high": {"se": 3, "wc": 9}}}}}


def needs_latex():
    """Skip without pdflatex and pdftotext, unless WEAKSTRONG_REQUIRE_LATEX=1 (CI installs them)."""
    missing = [tool for tool in ("pdflatex", "pdftotext") if shutil.which(tool) is None]
    if missing:
        message = (f"{', '.join(missing)} not installed (apt-get install --no-install-recommends "
                   f"{paper.PDFLATEX_PACKAGES} poppler-utils)")
        if os.environ.get("WEAKSTRONG_REQUIRE_LATEX") == "1":
            pytest.fail(message)
        pytest.skip(message)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def numbers(markdown: str) -> set[str]:
    """The decimal numbers in a table's Markdown twin (its cells as the LaTeX table has them)."""
    return set(re.findall(r"\d+\.\d+", markdown.split("\n\n", 1)[1]))


def table_parts(tex: str) -> list[list[str]]:
    """The body rows of each part of a table as the paper sets it."""
    return [part.split("\\midrule\n", 1)[1].split("\n\\bottomrule")[0].splitlines()
            for part in paper.table_latex(tex).split("\\begin{table}")[1:]]


def test_a_long_table_continues_in_parts_without_dangling_rules(monkeypatch):
    body = [["math", str(i), "1.0"] for i in range(3)] + [["gsm8k", str(i), "2.0"] for i in range(4)]
    tex = to_latex(["Dataset", "Row", "Value"], body, "A caption with 95% and maj@k and ±.", "tab:demo")
    parsed = paper.parse_table(tex)
    assert parsed["caption"] == "A caption with 95\\% and maj{@}k and $\\pm$." and parsed["label"] == "tab:demo"
    assert parsed["align"] == "lrr" and parsed["header"] == ["Dataset & Row & Value \\\\"]
    assert parsed["body"][3] == "\\midrule" and len(parsed["body"]) == 8   # the rule between the datasets
    monkeypatch.setattr(paper, "ROWS_PER_PART", 4)
    assert [len(rows) for rows in table_parts(tex)] == [5, 3]          # 3 math rows, the rule, 1 gsm8k row; 3
    monkeypatch.setattr(paper, "ROWS_PER_PART", 3)
    assert table_parts(tex) == [[f"math & {i} & 1.0 \\\\" for i in range(3)],     # the rule after it dropped
                                [f"gsm8k & {i} & 2.0 \\\\" for i in range(3)], ["gsm8k & 3 & 2.0 \\\\"]]
    latex = paper.table_latex(tex, "Run seeds 1_2.")
    assert "\\caption{A caption with 95\\% and maj{@}k and $\\pm$. Run seeds 1\\_2.}\n\\label{tab:demo}" in latex
    assert latex.count("\\ContinuedFloat\n\\caption[]{(continued)}") == 2
    with pytest.raises(ValueError, match="not a weakstrong.tables table"):
        paper.parse_table("\\begin{table}\\end{table}")


def test_captions_say_what_was_run(tmp_path):
    pair = RUN["pairs"]["toy"]
    text = paper.pair_text("toy", pair)
    assert text.startswith("Pair toy: WC toy-wc (134K parameters) vs SE toy-se (411K parameters), matched on "
                           "compute: a SE sample costs 3.06 WC samples, so WC draws 3 samples per SE sample")
    assert "budgets low (SE 1 vs WC 3 samples per problem), high (SE 3 vs WC 9 samples per problem)" in text
    assert paper.model_text({"name": "gemini-1.5-pro", "price_per_million_tokens": 10.5}) == (
        "gemini-1.5-pro (USD 10.5 per million output tokens)")
    assert paper.model_text({"name": "gemini-1.5-flash", "price_per_million_tokens": 0.3,
                             "input_price_per_million_tokens": 0.075}) == (
        "gemini-1.5-flash (USD 0.3 per million output tokens, 0.075 per million input tokens)")
    assert paper.model_text({"name": "gemma2-27b", "parameters": 27.2e9}) == "gemma2-27b (27.2B parameters)"
    assert paper.run_text(RUN) == ("2 replicates, each redrawing the toy models, samples and finetuning runs with its "
                                   "own seed; figures of the data show the first on the same problems; seed 7; "
                                   "grader version 9.9.9.")
    assert paper.run_text({**RUN, "replicates": [1]}).startswith("One replicate on the same problems; seed 7")
    figures = [{"path": "results/toy/figures/math/toy/majority.pdf", "kind": "majority", "dataset": "math",
                "pair": "toy"}]
    latex = paper.paper_latex([], figures, RUN, "results/toy-study")
    assert "\\includegraphics[width=\\linewidth,height=0.7\\textheight,keepaspectratio]" \
           "{../toy/figures/math/toy/majority.pdf}" in latex
    caption = re.search(r"\\caption\{(.*)\}", latex).group(1)
    assert "for k in 1, 4" in caption and "toy-se (411K parameters)" in caption and "grader version 9.9.9" in caption


def test_require_pdflatex_names_the_debian_packages(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="texlive-latex-base texlive-latex-recommended"):
        paper.require_pdflatex()


def small_study(root: Path) -> tuple[list[str], list[str], list[dict]]:
    """Hand-made tables (LaTeX and Markdown) and one figure under ``root``."""
    cells, evaluations, bases = training_cells()
    for evaluation in evaluations.values():
        evaluation["selection"].update(lr=1e-4, validation_accuracy=0.3125, trained_on=96)
    latex1, markdown1 = table1(table1_rows(cells, evaluations, bases))
    detail_latex, detail_markdown = table1_detail(cells, evaluations, [1, 4])
    metrics = {"m.json": {side: {"model": f"toy-{side}", "k": k, "coverage": 0.123 * k, "diversity": 1.5 * k,
                                 "reasoning_diversity": 1.25 * k, "false_positive_rate": 0.0625, "kept": 40 * k}
                          for side, k in (("se", 1), ("wc", 3))}}
    latex2, markdown2 = table2([{"dataset": "math", "pair": "toy", "budget": "low", "paths": {"1": "m.json"}}], metrics)
    metrics["m.json"]["ledger"] = study.sampling_ledger(
        [{"problem_id": "p", "sample_index": 0, "completion_tokens": 101, "prompt_tokens": 37}],
        [{"problem_id": "p", "sample_index": i, "completion_tokens": 57 + i, "prompt_tokens": 37} for i in range(3)],
        k_se=1, ratio=3, cost_ratio=3.0557, match="compute")
    ledger_cells = [{"dataset": "math", "pair": "toy", "budget": "low", "path": "m.json",
                     "cost_per_token": {"se": 821376.0, "wc": 268800.0}, "cost_per_prompt_token": {"se": 821376.0,
                                                                                                   "wc": 268800.0}}]
    ledger_latex, ledger_markdown = ledger_table(ledger_cells, metrics)
    arms = [("se", None, [0.3125, 0.375]), ("wc.k1", "se", [0.25, 0.3438]), ("wc", "se", [0.4062, 0.4375])]
    ablation_cells = [{"dataset": "math", "pair": "toy", "budget": "low", "student": "toy-student",
                       "setting": "knowledge distillation", "source": source, "label": source.upper(),
                       "per_question": 1, "relative_cost": 1.0, "against": against, "sft": {"1": f"{source}.jsonl"},
                       "paths": {str(replicate): f"{source}/{replicate}.json" for replicate in (1, 2)}}
                      for source, against, _ in arms]
    evaluations = {f"{source}/{replicate}.json": {
        "pass@1": value, "selection": {"step": 4},
        "per_problem": {"problem_id": [f"q{i}" for i in range(32)], "pass@1": [int(i < round(value * 32))
                                                                               for i in range(32)]}}
        for source, _, values in arms for replicate, value in zip((1, 2), values)}
    ablation_latex, ablation_markdown = ablation_table(
        "Number-matched data.", table_rows(ablation_cells, evaluations, {f"{s}.jsonl": [{"problem_id": "p"}]
                                                                         for s, _, _ in arms}),
        "tab:ablation-number-matched")
    figure = root / "figures" / "math" / "toy" / "coverage.pdf"
    plot_coverage_curves({"SE": [0.2, 0.3], "WC": [0.1, 0.4]}, figure, "toy")
    figures = [{"path": str(figure), "kind": "coverage", "dataset": "math", "pair": "toy"}]
    return ([latex1, detail_latex, latex2, ledger_latex, ablation_latex],
            [markdown1, detail_markdown, markdown2, ledger_markdown, ablation_markdown], figures)


def test_the_paper_compiles_to_the_same_bytes_with_every_table_number(tmp_path):
    needs_latex()
    tables, markdowns, figures = small_study(tmp_path / "results")
    tex = tmp_path / "results" / "paper.tex"
    tex.write_text(paper.paper_latex(tables, figures, RUN, tex.parent))
    paper.compile_pdf(tex, tmp_path / "results" / "paper.pdf")
    text = pdf_text(tmp_path / "results" / "paper.pdf")
    for markdown in markdowns:
        missing = sorted(numbers(markdown) - set(re.findall(r"\d+\.\d+", text)))
        assert not missing, f"numbers of {markdown.splitlines()[0][:60]} not in the PDF: {missing}"
    assert "2 replicates, each redrawing" in text and "grader version 9.9.9" in text
    assert "Sampling cost ledger" in text and "Number-matched data." in text     # the ledger and the ablation
    assert sorted(p.name for p in tex.parent.iterdir()) == ["figures", "paper.pdf", "paper.tex"]  # no aux files
    paper.compile_pdf(tex, tmp_path / "again.pdf")
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "results" / "paper.pdf").read_bytes()


def test_a_latex_error_is_reported_with_its_line(tmp_path):
    needs_latex()
    tex = tmp_path / "broken.tex"
    tex.write_text(paper.PREAMBLE + "\\begin{document}\\undefinedmacro\\end{document}\n")
    with pytest.raises(RuntimeError, match="! Undefined control sequence"):
        paper.compile_pdf(tex, tmp_path / "broken.pdf")


# --- on the test study ---------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_paper_findings_and_report_of_the_test_study(local_test_run: Path):
    needs_latex()
    results = local_test_run / "results" / "test"
    text = pdf_text(results / "paper.pdf")
    for table in ("table1.md", "table1-detail.md", "table2.md", "ledger.md",
                  *(f"ablations/{name}.md" for name in load(TEST_CONFIG).ablations)):
        missing = sorted(numbers((results / table).read_text()) - set(re.findall(r"\d+\.\d+", text)))
        assert not missing, f"numbers of {table} not in the PDF: {missing}"
    from weakstrong.grading import GRADER_VERSION

    assert f"grader version {GRADER_VERSION}" in " ".join(text.split())
    tex = (results / "paper.tex").read_text()
    for kind in ("data_metrics", "coverage", "coverage_cost"):  # the first replicate's data
        assert f"rep-1/figures/math/toy/{kind}.pdf" in tex
        assert (results / "rep-1" / "figures" / "gsm8k" / "toy" / f"{kind}.png").exists()
    for kind in ("finetuning", "majority"):  # over the replicates
        assert f"figures/math/toy/{kind}.pdf" in tex and (results / "figures" / "gsm8k" / "toy" / f"{kind}.png").exists()
    findings = (results / "findings.md").read_text()
    assert findings.startswith("# Findings of results/test")
    summary = [line for line in findings.splitlines() if line.startswith("- **")]
    # 3 data findings (no judge), 3 settings, price, number; the students' reasoning errors (arithmetic checker,
    # no judge); transfer to the toy Functional MATH, one per setting
    assert len(summary) == 12
    assert all(re.match(r"- \*\*(holds|does not hold|unresolved)\*\*: ", line) for line in summary)
    # two replicates: intervals over replicates x problems, named; the design's power beside each cell
    assert "two-way crossed random-effects interval over replicates x test problems" in findings
    assert "over 2 replicates and the test problems" in (results / "table1.md").read_text()
    assert "Detectable (points)" in findings
    report = local_test_run / "report.html"
    proc = snakemake("--directory", str(local_test_run), "--configfile", str(TEST_CONFIG), "--report",
                     str(report), cwd=local_test_run, timeout=600)
    assert proc.returncode == 0, proc.stdout[-5000:]
    html = report.read_text()
    assert "System Message" not in html                # every caption is valid reStructuredText
    for name in ("paper.pdf", "findings.md", "coverage_cost.png", "finetuning.png", "majority.png",
                 "data_metrics.png"):
        assert name in html, name
