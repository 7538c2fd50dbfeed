# The README's two commands: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# llama-cpp-python compiles from source (about 6 minutes once; pip caches the built wheel).

.PHONY: demo test install install-test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

install: $(BIN)/python
	$(PIP) install --progress-bar off -e '.[local]'

install-test: $(BIN)/python
	$(PIP) install --progress-bar off -e '.[local,test]'

demo: install
	$(BIN)/devrel --profile demo model fetch
	$(BIN)/devrel --profile demo demo

test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(BIN)/python
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
