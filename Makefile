# Stationmaster: `make run` sets up and starts everything; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8000

.PHONY: help run test lint format check-python migrate demo bench clean

help:
	@echo "make run    set up (venv, migrate, demo data) and start web + worker + beat"
	@echo "make test   lint, migrations check and the whole test suite"
	@echo "make lint   ruff check, ruff format --check, makemigrations --check"
	@echo "make format apply ruff fixes and formatting"

$(VENV)/bin/python:
	@PYTHON=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$PYTHON"; \
	$$PYTHON -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

# The embedded default needs a secret key too; generate one on first run and keep it.
.env:
	@echo "Writing .env with a fresh SECRET_KEY (edit it to configure Stationmaster)."
	@echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

run: $(VENV)/.installed-run .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py runstack --bind $(BIND)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=$${SECRET_KEY:-insecure-key-for-checks-only} $(PY) manage.py makemigrations --check --dry-run

test: lint
	SECRET_KEY=$${SECRET_KEY:-insecure-key-for-tests-only} $(PY) -m pytest $(PYTEST_ARGS)

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-dev
	@if [ -d bench ]; then SECRET_KEY=$${SECRET_KEY:-insecure-key-for-bench} $(PY) -m bench; else echo "No benchmarks yet."; fi

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
