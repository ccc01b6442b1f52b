# ferrotls developer commands.  Everything runs in a local .venv that these
# targets create and fill; the only prerequisites are python3 (>= 3.11) and a
# Rust toolchain (cargo) for the native module.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ferrotls-installed
SOURCES := $(shell find rust python -name '*.rs' -o -name '*.py' -o -name '*.pyi' 2>/dev/null)

.PHONY: venv demo test test-rust test-python typecheck bench fuzz fuzz-smoke fuzz-corpus conformance clean

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

## Fuzzing (docs/robustness.md): each atheris harness FUZZ_TIME seconds, then the
## cargo-fuzz record opener.  New inputs go to fuzz/corpus-work/<target>/ (ignored);
## crashes to fuzz/artifacts/.  Needs cargo-fuzz (`cargo install cargo-fuzz`).
FUZZ_TIME ?= 60
FUZZ_TARGETS := deframer handshake extensions connection
fuzz: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,fuzz]'
	mkdir -p fuzz/artifacts
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus-work/$$t && \
	  $(BIN)/python fuzz/python/fuzz_$$t.py -max_total_time=$(FUZZ_TIME) -max_len=4096 \
	    -artifact_prefix=fuzz/artifacts/$$t- fuzz/corpus-work/$$t fuzz/corpus/$$t || exit 1; \
	done
	mkdir -p fuzz/rust/corpus-work
	cd fuzz/rust && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . open_records corpus-work ../corpus/records -- \
	  -max_total_time=$(FUZZ_TIME)

## A bounded cargo-fuzz run of the native record opener (CI runs it after the tests;
## the atheris harnesses get their bounded run inside the test suite).
FUZZ_SMOKE_TIME ?= 30
fuzz-smoke:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	mkdir -p fuzz/rust/corpus-work
	cd fuzz/rust && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . open_records corpus-work ../corpus/records -- \
	  -max_total_time=$(FUZZ_SMOKE_TIME)

## Regenerate the checked-in seed corpora from the deterministic handshake.
fuzz-corpus: $(STAMP)
	$(BIN)/python fuzz/make_corpus.py

## tlsfuzzer's TLS 1.3 scripts against `ferrotls server` (docs/conformance.md).  tlsfuzzer
## is not on PyPI: extract commit ac3da9c17f843a5a9c2cee621dc9712805bde945 outside the
## repository and pass its path.  CONFORMANCE_ARGS go to tools/conformance.py, e.g.
## "--write-doc", "--only test-tls13-finished", "--against openssl", "--logs DIR".
TLSFUZZER_DIR ?=
CONFORMANCE_ARGS ?=
CONFORMANCE_STAMP := $(VENV)/.ferrotls-conformance-installed
ifneq ($(filter conformance,$(MAKECMDGOALS)),)
ifeq ($(strip $(TLSFUZZER_DIR)),)
$(error make conformance needs TLSFUZZER_DIR=/path/to/an/extracted/tlsfuzzer (commit ac3da9c17f843a5a9c2cee621dc9712805bde945; see docs/conformance.md))
endif
endif

$(CONFORMANCE_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,conformance]'
	touch $(CONFORMANCE_STAMP)

conformance: $(CONFORMANCE_STAMP)
	$(BIN)/python tools/conformance.py --tlsfuzzer "$(TLSFUZZER_DIR)" $(CONFORMANCE_ARGS)

clean:
	rm -rf $(VENV) target .pytest_cache .mypy_cache .benchmarks
