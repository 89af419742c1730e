"""results/findings.md: each of the paper's findings as holding, not holding or unresolved in this run."""
import json
from pathlib import Path

from weakstrong.findings import (data_findings, findings_markdown, source_findings, student_findings,
                                 training_findings, transfer_findings)
from weakstrong.logs import log_to
from weakstrong.tables import table1_rows


def load(paths):
    return {path: json.loads(Path(path).read_text()) for path in paths}


with log_to(snakemake.log[0]):
    p = snakemake.params
    rows = table1_rows(p.cells, load(snakemake.input.evaluations), load(snakemake.input.base))
    # the number_matched ablation's table rows, where it runs
    number_matched = [row for path in snakemake.input.number_matched for row in json.loads(Path(path).read_text())]
    # the student-errors table's rows, where the config has students finetuned on both WC and SE data
    students = [row for path in snakemake.input.student_errors for row in json.loads(Path(path).read_text())]
    # the transfer tables' rows, where the config has a transfer dataset
    transfer = [row for path in snakemake.input.transfer for row in json.loads(Path(path).read_text())]
    # the rows of Tables 1b and 1c, where the config has their sources
    tables = {table: json.loads(Path(path).read_text()) for table, path in p.source_tables.items()}
    findings = (data_findings(p.data, load(snakemake.input.metrics), load(snakemake.input.judge))
                + training_findings(rows, p.matches, number_matched if snakemake.input.number_matched else None)
                + source_findings(tables.get("nogold", []), tables.get("mixed", []), p.matches)
                + student_findings(students if snakemake.input.student_errors else None, p.matches,
                                   p.student_errors_margin)
                + transfer_findings(transfer))
    text = findings_markdown(findings, p.title, json.loads(Path(snakemake.input.provenance).read_text())["caption"])
    Path(snakemake.output[0]).write_text(text)
    print(text)
