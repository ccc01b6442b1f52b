"""Fuzz invariant (h11 ``fuzz/afl-server.py`` style): whatever bytes a peer sends, at any
handshake state, a connection raises only ProtocolError / AlertReceived /
TruncationError -- never IndexError, struct.error, UnicodeDecodeError, ValueError,
TypeError, RecursionError -- and its buffers stay bounded.

The states come from a deterministic recorded handshake (``fuzz_targets.transcript``):
a fresh client or server is fed a prefix of the peer's records, then the fuzz input.
Inputs are random bytes, payloads sealed under the current key (so they reach the
handshake parsers behind the record protection), byte-level mutations of the real
messages, and the recorded byte stream cut and damaged anywhere.  The same targets
run under atheris (``fuzz/python/``); findings are pinned below as regression tests.
"""

from __future__ import annotations

import pytest
from ferrotls.messages import decode_handshake
from fuzz_targets import (
    ALLOWED,
    CT_HANDSHAKE,
    HANDSHAKE_TYPES,
    Driver,
    drive,
    dtls12_client_flights,
    target_connection,
    target_deframer,
    target_dtls12_connection,
    target_extensions,
    target_handshake,
    transcript,
)
from hypothesis import given, settings
from hypothesis import strategies as st

SIDES = ("client", "server")


def _steps(side: str) -> int:
    t = transcript()
    return len(t.to_client if side == "client" else t.to_server)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """A few byte-level edits of ``data``: flip, set, insert, delete, truncate, duplicate."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "set", "insert", "delete", "truncate", "dup")))
        pos = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "flip" and out:
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and out:
            out[pos] = draw(st.sampled_from((0x00, 0x01, 0x7F, 0x80, 0xFF)))
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del out[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del out[pos:]
        elif op == "dup":
            out[pos:pos] = out[pos : pos + draw(st.integers(1, 16))]
    return bytes(out)


# --------------------------------------------------------------------------- whole connection


@given(side=st.sampled_from(SIDES), state=st.integers(0, 20), data=st.binary(max_size=300))
def test_random_bytes_at_every_state(side: str, state: int, data: bytes) -> None:
    target_connection(bytes((int(side == "client"), state, 0)) + data)


@given(
    side=st.sampled_from(SIDES),
    state=st.integers(0, 20),
    content_type=st.sampled_from((20, 21, 22, 23, 24, 0, 255)),
    data=st.binary(max_size=300),
)
def test_sealed_payload_at_every_state(side: str, state: int, content_type: int, data: bytes) -> None:
    target_connection(bytes((int(side == "client") | 2, state, content_type)) + data)


@given(st.data())
def test_mutated_messages_at_every_state(data: st.DataObject) -> None:
    """A recorded message, mutated, in place of the original; the rest follows."""
    side = data.draw(st.sampled_from(SIDES))
    t = transcript()
    steps = t.to_client if side == "client" else t.to_server
    state = data.draw(st.integers(0, len(steps) - 1))
    payload = data.draw(mutated(steps[state].payload))
    target_connection(bytes((int(side == "client") | 6, state, 0)) + payload)


@given(st.data())
def test_handshake_messages_split_across_records(data: st.DataObject) -> None:
    """A (mutated) message cut into handshake records of 1..7 bytes."""
    side = data.draw(st.sampled_from(SIDES))
    steps = transcript().to_client if side == "client" else transcript().to_server
    state = data.draw(st.integers(0, len(steps) - 1))
    payload = steps[state].payload
    if data.draw(st.booleans()):
        payload = data.draw(mutated(payload))
    size = data.draw(st.integers(0, 6))
    target_connection(bytes((int(side == "client") | 4, state, size)) + payload)


@given(st.data())
def test_recorded_stream_cut_and_damaged(data: st.DataObject) -> None:
    """The real byte stream to one side, damaged anywhere and fed in arbitrary pieces."""
    side = data.draw(st.sampled_from(SIDES))
    t = transcript()
    wire = b"".join(t.wire_to_client if side == "client" else t.wire_to_server)
    damaged = data.draw(mutated(wire))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(damaged)), max_size=8)))
    chunks = [damaged[a:b] for a, b in zip([0, *cuts], [*cuts, len(damaged)]) if b > a]
    driver = Driver(side)
    drive(driver.conn, chunks)


@settings(max_examples=15)
@given(side=st.sampled_from(SIDES), state=st.integers(0, 20), data=st.binary(max_size=200))
def test_native_backend_at_every_state(side: str, state: int, data: bytes) -> None:
    pytest.importorskip("ferrotls._native")
    target_connection(bytes((int(side == "client") | 2, state, 22)) + data, backend="native")


def test_eof_at_every_state() -> None:
    """Transport closed at every state: TruncationError (or nothing after close)."""
    for side in SIDES:
        for state in range(_steps(side) + 1):
            driver = Driver(side)
            driver.replay(state)
            assert drive(driver.conn, [b""]) is not None or driver.conn.peer_closed


# --------------------------------------------------------------------------- codecs


@given(st.binary(max_size=400))
def test_deframer(data: bytes) -> None:
    target_deframer(data)


@given(st.binary(max_size=400))
def test_handshake_decoders(data: bytes) -> None:
    target_handshake(data)


@given(st.binary(max_size=400))
def test_extension_decoders(data: bytes) -> None:
    target_extensions(data)


@given(st.data())
def test_handshake_decoders_on_mutated_messages(data: st.DataObject) -> None:
    t = transcript()
    messages = [s.payload for s in (*t.to_client, *t.to_server) if s.content_type == CT_HANDSHAKE]
    message = data.draw(mutated(data.draw(st.sampled_from(messages))))
    if message:
        index = HANDSHAKE_TYPES.index(message[0]) if message[0] in HANDSHAKE_TYPES else 0
        target_handshake(bytes((index,)) + message[4:])


# --------------------------------------------------------------------------- DTLS 1.2


@settings(deadline=None, max_examples=40)
@given(st.integers(0, 15), st.binary(max_size=300))
def test_dtls12_server_on_arbitrary_datagrams(flags: int, data: bytes) -> None:
    """The DTLS 1.2 server, fresh, after its ClientHello or established: any datagram
    is dropped or fails with an alert, nothing else."""
    target_dtls12_connection(bytes((flags, len(data) // 2)) + data)


@settings(deadline=None, max_examples=40)
@given(st.data())
def test_dtls12_server_on_mutated_real_datagrams(data: st.DataObject) -> None:
    flags = data.draw(st.integers(0, 15))
    flights = dtls12_client_flights(bool(flags & 8), bool(flags & 4))
    datagram = data.draw(mutated(data.draw(st.sampled_from(flights))))
    target_dtls12_connection(bytes((flags, 0xFF)) + datagram)


# --------------------------------------------------------------------------- the harness itself


def test_transcript_replays_to_established() -> None:
    for side in SIDES:
        driver = Driver(side)
        driver.replay(_steps(side))
        assert driver.conn.handshake_complete

    assert ALLOWED and decode_handshake(0xFE, b"x").msg_type == 0xFE
