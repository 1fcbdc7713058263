# PG Console — two commands for a newcomer:
#   make run    set up everything and run the console + a Celery worker (embedded default)
#   make test   set up and run the checks (ruff, import contracts, migrations) and the whole test suite
# Other targets: make test-fast, make bench, make messages, make lock, make clean.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: help run test test-fast check bench setup migrate messages lock clean

help:
	@echo "make run    set up and run the console on http://127.0.0.1:$(PORT) with a worker"
	@echo "make test   set up and run the checks (ruff, import contracts, migrations) and the whole test suite"
	@echo "make test-fast  the tests that need no worker, browser or other program (the inner loop)"
	@echo "make bench  run the benchmarks in bench/"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
	  echo "PG Console needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install Python 3.12 (pyenv reads .python-version) or run: make PYTHON=/path/to/python3.12 ..."; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

# XStatic-Bootstrap is published only as an sdist whose build needs pkg_resources:
# install setuptools<81 first and build without isolation.
$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip "setuptools<81" wheel
	$(PIP) install --quiet --disable-pip-version-check --no-build-isolation -r requirements.lock
	@touch $(STAMP)

setup: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable -v0  # quiet: "already exists" on every start says nothing

run: migrate
	$(PY) manage.py seed_demo --if-empty
	PORT=$(PORT) PY=$(PY) ./scripts/run.sh

# The checks that keep the code honest come first: lint, the import contracts
# (pyproject.toml, [tool.importlinter]), and no model change without its migration.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run -v1

# PortOne's V1 REST contract (schema/v1.openapi.json inside the portone-mcp-server wheel),
# fetched from PyPI for the tests to use as an oracle; never copied into the repository.
PORTONE_DIR := .cache/portone
PORTONE_STAMP := $(PORTONE_DIR)/.fetched
$(PORTONE_STAMP): $(STAMP)
	$(PIP) download --quiet --disable-pip-version-check --no-deps --python-version 3.12 \
		--only-binary=:all: portone-mcp-server==0.12.1 -d $(PORTONE_DIR)
	@touch $@

# The suite runs in TEST_WORKERS processes (pytest-xdist), each on a test database of its own
# (test_<name>_gw0, ...), with its own Celery worker, browser and ports; TEST_WORKERS=0 runs it
# in this process.
TEST_WORKERS ?= auto
FAST_TESTS := not browser and not worker and not script

test: check $(PORTONE_STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-fast: $(PORTONE_STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -n $(TEST_WORKERS) -m "$(FAST_TESTS)" $(PYTEST_ARGS)

bench: migrate
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m bench $(BENCH_ARGS)

messages: $(STAMP)
	$(PY) manage.py makemessages -l ko --no-obsolete --no-location --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages -l ko --ignore=.venv

# Re-resolve the pinned set from pyproject.toml's ranges in a throw-away venv.
lock: $(PY)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip "setuptools<81" wheel
	.lock-venv/bin/pip install --quiet --no-build-isolation ".[test]"
	{ head -3 requirements.lock; .lock-venv/bin/pip freeze --exclude-editable | grep -viE '^(pip|setuptools|wheel|pg-console)=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache
