# Two commands matter: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test setup lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: set up, then serve Portico on http://127.0.0.1:8000 with a demo user and client
run: setup
	$(BIN)/python scripts/demo.py

# pytest-xdist workers for `make test`: two, for the 2-core machines CI runs on. Work is
# handed out test by test (worksteal), so one slow file cannot hold up the run.
# TEST_WORKERS=0 runs everything in a single process.
TEST_WORKERS ?= 2

## test: set up, then run the whole test suite (SQLite; PostgreSQL too if PORTICO_TEST_DATABASE_URL is set)
test: setup
	$(BIN)/python scripts/test_prereqs.py
	$(BIN)/ruff check src tests conformance scripts
	$(BIN)/python -m pytest -q --durations=20 -n $(TEST_WORKERS) --dist worksteal

lint: setup
	$(BIN)/ruff check src tests conformance scripts

clean:
	rm -rf $(VENV) portico.db portico.db-* .pytest_cache
