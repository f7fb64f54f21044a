# Two commands for a newcomer: `make demo` (install + answer a question from the bundled corpus)
# and `make test` (install + lint + the whole test suite, as CI runs it).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
Q ?= Hvem deltar på partnerskapsmøtet?
export HF_HUB_OFFLINE := 1

.PHONY: install demo test lint fmt bench eval

$(BIN)/hfbot: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: a bare requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/hfbot

install: $(BIN)/hfbot

demo: install
	$(BIN)/hfbot ask "$(Q)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

eval: install
	$(BIN)/hfbot eval ../shared/eval/dev-questions.yaml ../shared/eval/dev-questions-2.yaml \
		--corpus corpus ../shared/eval/dev-corpus-2

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py
	$(BIN)/python bench/slack.py

.PHONY: bench-scale doctor
# Not part of `bench`: about an hour with the real model (`--embedder fake` for a quick run).
bench-scale: install
	$(BIN)/python bench/scale.py --sizes 1000,10000,50000 --server

doctor: install
	$(BIN)/hfbot doctor
