# The verbs people type. Every target creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
RUN_STAMP = $(VENV)/.installed-run
DEV_STAMP = $(VENV)/.installed-dev
export SAM_CLI_TELEMETRY = 0
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run install install-dev browser test check lint format typecheck unit validate build openapi soak bench profile cold-start clean

run: $(RUN_STAMP)  ## start the whole stack locally (embedded Postgres unless DATABASE_URL is set)
	$(BIN)/optionflow dev

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): requirements.txt layers/deps/requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(DEV_STAMP): requirements-dev.txt layers/deps/requirements-tracing.txt $(RUN_STAMP)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

browser:  ## Debian's Chromium, for the dashboard's browser test (skipped without it, unless CI is set)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

test: $(DEV_STAMP) lint typecheck unit validate  ## everything CI runs

check: test

lint: $(DEV_STAMP)
	$(BIN)/ruff check shared functions tests benchmarks
	$(BIN)/ruff format --check shared functions tests benchmarks

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix shared functions tests benchmarks
	$(BIN)/ruff format shared functions tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)  ## unit, integration, contract and e2e tests against a real Postgres
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

validate: $(DEV_STAMP)
	$(BIN)/sam validate --lint

build: $(DEV_STAMP)  ## the deployable artifacts, without Docker
	$(BIN)/sam build

openapi: $(DEV_STAMP)  ## accept the current API as the new contract snapshot
	$(BIN)/python -m tests.contract.openapi_snapshot > tests/contract/openapi.json

soak: $(DEV_STAMP)  ## the concurrency, reliability and book-model tests at 10x size
	OPTIONFLOW_SOAK=10 $(BIN)/python -m pytest -q tests/integration/test_concurrency.py tests/integration/test_reliability.py tests/integration/test_book_model.py tests/integration/test_broker_interleavings.py

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.run

profile: $(DEV_STAMP)  ## where the webhook's and the pipeline's time goes (PROFILE_SIGNALS=3000)
	$(BIN)/python -m benchmarks.profile

cold-start: build  ## the functions' import on the sam build layout (needs a Python 3.12: PYTHON312=...)
	$(BIN)/python -m benchmarks.cold_start --python $${PYTHON312:-python3.12}

clean:
	rm -rf .aws-sam $(VENV)
