"""Where the workflow writes: every output, log and benchmark file as a pattern over the rules' wildcards.

:class:`Layout` holds the config's ``paths`` (results, tables, logs, benchmarks).  ``layout.output(kind)`` is
the pattern of one kind of output (``{dataset}`` stays a wildcard); the rules' outputs, and their inputs that
share their wildcards, are these patterns, and ``layout.output(kind, wildcards, **values)`` fills in what a
job's wildcards (or a dict) and ``values`` give.  ``layout.log(rule, ...)`` and ``layout.benchmark(rule, ...)``
are the patterns of a rule's log and benchmark files: ``<logs>[/rep-{replicate}]/<rule>[/<wildcards>].log``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from weakstrong.study_config import Study

#: Each kind of output, as a pattern under "{results}" or "{tables}".
OUTPUTS = {
    "data": "{results}/data/{dataset}/{split}.jsonl",  # split: train, validation, test or exemplars
    "splits": "{results}/data/{dataset}/splits.json",
    "toy_corpus": "{results}/rep-{replicate}/models/toy_corpus/{corpus}.jsonl",
    "toy_tokenizer": "{results}/rep-{replicate}/models/toy_tokenizer",
    "toy_model": "{results}/rep-{replicate}/models/{model}",
    "shard": "{results}/rep-{replicate}/samples/{dataset}/{generator}/shard-{shard}.jsonl",
    "samples": "{results}/rep-{replicate}/samples/{dataset}/{generator}.jsonl",
    "graded": "{results}/rep-{replicate}/graded/{dataset}/{generator}.jsonl",
    "grader": "{results}/rep-{replicate}/graded/{dataset}/{generator}.grader.json",
    "sft": "{results}/rep-{replicate}/sft/{dataset}/{pair}/{budget}/{source}.jsonl",
    "metrics": "{results}/rep-{replicate}/metrics/{dataset}/{pair}/{budget}.json",
    # ext jsonl: the verdicts, json: their summary
    "judge": "{results}/rep-{replicate}/judge/{dataset}/{pair}/{budget}/{source}.{ext}",
    "audit": "{results}/rep-{replicate}/audit/{dataset}/{pair}/{budget}/{file}",
    # the finetuned students' correct test solutions: the judge's verdicts (ext jsonl) and summary (json) per
    # arm, and one blind audit form of both arms per student
    "student_judge": "{results}/rep-{replicate}/student_judge/{dataset}/{pair}/{budget}/{student}/{source}.{ext}",
    "student_audit": "{results}/rep-{replicate}/student_audit/{dataset}/{pair}/{budget}/{student}/{file}",
    # the LLM judge's verdict on every sample of a generator, without gold answers (the judged sources); ext
    # jsonl: the verdicts, json: their summary
    "verdicts": "{results}/rep-{replicate}/verdicts/{dataset}/{generator}.{ext}",
    "finetune": "{results}/rep-{replicate}/finetune/{dataset}/{pair}/{budget}/{student}/{source}/lr-{lr}",
    "selection": "{results}/rep-{replicate}/selection/{dataset}/{pair}/{budget}/{student}/{source}.json",
    "evaluation": "{results}/rep-{replicate}/evaluation/{dataset}/{pair}/{budget}/{student}/{source}.json",
    "base_evaluation": "{results}/rep-{replicate}/evaluation/{dataset}/base/{model}.json",
    # a student selected on its training dataset's validation split, evaluated on a transfer dataset ({dataset})
    "transfer_evaluation": "{results}/rep-{replicate}/transfer/{dataset}/{pair}/{budget}/{student}/{source}.json",
    # Figures of the data go under the results; those of the finetuning runs under the tables, as they
    # summarise the run seeds, which configs/toy-seeds.yaml changes while sharing the results with the toy demo.
    "data_figure": "{results}/rep-{replicate}/figures/{dataset}/{pair}/{figure}.{ext}",
    "training_figure": "{tables}/figures/{dataset}/{pair}/{figure}.{ext}",
    "table1": "{tables}/table1.{ext}",
    "table1_detail": "{tables}/table1-detail.{ext}",
    # Table 1b (table: nogold, the sources without gold answers) and 1c (mixed, the mixed pool)
    "source_table": "{tables}/table1-{table}.{ext}",
    "table2": "{tables}/table2.{ext}",
    "paper": "{tables}/paper.{ext}",
    "findings": "{tables}/findings.md",
    "ledger": "{tables}/ledger.{ext}",
    "ablation_table": "{tables}/ablations/{ablation}.{ext}",
    # the students' reasoning errors (tex, md; json: its rows, which the findings read)
    "student_errors": "{tables}/student-errors.{ext}",
    # ext tex and md, and json: the rows, for the findings
    "transfer_table": "{tables}/transfer/{dataset}.{ext}",
    "plan": "{results}/plan.md",
    # the machine record of each sampling shard, and the machines every table's numbers were computed on
    "shard_machine": "{results}/rep-{replicate}/samples/{dataset}/{generator}/shard-{shard}.machine.json",
    "provenance": "{tables}/provenance.json",
}

_WILDCARD = re.compile(r"{(\w+)}")


def fill(pattern: str, values: Mapping) -> str:
    """``pattern`` with the wildcards that ``values`` has filled in; the others stay wildcards."""
    return _WILDCARD.sub(lambda match: str(values[match[1]]) if match[1] in values else match[0], pattern)


@dataclass(frozen=True)
class Layout:
    results: str
    tables: str
    logs: str
    benchmarks: str

    @classmethod
    def from_config(cls, config: Study) -> Layout:
        paths = config.paths
        return cls(paths.results, paths.tables, paths.logs, paths.benchmarks)

    def output(self, kind: str, wildcards: Mapping | None = None, **values) -> str:
        """The pattern of ``kind`` (:data:`OUTPUTS`) with the wildcards filled in that ``wildcards`` (a job's,
        or a dict) and ``values`` give."""
        pattern = fill(OUTPUTS[kind], {"results": self.results, "tables": self.tables})
        return fill(pattern, {**dict(wildcards.items() if wildcards else {}), **values})

    def _job_file(self, root: str, rule: str, ext: str, wildcards: str, replicate: bool) -> str:
        head = f"{root}/rep-{{replicate}}" if replicate else root
        return f"{head}/{rule}/{wildcards}.{ext}" if wildcards else f"{head}/{rule}.{ext}"

    def log(self, rule: str, wildcards: str = "", replicate: bool = True) -> str:
        """A rule's log: ``<logs>/rep-{replicate}/<rule>/<wildcards>.log``, without the replicate for a rule of
        the whole study, and without ``/<wildcards>`` for a rule of one job."""
        return self._job_file(self.logs, rule, "log", wildcards, replicate)

    def benchmark(self, rule: str, wildcards: str = "", replicate: bool = True) -> str:
        """A rule's benchmark file, laid out as its log (:meth:`log`) under the benchmarks."""
        return self._job_file(self.benchmarks, rule, "tsv", wildcards, replicate)
