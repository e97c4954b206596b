# fmrnoise: `make run` runs the default studies, `make test` runs the tests.
# Both create .venv (uv, bootstrapped with pip) when it is missing.

PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.9

# uv must never try to download a Python; precompiled bytecode keeps snakemake starts fast.
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1

.PHONY: run plan test test-fast lint bench bench-full report docs clean

$(VENV)/bin/uv:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(VENV)/bin/uv
	$(VENV)/bin/uv sync --frozen --python $(VENV)/bin/python
	touch $@

# The default studies and figures of config/config.yaml (profile: profiles/default).
run: $(VENV)/.synced
	$(VENV)/bin/snakemake

# What a run computes (studies, grids, figures), without running it: `make plan`, or with your
# own configuration files `make plan CONFIG=my_study.yaml` (as `snakemake --configfile`).
plan: $(VENV)/.synced
	@$(VENV)/bin/python -m fmrnoise.pipeline.plan $(CONFIG)

report: run
	$(VENV)/bin/snakemake --report results/report.html

bench: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks

bench-full: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks --full

test: $(VENV)/.synced
	$(VENV)/bin/python -m pytest -q

# Everything but the end-to-end tests that run Snakemake (marker `slow`): under a minute.
test-fast: $(VENV)/.synced
	$(VENV)/bin/python -m pytest -q -m "not slow"

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .

# The documentation (docs/*.md, Sphinx with MyST): docs/_build/html/index.html. Warnings fail.
# The tutorial notebook is executed into the pages (it runs a small study with Snakemake); the
# figure gallery shows the figures and captions of `make run`, which runs first.
docs: run
	FMRNOISE_DOCS_EXECUTE=1 $(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# Deletes results/ and .snakemake/ together: one without the other loses provenance.
clean:
	rm -rf results/*/ results/.cache .snakemake
