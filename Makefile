# The two commands a newcomer needs: `make run` and `make test`. Everything else is detail.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test bench lint typecheck install install-test services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, migrate the embedded SQLite database, create the demo project, serve on :$(PORT)
run: install
	$(BIN)/bugline migrate
	$(BIN)/bugline demo
	$(BIN)/bugline serve

## make test: install, start PostgreSQL (SeaweedFS starts inside the test session), lint, type-check, test
services:
	bash infra/scripts/ensure-postgres.sh

lint: install-test
	$(BIN)/ruff check backend tests

typecheck: install-test
	$(BIN)/mypy backend

test: install-test services lint typecheck
	$(BIN)/pytest -q

## make bench: the benchmarks recorded in BENCHMARKS.md
bench: install-test services
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
