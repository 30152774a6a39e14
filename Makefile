# newsearch: `make serve` serves the shipped corpus, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8000

.PHONY: install install-test serve test bench bench-index bench-search bench-load bench-relevance bench-ranking bench-places bench-scale bench-engine clean \
        engine-up engine-down engine-status

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
	bash .ci/ensure-sphinx
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

# Issue 10: the shipped ranking against the earlier BM25F on the scale mix, same run (SIZE=100000
# for a smaller index; the 1M one is kept by `make bench-scale` with --keep).
bench-ranking: install
	$(BIN)/python bench/ranking_bench.py --size $(or $(SIZE),1000000)

# Issue 9: generated archives of 100k, 300k and 1M articles (an hour or more; ~13 GB of disk at 1M);
# SIZES=2000 for a quick look.
# Issue 13: the scale archive (100k articles) on the SphinxQL backend, one shard and two, beside
# the embedded index; SIZE=20000 for a quick look.
bench-engine: install
	bash .ci/ensure-sphinx
	$(BIN)/python bench/engine_bench.py $(if $(SIZE),--size $(SIZE))

bench-scale: install
	$(BIN)/python bench/scale_bench.py $(if $(SIZES),--sizes $(SIZES))

# Issue 13: deploy/'s sharded Sphinx engine on this machine (deploy/README.md): searchd nodes on
# SphinxQL ports ENGINE_PORT, ENGINE_PORT+1, … (API ports +6), files in deploy/run/. engine-up
# prints the backend URL (NEWSEARCH_BACKEND=sphinxql://127.0.0.1:9306/articles by default).
SHARDS      ?= 2
ENGINE_PORT ?= 9306

engine-up: install
	@bash .ci/ensure-sphinx
	@$(BIN)/python -m indexer.engine_deploy up --shards $(SHARDS) --port $(ENGINE_PORT)

engine-down: install
	@$(BIN)/python -m indexer.engine_deploy down

engine-status: install
	@$(BIN)/python -m indexer.engine_deploy status

clean:
	rm -rf $(VENV) index build *.egg-info .pytest_cache bench/results
