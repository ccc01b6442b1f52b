"""Helpers for connection-level tests: certificates, configs, ConnectionPair, wire taps.

* Certificates come from ``tests/certs.py`` (one TestCA per session, leaves cached per
  key kind and names).  ``CERT_KINDS`` are the server certificate types of the matrix.
* :class:`ConnectionPair` (h11 ``tests/helpers.py`` style) pumps bytes between an
  in-memory client and server and remembers every flight, so tests can look at the
  wire.
* :class:`KeyLog` collects SSLKEYLOGFILE lines from the ``key_log`` callback; with it
  :func:`open_record` / :func:`read_alert` decrypt what a peer wrote (alerts sent after
  keys exist are encrypted), using pyca/cryptography as an independent oracle.
* :func:`edit_server_flight` decrypts the server's first flight with the server's
  handshake secret, lets a test edit the handshake messages and re-encrypts them, so
  a client can be fed a malformed or out-of-order flight.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from certs import Issued, TestCA
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.serialization import Encoding
from ferrotls.config import CertifiedKey, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.events import Event, HandshakeComplete
from ferrotls.x509 import DefaultVerifier, InsecureNoVerification, TrustStore
from utils import HASH_OF_SUITE, KEY_LEN, oracle_aead, oracle_hkdf_expand_label, record_nonce

SERVER_NAME = "example.com"

X25519, SECP256R1, SECP384R1, X25519MLKEM768 = 0x001D, 0x0017, 0x0018, 0x11EC
ALL_GROUPS = (X25519, SECP256R1, SECP384R1, X25519MLKEM768)
GROUP_NAMES = {X25519: "x25519", SECP256R1: "p256", SECP384R1: "p384", X25519MLKEM768: "mlkem"}

#: Server certificate types of the matrix and the CertificateVerify scheme each one
#: must negotiate with a default client (ECDSA schemes are bound to the curve; RSA
#: keys sign with rsa_pss_rsae_*; the client offers sha256 first).
CERT_KINDS = ("p256", "p384", "rsa2048", "ed25519")
EXPECTED_SCHEME = {"p256": 0x0403, "p384": 0x0503, "rsa2048": 0x0804, "ed25519": 0x0807}

CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 20, 21, 22, 23


# --------------------------------------------------------------------------- certificates


@functools.cache
def root_ca() -> TestCA:
    return TestCA("ferrotls connection tests root")


@functools.cache
def issued(kind: str = "p256", *names: str) -> Issued:
    """A leaf from :func:`root_ca` for ``names`` (default SERVER_NAME), key index 1."""
    return root_ca().issue(*(names or (SERVER_NAME,)), key_kind=kind, key_index=1)


def certified(kind: str = "p256", *names: str) -> CertifiedKey:
    leaf = issued(kind, *names)
    return CertifiedKey(leaf.chain, leaf.key)


def leaf_der(kind: str = "p256", *names: str) -> bytes:
    return issued(kind, *names).cert.public_bytes(Encoding.DER)


@functools.cache
def verifier() -> DefaultVerifier:
    """Trusts :func:`root_ca` only (the "compatible" profile of a private store)."""
    return DefaultVerifier(TrustStore.from_certificates([root_ca().cert]))


def insecure_verifier() -> InsecureNoVerification:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return InsecureNoVerification()


def client_config(backend: Any, **kw: Any) -> ClientConfig:
    kw.setdefault("verifier", verifier())
    return ClientConfig(backend=backend, **kw)


def server_config(backend: Any, kinds: Sequence[str] = ("p256",), **kw: Any) -> ServerConfig:
    kw.setdefault("certificates", tuple(certified(k) for k in kinds))
    # These tests look at exact flights and event lists: no NewSessionTickets unless a
    # test asks for them (tickets are tested in test_resumption.py / test_early_data.py).
    kw.setdefault("ticket_count", 0)
    return ServerConfig(backend=backend, **kw)


# --------------------------------------------------------------------------- key log


class KeyLog:
    """A ``key_log`` callback that keeps the SSLKEYLOGFILE lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def entries(self) -> list[tuple[str, bytes, bytes]]:
        out = []
        for line in self.lines:
            label, random, secret = line.split(" ")
            out.append((label, bytes.fromhex(random), bytes.fromhex(secret)))
        return out

    def secret(self, label: str) -> bytes:
        found = [s for lab, _, s in self.entries() if lab == label]
        assert len(found) == 1, f"{label}: {len(found)} lines"
        return found[0]

    def __contains__(self, label: str) -> bool:
        return any(lab == label for lab, _, _ in self.entries())


# --------------------------------------------------------------------------- pair


class ConnectionPair:
    """An in-memory client and server; ``c2s``/``s2c`` keep every flight delivered."""

    def __init__(
        self,
        client_config: ClientConfig,
        server_config: ServerConfig,
        server_hostname: str | None = SERVER_NAME,
    ) -> None:
        self.client = ClientConnection(client_config, server_hostname)
        self.server = ServerConnection(server_config)
        self.c2s: list[bytes] = []
        self.s2c: list[bytes] = []

    def pump(self, max_rounds: int = 20) -> None:
        """Deliver pending bytes both ways until neither side has anything to send."""
        for _ in range(max_rounds):
            moved = False
            data = self.client.data_to_send()
            if data:
                self.c2s.append(data)
                self.server.receive_data(data)
                moved = True
            data = self.server.data_to_send()
            if data:
                self.s2c.append(data)
                self.client.receive_data(data)
                moved = True
            if not moved:
                return
        raise AssertionError("connections kept talking")

    def handshake(self) -> tuple[HandshakeComplete, HandshakeComplete]:
        """Pump, then return each side's single HandshakeComplete event."""
        self.pump()
        c_events, s_events = self.client.events(), self.server.events()
        assert [type(e) for e in c_events] == [HandshakeComplete], c_events
        assert [type(e) for e in s_events] == [HandshakeComplete], s_events
        assert isinstance(c_events[0], HandshakeComplete)
        assert isinstance(s_events[0], HandshakeComplete)
        return c_events[0], s_events[0]


