"""RFC 8448 section 3 (simple 1-RTT handshake) replayed on the backend primitives.

Every secret, traffic key/IV and finished key is derived with the backend's
hkdf_extract / derive_secret / hkdf_expand_label from the trace's ECDHE secret and
transcript hashes computed here with hashlib from the trace's message bytes.  The
protected records of the trace are re-sealed byte for byte with
backend.record_protector and opened back.  Vectors: tests/vectors/rfc8448_simple.py.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from ferrotls.errors import BadRecordMac
from utils import oracle_aead, record_nonce
from vectors import rfc8448_simple as V

H = "sha256"
HANDSHAKE, APPLICATION_DATA, ALERT = 22, 23, 21


def th(*messages: bytes) -> bytes:
    return hashlib.sha256(b"".join(messages)).digest()


HELLO = (V.CLIENT_HELLO, V.SERVER_HELLO)
SERVER_FLIGHT = (V.ENCRYPTED_EXTENSIONS, V.CERTIFICATE, V.CERTIFICATE_VERIFY, V.SERVER_FINISHED)


# ---------------------------------------------------------------------------
# The transcription itself, checked with hashlib/hmac/pyca only
# ---------------------------------------------------------------------------


def test_transcription_transcript_hashes() -> None:
    assert th() == V.EMPTY_HASH
    assert th(*HELLO) == V.HELLO_HASH
    assert th(*HELLO, *SERVER_FLIGHT) == V.SERVER_FINISHED_HASH
    assert th(*HELLO, *SERVER_FLIGHT, V.CLIENT_FINISHED) == V.CLIENT_FINISHED_HASH


def test_transcription_message_lengths() -> None:
    for msg, total in (
        (V.CLIENT_HELLO, 196),
        (V.SERVER_HELLO, 90),
        (V.ENCRYPTED_EXTENSIONS, 40),
        (V.CERTIFICATE, 445),
        (V.CERTIFICATE_VERIFY, 136),
        (V.SERVER_FINISHED, 36),
        (V.CLIENT_FINISHED, 36),
        (V.NEW_SESSION_TICKET, 205),
    ):
        assert len(msg) == total
        assert int.from_bytes(msg[1:4], "big") == total - 4


RECORDS = [
    # (name, record, key, iv, seq, inner plaintext = content || type)
    (
        "server EncryptedExtensions..Finished",
        V.SERVER_HANDSHAKE_RECORD,
        V.SERVER_HS_KEY,
        V.SERVER_HS_IV,
        0,
        b"".join(SERVER_FLIGHT),
        HANDSHAKE,
    ),
    (
        "client Finished",
        V.CLIENT_FINISHED_RECORD,
        V.CLIENT_HS_KEY,
        V.CLIENT_HS_IV,
        0,
        V.CLIENT_FINISHED,
        HANDSHAKE,
    ),
    (
        "server NewSessionTicket",
        V.NEW_SESSION_TICKET_RECORD,
        V.SERVER_AP_KEY,
        V.SERVER_AP_IV,
        0,
        V.NEW_SESSION_TICKET,
        HANDSHAKE,
    ),
    (
        "client application_data",
        V.CLIENT_APPLICATION_RECORD,
        V.CLIENT_AP_KEY,
        V.CLIENT_AP_IV,
        0,
        V.APPLICATION_PAYLOAD,
        APPLICATION_DATA,
    ),
    (
        "server application_data",
        V.SERVER_APPLICATION_RECORD,
        V.SERVER_AP_KEY,
        V.SERVER_AP_IV,
        1,
        V.APPLICATION_PAYLOAD,
        APPLICATION_DATA,
    ),
    (
        "client close_notify",
        V.CLIENT_ALERT_RECORD,
        V.CLIENT_AP_KEY,
        V.CLIENT_AP_IV,
        1,
        V.CLOSE_NOTIFY,
        ALERT,
    ),
    (
        "server close_notify",
        V.SERVER_ALERT_RECORD,
        V.SERVER_AP_KEY,
        V.SERVER_AP_IV,
        2,
        V.CLOSE_NOTIFY,
        ALERT,
    ),
]
RECORD_IDS = [r[0] for r in RECORDS]


@pytest.mark.parametrize("name,record,key,iv,seq,content,ctype", RECORDS, ids=RECORD_IDS)
def test_transcription_records(
    name: str, record: bytes, key: bytes, iv: bytes, seq: int, content: bytes, ctype: int
) -> None:
    assert int.from_bytes(record[3:5], "big") == len(record) - 5
    inner = oracle_aead(0x1301, key).decrypt(record_nonce(iv, seq), record[5:], record[:5])
    assert inner == content + bytes([ctype])


# ---------------------------------------------------------------------------
# Key schedule on the backend
# ---------------------------------------------------------------------------


def test_ecdhe_shared_secret(backend: Any) -> None:
    client = backend.x25519_from_bytes(V.CLIENT_X25519_PRIVATE)
    server = backend.x25519_from_bytes(V.SERVER_X25519_PRIVATE)
    assert client.public_bytes() == V.CLIENT_X25519_PUBLIC
    assert server.public_bytes() == V.SERVER_X25519_PUBLIC
    assert client.exchange(V.SERVER_X25519_PUBLIC) == V.ECDHE_SHARED_SECRET
    assert server.exchange(V.CLIENT_X25519_PUBLIC) == V.ECDHE_SHARED_SECRET


def test_key_schedule(backend: Any) -> None:
    b = backend
    early = b.hkdf_extract(H, b"", bytes(32))
    assert early == V.EARLY_SECRET
    assert b.hkdf_extract(H, bytes(32), bytes(32)) == V.EARLY_SECRET

    derived = b.derive_secret(H, early, b"derived", th())
    assert derived == V.DERIVED_FOR_HANDSHAKE
    handshake = b.hkdf_extract(H, derived, V.ECDHE_SHARED_SECRET)
    assert handshake == V.HANDSHAKE_SECRET

    hello_hash = th(*HELLO)
    c_hs = b.derive_secret(H, handshake, b"c hs traffic", hello_hash)
    s_hs = b.derive_secret(H, handshake, b"s hs traffic", hello_hash)
    assert c_hs == V.CLIENT_HS_TRAFFIC
    assert s_hs == V.SERVER_HS_TRAFFIC

    derived2 = b.derive_secret(H, handshake, b"derived", th())
    assert derived2 == V.DERIVED_FOR_MASTER
    master = b.hkdf_extract(H, derived2, bytes(32))
    assert master == V.MASTER_SECRET

    sf_hash = th(*HELLO, *SERVER_FLIGHT)
    assert b.derive_secret(H, master, b"c ap traffic", sf_hash) == V.CLIENT_AP_TRAFFIC
    assert b.derive_secret(H, master, b"s ap traffic", sf_hash) == V.SERVER_AP_TRAFFIC
    assert b.derive_secret(H, master, b"exp master", sf_hash) == V.EXPORTER_MASTER

    cf_hash = th(*HELLO, *SERVER_FLIGHT, V.CLIENT_FINISHED)
    resumption = b.derive_secret(H, master, b"res master", cf_hash)
    assert resumption == V.RESUMPTION_MASTER
    # NewSessionTicket nonce 00 00 -> PSK (used by RFC 8448 section 4)
    assert b.hkdf_expand_label(H, resumption, b"resumption", b"\x00\x00", 32) == V.RESUMPTION_PSK


@pytest.mark.parametrize(
    "secret,key,iv",
    [
        (V.SERVER_HS_TRAFFIC, V.SERVER_HS_KEY, V.SERVER_HS_IV),
        (V.CLIENT_HS_TRAFFIC, V.CLIENT_HS_KEY, V.CLIENT_HS_IV),
        (V.SERVER_AP_TRAFFIC, V.SERVER_AP_KEY, V.SERVER_AP_IV),
        (V.CLIENT_AP_TRAFFIC, V.CLIENT_AP_KEY, V.CLIENT_AP_IV),
    ],
    ids=["server-hs", "client-hs", "server-ap", "client-ap"],
)
def test_traffic_keys(backend: Any, secret: bytes, key: bytes, iv: bytes) -> None:
    assert backend.hkdf_expand_label(H, secret, b"key", b"", 16) == key
    assert backend.hkdf_expand_label(H, secret, b"iv", b"", 12) == iv


def test_finished(backend: Any) -> None:
    s_key = backend.hkdf_expand_label(H, V.SERVER_HS_TRAFFIC, b"finished", b"", 32)
    c_key = backend.hkdf_expand_label(H, V.CLIENT_HS_TRAFFIC, b"finished", b"", 32)
    assert s_key == V.SERVER_FINISHED_KEY
    assert c_key == V.CLIENT_FINISHED_KEY
    # verify_data = HMAC(finished_key, transcript hash), RFC 8446 section 4.4.4
    s_vd = hmac.new(s_key, th(*HELLO, *SERVER_FLIGHT[:-1]), hashlib.sha256).digest()
    c_vd = hmac.new(c_key, th(*HELLO, *SERVER_FLIGHT), hashlib.sha256).digest()
    assert s_vd == V.SERVER_VERIFY_DATA == V.SERVER_FINISHED[4:]
    assert c_vd == V.CLIENT_VERIFY_DATA == V.CLIENT_FINISHED[4:]


# ---------------------------------------------------------------------------
# Protected records, byte for byte
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name,record,key,iv,seq,content,ctype", RECORDS, ids=RECORD_IDS)
def test_seal_trace_record(
    backend: Any,
    name: str,
    record: bytes,
    key: bytes,
    iv: bytes,
    seq: int,
    content: bytes,
    ctype: int,
) -> None:
    writer = backend.record_protector(V.SUITE, key, iv, sequence=seq)
    assert writer.sequence == seq
    assert writer.sealed_size(len(content)) == len(record)
    assert writer.seal_record(ctype, content) == record
    assert writer.sequence == seq + 1


@pytest.mark.parametrize("name,record,key,iv,seq,content,ctype", RECORDS, ids=RECORD_IDS)
def test_open_trace_record(
    backend: Any,
    name: str,
    record: bytes,
    key: bytes,
    iv: bytes,
    seq: int,
    content: bytes,
    ctype: int,
) -> None:
    reader = backend.record_protector(V.SUITE, key, iv, sequence=seq)
    items, consumed = reader.open_records(record + b"\x17\x03")  # trailing partial header
    assert items == [(ctype, content)]
    assert consumed == len(record)
    assert reader.sequence == seq + 1
    # the same record at the wrong sequence number does not open
    wrong = backend.record_protector(V.SUITE, key, iv, sequence=seq + 1)
    with pytest.raises(BadRecordMac):
        wrong.open_records(record)


def test_client_application_stream(backend: Any) -> None:
    """Client application key: application_data at seq 0, close_notify at seq 1."""
    writer = backend.record_protector(V.SUITE, V.CLIENT_AP_KEY, V.CLIENT_AP_IV)
    stream = writer.seal_record(APPLICATION_DATA, V.APPLICATION_PAYLOAD) + writer.seal_record(
        ALERT, V.CLOSE_NOTIFY
    )
    assert stream == V.CLIENT_APPLICATION_RECORD + V.CLIENT_ALERT_RECORD
    reader = backend.record_protector(V.SUITE, V.CLIENT_AP_KEY, V.CLIENT_AP_IV)
    items, consumed = reader.open_records(stream)
    # an alert is not application_data: processing stops after it
    assert items == [(APPLICATION_DATA, V.APPLICATION_PAYLOAD), (ALERT, V.CLOSE_NOTIFY)]
    assert consumed == len(stream)


def test_server_application_stream(backend: Any) -> None:
    """Server application key: NewSessionTicket (seq 0), data (1), close_notify (2)."""
    stream = V.NEW_SESSION_TICKET_RECORD + V.SERVER_APPLICATION_RECORD + V.SERVER_ALERT_RECORD
    writer = backend.record_protector(V.SUITE, V.SERVER_AP_KEY, V.SERVER_AP_IV)
    sealed = (
        writer.seal_record(HANDSHAKE, V.NEW_SESSION_TICKET)
        + writer.seal_record(APPLICATION_DATA, V.APPLICATION_PAYLOAD)
        + writer.seal_record(ALERT, V.CLOSE_NOTIFY)
    )
    assert sealed == stream
    reader = backend.record_protector(V.SUITE, V.SERVER_AP_KEY, V.SERVER_AP_IV)
    # a handshake record stops processing after itself (it may change keys)
    items, consumed = reader.open_records(stream)
    assert items == [(HANDSHAKE, V.NEW_SESSION_TICKET)]
    assert consumed == len(V.NEW_SESSION_TICKET_RECORD)
    items, consumed2 = reader.open_records(stream[consumed:])
    assert items == [(APPLICATION_DATA, V.APPLICATION_PAYLOAD), (ALERT, V.CLOSE_NOTIFY)]
    assert consumed + consumed2 == len(stream)
    assert reader.sequence == 3


def test_server_flight_fragmented_reseal(backend: Any) -> None:
    """The server flight re-sealed with a small max_fragment opens to the same bytes."""
    flight = b"".join(SERVER_FLIGHT)
    writer = backend.record_protector(V.SUITE, V.SERVER_HS_KEY, V.SERVER_HS_IV)
    expected_size = writer.sealed_size(len(flight), max_fragment=100)
    sealed = writer.seal_record(HANDSHAKE, flight, max_fragment=100)
    n_records = -(-len(flight) // 100)
    assert len(sealed) == expected_size == len(flight) + n_records * (5 + 1 + 16)
    assert writer.sequence == n_records
    reader = backend.record_protector(V.SUITE, V.SERVER_HS_KEY, V.SERVER_HS_IV)
    out = b""
    data = sealed
    while data:
        items, consumed = reader.open_records(data)
        assert len(items) == 1  # handshake records stop after each one
        assert items[0][0] == HANDSHAKE
        out += items[0][1]
        data = data[consumed:]
    assert out == flight
    assert reader.sequence == n_records
    # the first record equals the trace's first 100 bytes sealed at seq 0
    first = backend.record_protector(V.SUITE, V.SERVER_HS_KEY, V.SERVER_HS_IV).seal_record(
        HANDSHAKE, flight[:100]
    )
    assert sealed.startswith(first)


def test_cached_no_psk_salt_stays_per_label_scheme(backend: Any) -> None:
    """The no-PSK Early Secret and its "derived" salt are cached per process; a DTLS
    1.3 handshake (labels "dtls13") first must not leave its salt for TLS 1.3."""
    from ferrotls.dtls.keys import Dtls13Backend
    from ferrotls.keyschedule import EarlySecrets
    from ferrotls.suites import suite_info

    suite = suite_info(0x1301)
    dtls_salt = EarlySecrets(Dtls13Backend(backend), suite).derived()
    tls_salt = EarlySecrets(backend, suite).derived()
    assert tls_salt == V.DERIVED_FOR_HANDSHAKE
    assert dtls_salt != tls_salt
    assert EarlySecrets(Dtls13Backend(backend), suite).derived() == dtls_salt
