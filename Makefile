# newsearch: `make serve` serves the shipped corpus, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8000

.PHONY: install install-test serve test bench bench-index bench-search bench-load bench-relevance bench-places bench-scale clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# Bench-only dependencies (tantivy, the BM25 peer of bench/relevance_bench.py).
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

serve: install
	$(BIN)/newsearch serve --port $(PORT)

test: install-test
	bash .ci/ensure-chromium
	$(BIN)/python -m pytest

bench: bench-index bench-search bench-load

bench-index: install
	$(BIN)/python bench/index_bench.py

bench-search: install
	$(BIN)/python bench/search_bench.py

bench-load: install
	$(BIN)/python bench/load_bench.py

bench-places: install
	$(BIN)/python bench/places_bench.py

bench-relevance: $(VENV)/.installed-bench
	$(BIN)/python bench/relevance_bench.py

# Issue 9: generated archives of 100k, 300k and 1M articles (an hour or more; ~13 GB of disk at 1M);
# SIZES=2000 for a quick look.
bench-scale: install
	$(BIN)/python bench/scale_bench.py $(if $(SIZES),--sizes $(SIZES))

clean:
	rm -rf $(VENV) index build *.egg-info .pytest_cache bench/results
