# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility sweep, from the npm registry (package.json):
# `make test` fetches it; `make run` needs no npm.
AXE := node_modules/axe-core/axe.min.js
export FLASK_APP := wsgi:app

.PHONY: run test install lint bench bench-tools bench-checkin demo-db translations extract-messages update-messages compile-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --silent
	touch $(AXE)

install: $(STAMP) compile-messages

# Development server on the embedded SQLite database, loaded with the demo election.
run: install
	OCV_ENV=development $(BIN)/ocv db upgrade
	OCV_ENV=development $(BIN)/ocv demo
	OCV_ENV=development $(BIN)/ocv serve

test: install $(AXE)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install bench-tools
	$(BIN)/python -m bench $(BENCH_ARGS)

# The check-in benchmark's load generator: wrk, from Debian's packages (needs root, as CI has).
bench-tools:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

# Issue 13's check-in benchmark alone (PostgreSQL; OCV_BENCH_DATABASE_URL names the database).
bench-checkin: install bench-tools
	$(BIN)/python -m bench.bench_checkin $(BENCH_ARGS)

# Catalogs: extract the strings, merge them into every language, compile.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header \
		-o ocv/translations/messages.pot ocv audit registration polling tally

update-messages: extract-messages
	$(BIN)/pybabel update --no-fuzzy-matching -i ocv/translations/messages.pot -d ocv/translations

compile-messages: $(STAMP)
	$(BIN)/pybabel compile -f -d ocv/translations

clean:
	rm -rf $(VENV) node_modules instance build *.egg-info
