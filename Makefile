# `make run` serves the blog locally; `make test` runs every test. Both set themselves up.
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The Serverless CLI (osls) that packages the Lambda zip the deployment tests inspect.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: run test bench
run: $(BIN)/.installed
	$(BIN)/flask --app blog run

test: $(BIN)/.installed node_modules/.installed
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python -m bench
