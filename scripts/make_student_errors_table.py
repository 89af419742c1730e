"""The finetuned students' reasoning errors: false positives among their correct test solutions (arithmetic
checker, LLM judge, human audit) after finetuning on WC and on SE data, as a table and its rows (JSON)."""
import json
from pathlib import Path

from weakstrong.data import read_jsonl, write_json
from weakstrong.logs import log_to
from weakstrong.student_errors import student_errors_table, student_rows


def load(paths):
    return {path: json.loads(Path(path).read_text()) for path in paths}


with log_to(snakemake.log[0]):
    p = snakemake.params
    rows = student_rows(p.cells, load(snakemake.input.evaluations),
                        {path: read_jsonl(path) for path in snakemake.input.judge}, load(snakemake.input.audit))
    latex, markdown = student_errors_table(rows, judge_model=p.judge_model)
    Path(snakemake.output.tex).write_text(latex)
    Path(snakemake.output.md).write_text(markdown)
    write_json(snakemake.output.json, rows)
    print(markdown)
