# fueldash: `make run` sets everything up and serves; `make test` runs the whole suite.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 8050
export PORT

.PHONY: run dev install install-dev db test lint screenshot clean cluster-test bench bench-quick bench-scale bench-browser bench-tools wrk-tool plotly-bundle

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

## The whole suite: lint, format and type checks, then pytest (SQLite; PostgreSQL when
## TEST_DATABASE_URL is set). PYTEST_ARGS narrows the run, e.g. PYTEST_ARGS='-m "not browser"'.
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

## Two app hosts in network namespaces behind nginx, sharing PostgreSQL (TEST_DATABASE_URL,
## recreated) and Redis (db 5): sign-in, writes, throttle, migrations, a rolling restart.
## Needs root, nginx and socat (.ci/run installs them); see tests/cluster/.
cluster-test: install-dev
	$(BIN)/pytest -m cluster tests/cluster $(PYTEST_ARGS)

## Refresh the README's screenshot of the dashboard with headless Chromium.
screenshot: install-dev
	$(BIN)/python scripts/screenshot.py docs/dashboard.png

## Benchmark tools: wrk (Debian), the `bench` extras, and Datasette in its own virtualenv
## (Datasette brings asgiref, which would put Dash's callbacks behind an async bridge).
$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench/out/datasette-venv/bin/datasette:
	$(PYTHON) -m venv bench/out/datasette-venv
	bench/out/datasette-venv/bin/python -m pip install --quiet datasette

wrk-tool:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench-tools: $(VENV)/.installed-bench bench/out/datasette-venv/bin/datasette wrk-tool
	command -v redis-server >/dev/null || echo "note: no local Redis; the +redis runs need Redis at BENCH_REDIS_URL"

## The full benchmark: every store size on SQLite and PostgreSQL, then ten million vehicles on
## PostgreSQL (bench-scale), then the dashboard in Chromium (bench-browser); writes
## bench/RESULTS.md and bench/latency.png. BENCH_DURATION (s per run), BENCH_SIZES,
## BENCH_POSTGRES_URL.
bench: bench-tools
	$(BIN)/python -m bench.run full
	$(BIN)/python -m bench.run scale
	$(BIN)/python -m bench.browser

## Speed a person feels: first chart and redraw on /dash/ in headless Chromium
## (/usr/bin/chromium); writes bench/out/browser.json.
bench-browser: $(VENV)/.installed-bench
	$(BIN)/python -m bench.browser

## Ten million vehicles on PostgreSQL (built once in SQL, then cached; BENCH_POSTGRES_URL),
## timed against issue 15's targets; writes the "Scale" section of bench/RESULTS.md.
bench-scale: bench-tools
	$(BIN)/python -m bench.run scale

## A short benchmark (< 3 minutes) on the 406-car sample; its last line is the speedup.
bench-quick: $(VENV)/.installed-bench wrk-tool
	$(BIN)/python -m bench.run quick

## Re-fetch the basic plotly.js bundle matching the installed plotly (needs npm).
plotly-bundle: install
	$(BIN)/python scripts/plotly_bundle.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
