# Two commands for a newcomer (see README):
#   make demo   - the worked demo case and the workflow diagram
#   make test   - the whole test suite: ruff, mypy --strict, pytest (hypothesis "ci" profile;
#                 `make test HYPOTHESIS_PROFILE=dev` for a quick run) and the documentation
#                 site built in strict mode. Hypothesis statistics go to
#                 out/hypothesis-statistics.txt; the last lines on screen are pytest's summary
#                 and one line for the docs.
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
HYPOTHESIS_PROFILE ?= ci
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck pytest bench docs clean app

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,lint,docs,reports,postgres,i18n]"
	touch $@ $(VENV)/.run-installed

demo: $(VENV)/.run-installed
	$(BIN)/rjflow demo --diagram-dir out

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/pytest -q

docs: $(VENV)/.dev-installed
	@# mkdocs' own --quiet would silence the warnings that --strict fails on: keep its log
	@mkdir -p out
	@NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site >out/mkdocs.log 2>&1 \
		&& echo "docs: site/ built in strict mode, no warnings (log: out/mkdocs.log)" \
		|| { cat out/mkdocs.log; echo "docs: FAILED in strict mode (log: out/mkdocs.log)"; exit 1; }

test: lint typecheck pytest docs

bench: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/run.py

# The example caseworker web app on http://127.0.0.1:5000 (a store in out/, seeded on first use).
app: $(VENV)/.run-installed
	$(BIN)/python -m pip install --quiet -e ".[app]"
	$(BIN)/python -m examples.caseworker_app --db out/caseworker.sqlite

clean:
	rm -rf $(VENV) out site .pytest_cache .mypy_cache .ruff_cache .hypothesis
