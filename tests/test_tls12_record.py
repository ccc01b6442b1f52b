"""TLS 1.2 AEAD record protection (``Backend.record_protector_tls12``).

* Known answers and a hypothesis oracle: every record is rebuilt with
  pyca/cryptography's AESGCM / AESCCM / ChaCha20Poly1305 from the RFC's rules
  (nonce = salt || explicit nonce for GCM and CCM, RFC 5288 / RFC 6655; iv XOR
  seq for ChaCha20, RFC 7905; AAD = seq || type || version || length, RFC 5246
  section 6.2.3.3) and must equal what each backend seals.
* Record format and stop rules on each backend: the real content type in the
  header, no padding, every type 20..23 opened by ``open_records``, application
  data only in the batch paths, length limits, data_limit, exhaustion.
* Differential (hypothesis): native and python seal byte-identical records, open
  each other's, and agree on results, sequence numbers and exception types on cut
  or tampered input, for ``open_records``, ``open_records_into`` and
  ``open_application_data``.

The records of real OpenSSL sessions are opened in tests/interop/test_tls12_records.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from ferrotls.backend.interface import STOP_END, STOP_OUT_FULL, STOP_RECORD
from ferrotls.errors import (
    BadRecordMac,
    KeyLimitReached,
    RecordOverflow,
    SequenceNumberExhausted,
    TLSError,
)
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite, Tls12SuiteInfo
from hypothesis import example, given
from hypothesis import strategies as st
from utils import hypothesis_settings

ALL = tuple(TLS12_SUITES)
S = Tls12CipherSuite
# One suite per AEAD (the protector does not care about key exchange).
PER_AEAD = (
    S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
)
MAX_SEQ = (1 << 64) - 1


def _keys(suite: int) -> tuple[bytes, bytes]:
    info = TLS12_SUITES[suite]
    return bytes(range(info.key_len)), bytes(range(0xA0, 0xA0 + info.fixed_iv_len))


def _pair(backend: Any, suite: int = PER_AEAD[0], seq: int = 0) -> tuple[Any, Any]:
    key, iv = _keys(suite)
    return (
        backend.record_protector_tls12(suite, key, iv, seq),
        backend.record_protector_tls12(suite, key, iv, seq),
    )


# --------------------------------------------------------------------------- the oracle


def _oracle_aead(info: Tls12SuiteInfo, key: bytes) -> Any:
    if info.aead.startswith("AES-128-CCM"):
        return AESCCM(key, tag_length=info.tag_len)
    if info.aead.startswith("AES"):
        return AESGCM(key)
    return ChaCha20Poly1305(key)


def oracle_records(
    suite: int, key: bytes, iv: bytes, seq: int, content_type: int, data: bytes, max_fragment: int
) -> bytes:
    """The records RFC 5246 / 5288 / 6655 / 7905 say a sender with sequence number
    ``seq`` emits for ``data``, built with pyca/cryptography only."""
    info = TLS12_SUITES[suite]
    aead = _oracle_aead(info, key)
    frags = [data[i : i + max_fragment] for i in range(0, len(data), max_fragment)] or [b""]
    out = b""
    for i, frag in enumerate(frags):
        n = (seq + i).to_bytes(8, "big")
        if info.explicit_nonce:
            nonce, explicit = iv + n, n
        else:
            nonce, explicit = bytes(a ^ b for a, b in zip(iv, bytes(4) + n)), b""
        aad = n + bytes((content_type, 3, 3)) + len(frag).to_bytes(2, "big")
        body = explicit + aead.encrypt(nonce, frag, aad)
        out += bytes((content_type, 3, 3)) + len(body).to_bytes(2, "big") + body
    return out


# Our own seals, rebuilt by the oracle on every run (the Rust unit tests carry the same bytes).
KNOWN = [
    (S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 23,
     "1703030025 0102030405060708 7458f7a654e8c888d587c62e2a f7d81cfd992c41aaf59de1099b472f35"),
    (S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 22,
     "160303001d ce9a283abcab6adae6dcdd7461 c71659599850ee56d2599d60065bd812"),
    (S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, 21,
     "150303001d 0102030405060708 5209f9a1270a8930c6fd1c2cb6 0b850e20fd40d4e6"),
]


@pytest.mark.parametrize(("suite", "content_type", "wire"), KNOWN)
def test_known_records(backend: Any, suite: int, content_type: int, wire: str) -> None:
    info = TLS12_SUITES[suite]
    key = bytes(range(info.key_len))
    iv = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")[: info.fixed_iv_len]
    seq = 0x0102030405060708
    expected = bytes.fromhex(wire)
    assert oracle_records(suite, key, iv, seq, content_type, b"hello TLS 1.2", 16384) == expected
    w = backend.record_protector_tls12(suite, key, iv, seq)
    assert w.seal_record(content_type, b"hello TLS 1.2") == expected
    assert w.sequence == seq + 1
    r = backend.record_protector_tls12(suite, key, iv, seq)
    assert r.open_records(expected) == ([(content_type, b"hello TLS 1.2")], len(expected))


@hypothesis_settings("native", "python")
@given(
    suite=st.sampled_from(ALL),
    key_seed=st.binary(min_size=1, max_size=8),
    iv=st.binary(min_size=12, max_size=12),
    seq=st.one_of(st.integers(0, 1000), st.integers(MAX_SEQ - 5, MAX_SEQ - 3)),
    content_type=st.integers(20, 23),
    data=st.one_of(st.binary(max_size=300), st.integers(0, 40000).map(lambda n: bytes(i % 253 for i in range(n)))),
    max_fragment=st.one_of(st.just(16384), st.integers(1, 2000)),
)
@example(suite=S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, key_seed=b"\x00", iv=bytes(12), seq=0,
         content_type=23, data=b"", max_fragment=16384)
def test_records_match_the_pyca_oracle(
    backend: Any,
    suite: int,
    key_seed: bytes,
    iv: bytes,
    seq: int,
    content_type: int,
    data: bytes,
    max_fragment: int,
) -> None:
    info = TLS12_SUITES[suite]
    if backend.name == "python" and len(data) > 3000:
        data = data[:3000]  # the pure-Python AES runs at a few MB/s
    key = (key_seed * info.key_len)[: info.key_len]
    iv = iv[: info.fixed_iv_len]
    records = -(-len(data) // max_fragment) or 1
    w = backend.record_protector_tls12(suite, key, iv, seq)
    if seq + records > 1 << 64:
        with pytest.raises(SequenceNumberExhausted):
            w.seal_record(content_type, data, max_fragment=max_fragment)
        assert w.sequence == seq
        return
    expected = oracle_records(suite, key, iv, seq, content_type, data, max_fragment)
    assert w.sealed_size(len(data), 0, max_fragment) == len(expected)
    assert w.seal_record(content_type, data, max_fragment=max_fragment) == expected
    assert w.sequence == seq + records
    out = bytearray(len(expected) + 3)
    w2 = backend.record_protector_tls12(suite, key, iv, seq)
    assert w2.seal_record_into(out, content_type, data, max_fragment=max_fragment) == len(expected)
    assert bytes(out[: len(expected)]) == expected
    # and the backend opens the oracle's records
    r = backend.record_protector_tls12(suite, key, iv, seq)
    got = b""
    pos = 0
    while pos < len(expected):
        items, consumed = r.open_records(expected[pos:])
        assert consumed and all(t == content_type for t, _ in items)
        got += b"".join(c for _, c in items)
        pos += consumed
    assert got == data and r.sequence == seq + records


# --------------------------------------------------------------------------- format and stop rules


@pytest.mark.parametrize("suite", PER_AEAD)
def test_header_and_lengths(backend: Any, suite: int) -> None:
    info = TLS12_SUITES[suite]
    w, r = _pair(backend, suite, seq=5)
    overhead = info.record_iv_len + info.tag_len
    wire = w.seal_record(22, b"x" * 250, max_fragment=100)
    assert len(wire) == 250 + 3 * (5 + overhead) == w.sealed_size(250, 0, 100)
    assert wire[:5] == bytes((22, 3, 3, 0, 100 + overhead))
    if info.explicit_nonce:  # the explicit nonce is the sequence number
        assert wire[5:13] == (5).to_bytes(8, "big")
        assert wire[5 + 100 + overhead + 5 :][:8] == (6).to_bytes(8, "big")
    # a handshake item ends open_records after it
    assert r.open_records(wire) == ([(22, b"x" * 100)], 105 + overhead)
    empty = w.seal_record(21, b"")
    assert len(empty) == 5 + overhead


def test_open_records_opens_every_tls12_type(backend: Any) -> None:
    w, r = _pair(backend)
    app = w.seal_record(23, b"data") + w.seal_record(23, b"more")
    alert = w.seal_record(21, b"\x01\x00")
    ccs = w.seal_record(20, b"\x01")
    hs = w.seal_record(22, b"\x00\x00\x00\x00")
    wire = app + alert + ccs + hs
    assert r.open_records(wire) == ([(23, b"data"), (23, b"more"), (21, b"\x01\x00")], len(app + alert))
    assert r.open_records(ccs + hs) == ([(20, b"\x01")], len(ccs))
    assert r.open_records(hs) == ([(22, b"\x00\x00\x00\x00")], len(hs))
    assert r.sequence == 5
    # an outer type outside 20..23 stops before it (the caller's unexpected_message)
    assert r.open_records(b"\x18\x03\x03\x00\x01\x00") == ([], 0)
    assert r.open_records(b"\x13\x03\x03\x00\x01\x00") == ([], 0)


def test_batch_paths_stop_rules(backend: Any) -> None:
    w, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
    app = w.seal_record(23, b"a" * 40, max_fragment=16)  # 3 records: 16 + 16 + 8
    empty = w.seal_record(23, b"")
    alert = w.seal_record(21, b"\x01\x00")
    wire = app + empty + alert
    out = bytearray(1000)
    assert r.open_records_into(wire, out) == (len(app), 40, STOP_RECORD)
    assert bytes(out[:40]) == b"a" * 40 and r.sequence == 3
    # the empty record is left, unconsumed, its number given back; open_records counts it
    assert r.open_records_into(wire[len(app) :], out) == (0, 0, STOP_RECORD)
    assert r.open_application_data(wire[len(app) :]) == (None, 0, STOP_RECORD)
    assert r.sequence == 3
    assert r.open_records(wire[len(app) :]) == ([(23, b""), (21, b"\x01\x00")], len(empty + alert))
    # a record's room is its length less explicit nonce and tag
    _, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
    assert r.open_records_into(app, bytearray(31)) == (45, 16, STOP_OUT_FULL)
    _, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
    assert r.open_records_into(app, bytearray(40)) == (len(app), 40, STOP_END)
    _, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
    assert r.open_application_data(app + alert) == (b"a" * 40, len(app), STOP_RECORD)
    # a plaintext (outer type not 23) record stops the batch before it
    _, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
    assert r.open_records_into(alert + app, out) == (0, 0, STOP_RECORD)
    # incomplete tail; a buffered head gives the same as the joined input
    _, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
    assert r.open_application_data(app[:-1]) == (b"a" * 32, 90, STOP_END)
    for cut in (1, 5, 13, 44):
        _, r = _pair(backend, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM)
        assert r.open_application_data(app[cut:], head=app[:cut]) == (b"a" * 40, len(app) - cut, STOP_END)


@pytest.mark.parametrize("suite", PER_AEAD)
def test_every_byte_is_authenticated(backend: Any, suite: int) -> None:
    w, _ = _pair(backend, suite, seq=9)
    rec = w.seal_record(23, b"attack at dawn")
    for i in range(len(rec)):
        bad = bytearray(rec)
        if i in (3, 4):  # the length: one byte shorter (a longer one is incomplete)
            bad[4] -= 1
        else:
            bad[i] ^= 0x01
        _, r = _pair(backend, suite, seq=9)
        with pytest.raises(BadRecordMac, match="^bad record MAC$"):
            r.open_records(bytes(bad))
        assert r.sequence == 9
    # the sequence number is in the AAD
    _, r = _pair(backend, suite, seq=10)
    with pytest.raises(BadRecordMac):
        r.open_records(rec)


def test_length_limits(backend: Any) -> None:
    _, r = _pair(backend)
    # 2**14 + 2048 is the TLS 1.2 ciphertext limit (TLS 1.3's is 2**14 + 256)
    with pytest.raises(RecordOverflow):
        r.open_records(b"\x17\x03\x03\x48\x01")
    with pytest.raises(RecordOverflow):
        r.open_application_data(b"\x17\x03\x03\x48\x01")
    with pytest.raises(RecordOverflow):
        r.open_records(b"\x15\x03\x03\x48\x01")
    assert r.open_records(b"\x17\x03\x03\x48\x00" + bytes(100)) == ([], 0)  # long but allowed: incomplete
    # shorter than explicit nonce + tag: BadRecordMac, even authenticated garbage of 23 bytes
    with pytest.raises(BadRecordMac):
        r.open_records(b"\x17\x03\x03\x00\x17" + bytes(23))
    with pytest.raises(BadRecordMac):
        r.open_records_into(b"\x17\x03\x03\x00\x00", bytearray(10))
    # plaintext above max_plaintext (after authentication)
    w, r = _pair(backend)
    rec = w.seal_record(23, bytes(100))
    with pytest.raises(RecordOverflow):
        r.open_records(rec, 99)
    with pytest.raises(RecordOverflow):
        r.open_application_data(rec, 99)
    assert r.sequence == 0
    assert r.open_application_data(rec, 100) == (bytes(100), len(rec), STOP_END)


def test_arguments(backend: Any) -> None:
    w, _ = _pair(backend)
    for bad_type in (0, 19, 24, 255, 256):
        with pytest.raises(ValueError):
            w.seal_record(bad_type, b"x")
    with pytest.raises(ValueError):
        w.seal_record(23, b"x", padding=1)  # TLS 1.2 has no padding
    with pytest.raises(ValueError):
        w.sealed_size(10, padding=1)
    with pytest.raises(ValueError):
        w.seal_record(23, b"x", max_fragment=16385)
    with pytest.raises(ValueError):
        w.seal_record_into(bytearray(100), 23, b"x", padding=2)
    with pytest.raises(TypeError):
        w.seal_record(23, "text")
    assert w.sequence == 0
    with pytest.raises(ValueError):
        backend.record_protector_tls12(0x1301, bytes(16), bytes(12))  # a TLS 1.3 suite
    with pytest.raises(ValueError):
        backend.record_protector_tls12(0xC02F, bytes(16), bytes(12))  # GCM: a 4-byte salt
    with pytest.raises(ValueError):
        backend.record_protector_tls12(0xCCA8, bytes(32), bytes(4))  # ChaCha20: 12 bytes
    with pytest.raises(ValueError):
        backend.record_protector_tls12(0xC02C, bytes(16), bytes(4))  # AES-256
    with pytest.raises(ValueError):
        backend.record_protector_tls12(0xC02F, bytes(16), bytes(4), 1 << 64)
    p = backend.record_protector_tls12(0xC02F, bytes(16), bytes(4))
    assert p.suite == 0xC02F and p.data_limit == 1 << 64
    assert bytes(16).hex() not in repr(p)


def test_data_limit_and_exhaustion(backend: Any) -> None:
    key, iv = _keys(PER_AEAD[2])
    w = backend.record_protector_tls12(PER_AEAD[2], key, iv, 0, 2)
    with pytest.raises(KeyLimitReached):
        w.seal_record(23, bytes(30), max_fragment=10)
    assert w.sequence == 0
    w.seal_record(23, bytes(20), max_fragment=10)
    with pytest.raises(KeyLimitReached):
        w.seal_record(23, b"x")
    w.seal_record(21, b"\x01\x00")  # close_notify still goes out
    assert w.sequence == 3
    w, r = _pair(backend, PER_AEAD[0], seq=MAX_SEQ)
    rec = w.seal_record(23, b"last")
    assert rec[5:13] == b"\xff" * 8
    with pytest.raises(SequenceNumberExhausted):
        w.seal_record(23, b"x")
    assert r.open_records(rec) == ([(23, b"last")], len(rec))
    with pytest.raises(SequenceNumberExhausted):
        r.open_records(rec)


def test_native_and_python_classes(both_backends: tuple[Any, Any]) -> None:
    native, python = both_backends
    n = native.record_protector_tls12(0xC02F, bytes(16), bytes(4))
    p = python.record_protector_tls12(0xC02F, bytes(16), bytes(4))
    assert type(n).__name__ == "Tls12RecordProtector"
    assert type(p).__name__ == "PyTls12RecordProtector"
    names = {m for m in dir(n) if not m.startswith("_")}
    assert names == {m for m in dir(p) if not m.startswith("_")}
    assert names == {m for m in dir(native.record_protector(0x1301, bytes(16), bytes(12))) if not m.startswith("_")}


# --------------------------------------------------------------------------- differential

writes = st.lists(
    st.tuples(st.sampled_from([23, 23, 23, 22, 21, 20]), st.binary(max_size=300)),
    min_size=0,
    max_size=6,
)


def _wire(writer: Any, parts: list[tuple[int, bytes]], tamper: int | None, cut: int) -> bytes:
    wire = bytearray()
    for ct, data in parts:
        wire += writer.seal_record(ct, data, max_fragment=128)
    if cut % 3 == 0:
        wire = wire[: max(len(wire) - cut, 0)]
    if tamper is not None and wire:
        wire[tamper % len(wire)] ^= 0x40
    return bytes(wire)


def _run(r: Any, method: str, data: bytes, room: int | None) -> tuple[Any, ...]:
    try:
        if method == "records":
            return (*r.open_records(data), r.sequence)
        if method == "into":
            out = bytearray(len(data) if room is None else room)
            consumed, written, stop = r.open_records_into(data, out)
            return consumed, bytes(out[:written]), stop, r.sequence
        return (*r.open_application_data(data), r.sequence)
    except TLSError as exc:
        return type(exc), r.sequence


@hypothesis_settings("native", "python")
@given(
    suite=st.sampled_from(ALL),
    seq=st.one_of(st.integers(0, 100), st.just(MAX_SEQ - 2)),
    parts=writes,
    cut=st.integers(0, 600),
    tamper=st.one_of(st.none(), st.integers(0, 4000)),
    room=st.one_of(st.none(), st.integers(0, 700)),
)
def test_differential(
    both_backends: tuple[Any, Any],
    suite: int,
    seq: int,
    parts: list[tuple[int, bytes]],
    cut: int,
    tamper: int | None,
    room: int | None,
) -> None:
    native, python = both_backends
    wn, _ = _pair(native, suite, seq)
    wp, _ = _pair(python, suite, seq)
    sealed: list[bytes | None] = []
    for w in (wn, wp):
        try:
            sealed.append(_wire(w, parts, tamper, cut))
        except SequenceNumberExhausted:
            sealed.append(None)
    assert sealed[0] == sealed[1], "byte-identical records"
    assert wn.sequence == wp.sequence
    data = sealed[0]
    if data is None:
        return
    for method in ("records", "into", "app"):
        results = [_run(_pair(b, suite, seq)[1], method, data, room) for b in (native, python)]
        assert results[0] == results[1], method


@hypothesis_settings("native", "python", fraction=0.5)
@given(suite=st.sampled_from(ALL), parts=writes)
def test_cross_open(both_backends: tuple[Any, Any], suite: int, parts: list[tuple[int, bytes]]) -> None:
    """Records sealed by one backend open on the other, every item in order."""
    for sealer, opener in (both_backends, both_backends[::-1]):
        w, _ = _pair(sealer, suite)
        _, r = _pair(opener, suite)
        wire = _wire(w, parts, None, 1)
        expected = [(ct, data[i : i + 128]) for ct, data in parts for i in range(0, max(len(data), 1), 128)]
        got: list[tuple[int, bytes]] = []
        while wire:
            items, consumed = r.open_records(wire)
            got += items
            wire = wire[consumed:]
        assert got == expected
        assert r.sequence == w.sequence


# --------------------------------------------------------------------------- the GIL


def test_native_releases_the_gil_for_long_calls(native_backend: Any) -> None:
    """The same estimated-cost rule as TLS 1.3 (tests/test_gil_release.py)."""
    import sys

    from ferrotls import _native
    from test_gil_release import _progress_during

    old, old_interval = _native.gil_release_threshold(), sys.getswitchinterval()
    sys.setswitchinterval(0.25)  # no preemptive switch within a call: only releases
    try:
        big = bytes(8 << 20)
        w, r = _pair(native_backend, S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)
        _native.set_gil_release_threshold(2**63)
        wire = w.seal_record(23, big)
        assert _progress_during(lambda: w.seal_record(23, big)) == 0
        _native.set_gil_release_threshold(6000)
        assert any(_progress_during(lambda: w.seal_record(23, big)) for _ in range(5))
        suite = S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        readers = [_pair(native_backend, suite)[1] for _ in range(5)]
        assert any(_progress_during(lambda: rd.open_application_data(wire)) for rd in readers)
        assert r.open_application_data(wire) == (big, len(wire), STOP_END)
    finally:
        _native.set_gil_release_threshold(old)
        sys.setswitchinterval(old_interval)
