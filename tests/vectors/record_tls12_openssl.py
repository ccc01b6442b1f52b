"""Record the TLS 1.2 handshakes that tests/test_tls12_replay.py replays.

Run from the repository root (it writes tests/vectors/tls12_openssl.json)::

    PYTHONPATH=python:tests python tests/vectors/record_tls12_openssl.py

Two conversations, each between a ferrotls connection with injected randomness,
X25519 key and clock and an ``ssl`` module endpoint (OpenSSL) over MemoryBIOs:

* ``client``: the ferrotls client (TLS 1.2 only, ALPN http/1.1) and an OpenSSL
  server (ECDHE-ECDSA-AES128-GCM-SHA256, a P-256 certificate from a throw-away
  TestCA, ALPN http/1.1); the server hands out a session ticket;
* ``server``: an OpenSSL client (TLS 1.2 only, ECDHE-ECDSA-CHACHA20-POLY1305) and
  the ferrotls server (TLS 1.3-capable, so it sets the downgrade sentinel, with an
  Ed25519 certificate: deterministic signatures; no tickets, no session id).

Each records every chunk of bytes either side wrote, in order, then one message
each way and both close_notify alerts, and OpenSSL's own key log
(``SSLContext.keylog_filename``).  The test replays OpenSSL's bytes to a fresh
ferrotls connection and checks that ferrotls writes exactly the recorded bytes.
The private keys in the file are test keys made for this recording only.
"""

from __future__ import annotations

import datetime
import json
import os
import ssl
import sys
import tempfile
from pathlib import Path
from typing import Any

from certs import TestCA
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from ferrotls.config import TLS12, CertifiedKey, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, Connection, ServerConnection
from ferrotls.events import ApplicationData
from ferrotls.x509 import DefaultVerifier, TrustStore

OUT = Path(__file__).with_name("tls12_openssl.json")
SERVER_NAME = "localhost"


def _hex_key(key: x25519.X25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    ).hex()


def _pump(ferro: Connection, obj: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
          turns: list[list[str]]) -> None:
    """Move bytes until both sides are quiet, recording each chunk."""
    for _ in range(50):
        moved = False
        data = ferro.data_to_send()
        if data:
            turns.append(["ferrotls", data.hex()])
            incoming.write(data)
            moved = True
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        data = outgoing.read()
        if data:
            turns.append(["openssl", data.hex()])
            ferro.receive_data(data)
            moved = True
        if not moved:
            return
    raise RuntimeError("did not settle")


def _finish(ferro: Connection, obj: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
            turns: list[list[str]]) -> dict[str, str]:
    """One message each way, then ferrotls closes and OpenSSL answers."""
    ours, theirs = b"ping from ferrotls", b"pong from OpenSSL"
    ferro.send(ours)
    data = ferro.data_to_send()
    turns.append(["ferrotls", data.hex()])
    incoming.write(data)
    assert obj.read(1024) == ours
    obj.write(theirs)
    data = outgoing.read()
    turns.append(["openssl", data.hex()])
    ferro.receive_data(data)
    assert [e.data for e in ferro.events() if isinstance(e, ApplicationData)] == [theirs]
    ferro.close()
    data = ferro.data_to_send()
    turns.append(["ferrotls", data.hex()])
    incoming.write(data)
    try:
        obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    data = outgoing.read()
    turns.append(["openssl", data.hex()])
    ferro.receive_data(data)
    return {"ferrotls_sends": ours.decode(), "openssl_sends": theirs.decode()}


def record_client(tmp: Path, ca: TestCA, now: float) -> dict[str, Any]:
    leaf = ca.issue(SERVER_NAME, key_kind="p256", key_index=11)
    cert, key = tmp / "server.pem", tmp / "server.key"
    cert.write_bytes(leaf.chain_pem())
    key.write_bytes(leaf.key_pem())
    keylog = tmp / "client-keylog.txt"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.keylog_filename = str(keylog)
    client_random = os.urandom(32)
    x_key = x25519.X25519PrivateKey.generate()
    randoms = [client_random]
    config = ClientConfig(
        backend="native",
        maximum_version=TLS12,
        rng=lambda n: randoms.pop(0),
        clock=lambda: now,
        key_share_private_keys={0x001D: bytes.fromhex(_hex_key(x_key))},
        alpn_protocols=("http/1.1",),
        verifier=DefaultVerifier(TrustStore.from_certificates([ca.cert])),
    )
    ferro = ClientConnection(config, SERVER_NAME)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=True)
    turns: list[list[str]] = []
    _pump(ferro, obj, incoming, outgoing, turns)
    assert ferro.handshake_complete and obj.version() == "TLSv1.2", obj.version()
    assert (obj.cipher() or ("",))[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
    app = _finish(ferro, obj, incoming, outgoing, turns)
    return {
        "description": "ferrotls client (TLS 1.2 only) <-> OpenSSL server (ssl module)",
        "cipher_suite": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "server_name": SERVER_NAME,
        "clock": now,
        "client_random": client_random.hex(),
        "x25519_private": _hex_key(x_key),
        "ca_der": ca.cert.public_bytes(serialization.Encoding.DER).hex(),
        "turns": turns,
        "openssl_keylog": keylog.read_text().strip().splitlines(),
        "application_data": app,
    }


def record_server(tmp: Path, ca: TestCA, now: float) -> dict[str, Any]:
    leaf = ca.issue(SERVER_NAME, key_kind="ed25519", key_index=12)
    keylog = tmp / "server-keylog.txt"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305")
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = str(keylog)
    server_random = os.urandom(32)
    x_key = x25519.X25519PrivateKey.generate()
    randoms = [server_random]
    config = ServerConfig(
        backend="native",
        rng=lambda n: randoms.pop(0),
        clock=lambda: now,
        key_share_private_keys={0x001D: bytes.fromhex(_hex_key(x_key))},
        certificates=(CertifiedKey(leaf.chain, leaf.key),),
        ticket_count=0,
        session_id_cache=None,
    )
    ferro = ServerConnection(config)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=SERVER_NAME)
    turns: list[list[str]] = []
    _pump(ferro, obj, incoming, outgoing, turns)
    assert ferro.handshake_complete and obj.version() == "TLSv1.2", obj.version()
    assert (obj.cipher() or ("",))[0] == "ECDHE-ECDSA-CHACHA20-POLY1305"
    app = _finish(ferro, obj, incoming, outgoing, turns)
    return {
        "description": (
            "OpenSSL client (ssl module, TLS 1.2 only) <-> ferrotls server (TLS 1.3-capable)"
        ),
        "cipher_suite": "ECDHE-ECDSA-CHACHA20-POLY1305",
        "server_name": SERVER_NAME,
        "clock": now,
        "server_random": server_random.hex(),
        "x25519_private": _hex_key(x_key),
        "certificate_chain_der": [c.hex() for c in leaf.der_chain()],
        "ed25519_private_pem": leaf.key_pem().decode(),
        "turns": turns,
        "openssl_keylog": keylog.read_text().strip().splitlines(),
        "application_data": app,
    }


def main() -> None:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).timestamp()
    ca = TestCA("ferrotls TLS 1.2 replay CA", key_kind="p256", key_index=10)
    with tempfile.TemporaryDirectory() as tmp:
        vector = {
            "provenance": {
                "recorded_by": "tests/vectors/record_tls12_openssl.py",
                "recorded_at": datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(),
                "openssl": ssl.OPENSSL_VERSION,
                "python": sys.version.split()[0],
            },
            "client": record_client(Path(tmp), ca, now),
            "server": record_server(Path(tmp), ca, now),
        }
    OUT.write_text(json.dumps(vector, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
