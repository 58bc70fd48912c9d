# `make bench`: peers and tools live in their own venv, never in the runtime requirements.
# For the lead to merge into the Makefile (bench is already in .PHONY; PYTHON is defined there).
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python

$(BENCH_VENV)/.bench-installed: requirements.txt bench/requirements.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r bench/requirements.txt
	touch $@

## Benchmarks: adlab vs MABWiser and Vowpal Wabbit, Chapelle & Li (2011) Table 1, creatives,
## store, OPE, engine and app; writes bench/RESULTS.md (about 15-25 minutes on 2 cores).
bench: $(BENCH_VENV)/.bench-installed
	$(BENCH_PY) bench/run_all.py

# and in `clean`: rm -rf $(BENCH_VENV)
