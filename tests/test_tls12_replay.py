"""Recorded TLS 1.2 handshakes with OpenSSL, replayed byte for byte, on each backend.

tests/vectors/tls12_openssl.json holds two conversations recorded by
tests/vectors/record_tls12_openssl.py between a ferrotls connection (injected
random, X25519 key and clock) and OpenSSL (the ``ssl`` module over MemoryBIOs):
a ferrotls client against an OpenSSL server (ECDHE-ECDSA-AES128-GCM-SHA256, with
ALPN and a session ticket), and an OpenSSL client against a ferrotls server
(ECDHE-ECDSA-CHACHA20-POLY1305, Ed25519 certificate, downgrade sentinel).

A fresh ferrotls connection, given the same injected values, is fed OpenSSL's
recorded bytes and must write exactly the bytes ferrotls wrote then (the
ClientHello, the key exchange, Finished, application data and close_notify: the
whole record format), and OpenSSL's bytes must be accepted.  Independently of
ferrotls, the master secret in OpenSSL's key log is recomputed from the X25519
shared secret and the transcript (RFC 7627 extended master secret, pyca/cryptography
X25519 and an hmac PRF), and OpenSSL's records open with keys derived from it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from ferrotls.config import TLS12, CertifiedKey, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, Connection, ConnectionState, ServerConnection
from ferrotls.events import ApplicationData, ConnectionClosed, HandshakeComplete, SessionTicket
from ferrotls.suites import Tls12CipherSuite
from ferrotls.x509 import DefaultVerifier, TrustStore
from helpers_tls import KeyLog, split_records
from helpers_tls12 import (
    CT_APPDATA,
    CT_CCS,
    CT_HANDSHAKE,
    DOWNGRADE_TLS12,
    HS_CLIENT_KEY_EXCHANGE,
    HS_FINISHED,
    HS_SERVER_KEY_EXCHANGE,
    Keys12,
    plain_messages,
    prf,
)

VECTOR = json.loads((Path(__file__).parent / "vectors" / "tls12_openssl.json").read_text())
X25519 = 0x001D


def _turns(side: str) -> list[tuple[str, bytes]]:
    return [(who, bytes.fromhex(data)) for who, data in VECTOR[side]["turns"]]


def _rng(value: bytes) -> Callable[[int], bytes]:
    queue = [value]

    def rng(n: int) -> bytes:
        assert queue, "the handshake asked for more randomness than was recorded"
        assert n == 32
        return queue.pop(0)

    return rng


def _keylog_lines(side: str) -> list[str]:
    """OpenSSL's key log without its comment line."""
    lines: list[str] = VECTOR[side]["openssl_keylog"]
    return [line for line in lines if line.startswith("CLIENT_RANDOM ")]


def _openssl_master(side: str) -> tuple[bytes, bytes]:
    (line,) = _keylog_lines(side)
    _, random, master = line.split(" ")
    return bytes.fromhex(random), bytes.fromhex(master)


def _replay(conn: Connection, turns: list[tuple[str, bytes]], app: dict[str, str]) -> None:
    """Handshake, one message each way, ferrotls closes: as recorded."""
    it = iter(turns)
    # the handshake: feed OpenSSL's bytes, expect ferrotls' reply
    pending = b"" if isinstance(conn, ServerConnection) else conn.data_to_send()
    while not conn.handshake_complete:
        who, data = next(it)
        if who == "ferrotls":
            assert pending == data
            pending = b""
        else:
            assert pending == b""
            conn.receive_data(data)
            pending = conn.data_to_send()
    if pending:  # the server's CCS and Finished
        who, data = next(it)
        assert (who, pending) == ("ferrotls", data)
    conn.send(app["ferrotls_sends"].encode())
    assert next(it) == ("ferrotls", conn.data_to_send())
    who, data = next(it)
    assert who == "openssl"
    conn.receive_data(data)
    got = [e.data for e in conn.events() if isinstance(e, ApplicationData)]
    assert got == [app["openssl_sends"].encode()]
    conn.close()
    assert next(it) == ("ferrotls", conn.data_to_send())
    who, data = next(it)
    conn.receive_data(data)
    assert ConnectionClosed() in conn.events()
    assert conn.state is ConnectionState.CLOSED
    assert next(it, None) is None


