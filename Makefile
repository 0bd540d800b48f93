# The two set-up commands: `make serve` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Type-checked in `make test`: all of src/, and strictly the pure layers, the OAuth and limits
# cores, the directory and audit, the in-memory stores and the SDK (the rest strictly: issue #22).
MYPY_STRICT := --strict src/localforce/soql src/localforce/domain src/localforce/security src/localforce/client src/localforce/oauth src/localforce/limits src/localforce/directory src/localforce/audit src/localforce/storage/memory

.PHONY: serve test test-fast fuzz lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/localforce serve

test: $(STAMP)
	bash scripts/test-setup.sh
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/mypy $(MYPY_STRICT)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest
	cd examples/pytest-demo && ../../$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not clients" -x -q

# The fuzz suite (tests/fuzz) at ten times the cases `make test` runs.
fuzz: $(STAMP)
	LOCALFORCE_FUZZ_EXAMPLES=1500 $(BIN)/python -m pytest tests/fuzz -q

# Benchmarks side by side with a floor and a peer (bench/README.md). BENCH_ARGS passes options,
# e.g. make bench BENCH_ARGS="--backends sqlite --only 'localforce.*'".
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) .localforce .pytest_cache
