"""Through real sockets on 127.0.0.1: ferrotls (native, python) beside ``ssl``.

Groups (``benchmark.group``) ``sockets-{mode}-{kind}``, mode blocking/asyncio,
kind bulk/rr/stream/handshake, implementations side by side
(``extra_info["impl"]``: native, python, ssl); ``extra_info["units"]`` is what one
call moved, in the kind's unit count (bytes for bulk, round trips, messages,
handshakes) and ``extra_info["unit"]`` its name.  Drivers: ``sockets.py``
(server in a thread or an event loop in a thread, client in the bench thread).
ferrotls-python runs short rounds.  ``make_results.py`` turns the medians into
the "Sockets" section of benches/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import load
from sockets import CHUNK, IMPLS, KINDS, MODES, PLAN, SMALL, UNITS, SocketBench, make_pki

ROUNDS = {False: 7, True: 3}


@pytest.fixture(scope="module")
def pki() -> Any:
    return make_pki()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_sockets(benchmark: Any, pki: Any, mode: str, kind: str, impl: str) -> None:
    if impl != "ssl":
        load(impl)
    slow = impl == "python"
    n = PLAN[kind][slow]
    bench = SocketBench(impl, mode, kind, pki)
    try:
        bench.run(max(1, n // 10))  # warm-up (connection set up, buffers grown)
        units = n * (CHUNK if kind == "bulk" else SMALL if kind in ("rr", "stream") else 1)
        benchmark.group = f"sockets-{mode}-{kind}"
        benchmark.extra_info.update(impl=impl, mode=mode, kind=kind, units=units,
                                    unit=UNITS[kind][0], note=bench.note)
        result = benchmark.pedantic(bench.run, args=(n,), rounds=ROUNDS[slow], iterations=1,
                                    warmup_rounds=0)
        assert result == units, result
    finally:
        bench.close()
