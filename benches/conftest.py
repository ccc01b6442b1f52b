"""Benchmark fixtures: the same backend parametrization as tests/conftest.py.

Run with ``.venv/bin/pytest benches --benchmark-enable`` (pyproject's addopts
disable benchmarks in normal runs).  Add ``--benchmark-json=FILE`` and feed FILE
to ``benches/report.py`` for the ratio table.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("ferrotls") is None:  # not installed: use the source tree
    sys.path.insert(0, str(_ROOT / "python"))

import ferrotls.backend as backend_module

IMPLS = ["native", "python", "cryptography"]


def _require_native() -> bool:
    return os.environ.get("FERROTLS_REQUIRE_NATIVE", "").strip() not in ("", "0", "false", "no")


def load(name: str) -> Any:
    try:
        return backend_module.load_backend(name)
    except ImportError as exc:
        if name == "native" and not _require_native():
            pytest.skip(f"native backend not built: {exc}")
        pytest.fail(f"{name} backend failed to load: {exc}", pytrace=False)


@pytest.fixture(params=["native", "python"])
def backend(request: pytest.FixtureRequest) -> Any:
    return load(request.param)


@pytest.fixture(params=IMPLS)
def impl(request: pytest.FixtureRequest) -> str:
    """An implementation name: a ferrotls backend or pyca/cryptography (comparator)."""
    if request.param != "cryptography":
        load(request.param)  # skip/fail early if it cannot load
    return str(request.param)


def run(benchmark: Any, impl: str, fn: Any, *, python_rounds: int) -> Any:
    """benchmark(fn), but with few fixed rounds for the slow pure-Python backend."""
    if impl == "python":
        return benchmark.pedantic(fn, rounds=python_rounds, iterations=1, warmup_rounds=1)
    return benchmark(fn)


def cpu_us_per_call(fn: Any, calls: int = 200) -> float:
    """Process CPU time per call of ``fn``, in microseconds (user + system, this process).

    Beside pytest-benchmark's wall time: on a shared machine the wall clock also
    counts time the process waited for the CPU, the CPU clock does not.
    """
    import time

    fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6
