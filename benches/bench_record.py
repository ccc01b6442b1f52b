"""Record sealing/opening per suite and size: native, python, and pyca/cryptography.

Groups are ``{op}-{suite}-{size}`` so the three implementations sit side by side.
The cryptography comparator is a bare AESGCM/ChaCha20Poly1305 encrypt/decrypt of the
same payload size with a 5-byte AAD (no record framing): the floor a Python caller
pays per AEAD call.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import load, run
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

SUITES = {"aes128gcm": (0x1301, 16), "aes256gcm": (0x1302, 32), "chacha20": (0x1303, 32)}
SIZES = [64, 1024, 16384]
IV = bytes(range(12))
AAD = b"\x17\x03\x03\x00\x00"
# rounds for the python backend (a few MB/s): keep the whole run to a few minutes
PY_ROUNDS = {64: 50, 1024: 20, 16384: 5}


def _tag(benchmark: Any, op: str, suite_name: str, size: int, impl: str) -> None:
    benchmark.group = f"{op}-{suite_name}-{size}"
    benchmark.extra_info.update(impl=impl, bytes=size, op=op, suite=suite_name)


def _comparator(suite: int, key: bytes) -> Any:
    return ChaCha20Poly1305(key) if suite == 0x1303 else AESGCM(key)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite_name", list(SUITES))
def test_seal(benchmark: Any, impl: str, suite_name: str, size: int) -> None:
    suite, key_len = SUITES[suite_name]
    key = bytes(range(key_len))
    data = bytes(size)
    _tag(benchmark, "seal", suite_name, size, impl)
    if impl == "cryptography":
        aead = _comparator(suite, key)
        out = run(benchmark, impl, lambda: aead.encrypt(IV, data, AAD), python_rounds=0)
        assert len(out) == size + 16
        return
    writer = load(impl).record_protector(suite, key, IV)
    out = run(benchmark, impl, lambda: writer.seal_record(23, data), python_rounds=PY_ROUNDS[size])
    assert len(out) == size + 5 + 1 + 16


class _RecordFeed:
    """Yields successive records to one reader; restarts the reader when used up."""

    def __init__(self, backend: Any, suite: int, key: bytes, size: int) -> None:
        self.backend, self.suite, self.key = backend, suite, key
        count = max(64, min(20_000, (64 << 20) // (size + 22)))
        writer = backend.record_protector(suite, key, IV)
        self.records = [writer.seal_record(23, bytes(size)) for _ in range(count)]
        self.reader = backend.record_protector(suite, key, IV)
        self.i = 0

    def __call__(self) -> Any:
        if self.i == len(self.records):
            self.reader = self.backend.record_protector(self.suite, self.key, IV)
            self.i = 0
        rec = self.records[self.i]
        self.i += 1
        return self.reader.open_records(rec)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite_name", list(SUITES))
def test_open(benchmark: Any, impl: str, suite_name: str, size: int) -> None:
    suite, key_len = SUITES[suite_name]
    key = bytes(range(key_len))
    _tag(benchmark, "open", suite_name, size, impl)
    if impl == "cryptography":
        aead = _comparator(suite, key)
        sealed = aead.encrypt(IV, bytes(size), AAD)
        out = run(benchmark, impl, lambda: aead.decrypt(IV, sealed, AAD), python_rounds=0)
        assert len(out) == size
        return
    backend = load(impl)
    if impl == "python":
        # few records: sealing them with the pure-Python AES is itself slow
        writer = backend.record_protector(suite, key, IV)
        records = [writer.seal_record(23, bytes(size)) for _ in range(PY_ROUNDS[size] + 1)]
        reader = backend.record_protector(suite, key, IV)
        it = iter(records)
        items, _ = benchmark.pedantic(
            lambda: reader.open_records(next(it)),
            rounds=PY_ROUNDS[size],
            iterations=1,
            warmup_rounds=1,
        )
    else:
        items, _ = benchmark(_RecordFeed(backend, suite, key, size))
    assert items == [(23, bytes(size))]
