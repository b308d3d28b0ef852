# Every target creates .venv and installs what it needs, so a fresh clone works with one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.example.yaml
LEADS ?= examples/leads.csv

.PHONY: run test lint typecheck unit bench clean

$(BIN)/leadrouter: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/leadrouter
	$(BIN)/leadrouter check-config $(CONFIG)
	$(BIN)/leadrouter simulate --config $(CONFIG) --leads $(LEADS) --no-leads
	@echo "Webhook server on http://127.0.0.1:8000 — POST /hooks/amocrm/$${LEADROUTER_WEBHOOK_SECRET:-demo-secret}"
	@echo "Admin page: http://127.0.0.1:8000/admin — token $${LEADROUTER_ADMIN_TOKEN:-demo-admin}"
	LEADROUTER_WEBHOOK_SECRET=$${LEADROUTER_WEBHOOK_SECRET:-demo-secret} \
	LEADROUTER_ADMIN_TOKEN=$${LEADROUTER_ADMIN_TOKEN:-demo-admin} \
	$(BIN)/leadrouter web --config $(CONFIG) --workers 1

lint: $(BIN)/leadrouter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/leadrouter
	$(BIN)/mypy

unit: $(BIN)/leadrouter
	$(BIN)/pytest

test: lint typecheck unit

bench: $(BIN)/leadrouter
	$(BIN)/python bench/decide.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
