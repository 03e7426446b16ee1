# claimtag — set-up, demo run and tests. Needs only python3 (3.11+) on PATH.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $(STAMP)

# The main job on the bundled examples, with Prefect's embedded (ephemeral) server.
run: setup
	$(BIN)/claimtag run examples/ --out outputs

lint: setup
	$(BIN)/ruff check src flows tests scripts benchmarks gold
	$(BIN)/ruff format --check src flows tests scripts benchmarks gold

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

# Headless Chromium for the report's browser tests (Debian's package). Installed only when
# missing and running as root (as CI does); otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		(apt-get update && apt-get install -y chromium) || \
		echo "warning: could not install chromium; the browser tests will be skipped"

# The whole suite (slow integration tests included), then ruff and mypy.
# the development gold files (one list for this floor, tests/test_quality.py and
# scripts/quality_tables.py)
DEV_GOLD = $(shell cat gold/splits-development.txt)

test: setup browser
	$(BIN)/pytest
	$(BIN)/ruff check src flows tests scripts benchmarks gold
	$(BIN)/ruff format --check src flows tests scripts benchmarks gold
	$(BIN)/mypy
	@# the quality floor, through the command analysts use (also asserted in tests/test_quality.py)
	@if [ -d ../shared/corpus ]; then \
	  $(BIN)/claimtag evaluate $(foreach g,$(DEV_GOLD),--gold gold/$(g).jsonl) \
	    --min-macro-f1 0.84 --min-precision 0.84 > /dev/null && \
	  echo "claimtag evaluate: development gold above the floor (macro F1 >= 0.84, precision >= 0.84)"; \
	else echo "claimtag evaluate: ../shared/corpus not found, quality floor skipped"; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
