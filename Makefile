# Two commands for a newcomer: `make demo` runs the service, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo serve test lint typecheck contracts deadcode dependencies pytest clean bench

$(INSTALLED): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Start the service on SQLite and the simulated gateway, with a demo coordinator and patient.
demo: $(INSTALLED)
	$(BIN)/ecm-comms demo

## Install everything, then lint, type-check, check the layer contracts, dead code and declared
## dependencies, and run the tests.
test: lint typecheck contracts deadcode dependencies pytest

lint: $(INSTALLED)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks

typecheck: $(INSTALLED)
	$(BIN)/mypy

contracts: $(INSTALLED)
	$(BIN)/lint-imports --no-cache

deadcode: $(INSTALLED)
	$(BIN)/vulture

dependencies: $(INSTALLED)
	$(BIN)/deptry src

pytest: $(INSTALLED)
	$(BIN)/pytest

## Throughput against a baseline Flask + SQLAlchemy app on PostgreSQL, with wrk (README: Benchmark).
## Options go in BENCH_ARGS, e.g. make bench BENCH_ARGS="--duration 5 --rounds 5"; then the
## compliance reports against PostgreSQL's COPY (REPORTS_BENCH_ARGS="--communications 100000"); then
## a campaign sent by workers against direct sends (CAMPAIGN_BENCH_ARGS="--patients 2000").
bench: $(INSTALLED)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "wrk is missing: installing it with apt-get"; \
	    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	  else \
	    echo "wrk is missing: install it (Debian/Ubuntu: sudo apt-get install -y wrk), then make bench" >&2; \
	    exit 1; \
	  fi; }
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.reports $(REPORTS_BENCH_ARGS)
	$(BIN)/python -m benchmarks.campaign $(CAMPAIGN_BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis ecm_comms.sqlite3*
