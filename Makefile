# Every target creates .venv and installs what it needs, so a fresh clone works with one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CRM ?= amocrm
# `make run CRM=bitrix24` runs the Bitrix24 example against the bundled Bitrix24 emulator.
ifeq ($(CRM),bitrix24)
CONFIG ?= examples/bitrix24.yaml
else ifeq ($(CRM),amocrm)
CONFIG ?= config.example.yaml
else
$(error CRM must be amocrm or bitrix24, not $(CRM))
endif
PORT ?= 8000
EVERY ?= 3
JOBS ?= 3

.PHONY: run test lint typecheck unit bench clean

$(BIN)/leadrouter: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/leadrouter
	$(BIN)/leadrouter check-config $(CONFIG)
	$(BIN)/leadrouter sandbox --config $(CONFIG) --port $(PORT) --every $(EVERY)

lint: $(BIN)/leadrouter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/leadrouter
	$(BIN)/mypy

# Three test processes on two cores: most of the end-to-end tests wait on other processes, so the
# waits overlap; a process that finishes early takes tests queued for another (worksteal).
unit: $(BIN)/leadrouter
	$(BIN)/pytest -n $(JOBS) --dist worksteal

test: lint typecheck unit

bench: $(BIN)/leadrouter
	$(BIN)/python bench/decide.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
