# tierlab — two commands: `make report` (segmentation report on the sample data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test report lint bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing tierlab and its dependencies into $(VENV) (a few minutes the first time)…"
	$(BIN)/python -m pip install --upgrade pip --progress-bar on
	$(BIN)/python -m pip install -e ".[dev]" --progress-bar on
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	# JupyterLab from this venv strips outputs of the project's notebooks when they are saved
	mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d
	cp jupyter-config/jupyter_server_config.d/tierlab.json $(VENV)/etc/jupyter/jupyter_server_config.d/
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check tierlab tests benchmarks
	$(BIN)/mypy

test: $(STAMP)
	$(BIN)/ruff check tierlab tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax --nbval-cell-timeout=300 notebooks/ -q -p no:cacheprovider

report: $(STAMP)
	$(BIN)/tierlab report segmentation --out reports/

# Peers (polars, DuckDB, pymc-marketing, lifetimes...) live in their own venv, never in tierlab's.
bench: $(STAMP)
	test -x benchmarks/.venv/bin/python || $(PYTHON) -m venv benchmarks/.venv
	benchmarks/.venv/bin/python -m pip install --quiet --upgrade pip
	benchmarks/.venv/bin/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