def _check_master_independently(
    side: str, turns: list[tuple[str, bytes]], our_x25519: bytes, client_side: bool
) -> Keys12:
    """RFC 7627: master = PRF(X25519 shared secret, "extended master secret",
    SHA-256(ClientHello .. ClientKeyExchange)), all from the recorded bytes."""
    client_random, master = _openssl_master(side)
    client_turns = [d for who, d in turns if (who == "ferrotls") == client_side]
    server_turns = [d for who, d in turns if (who == "ferrotls") != client_side]
    hello_msgs, _ = plain_messages(client_turns[0])
    server_msgs, _ = plain_messages(server_turns[0])
    flight_msgs, _ = plain_messages(client_turns[1])
    assert flight_msgs[-1][0] == HS_CLIENT_KEY_EXCHANGE
    ske = next(m for m in server_msgs if m[0] == HS_SERVER_KEY_EXCHANGE)
    assert ske[4:7] == b"\x03\x00\x1d"  # named_curve x25519
    server_public = ske[8 : 8 + ske[7]]
    client_public = flight_msgs[-1][5:]
    ours = x25519.X25519PrivateKey.from_private_bytes(our_x25519)
    peer = server_public if client_side else client_public
    shared = ours.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
    session_hash = hashlib.sha256(b"".join(hello_msgs + server_msgs + flight_msgs)).digest()
    assert prf("sha256", shared, b"extended master secret", session_hash, 48) == master
    assert hello_msgs[0][6:38] == client_random
    return Keys12.from_keylog(_suite(side), _one_line_log(side), server_msgs[0][6:38])


def _one_line_log(side: str) -> KeyLog:
    log = KeyLog()
    log.lines = _keylog_lines(side)
    return log


def _suite(side: str) -> int:
    name = VECTOR[side]["cipher_suite"]
    return {
        "ECDHE-ECDSA-AES128-GCM-SHA256": Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-ECDSA-CHACHA20-POLY1305": (
            Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        ),
    }[name]


def _openssl_records_open(
    keys: Keys12, turns: list[tuple[str, bytes]], openssl_is_client: bool
) -> None:
    """OpenSSL's Finished, application data and close_notify open with the keys
    derived from its key log line (sequence numbers from 0 after its CCS)."""
    protected = b"".join(d for who, d in turns if who == "openssl")
    records = split_records(protected)
    after_ccs = records[[t for t, _ in records].index(CT_CCS) + 1 :]
    opened = [keys.open(openssl_is_client, seq, r) for seq, (_, r) in enumerate(after_ccs)]
    assert opened[0][0] == CT_HANDSHAKE and opened[0][1][0] == HS_FINISHED
    assert (CT_APPDATA, b"pong from OpenSSL") in opened
    assert opened[-1] == (21, b"\x01\x00")  # close_notify


def test_client_replays_the_openssl_recording(backend: Any) -> None:
    rec = VECTOR["client"]
    log = KeyLog()
    config = ClientConfig(
        backend=backend,
        maximum_version=TLS12,
        rng=_rng(bytes.fromhex(rec["client_random"])),
        clock=lambda: rec["clock"],
        key_share_private_keys={X25519: bytes.fromhex(rec["x25519_private"])},
        alpn_protocols=("http/1.1",),
        verifier=DefaultVerifier(TrustStore.from_certificates([bytes.fromhex(rec["ca_der"])])),
        key_log=log,
    )
    conn = ClientConnection(config, rec["server_name"])
    turns = _turns("client")
    _replay(conn, turns, rec["application_data"])
    info = conn.info
    assert isinstance(info, HandshakeComplete)
    assert (info.version, info.cipher_suite, info.group, info.alpn_protocol) == (
        "TLSv1.2", _suite("client"), X25519, "http/1.1"
    )
    assert info.signature_scheme == 0x0403  # OpenSSL's ServerKeyExchange
    # our key log line is OpenSSL's
    assert log.lines == _keylog_lines("client")
    keys = _check_master_independently("client", turns, bytes.fromhex(rec["x25519_private"]), True)
    _openssl_records_open(keys, turns, openssl_is_client=False)


