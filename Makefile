# xkaohe: `make report` runs the demo cycle, `make test` runs every test.
# Both create .venv (Python 3.11+) and install into it when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
WORKERS ?= 2

.PHONY: setup report test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

report: $(STAMP)
	$(BIN)/xkaohe demo --out runs/demo --workers $(WORKERS)

test: $(STAMP)
	@bash scripts/browser-test-deps.sh
	$(BIN)/python -m pytest --nbval-lax tests notebooks

lint: $(STAMP)
	$(BIN)/ruff check xkaohe tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/sampling.py

clean:
	rm -rf runs .pytest_cache .mypy_cache .ruff_cache
