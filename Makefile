# ferrotls developer commands.  Everything runs in a local .venv that these
# targets create and fill; the only prerequisites are python3 (>= 3.11) and a
# Rust toolchain (cargo) for the native module.
#
# INSTALL=editable (default): the venv gets `pip install -e`, so edits to
#   python/ take effect at once (the native module is built by maturin once).
# INSTALL=wheel (CI): the venv gets the wheel `make wheel` builds, so the tests
#   import what users install, not the source tree.

PYTHON ?= python3
INSTALL ?= editable
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.ferrotls-base
TOOLS  := $(VENV)/.ferrotls-wheel-tools
STAMP  := $(VENV)/.ferrotls-installed-$(INSTALL)
SOURCES := $(shell find rust python -name '*.rs' -o -name '*.py' -o -name '*.pyi' 2>/dev/null)

.PHONY: venv demo test test-rust test-python typecheck test-wheel wheel docs bench bench-gateway fuzz \
	fuzz-smoke fuzz-corpus conformance clean

venv: $(STAMP)

$(BASE):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	touch $(BASE)

# maturin, ziglang and auditwheel: pyproject's dependency group "wheel".
$(TOOLS): $(BASE) pyproject.toml
	$(BIN)/python -m pip install -q --group wheel
	touch $(TOOLS)

ifeq ($(INSTALL),wheel)
$(STAMP): $(BASE) pyproject.toml Cargo.toml Cargo.lock $(SOURCES)
	$(MAKE) wheel
	$(BIN)/python -m pip install -q "$$(ls $(WHEEL_GLOB))[test,docs]"
	$(BIN)/python -m pip install -q --force-reinstall --no-deps $(WHEEL_GLOB)
	rm -f $(VENV)/.ferrotls-installed-*
	touch $(STAMP)
else ifeq ($(INSTALL),editable)
$(STAMP): $(BASE) pyproject.toml Cargo.toml Cargo.lock $(SOURCES)
	$(BIN)/python -m pip install -q -e '.[test,docs]'
	rm -f $(VENV)/.ferrotls-installed-*
	touch $(STAMP)
else
$(error INSTALL must be editable or wheel, not "$(INSTALL)")
endif

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
	FERROTLS_INTEROP=1 FERROTLS_EXPECT_INSTALLED=$(INSTALL) $(BIN)/python -m pytest -q -p no:cacheprovider

## The wheel: abi3 (one wheel for CPython 3.11+), stripped, manylinux2014
## (glibc 2.17+), linked by zig so the build machine's glibc does not leak in.
## auditwheel then checks the tag against the symbols the library really uses.
WHEEL_GLOB := dist/ferrotls-*-manylinux*.whl
MATURIN_FLAGS := --release --strip --zig --compatibility manylinux2014
wheel: $(TOOLS)
	rm -f $(WHEEL_GLOB)
	PATH="$(abspath $(BIN)):$$PATH" maturin build $(MATURIN_FLAGS) --out dist  # zig: the venv's ziglang
	$(BIN)/auditwheel show $(WHEEL_GLOB)

## The built wheel on the other interpreters: for each of PYTHONS a fresh venv
## under build/, first the wheel alone (its declared dependencies only) and
## `ferrotls info`, then the test extra and the ecosystem and smoke tests.
## CI runs the whole suite on 3.11 (INSTALL=wheel) and this on the others.
PYTHONS ?= $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3 $(HOME)/.pyenv/versions/3.13*/bin/python3)
test-wheel: wheel
	@test -n "$(PYTHONS)" || { echo "test-wheel: no interpreters (set PYTHONS=...)"; exit 1; }
	set -e; for py in $(PYTHONS); do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  venv=build/venv-$$v; echo "== test-wheel: Python $$v ($$py) in $$venv"; \
	  rm -rf $$venv; $$py -m venv $$venv; \
	  $$venv/bin/python -m pip install -q --upgrade pip; \
	  $$venv/bin/python -m pip install -q $(WHEEL_GLOB); \
	  $$venv/bin/python -m ferrotls info; \
	  $$venv/bin/python -m pip install -q "$$(ls $(WHEEL_GLOB))[test]"; \
	  FERROTLS_REQUIRE_NATIVE=1 FERROTLS_EXPECT_INSTALLED=wheel \
	    $$venv/bin/python -m pytest -q -p no:cacheprovider \
	    -m "ecosystem or wheel_smoke"; \
	done

## The API reference from the docstrings (pdoc), into build/docs.  Any warning
## pdoc raises (an unimportable module, an annotation it cannot resolve) fails.
DOC_MODULES := ferrotls ferrotls.asyncio ferrotls.backend ferrotls.backend.interface \
	ferrotls.certcompress ferrotls.config ferrotls.connection ferrotls.context \
	ferrotls.events ferrotls.limits ferrotls.profiles ferrotls.psk ferrotls.replay ferrotls.shared \
	ferrotls.stats ferrotls.suites ferrotls.tickets ferrotls.x509
docs: $(STAMP)
	rm -rf build/docs
	$(BIN)/python -W error -m pdoc --docformat restructuredtext -o build/docs $(DOC_MODULES)
	@echo "API reference: build/docs/index.html"

## Benchmarks with the peers in the same run, then a ratio table.
bench: $(STAMP)
	$(BIN)/python -m pytest benches --benchmark-enable --benchmark-json=.benchmarks/latest.json -q
	$(BIN)/python benches/report.py .benchmarks/latest.json

## Fuzzing (docs/robustness.md): each atheris harness FUZZ_TIME seconds, then the
## cargo-fuzz record opener.  New inputs go to fuzz/corpus-work/<target>/ (ignored);
## crashes to fuzz/artifacts/.  Needs cargo-fuzz (`cargo install cargo-fuzz`).
FUZZ_TIME ?= 60
FUZZ_TARGETS := deframer datagram handshake extensions connection
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
	mkdir -p fuzz/rust/corpus-dtls
	cd fuzz/rust && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . open_datagram corpus-dtls ../corpus/dtls_records -- \
	  -max_total_time=$(FUZZ_TIME)

## A bounded cargo-fuzz run of the native record opener (CI runs it after the tests;
## the atheris harnesses get their bounded run inside the test suite).
FUZZ_SMOKE_TIME ?= 30
fuzz-smoke:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	mkdir -p fuzz/rust/corpus-work
	cd fuzz/rust && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . open_records corpus-work ../corpus/records -- \
	  -max_total_time=$(FUZZ_SMOKE_TIME)
	mkdir -p fuzz/rust/corpus-dtls
	cd fuzz/rust && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . open_datagram corpus-dtls ../corpus/dtls_records -- \
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
	rm -rf $(VENV) target dist build .pytest_cache .mypy_cache .benchmarks

## ferrotls gateway beside stunnel4, nginx (stream) and haproxy (installs them
## from Debian packages when run as root); prints a markdown table.
GATEWAY_BENCH_ARGS ?= --runs 3
bench-gateway: $(STAMP)
	$(BIN)/python benches/gateway.py $(GATEWAY_BENCH_ARGS)
