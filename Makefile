# The workbench's commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
FORGE := node_modules/@foundry-rs/forge-linux-amd64/bin/forge
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed

.PHONY: help setup test test-deep lint contracts doctor clean backtest system-deps devnet

help: ## List the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP_PY) $(STAMP_NPM) contracts system-deps ## Create .venv, install Python and npm dependencies, compile contracts (idempotent)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8

$(STAMP_PY): pyproject.toml | $(VENV)/bin/python
	$(UV) pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $@

$(STAMP_NPM): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

system-deps: ## Debian's postgresql and chromium for the store and report tests (they skip without; under CI=true they fail)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian packages:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null 2>&1 \
			|| echo "could not install$$missing: the tests that need them will skip"; \
	else \
		echo "missing Debian packages:$$missing (tests that need them skip; apt-get install$$missing)"; \
	fi

contracts: $(STAMP_NPM) ## Compile contracts/src with forge + solcjs (cached by forge)
	@$(FORGE) build --quiet

test: ## Run the whole test suite (offline; real Anvil); "no tests collected" is a failure
	@$(BIN)/python -m pytest $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$code

test-deep: ## The suite with the full differential-test counts (WORKBENCH_DEEP=1; slower)
	@WORKBENCH_DEEP=1 $(MAKE) --no-print-directory test

lint: ## ruff, mypy and the import contracts (lint-imports: layers, no cycles)
	$(BIN)/ruff check workbench live devnet tests benchmarks
	$(BIN)/ruff format --check workbench live devnet tests benchmarks
	$(BIN)/mypy workbench live devnet
	$(BIN)/lint-imports

backtest: ## Backtest: make backtest [BLOCKS=a-b] [DATASET=dir] [STRATEGY=name] [CONFIG=file.toml] [WORKERS=n] [FORK_URL=url]
	@$(if $(FORK_URL),WORKBENCH_FORK_URL='$(FORK_URL)') $(BIN)/workbench backtest $(if $(BLOCKS),--blocks $(BLOCKS)) $(if $(DATASET),--dataset $(DATASET)) \
		$(if $(STRATEGY),--strategy $(STRATEGY)) $(if $(CONFIG),--config $(CONFIG)) $(if $(WORKERS),--workers $(WORKERS))

doctor: ## Check the toolchain (Python, web3, anvil, forge, solc)
	$(BIN)/workbench doctor

devnet: ## Build the default devnet dataset (datasets/devnet-default: 300 blocks, seed 1), replacing it
	$(BIN)/workbench devnet generate --out datasets/devnet-default --force

clean: ## Remove build outputs and caches (keeps .venv and node_modules)
	rm -rf contracts/out contracts/cache .pytest_cache .hypothesis .mypy_cache .ruff_cache .import_linter_cache
	find . -name __pycache__ -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
