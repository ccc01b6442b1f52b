"""RecordProtector behaviour (interface.py) on both backends, for every suite.

Expected bytes come from an independent computation: pyca/cryptography's AEADs
with nonce = iv XOR seq and the 5-byte header as additional data (utils.oracle_*).
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.errors import (
    BadRecordMac,
    RecordOverflow,
    SequenceNumberExhausted,
    UnexpectedMessage,
)
from utils import (
    ALL_SUITES,
    KEY_LEN,
    SUITE_NAMES,
    TAG_LEN,
    oracle_aead,
    oracle_seal_record,
    parse_records,
    record_header,
    record_nonce,
)

MAX = 1 << 14
APP, HANDSHAKE, ALERT, CCS = 23, 22, 21, 20
IV = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")


def key_for(suite: int) -> bytes:
    return bytes((0x40 + i) & 0xFF for i in range(KEY_LEN[suite]))


@pytest.fixture(params=ALL_SUITES, ids=[SUITE_NAMES[s] for s in ALL_SUITES])
def suite(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def pair(backend: Any, suite: int, sequence: int = 0) -> tuple[Any, Any]:
    return (
        backend.record_protector(suite, key_for(suite), IV, sequence=sequence),
        backend.record_protector(suite, key_for(suite), IV, sequence=sequence),
    )


def expected_records(
    suite: int,
    data: bytes,
    content_type: int,
    *,
    padding: int = 0,
    max_fragment: int = MAX,
    seq: int = 0,
) -> bytes:
    step = max_fragment - padding
    frags = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
    return b"".join(
        oracle_seal_record(suite, key_for(suite), IV, seq + i, content_type, f, padding)
        for i, f in enumerate(frags)
    )


def open_all(reader: Any, data: bytes, **kw: Any) -> list[tuple[int, bytes]]:
    """Drive open_records until the data is used up (stops after non-app records)."""
    items: list[tuple[int, bytes]] = []
    while data:
        got, consumed = reader.open_records(data, **kw)
        assert consumed > 0, "no progress on complete records"
        items += got
        data = data[consumed:]
    return items


def craft(suite: int, seq: int, inner: bytes, *, header: bytes | None = None) -> bytes:
    """A record whose inner plaintext is exactly ``inner`` (sealed by the oracle)."""
    hdr = header if header is not None else record_header(len(inner) + TAG_LEN[suite])
    return hdr + bytes(
        oracle_aead(suite, key_for(suite)).encrypt(record_nonce(IV, seq), inner, hdr)
    )


# ---------------------------------------------------------------------------
# Sealing: exact bytes, nonce, fragmentation, padding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [0, 1, 255, 256, 2**32 + 7, 2**63, 2**64 - 2])
def test_nonce_is_iv_xor_sequence(backend: Any, suite: int, seq: int) -> None:
    writer = backend.record_protector(suite, key_for(suite), IV, sequence=seq)
    assert writer.sequence == seq
    out = writer.seal_record(APP, b"hello") + writer.seal_record(ALERT, b"\x01\x00")
    assert out == oracle_seal_record(suite, key_for(suite), IV, seq, APP, b"hello") + (
        oracle_seal_record(suite, key_for(suite), IV, seq + 1, ALERT, b"\x01\x00")
    )
    assert writer.sequence == seq + 2


def test_record_layout(backend: Any, suite: int) -> None:
    writer, reader = pair(backend, suite)
    out = writer.seal_record(HANDSHAKE, b"abc")
    assert out[:3] == b"\x17\x03\x03"  # outer type 23, legacy version 0x0303
    assert int.from_bytes(out[3:5], "big") == len(out) - 5 == 3 + 1 + TAG_LEN[suite]
    assert reader.open_records(out) == ([(HANDSHAKE, b"abc")], len(out))


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_buffer_inputs(backend: Any, kind: Any) -> None:
    writer, reader = pair(backend, 0x1301)
    out = writer.seal_record(APP, kind(b"payload"))
    assert out == expected_records(0x1301, b"payload", APP)
    assert reader.open_records(kind(out)) == ([(APP, b"payload")], len(out))


def test_empty_data_is_one_empty_record(backend: Any, suite: int) -> None:
    writer, reader = pair(backend, suite)
    out = writer.seal_record(APP, b"")
    assert out == expected_records(suite, b"", APP)
    assert len(out) == 5 + 1 + TAG_LEN[suite]
    assert writer.sequence == 1
    assert reader.open_records(out) == ([(APP, b"")], len(out))


@pytest.mark.parametrize("length", [MAX - 1, MAX, MAX + 1, 2 * MAX, 2 * MAX + 3])
def test_fragmenting_at_2_14(backend: Any, suite: int, length: int) -> None:
    data = bytes(i % 251 for i in range(length))
    writer, reader = pair(backend, suite)
    out = writer.seal_record(APP, data)
    n = max(1, -(-length // MAX))
    records = parse_records(out)
    assert len(records) == n == writer.sequence
    assert [len(r) - 5 - 1 - TAG_LEN[suite] for _, r in records] == [min(MAX, length - i * MAX) for i in range(n)]
    assert out == expected_records(suite, data, APP)
    assert open_all(reader, out) == [(APP, data[i * MAX : (i + 1) * MAX]) for i in range(n)]


@pytest.mark.parametrize(
    "max_fragment,padding", [(1, 0), (7, 0), (100, 0), (100, 37), (1000, 999), (MAX, 100)]
)
def test_fragmenting_with_max_fragment_and_padding(
    backend: Any, suite: int, max_fragment: int, padding: int
) -> None:
    data = bytes(range(256)) * 3 if max_fragment > 7 else b"0123456789abcdef"
    if max_fragment - padding == 1 and len(data) > 50:
        data = data[:50]
    writer, reader = pair(backend, suite)
    out = writer.seal_record(HANDSHAKE, data, padding=padding, max_fragment=max_fragment)
    assert out == expected_records(
        suite, data, HANDSHAKE, padding=padding, max_fragment=max_fragment
    )
    step = max_fragment - padding
    for _, rec in parse_records(out):
        assert len(rec) - 5 - TAG_LEN[suite] - 1 <= max_fragment  # content + padding bounded
    # handshake records: open_records stops after each one
    assert b"".join(c for _, c in open_all(reader, out)) == data
    assert reader.sequence == writer.sequence == max(1, -(-len(data) // step))


@pytest.mark.parametrize("padding", [1, 16, 255, 1000, MAX - 1])
def test_padding(backend: Any, suite: int, padding: int) -> None:
    writer, reader = pair(backend, suite)
    out = (
        writer.seal_record(APP, b"x", padding=padding)
        if padding < MAX - 1
        else writer.seal_record(APP, b"", padding=padding)
    )
    content = b"x" if padding < MAX - 1 else b""
    assert out == expected_records(suite, content, APP, padding=padding)
    # the padding is inside the AEAD: inner = content || type || zeros
    inner = oracle_aead(suite, key_for(suite)).decrypt(record_nonce(IV, 0), out[5:], out[:5])
    assert inner == content + bytes([APP]) + bytes(padding)
    assert reader.open_records(out) == ([(APP, content)], len(out))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content_type": 0},
        {"content_type": 256},
        {"content_type": -1},
        {"padding": -1},
        {"max_fragment": 0},
        {"max_fragment": MAX + 1},
        {"padding": 100, "max_fragment": 100},
        {"padding": 101, "max_fragment": 100},
        {"padding": MAX},
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()),
)
def test_seal_argument_errors(backend: Any, kwargs: dict[str, int]) -> None:
    writer, _ = pair(backend, 0x1301)
    args = {"content_type": APP, "padding": 0, "max_fragment": MAX} | kwargs
    with pytest.raises(ValueError):
        writer.seal_record(args["content_type"], b"data", args["padding"], args["max_fragment"])
    buf = bytearray(1 << 15)
    with pytest.raises(ValueError):
        writer.seal_record_into(
            buf, args["content_type"], b"data", args["padding"], args["max_fragment"]
        )
    assert writer.sequence == 0


@pytest.mark.parametrize(
    "length,padding,max_fragment",
    [
        (0, 0, MAX),
        (1, 0, MAX),
        (MAX, 0, MAX),
        (MAX + 1, 0, MAX),
        (5 * MAX, 3, MAX),
        (0, 10, 11),
        (1000, 10, 11),
        (999, 0, 1),
        (12345, 5, 512),
        (64, 0, 64),
        (65, 0, 64),
    ],
)
@pytest.mark.parametrize("suite", [0x1303, 0x1305])
def test_sealed_size(
    backend: Any, suite: int, length: int, padding: int, max_fragment: int
) -> None:
    writer, _ = pair(backend, suite)
    n = max(1, -(-length // (max_fragment - padding)))
    size = writer.sealed_size(length, padding, max_fragment)
    assert size == length + n * (5 + 1 + padding + TAG_LEN[suite])
    assert writer.sequence == 0  # sealed_size does not consume sequence numbers
    if length <= 2 * MAX:
        out = writer.seal_record(APP, bytes(length), padding=padding, max_fragment=max_fragment)
        assert len(out) == size
        assert writer.sequence == n


# ---------------------------------------------------------------------------
# seal_record_into
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 100, MAX + 10])
def test_seal_record_into(backend: Any, suite: int, length: int) -> None:
    data = bytes(range(256)) * (length // 256) + bytes(length % 256)
    writer, _ = pair(backend, suite)
    size = writer.sealed_size(length)
    out = bytearray(b"\xee" * (size + 7))
    n = writer.seal_record_into(out, APP, data)
    assert n == size
    assert bytes(out[:n]) == expected_records(suite, data, APP)
    assert out[n:] == b"\xee" * 7  # nothing written past the records
    assert writer.sequence == max(1, -(-length // MAX))


def test_seal_record_into_memoryview_slice(backend: Any) -> None:
    writer, _ = pair(backend, 0x1301)
    backing = bytearray(200)
    n = writer.seal_record_into(memoryview(backing)[50:], HANDSHAKE, b"hi", 3, 100)
    assert bytes(backing[50 : 50 + n]) == expected_records(
        0x1301, b"hi", HANDSHAKE, padding=3, max_fragment=100
    )
    assert backing[:50] == bytes(50)


def test_seal_record_into_too_small(backend: Any, suite: int) -> None:
    writer, _ = pair(backend, suite)
    size = writer.sealed_size(10, 2, 100)
    out = bytearray(size - 1)
    with pytest.raises(ValueError):
        writer.seal_record_into(out, APP, bytes(10), 2, 100)
    assert writer.sequence == 0, "a failed seal_record_into must not consume a sequence number"
    # and the protector still produces record 0 afterwards
    assert writer.seal_record(APP, bytes(10), 2, 100) == expected_records(
        suite, bytes(10), APP, padding=2
    )
    with pytest.raises(ValueError):
        writer.seal_record_into(bytearray(0), APP, b"")


@pytest.mark.parametrize(
    "make",
    [bytes, lambda n: memoryview(bytes(n)), lambda n: memoryview(bytearray(n)).toreadonly()],
    ids=["bytes", "readonly-memoryview-of-bytes", "toreadonly"],
)
def test_seal_record_into_rejects_read_only(backend: Any, make: Any) -> None:
    writer, _ = pair(backend, 0x1301)
    target = make(writer.sealed_size(4) + 10)
    with pytest.raises((TypeError, ValueError, BufferError)):
        writer.seal_record_into(target, APP, b"data")
    assert writer.sequence == 0


# ---------------------------------------------------------------------------
# open_records: stop rules
# ---------------------------------------------------------------------------


def test_open_empty_and_partial_header(backend: Any) -> None:
    _, reader = pair(backend, 0x1301)
    for data in (b"", b"\x17", b"\x17\x03\x03\x00"):
        assert reader.open_records(data) == ([], 0)
    assert reader.sequence == 0


def test_open_leaves_partial_record(backend: Any, suite: int) -> None:
    writer, reader = pair(backend, suite)
    r1 = writer.seal_record(APP, b"one")
    r2 = writer.seal_record(APP, b"two")
    for cut in (1, 5, 6, len(r2) - 1):
        fresh = backend.record_protector(suite, key_for(suite), IV)
        assert fresh.open_records(r1 + r2[:cut]) == ([(APP, b"one")], len(r1))
        assert fresh.sequence == 1
        assert fresh.open_records(r2[:cut]) == ([], 0)
        assert fresh.open_records(r2) == ([(APP, b"two")], len(r2))
    assert reader.open_records(r1 + r2) == ([(APP, b"one"), (APP, b"two")], len(r1 + r2))


@pytest.mark.parametrize("outer", [CCS, ALERT, HANDSHAKE, 0, 24, 255])
def test_open_stops_before_non_application_outer_type(backend: Any, outer: int) -> None:
    writer, reader = pair(backend, 0x1301)
    r1 = writer.seal_record(APP, b"one")
    r2 = writer.seal_record(APP, b"two")
    plain = bytes([outer, 3, 3, 0, 1, 1])  # e.g. a change_cipher_spec record
    assert reader.open_records(r1 + plain + r2) == ([(APP, b"one")], len(r1))
    assert reader.open_records(plain + r2) == ([], 0)
    assert reader.sequence == 1
    assert reader.open_records(r2) == ([(APP, b"two")], len(r2))


@pytest.mark.parametrize("inner_type", [HANDSHAKE, ALERT, CCS, 1, 255])
def test_open_stops_after_non_application_inner_type(
    backend: Any, suite: int, inner_type: int
) -> None:
    writer, reader = pair(backend, suite)
    r1 = writer.seal_record(APP, b"a")
    r2 = writer.seal_record(inner_type, b"key update")
    r3 = writer.seal_record(APP, b"c")
    stream = r1 + r2 + r3
    assert reader.open_records(stream) == ([(APP, b"a"), (inner_type, b"key update")], len(r1 + r2))
    assert reader.sequence == 2
    assert reader.open_records(r3) == ([(APP, b"c")], len(r3))


def test_open_failure_after_good_records(backend: Any, suite: int) -> None:
    writer, reader = pair(backend, suite)
    r1 = writer.seal_record(APP, b"good1")
    r2 = writer.seal_record(APP, b"good2")
    r3 = bytearray(writer.seal_record(APP, b"bad"))
    r3[-1] ^= 0x80
    r4 = writer.seal_record(APP, b"never")
    stream = r1 + r2 + bytes(r3) + r4
    items, consumed = reader.open_records(stream)
    assert items == [(APP, b"good1"), (APP, b"good2")]
    assert consumed == len(r1 + r2)
    assert reader.sequence == 2
    with pytest.raises(BadRecordMac):
        reader.open_records(stream[consumed:])
    assert reader.sequence == 2  # a failed record does not advance the sequence


def test_open_sequence_mismatch_fails(backend: Any, suite: int) -> None:
    writer, _ = pair(backend, suite)
    writer.seal_record(APP, b"skipped")
    r2 = writer.seal_record(APP, b"second")
    _, reader = pair(backend, suite)
    with pytest.raises(BadRecordMac):
        reader.open_records(r2)


# ---------------------------------------------------------------------------
# open_records: errors
# ---------------------------------------------------------------------------


def test_record_overflow_ciphertext_length(backend: Any, suite: int) -> None:
    _, reader = pair(backend, suite)
    bad_len = MAX + 257
    full = record_header(bad_len) + bytes(bad_len)
    with pytest.raises(RecordOverflow):
        reader.open_records(full)
    with pytest.raises(RecordOverflow):
        # detected from the header: no need to buffer 16 KiB of garbage first
        reader.open_records(record_header(bad_len) + bytes(10))
    with pytest.raises(RecordOverflow):
        reader.open_records(record_header(0xFFFF))
    assert reader.sequence == 0


def test_ciphertext_length_limit_is_inclusive(backend: Any) -> None:
    """Length 2**14 + 256 passes the length check (then fails authentication)."""
    _, reader = pair(backend, 0x1301)
    with pytest.raises(BadRecordMac):
        reader.open_records(record_header(MAX + 256) + bytes(MAX + 256))


def test_record_overflow_after_good_record(backend: Any) -> None:
    writer, reader = pair(backend, 0x1303)
    r1 = writer.seal_record(APP, b"ok")
    bad = record_header(MAX + 257) + bytes(MAX + 257)
    assert reader.open_records(r1 + bad) == ([(APP, b"ok")], len(r1))
    with pytest.raises(RecordOverflow):
        reader.open_records(bad)


def test_record_overflow_plaintext(backend: Any, suite: int) -> None:
    _, reader = pair(backend, suite)
    # content of 2**14 + 1 bytes: ciphertext length 2**14 + 18 is within limits
    rec = craft(suite, 0, bytes(MAX + 1) + bytes([APP]))
    with pytest.raises(RecordOverflow):
        reader.open_records(rec)
    # exactly 2**14 of content is fine
    rec_ok = craft(suite, 0, b"\x01" * MAX + bytes([APP]))
    assert reader.open_records(rec_ok) == ([(APP, b"\x01" * MAX)], len(rec_ok))


def test_max_plaintext_parameter(backend: Any, suite: int) -> None:
    writer, _ = pair(backend, suite)
    rec = writer.seal_record(APP, bytes(100))
    padded = writer.seal_record(APP, bytes(50), padding=50)  # seq 1
    reader = backend.record_protector(suite, key_for(suite), IV)
    with pytest.raises(RecordOverflow):
        reader.open_records(rec, max_plaintext=99)
    assert reader.open_records(rec, max_plaintext=100) == ([(APP, bytes(100))], len(rec))
    # content + padding counts
    with pytest.raises(RecordOverflow):
        reader.open_records(padded, max_plaintext=99)
    assert reader.open_records(padded, max_plaintext=100) == ([(APP, bytes(50))], len(padded))


@pytest.mark.parametrize(
    "where", ["version", "body-first", "body-middle", "tag-first", "tag-last", "outer-length"]
)
def test_tamper_gives_bad_record_mac(backend: Any, suite: int, where: str) -> None:
    writer, reader = pair(backend, suite)
    rec = bytearray(writer.seal_record(APP, b"attack at dawn"))
    body_len = len(rec) - 5
    if where == "version":
        rec[2] ^= 0x02  # 03 03 -> 03 01: the header is the AAD
    elif where == "body-first":
        rec[5] ^= 1
    elif where == "body-middle":
        rec[5 + body_len // 3] ^= 0x40
    elif where == "tag-first":
        rec[-TAG_LEN[suite]] ^= 1
    elif where == "tag-last":
        rec[-1] ^= 0x80
    else:  # shorter length in the header, record truncated to match
        rec[3:5] = (body_len - 1).to_bytes(2, "big")
        rec = rec[:-1]
    with pytest.raises(BadRecordMac) as info:
        reader.open_records(bytes(rec))
    assert str(info.value) == "bad record MAC"
    assert reader.sequence == 0


@pytest.mark.parametrize("short", [0, 1, 2, 3])
def test_too_short_record(backend: Any, suite: int, short: int) -> None:
    """Lengths 0, 1, tag - 1 and tag: nothing or no content type under a zero "tag"."""
    length = (0, 1, TAG_LEN[suite] - 1, TAG_LEN[suite])[short]
    _, reader = pair(backend, suite)
    with pytest.raises(BadRecordMac) as info:
        reader.open_records(record_header(length) + bytes(length))
    assert str(info.value) == "bad record MAC"
    out = bytearray(100)
    with pytest.raises(BadRecordMac):
        reader.open_records_into(record_header(length) + bytes(length), out)
    assert reader.sequence == 0


@pytest.mark.parametrize("zeros", [0, 1, 2, 100])
def test_all_zero_inner_plaintext(backend: Any, suite: int, zeros: int) -> None:
    """A correctly authenticated record with no content type (RFC 8446 5.4)."""
    rec = backend.record_protector(suite, key_for(suite), IV)
    # crafted with the backend's own AEAD (nonce = iv XOR 0, AAD = header)
    hdr = record_header(zeros + TAG_LEN[suite])
    body = backend.aead(suite, key_for(suite)).seal(record_nonce(IV, 0), hdr, bytes(zeros))
    with pytest.raises(UnexpectedMessage):
        rec.open_records(hdr + body)


def test_sequence_number_exhausted_seal(backend: Any, suite: int) -> None:
    last = 2**64 - 1
    writer = backend.record_protector(suite, key_for(suite), IV, sequence=last)
    assert writer.seal_record(APP, b"last") == oracle_seal_record(
        suite, key_for(suite), IV, last, APP, b"last"
    )
    with pytest.raises(SequenceNumberExhausted):
        writer.seal_record(APP, b"one too many")
    with pytest.raises(SequenceNumberExhausted):
        writer.seal_record_into(bytearray(100), APP, b"x")
    # a multi-record seal that would cross the limit fails too
    w2 = backend.record_protector(suite, key_for(suite), IV, sequence=last - 1)
    with pytest.raises(SequenceNumberExhausted):
        w2.seal_record(APP, bytes(30), max_fragment=10)


def test_sequence_number_exhausted_open(backend: Any, suite: int) -> None:
    last = 2**64 - 1
    rec = oracle_seal_record(suite, key_for(suite), IV, last, APP, b"last")
    reader = backend.record_protector(suite, key_for(suite), IV, sequence=last)
    assert reader.open_records(rec) == ([(APP, b"last")], len(rec))
    with pytest.raises(SequenceNumberExhausted):
        reader.open_records(rec)


# ---------------------------------------------------------------------------
# Construction and repr
# ---------------------------------------------------------------------------


def test_constructor_errors(backend: Any, suite: int) -> None:
    n = KEY_LEN[suite]
    for bad_key in (bytes(0), bytes(n - 1), bytes(n + 1)):
        with pytest.raises(ValueError):
            backend.record_protector(suite, bad_key, IV)
    for bad_iv in (bytes(0), bytes(8), bytes(11), bytes(13), bytes(16)):
        with pytest.raises(ValueError):
            backend.record_protector(suite, key_for(suite), bad_iv)
    for bad_seq in (-1, 2**64):
        with pytest.raises((ValueError, OverflowError)):
            backend.record_protector(suite, key_for(suite), IV, sequence=bad_seq)


@pytest.mark.parametrize("bad_suite", [0x1306, 0x1300, 0, 0x0A0A])
def test_unknown_suite(backend: Any, bad_suite: int) -> None:
    with pytest.raises(ValueError):
        backend.record_protector(bad_suite, bytes(16), IV)


def test_properties(backend: Any, suite: int) -> None:
    p = backend.record_protector(suite, key_for(suite), IV, sequence=42)
    assert p.suite == suite
    assert p.sequence == 42


def test_repr_has_no_key_material(backend: Any, suite: int) -> None:
    key = key_for(suite)
    p = backend.record_protector(suite, key, IV)
    a = backend.aead(suite, key)
    for obj in (p, a):
        for text in (repr(obj), str(obj)):
            low = text.lower()
            assert key.hex() not in low and IV.hex() not in low
            assert key.hex()[:16] not in low  # not even a prefix
            assert repr(key)[2:-1] not in text and repr(IV)[2:-1] not in text
