# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-fast lint bench clean

# The checkout is installed in editable mode, so pytest, bench/ scripts and
# `python -m simulation` find the packages from any folder, with no sys.path edits.
$(VENV)/.run-installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Start the app on http://127.0.0.1:8501 (settings in .streamlit/config.toml).
run: $(VENV)/.run-installed
	$(PY) -m ui

## Lint, check formatting, and run the whole test suite.
test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

## The same checks, skipping tests marked slow (statistical and end-to-end runs).
test-fast: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -m "not slow"

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python

$(BENCH_VENV)/.bench-installed: requirements.txt bench/requirements.txt pyproject.toml
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r bench/requirements.txt
	$(BENCH_PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

## Benchmarks: adlab vs MABWiser and Vowpal Wabbit, Chapelle & Li (2011) Table 1, creatives,
## store, OPE, engine and app; writes bench/RESULTS.md (about 15-25 minutes on 2 cores).
## `make bench BENCH_ARGS="--quick --output /tmp/RESULTS.md"`: every script at tiny sizes
## (a few minutes, mostly first compilation), a check that the scripts still run.
BENCH_ARGS ?=
bench: $(BENCH_VENV)/.bench-installed
	$(BENCH_PY) bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .ruff_cache
