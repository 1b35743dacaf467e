# Daihuo — every target bootstraps what it needs on a fresh machine.
# uv uses the machine's Python (never downloads one); dependencies come from the
# hashed lock files in requirements/ (compiled by `make lock`).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
STAMP := $(VENV)/.installed-stamp

.PHONY: help install demo test lint format bench eval lock clean

help:
	@echo "make demo   - install, migrate, seed a demo tenant and start the server"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff, mypy, import-linter and the zh-CN text check"
	@echo "make bench  - run the benchmarks in bench/ (JSON under bench/results/)"
	@echo "make eval   - authenticity detectors vs simulated ground truth and baselines (eval/results/)"
	@echo "make lock   - recompile the hashed lock files in requirements/"

$(STAMP): requirements/dev.txt pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@test -x $(PY) || $(UV) venv --quiet --python "$$(command -v $(PYTHON))" $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) --require-hashes requirements/dev.txt
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/daihuo demo

test: install
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check src tests bench migrations
	$(PY) -m ruff format --check src tests bench migrations
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/daihuo lint-zh

format: install
	$(PY) -m ruff format src tests bench migrations
	$(PY) -m ruff check --fix src tests bench migrations

bench: install
	$(PY) -m bench

eval: install
	$(PY) -m daihuo.authenticity.eval --out eval/results

lock:
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header --quiet -o requirements/runtime.txt
	$(UV) pip compile pyproject.toml --group pyproject.toml:dev --generate-hashes --python-version 3.11 --no-header --quiet -c requirements/runtime.txt -o requirements/dev.txt

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
