# `make run` serves the blog locally; `make test` runs every test. Both set up .venv first.
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

.PHONY: run test
run: $(BIN)/.installed
	$(BIN)/flask --app blog run

test: $(BIN)/.installed
	$(BIN)/pytest
