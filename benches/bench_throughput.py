"""Data-path throughput in memory, ferrotls beside ``ssl`` (MemoryBIO) and tlslite-ng.

Groups (``benchmark.group``), one per suite, implementations side by side
(``extra_info["impl"]``: native, python, ssl, tlslite, cryptography):

* ``bulk-{suite}``: 16 KiB writes one direction (client seals, server opens,
  one thread); ``extra_info["bytes"]`` = application bytes per call;
* ``small-{suite}``: 64-byte messages, write then the peer reads;
* ``seal16k-{suite}``: one 16 KiB ``seal_record`` vs pyca/cryptography encrypt;
* ``threads-{suite}-{16|64}k``: the same bulk pump (16 or 64 KiB writes) in one
  and in two worker threads, each thread with its own connection pair, for
  ferrotls-native and ``ssl`` (impl ``native-1t``/``native-2t``/``ssl-1t``/``ssl-2t``).

Drivers live in ``throughput.py``.  The pure-Python rows (ferrotls-python,
tlslite-ng) run a few short rounds so the whole file takes a few minutes.
``benches/make_results.py`` runs this file and writes benches/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import load
from throughput import CHUNK, SMALL, SUITES, make_runner

IMPLS = ["native", "python", "ssl", "tlslite"]
SLOW = {"python", "tlslite"}
# (calls per round, rounds) per kind; slow implementations get tiny rounds
PLAN = {
    ("bulk", False): (256, 25),
    ("small", False): (5000, 25),
    ("bulk", True): (2, 3),
    ("small", True): (20, 3),
}


def _prepare(impl: str) -> None:
    if impl in ("native", "python"):
        load(impl)
    elif impl == "tlslite":
        pytest.importorskip("tlslite")


def _bench(benchmark: Any, run: Callable[[int], int], n: int, rounds: int) -> None:
    run(max(1, n // 4))  # warm-up
    result = benchmark.pedantic(run, args=(n,), rounds=rounds, iterations=1, warmup_rounds=0)
    assert result == benchmark.extra_info["bytes"], result


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", ["bulk", "small"])
@pytest.mark.parametrize("suite", list(SUITES))
def test_throughput(benchmark: Any, suite: str, kind: str, impl: str) -> None:
    _prepare(impl)
    run = make_runner(impl, suite, kind)
    n, rounds = PLAN[(kind, impl in SLOW)]
    size = CHUNK if kind == "bulk" else SMALL
    benchmark.group = f"{kind}-{suite}"
    benchmark.extra_info.update(impl=impl, bytes=n * size, messages=n, suite=suite, kind=kind)
    _bench(benchmark, run, n, rounds)


@pytest.mark.parametrize("impl", ["native", "cryptography"])
@pytest.mark.parametrize("suite", list(SUITES))
def test_seal16k(benchmark: Any, suite: str, impl: str) -> None:
    code, _, _ = SUITES[suite]
    key = bytes(range(16 if code == 0x1301 else 32))
    iv, data = bytes(12), bytes(CHUNK)
    if impl == "native":
        protector = load("native").record_protector(code, key, iv)

        def run(n: int) -> int:
            seal = protector.seal_record
            for _ in range(n):
                seal(23, data)
            return n * CHUNK

    else:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

        aead = (ChaCha20Poly1305 if code == 0x1303 else AESGCM)(key)

        def run(n: int) -> int:
            enc = aead.encrypt
            for _ in range(n):
                enc(iv, data, b"\x17\x03\x03\x40\x11")
            return n * CHUNK

    benchmark.group = f"seal16k-{suite}"
    benchmark.extra_info.update(impl=impl, bytes=200 * CHUNK, suite=suite, kind="seal16k")
    _bench(benchmark, run, 200, 12)


THREAD_CASES = [("aes128gcm", CHUNK), ("aes128gcm", 4 * CHUNK), ("chacha20", CHUNK)]
THREAD_BYTES = 16 << 20  # application bytes per thread per round


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["native", "ssl"])
@pytest.mark.parametrize("case", THREAD_CASES, ids=[f"{s}-{n // 1024}k" for s, n in THREAD_CASES])
def test_threads(benchmark: Any, case: tuple[str, int], impl: str, threads: int) -> None:
    """The bulk pump in worker threads (also for one thread, so both use the same
    malloc arenas), each thread with its own connection pair."""
    suite, size = case
    if impl == "native":
        load("native")
    from throughput import ferro_bulk, ferro_pair, in_threads, ssl_bulk, ssl_pair

    chunk = b"\0" * size
    if impl == "native":
        runs = [ferro_bulk(*ferro_pair("native", suite), chunk=chunk) for _ in range(threads)]
    else:
        runs = [ssl_bulk(ssl_pair(suite), chunk=chunk) for _ in range(threads)]
    n = THREAD_BYTES // size

    def run(n: int) -> int:
        return in_threads(runs, n)[1]

    benchmark.group = f"threads-{suite}-{size // 1024}k"
    benchmark.extra_info.update(
        impl=f"{impl}-{threads}t", bytes=threads * n * size, suite=suite, kind="threads"
    )
    _bench(benchmark, run, n, 15)
