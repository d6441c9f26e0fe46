# fueldash: `make run` sets everything up and serves; `make test` runs the whole suite.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 8050
export PORT

.PHONY: run dev install install-dev db test lint screenshot clean

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed-run

install-dev: $(VENV)/.installed-dev

# One random key shared by every worker, written once and kept out of git.
instance/secret_key:
	mkdir -p instance
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

## Apply migrations and seed the sample into an empty store (DATABASE_URL is honoured).
db: install
	$(FLASK) db upgrade
	$(FLASK) vehicles seed

## Serve on http://127.0.0.1:$(PORT) under gunicorn, as production does.
run: install instance/secret_key db
	FUELDASH_ENV=production exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## Flask's development server with the debugger and reload.
dev: install db
	$(FLASK) run --debug --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The whole suite: lint, then pytest (SQLite; PostgreSQL when TEST_DATABASE_URL is set).
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/pytest

## Refresh the README's screenshot of the dashboard with headless Chromium.
screenshot: install-dev
	$(BIN)/python scripts/screenshot.py docs/dashboard.png

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
