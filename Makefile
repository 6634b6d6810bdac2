# The two commands a newcomer needs: `make run` and `make test`. Everything else is detail.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test bench soak eval lint typecheck install install-test services widget-deps widget-test clean

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

## make test: install, start PostgreSQL, install Chromium and django-helpdesk (SeaweedFS, the helpdesk,
## the SMTP server and fake SaaS vendors start inside the test session), lint, type-check, test
services:
	bash infra/scripts/ensure-postgres.sh
	bash infra/scripts/ensure-chromium.sh
	bash infra/scripts/ensure-helpdesk.sh

# Node is needed only to build and test the widget, never to run the server: the built
# widget is committed inside the Python package (a test checks it matches the source).
widget/node_modules/.installed: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	touch $@

widget-deps: widget/node_modules/.installed

widget-test: widget-deps
	cd widget && npm run --silent typecheck && npm test --silent

lint: install-test
	$(BIN)/ruff check backend tests

typecheck: install-test
	$(BIN)/mypy backend

test: install-test services widget-test lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadgroup

## make bench: the benchmarks recorded in BENCHMARKS.md
bench: install-test services widget-deps
	$(BIN)/python -m tests.bench.run

## make soak: the long form of the load-and-faults suite (2 web processes, 2 workers, a private
## PostgreSQL restarted, S3 stopped for 30 s, a failing helpdesk; figures into BENCHMARKS.md) and of
## the generated bad-input requests (about 4,500 from /openapi.json, 25 per operation and kind of run)
soak: install-test services
	SOAK_LONG=1 $(BIN)/pytest -q tests/security
	$(BIN)/python -m tests.soak.run

## make eval: the triage engine on ../shared/datasets (when present), next to two baselines
eval: install-test
	$(BIN)/python -m tests.eval.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
