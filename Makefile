# ferrotls developer commands.  Everything runs in a local .venv that these
# targets create and fill; the only prerequisites are python3 (>= 3.11) and a
# Rust toolchain (cargo) for the native module.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ferrotls-installed
SOURCES := $(shell find rust python -name '*.rs' -o -name '*.py' -o -name '*.pyi' 2>/dev/null)

.PHONY: venv demo test test-rust test-python typecheck bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml Cargo.toml Cargo.lock $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

## The main job: a live demonstration (see README).
demo: $(STAMP)
	$(BIN)/python -m ferrotls demo

## The whole test suite: Rust unit tests, type checks, Python tests.
test: $(STAMP) test-rust typecheck test-python

test-rust:
	cargo test --locked --no-default-features --quiet

typecheck: $(STAMP)
	$(BIN)/python -m mypy
	$(BIN)/python -m mypy.stubtest ferrotls._native

test-python: $(STAMP)
	FERROTLS_INTEROP=1 $(BIN)/python -m pytest -q -p no:cacheprovider

## Benchmarks with the peers in the same run, then a ratio table.
bench: $(STAMP)
	$(BIN)/python -m pytest benches --benchmark-enable --benchmark-json=.benchmarks/latest.json -q
	$(BIN)/python benches/report.py .benchmarks/latest.json

clean:
	rm -rf $(VENV) target .pytest_cache .mypy_cache .benchmarks
