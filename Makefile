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
# The pages' front-end: npm packages from web/package-lock.json, bundled by esbuild into
# the git-ignored src/daihuo/pages/static/dist/ (served by the app; no CDN at run time).
NPM_STAMP := web/node_modules/.package-lock.json
WEB_STAMP := src/daihuo/pages/static/dist/BUILT
WEB_SOURCES := web/build.mjs $(wildcard web/src/*)

.PHONY: help install web demo test lint format bench eval lock clean screenshots

help:
	@echo "make demo   - install, migrate, seed a demo tenant and start the server"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff, mypy, import-linter and the zh-CN text check"
	@echo "make bench  - run the benchmarks in bench/ (JSON under bench/results/)"
	@echo "make eval   - authenticity detectors vs simulated ground truth and baselines (eval/results/)"
	@echo "make lock   - recompile the hashed lock files in requirements/"
	@echo "make screenshots - PNGs of the console and the provenance page under docs/screenshots/"

$(STAMP): requirements/dev.txt pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@test -x $(PY) || $(UV) venv --quiet --python "$$(command -v $(PYTHON))" $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) --require-hashes requirements/dev.txt
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

$(NPM_STAMP): web/package-lock.json web/package.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ (apt-get install nodejs npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

$(WEB_STAMP): $(NPM_STAMP) $(WEB_SOURCES)
	cd web && node build.mjs

web: $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

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
	$(PY) -m daihuo.assistant.recommend_eval --out eval/results
	$(PY) -m daihuo.assistant.triage_eval --out eval/results

lock:
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header --quiet -o requirements/runtime.txt
	$(UV) pip compile pyproject.toml --group pyproject.toml:dev --generate-hashes --python-version 3.11 --no-header --quiet -c requirements/runtime.txt -o requirements/dev.txt

screenshots: install
	$(PY) -m tests.browser.screenshots docs/screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache web/node_modules src/daihuo/pages/static/dist