def drain(conn: Any) -> list[Event]:
    return list(conn.events())


# --------------------------------------------------------------------------- wire


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    """[(content_type, whole record)], tolerating any legacy version (ClientHello: 0x0301)."""
    out = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 5, "partial record header"
        end = pos + 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
        assert end <= len(data), "partial record"
        out.append((data[pos], data[pos:end]))
        pos = end
    return out


def split_handshake(data: bytes) -> list[bytes]:
    """Whole handshake messages (type + u24 length + body) from concatenated payloads."""
    out = []
    pos = 0
    while pos < len(data):
        end = pos + 4 + int.from_bytes(data[pos + 1 : pos + 4], "big")
        assert end <= len(data), "partial handshake message"
        out.append(data[pos:end])
        pos = end
    return out


def oracle_keys(suite: int, secret: bytes) -> tuple[bytes, bytes]:
    h = HASH_OF_SUITE[suite]
    return (
        oracle_hkdf_expand_label(h, secret, b"key", b"", KEY_LEN[suite]),
        oracle_hkdf_expand_label(h, secret, b"iv", b"", 12),
    )


def open_record(suite: int, secret: bytes, seq: int, record: bytes) -> tuple[int, bytes]:
    """Decrypt one protected record with pyca/cryptography: (inner content type, content)."""
    key, iv = oracle_keys(suite, secret)
    inner = oracle_aead(suite, key).decrypt(record_nonce(iv, seq), record[5:], record[:5])
    inner = inner.rstrip(b"\x00")
    return inner[-1], inner[:-1]


def seal_record(suite: int, secret: bytes, seq: int, content_type: int, content: bytes) -> bytes:
    key, iv = oracle_keys(suite, secret)
    inner = content + bytes([content_type])
    header = bytes([CT_APPDATA, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
    return header + bytes(oracle_aead(suite, key).encrypt(record_nonce(iv, seq), inner, header))


SERVER_SECRETS = ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0")
CLIENT_SECRETS = ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0")


@dataclass(frozen=True)
class WireAlert:
    payload: bytes  # level + description
    encrypted: bool
    secret_label: str | None = None


def read_alert(
    data: bytes, suite: int | None = None, keylog: KeyLog | None = None, labels: Sequence[str] = ()
) -> WireAlert:
    """The alert in the last record of ``data``; decrypted when it is protected.

    A protected alert is opened with each of the sender's secrets in ``labels`` (from
    ``keylog``) and sequence numbers 0..15, which is enough for these short tests.
    """
    records = split_records(data)
    assert records, "nothing was written"
    content_type, record = records[-1]
    if content_type == CT_ALERT:
        return WireAlert(record[5:], False)
    assert content_type == CT_APPDATA, f"last record has type {content_type}"
    assert suite is not None and keylog is not None, "an encrypted alert needs the key log"
    for label in labels:
        if label not in keylog:
            continue
        secret = keylog.secret(label)
        for seq in range(16):
            try:
                inner_type, content = open_record(suite, secret, seq, record)
            except InvalidTag:
                continue
            assert inner_type == CT_ALERT, f"protected record holds type {inner_type}"
            return WireAlert(content, True, label)
    raise AssertionError("the protected record opens with none of the logged secrets")


def edit_server_flight(
    flight: bytes,
    suite: int,
    server_keylog: KeyLog,
    edit: Callable[[list[bytes]], list[bytes]],
    edit_server_hello: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """Re-build the server's first flight with edited encrypted handshake messages.

    ``flight`` is ServerHello [+ CCS] + protected EE..Finished.  ``edit`` gets and
    returns the list of whole handshake messages; they are re-encrypted (oracle) into
    one record with the server handshake secret, sequence 0.
    """
    records = split_records(flight)
    out = b""
    secret = server_keylog.secret("SERVER_HANDSHAKE_TRAFFIC_SECRET")
    plaintext = b""
    seq = 0
    for content_type, record in records:
        if content_type == CT_HANDSHAKE:
            body = record[5:]
            if edit_server_hello is not None:
                body = edit_server_hello(body)
            out += record[:3] + len(body).to_bytes(2, "big") + body
        elif content_type == CT_CCS:
            out += record
        else:
            inner_type, content = open_record(suite, secret, seq, record)
            assert inner_type == CT_HANDSHAKE
            plaintext += content
            seq += 1
    messages = edit(split_handshake(plaintext))
    if messages:
        out += seal_record(suite, secret, 0, CT_HANDSHAKE, b"".join(messages))
    return out


def pump_datagrams(c: Any, s: Any, now: float = 0.0, log: list[tuple[str, bytes]] | None = None) -> None:
    """Hand a DTLS client's and server's datagrams to each other (at time ``now``)
    until both are quiet; ``log`` records each datagram as ("c"|"s", bytes)."""
    for _ in range(20):
        out = c.datagrams_to_send()
        for d in out:
            if log is not None:
                log.append(("c", d))
            s.receive_datagram(d, now)
        back = s.datagrams_to_send()
        for d in back:
            if log is not None:
                log.append(("s", d))
            c.receive_datagram(d, now)
        if not out and not back:
            return
    raise AssertionError("still talking after 20 rounds")
