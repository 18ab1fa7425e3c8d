# Developer shortcuts; CI runs .ci/run (the same checks, plus service start-up).

VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help install lint format test bench demo schema ci

help:  ## List the targets.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(BIN)/gateway:
	python3 -m venv $(VENV)
	$(BIN)/pip install -e ".[test]" -c constraints.txt

install: $(BIN)/gateway  ## Create .venv and install the package with its test tools.

lint: install  ## ruff check, ruff format --check, mypy --strict.
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy

format: install  ## Apply ruff fixes and formatting.
	$(BIN)/ruff check --fix gateway tests bench
	$(BIN)/ruff format gateway tests bench

test: install  ## The test suite (needs PostgreSQL and Redis, see README).
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install  ## The benchmarks of bench/ (prints ratios measured in the same run).
	$(BIN)/python -m bench $(BENCH_ARGS)

demo: install  ## Fresh SQLite + generated data + GraphiQL on http://127.0.0.1:8000/graphql.
	$(BIN)/gateway demo $(DEMO_ARGS)

schema: install  ## Re-print schema.graphql from the code (commit the result).
	$(BIN)/python -c "import sys; from gateway.schema import print_sdl; sys.stdout.write(print_sdl())" > schema.graphql.tmp
	mv schema.graphql.tmp schema.graphql

ci:  ## Everything CI runs, including starting PostgreSQL and Redis.
	.ci/run
