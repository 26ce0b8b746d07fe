# `make run` serves the blog locally; `make test` runs every test. Both set themselves up.
VENV := .venv
BIN := $(VENV)/bin

# What running the blog needs, nothing more.
$(BIN)/.installed-run: requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Tests, tools and the self-hosting server (gunicorn, for the load test).
$(BIN)/.installed-dev: $(BIN)/.installed-run requirements-dev.txt requirements-server.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The Serverless CLI (osls) that packages the Lambda zip the deployment tests inspect.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: run test bench
run: $(BIN)/.installed-run
	$(BIN)/flask --app blog run

test: $(BIN)/.installed-dev node_modules/.installed
	$(BIN)/pytest

bench: $(BIN)/.installed-dev
	$(BIN)/python -m bench