def test_client_replay_surfaces_openssls_ticket(backend: Any) -> None:
    rec = VECTOR["client"]
    config = ClientConfig(
        backend=backend,
        maximum_version=TLS12,
        rng=_rng(bytes.fromhex(rec["client_random"])),
        clock=lambda: rec["clock"],
        key_share_private_keys={X25519: bytes.fromhex(rec["x25519_private"])},
        alpn_protocols=("http/1.1",),
        verifier=DefaultVerifier(TrustStore.from_certificates([bytes.fromhex(rec["ca_der"])])),
    )
    conn = ClientConnection(config, rec["server_name"])
    turns = _turns("client")
    conn.data_to_send()
    conn.receive_data(turns[1][1])
    conn.data_to_send()
    conn.receive_data(turns[3][1])
    events = conn.events()
    assert [type(e) for e in events] == [HandshakeComplete, SessionTicket]
    session = events[1].session  # type: ignore[attr-defined]
    assert session.version == TLS12 and session.extended_master_secret
    assert session.psk == _openssl_master("client")[1]


def test_server_replays_the_openssl_recording(backend: Any) -> None:
    rec = VECTOR["server"]
    log = KeyLog()
    key = serialization.load_pem_private_key(rec["ed25519_private_pem"].encode(), None)
    chain = [x509.load_der_x509_certificate(bytes.fromhex(c)) for c in rec["certificate_chain_der"]]
    config = ServerConfig(
        backend=backend,
        rng=_rng(bytes.fromhex(rec["server_random"])),
        clock=lambda: rec["clock"],
        key_share_private_keys={X25519: bytes.fromhex(rec["x25519_private"])},
        certificates=(CertifiedKey(chain, key),),
        ticket_count=0,
        session_id_cache=None,
        key_log=log,
    )
    conn = ServerConnection(config)
    turns = _turns("server")
    _replay(conn, turns, rec["application_data"])
    info = conn.info
    assert isinstance(info, HandshakeComplete)
    assert (info.version, info.cipher_suite, info.group, info.signature_scheme) == (
        "TLSv1.2", _suite("server"), X25519, 0x0807
    )
    # a TLS 1.3-capable server marks its random (RFC 8446 4.1.3): the recorded bytes
    # carry the injected random with the sentinel in its last 8 bytes
    server_hello = plain_messages(turns[1][1])[0][0]
    assert server_hello[6:38] == bytes.fromhex(rec["server_random"])[:24] + DOWNGRADE_TLS12
    assert log.lines == _keylog_lines("server")
    keys = _check_master_independently("server", turns, bytes.fromhex(rec["x25519_private"]), False)
    _openssl_records_open(keys, turns, openssl_is_client=True)


def test_a_changed_byte_is_noticed(backend: Any) -> None:
    """The replay can fail: OpenSSL's ServerKeyExchange with one bit flipped."""
    from ferrotls.errors import DecryptError

    rec = VECTOR["client"]
    config = ClientConfig(
        backend=backend,
        maximum_version=TLS12,
        rng=_rng(bytes.fromhex(rec["client_random"])),
        clock=lambda: rec["clock"],
        key_share_private_keys={X25519: bytes.fromhex(rec["x25519_private"])},
        alpn_protocols=("http/1.1",),
        verifier=DefaultVerifier(TrustStore.from_certificates([bytes.fromhex(rec["ca_der"])])),
    )
    conn = ClientConnection(config, rec["server_name"])
    flight = bytearray(_turns("client")[1][1])
    flight[-20] ^= 1  # inside the ServerKeyExchange signature (ServerHelloDone is the last 4)
    conn.data_to_send()
    with pytest.raises(DecryptError):
        conn.receive_data(bytes(flight))
