"""``RecordProtector.open_records_into``: the batch receive path.

Stop rules and errors on each backend, a hypothesis differential test (native and
python give the same consumed/written/stop, bytes and sequence numbers, or the
same exception type), and the connection-level effect: one ApplicationData event
per receive_data call for a run of application-data records.
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.backend.interface import STOP_END, STOP_OUT_FULL, STOP_RECORD
from ferrotls.errors import (
    BadRecordMac,
    RecordOverflow,
    SequenceNumberExhausted,
    TLSError,
    UnexpectedMessage,
)
from ferrotls.events import ApplicationData, KeyUpdated
from helpers_tls import ConnectionPair, client_config, server_config
from hypothesis import given
from hypothesis import strategies as st
from utils import ALL_SUITES, KEY_LEN, hypothesis_settings

IV = bytes(range(12))
SUITE = ALL_SUITES[0]
KEYUPDATE = b"\x18\x00\x00\x01\x00"


def _pair(backend: Any, suite: int = SUITE, seq: int = 0) -> tuple[Any, Any]:
    key = bytes(range(KEY_LEN[suite]))
    return (
        backend.record_protector(suite, key, IV, seq),
        backend.record_protector(suite, key, IV, seq),
    )


def _into(reader: Any, data: bytes, room: int | None = None) -> tuple[int, bytes, int]:
    out = bytearray(len(data) if room is None else room)
    consumed, written, stop = reader.open_records_into(data, out)
    return consumed, bytes(out[:written]), stop


@pytest.mark.parametrize("suite", ALL_SUITES)
def test_many_records_one_call(backend: Any, suite: int) -> None:
    w, r = _pair(backend, suite)
    parts = [bytes([i]) * (i * 37) for i in range(1, 12)]
    wire = b"".join(w.seal_record(23, p) for p in parts)
    wire += w.seal_record(23, b"x" * 40000)  # three records in one call
    consumed, got, stop = _into(r, wire)
    assert (consumed, got, stop) == (len(wire), b"".join(parts) + b"x" * 40000, STOP_END)
    assert r.sequence == w.sequence == 14


@pytest.mark.parametrize("suite", ALL_SUITES)
def test_empty_record_stops_the_batch(backend: Any, suite: int) -> None:
    """An empty application-data record is left (unconsumed, its number given back)
    for open_records, so the connection counts every one (Limits.max_empty_records)."""
    w, r = _pair(backend, suite)
    first = w.seal_record(23, b"abc")
    wire = first + w.seal_record(23, b"") + w.seal_record(23, b"", padding=7) + w.seal_record(23, b"z")
    assert _into(r, wire) == (len(first), b"abc", STOP_RECORD)
    assert r.sequence == 1
    assert _into(r, wire[len(first):]) == (0, b"", STOP_RECORD)  # nothing consumed
    items, consumed = r.open_records(wire[len(first):])
    assert items == [(23, b""), (23, b""), (23, b"z")] and consumed == len(wire) - len(first)
    assert r.sequence == 4


def test_padding_and_memoryview_out(backend: Any) -> None:
    w, r = _pair(backend)
    wire = w.seal_record(23, b"hello", padding=100) + w.seal_record(23, b" world", padding=3)
    out = memoryview(bytearray(400))[10:]
    consumed, written, stop = r.open_records_into(bytearray(wire), out)
    assert (consumed, bytes(out[:written]), stop) == (len(wire), b"hello world", STOP_END)


def test_stop_rules(backend: Any) -> None:
    w, r = _pair(backend)
    app = w.seal_record(23, b"a" * 10) + w.seal_record(23, b"b" * 10)
    hs = w.seal_record(22, KEYUPDATE)
    tail = w.seal_record(23, b"after")
    wire = app + hs + tail
    # an inner type other than 23 stops before that record, its number given back
    assert _into(r, wire) == (len(app), b"a" * 10 + b"b" * 10, STOP_RECORD)
    assert r.sequence == 2
    items, consumed = r.open_records(wire[len(app) :])
    assert items == [(22, KEYUPDATE)] and consumed == len(hs)
    assert _into(r, tail) == (len(tail), b"after", STOP_END)
    # an incomplete record stays; nothing complete: nothing consumed
    w, r = _pair(backend)
    wire = w.seal_record(23, b"1") + w.seal_record(23, b"2")
    assert _into(r, wire[:-1]) == (len(wire) // 2, b"1", STOP_END)
    assert _into(r, wire[len(wire) // 2 : -1]) == (0, b"", STOP_END)
    assert _into(r, b"") == (0, b"", STOP_END)
    # an outer type other than 23 stops before it
    assert _into(r, b"\x15\x03\x03\x00\x02\x01\x00") == (0, b"", STOP_RECORD)
    # out too small for the next record's body (length - 16 bytes)
    w, r = _pair(backend)
    wire = w.seal_record(23, b"x" * 100) + w.seal_record(23, b"y" * 100)
    assert _into(r, wire, room=101 + 99) == (len(wire) // 2, b"x" * 100, STOP_OUT_FULL)
    assert _into(r, wire[len(wire) // 2 :], room=100) == (0, b"", STOP_OUT_FULL)
    assert r.sequence == 1


def test_errors_first_record_raises_later_record_stops(backend: Any) -> None:
    w, r = _pair(backend)
    good = w.seal_record(23, b"good")
    bad = bytearray(w.seal_record(23, b"bad!"))
    bad[-1] ^= 1
    with pytest.raises(BadRecordMac, match="^bad record MAC$"):
        _into(r, bytes(bad))
    assert r.sequence == 0
    assert _into(r, good + bad) == (len(good), b"good", STOP_RECORD)
    with pytest.raises(BadRecordMac):
        r.open_records(bytes(bad))  # the caller's next step raises
    # tampered header (it is the AAD), short ciphertext, over-long record
    w, r = _pair(backend)
    rec = bytearray(w.seal_record(23, b"z"))
    rec[1] = 1
    with pytest.raises(BadRecordMac):
        _into(r, bytes(rec))
    with pytest.raises(BadRecordMac):
        _into(r, b"\x17\x03\x03\x00\x0f" + bytes(15))
    with pytest.raises(RecordOverflow):
        _into(r, b"\x17\x03\x03\x41\x01")
    # content + padding above max_plaintext; an all-zero inner plaintext
    w, r = _pair(backend)
    rec = w.seal_record(23, bytes(100))
    with pytest.raises(RecordOverflow):
        r.open_records_into(rec, bytearray(200), 99)
    assert r.open_records_into(rec, bytearray(200), 100)[:2] == (len(rec), 100)
    w, r = _pair(backend)
    aead = backend.aead(SUITE, bytes(range(16)))
    header = b"\x17\x03\x03\x00\x14"
    with pytest.raises(UnexpectedMessage):
        _into(r, header + aead.seal(IV, header, bytes(4)))
    # sequence number 2**64 - 1 is the last one
    w, r = _pair(backend, seq=(1 << 64) - 1)
    rec = w.seal_record(23, b"last")
    assert _into(r, rec) == (len(rec), b"last", STOP_END)
    with pytest.raises(SequenceNumberExhausted):
        _into(r, rec)


def test_arguments(backend: Any) -> None:
    w, r = _pair(backend)
    rec = w.seal_record(23, b"q")
    with pytest.raises(TypeError):
        r.open_records_into(rec, b"read-only")
    with pytest.raises(TypeError):
        r.open_records_into("text", bytearray(10))
    for bad in (0, 16385):
        with pytest.raises(ValueError):
            r.open_records_into(rec, bytearray(100), bad)
    assert r.sequence == 0


def test_native_rejects_overlap(native_backend: Any) -> None:
    w, r = _pair(native_backend)
    buf = bytearray(w.seal_record(23, b"in place?"))
    with pytest.raises(ValueError, match="overlap"):
        r.open_records_into(buf, memoryview(buf)[5:])


# --------------------------------------------------------------------------- differential

writes = st.lists(
    st.tuples(
        st.sampled_from([23, 23, 23, 22, 21]),
        st.binary(max_size=300),
        st.integers(0, 20),
    ),
    min_size=0,
    max_size=6,
)


def _sealed_wire(
    writer: Any, parts: list[tuple[int, bytes, int]], tamper: int | None, cut: int = 0, prefix: bytes = b""
) -> bytes:
    """``prefix`` + the records of ``parts``, ``cut`` bytes shorter when ``cut % 3 == 0``,
    one bit flipped at ``tamper`` (modulo the length)."""
    wire = bytearray(prefix)
    for ct, data, pad in parts:
        wire += writer.seal_record(ct, data, padding=pad)
    wire = wire[: max(len(wire) - cut, 0)] if cut % 3 == 0 else wire
    if tamper is not None and wire:
        wire[tamper % len(wire)] ^= 0x40
    return bytes(wire)


@hypothesis_settings("native", "python")
@given(
    suite=st.sampled_from(ALL_SUITES),
    parts=writes,
    cut=st.integers(0, 4000),
    tamper=st.one_of(st.none(), st.integers(0, 4000)),
    room=st.one_of(st.none(), st.integers(0, 2000)),
    plain_first=st.booleans(),
)
def test_differential(
    both_backends: tuple[Any, Any],
    suite: int,
    parts: list[tuple[int, bytes, int]],
    cut: int,
    tamper: int | None,
    room: int | None,
    plain_first: bool,
) -> None:
    native, python = both_backends
    w, _ = _pair(native, suite)
    prefix = b"\x15\x03\x03\x00\x02\x01\x00" if plain_first else b""
    data = _sealed_wire(w, parts, tamper, cut, prefix)
    results = []
    for backend in (native, python):
        _, r = _pair(backend, suite)
        out = bytearray(len(data) if room is None else room)
        try:
            consumed, written, stop = r.open_records_into(data, out)
            results.append((consumed, bytes(out[:written]), stop, r.sequence))
        except TLSError as exc:
            results.append((type(exc), r.sequence))
    assert results[0] == results[1]


# --------------------------------------------------------------------------- connection


def test_connection_gives_one_event_per_run(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    pair.server.events()
    for i in range(10):
        pair.client.send(bytes([i]) * 1000)
    pair.client.send(b"big" * 20000)
    pair.client.update_keys(request_peer_update=False)
    pair.client.send(b"after the update")
    pair.client.send(b"")  # an empty record: no event of its own
    wire = pair.client.data_to_send()
    pair.server.receive_data(wire)
    first = b"".join(bytes([i]) * 1000 for i in range(10)) + b"big" * 20000
    assert pair.server.events() == [
        ApplicationData(first),
        KeyUpdated(update_requested=False),
        ApplicationData(b"after the update"),
    ]
    # split delivery: one event per call, same bytes
    for i in range(10):
        pair.client.send(bytes([i]) * 3000)
    wire = pair.client.data_to_send()
    got = b""
    for k in range(0, len(wire), 7000):
        pair.server.receive_data(wire[k : k + 7000])
        events = pair.server.events()
        assert len(events) <= 1
        got += b"".join(e.data for e in events)
    assert got == b"".join(bytes([i]) * 3000 for i in range(10))


# --------------------------------------------------------------------------- open_application_data


def _app(reader: Any, data: bytes) -> tuple[bytes | None, int, int]:
    return reader.open_application_data(data)  # type: ignore[no-any-return]


def test_open_application_data_stop_rules(backend: Any) -> None:
    w, r = _pair(backend)
    app = w.seal_record(23, b"a" * 10, padding=7) + w.seal_record(23, b"b" * 40000)
    hs = w.seal_record(22, KEYUPDATE)
    assert _app(r, app + hs) == (b"a" * 10 + b"b" * 40000, len(app), STOP_RECORD)
    assert r.sequence == 4
    assert _app(r, b"") == (None, 0, STOP_END)
    assert _app(r, hs[:4]) == (None, 0, STOP_END)
    assert _app(r, b"\x15\x03\x03\x00\x02\x01\x00") == (None, 0, STOP_RECORD)
    w, r = _pair(backend)
    empties = w.seal_record(23, b"") + w.seal_record(23, b"")
    assert _app(r, empties) == (None, 0, STOP_RECORD)  # each is left for open_records
    assert r.sequence == 0
    assert r.open_records(empties) == ([(23, b""), (23, b"")], len(empties))
    one = w.seal_record(23, b"1")
    assert _app(r, one[:-1]) == (None, 0, STOP_END)
    assert _app(r, one + one[:3]) == (b"1", len(one), STOP_END)


def test_open_application_data_errors(backend: Any) -> None:
    w, r = _pair(backend)
    good = w.seal_record(23, b"good")
    bad = bytearray(w.seal_record(23, b"bad!"))
    bad[-1] ^= 1
    with pytest.raises(BadRecordMac):
        _app(r, bytes(bad))
    assert r.sequence == 0
    assert _app(r, good + bad) == (b"good", len(good), STOP_RECORD)
    with pytest.raises(BadRecordMac):
        _app(r, b"\x17\x03\x03\x00\x0f" + bytes(15))  # shorter than a tag: no room needed
    with pytest.raises(RecordOverflow):
        _app(r, b"\x17\x03\x03\x41\x01")
    w, r = _pair(backend)
    rec = w.seal_record(23, bytes(100))
    with pytest.raises(RecordOverflow):
        r.open_application_data(rec, 99)
    for bad_max in (0, 16385):
        with pytest.raises(ValueError):
            r.open_application_data(rec, bad_max)
    with pytest.raises(TypeError):
        r.open_application_data("text")
    assert r.open_application_data(memoryview(bytearray(rec)), 100) == (bytes(100), len(rec), STOP_END)


@pytest.mark.parametrize("padding", [0, 1, 200, 4000, 16000])
@pytest.mark.parametrize("size", [1, 100, 16384, 50000])
def test_open_application_data_returns_sound_bytes(backend: Any, size: int, padding: int) -> None:
    """The native backend shortens the object it decrypted into (or copies it when
    padding left much unused): the result must be an ordinary, exact bytes object."""
    import ctypes
    import sys

    w, r = _pair(backend)
    payload = bytes(i % 251 for i in range(size))
    wire = w.seal_record(23, payload, padding=padding)
    plain, consumed, stop = r.open_application_data(wire)
    assert type(plain) is bytes and (consumed, stop) == (len(wire), STOP_END)
    assert plain == payload and len(plain) == size
    assert hash(plain) == hash(bytes(bytearray(payload)))
    assert sys.getsizeof(plain) == sys.getsizeof(payload)
    assert plain[-1:] == payload[-1:] and plain + b"!" == payload + b"!"
    # bytes keep a NUL after their data (C callers rely on it)
    header = bytes.__basicsize__ - 1
    assert ctypes.c_char.from_address(id(plain) + header + len(plain)).value == b"\x00"


@hypothesis_settings("native", "python")
@given(
    suite=st.sampled_from(ALL_SUITES),
    parts=writes,
    cut=st.integers(0, 4000),
    tamper=st.one_of(st.none(), st.integers(0, 4000)),
)
def test_open_application_data_differential(
    both_backends: tuple[Any, Any],
    suite: int,
    parts: list[tuple[int, bytes, int]],
    cut: int,
    tamper: int | None,
) -> None:
    """Native and python agree, and both equal ``open_records_into`` with room for everything."""
    native, python = both_backends
    w, _ = _pair(native, suite)
    data = _sealed_wire(w, parts, tamper, cut)
    results = []
    for backend in (native, python):
        for method in ("into", "app"):
            _, r = _pair(backend, suite)
            try:
                if method == "into":
                    out = bytearray(len(data))
                    consumed, written, stop = r.open_records_into(data, out)
                    plain = bytes(out[:written]) or None
                else:
                    plain, consumed, stop = r.open_application_data(data)
                results.append((plain, consumed, stop, r.sequence))
            except TLSError as exc:
                results.append((type(exc), r.sequence))
    assert results[0] == results[1] == results[2] == results[3]
    assert len(results[0]) == 2 or results[0][2] != STOP_OUT_FULL


@hypothesis_settings("native", "python")
@given(
    suite=st.sampled_from(ALL_SUITES),
    parts=writes,
    split=st.integers(1, 40000),
    tamper=st.one_of(st.none(), st.integers(0, 4000)),
)
def test_open_application_data_after_head_differential(
    both_backends: tuple[Any, Any],
    suite: int,
    parts: list[tuple[int, bytes, int]],
    split: int,
    tamper: int | None,
) -> None:
    """``head`` = the start of the first record (shorter than it): native and python
    agree, and equal reading ``head + data`` in one piece (consumed minus the head)."""
    native, python = both_backends
    w, _ = _pair(native, suite)
    wire = _sealed_wire(w, parts, tamper, cut=1)  # 1 % 3: not shortened
    if not wire:
        return
    first = 5 + ((wire[3] << 8) | wire[4]) if len(wire) >= 5 else len(wire) + 1
    cut = min(split, first - 1, len(wire))
    head, data = bytes(wire[:cut]), bytes(wire[cut:])
    results = []
    for backend in (native, python):
        for joined in (False, True):
            _, r = _pair(backend, suite)
            try:
                if joined:
                    plain, consumed, stop = r.open_application_data(head + data)
                    consumed = max(0, consumed - len(head)) if consumed else 0
                else:
                    plain, consumed, stop = r.open_application_data(data, 16384, head)
                results.append((plain, consumed, stop, r.sequence))
            except TLSError as exc:
                results.append((type(exc), r.sequence))
    assert results[0] == results[1] == results[2] == results[3], results


def test_open_application_data_head_errors(backend: Any) -> None:
    w, r = _pair(backend)
    rec = w.seal_record(23, b"x" * 100)
    with pytest.raises(ValueError):
        r.open_application_data(rec[5:], 16384, rec)  # a whole record is not a head
    assert r.open_application_data(rec[40:], 16384, rec[:40]) == (b"x" * 100, len(rec) - 40, STOP_END)
    assert r.open_application_data(b"", 16384, b"\x17\x03") == (None, 0, STOP_END)
    assert r.open_application_data(b"\x00\x02\x01\x00", 16384, b"\x15") == (None, 0, STOP_RECORD)
    with pytest.raises(RecordOverflow):
        r.open_application_data(b"\x01", 16384, b"\x17\x03\x03\x41")
