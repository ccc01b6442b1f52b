"""TLS 1.2 wire helpers for in-memory tests, built on independent oracles.

Nothing here uses ferrotls' key schedule or record protection: the PRF (RFC 5246
section 5) is written out with the stdlib ``hmac``, and records are opened and
sealed with pyca/cryptography's AEADs following RFC 5246 section 6.2.3.3, RFC 5288
(GCM), RFC 6655 (CCM) and RFC 7905 (ChaCha20-Poly1305).  So a test that decrypts
what ferrotls wrote with keys derived from its SSLKEYLOGFILE line checks the key
schedule, the key log and the record format at once.

* :func:`prf` / :class:`Keys12` (from a ``CLIENT_RANDOM`` key-log line and the two
  randoms) open and seal records of either direction;
* :func:`plain_messages` splits the plaintext handshake records at the start of a
  flight (everything before ChangeCipherSpec) into whole messages, and
  :func:`frame` puts messages back into one handshake record;
* :class:`Stepper` runs a TLS 1.2 handshake between a ClientConnection and a
  ServerConnection one flight at a time, so a test can edit any flight.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.suites import TLS12_SUITES, Tls12SuiteInfo
from helpers_tls import SERVER_NAME, KeyLog, split_handshake, split_records

CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 20, 21, 22, 23
HS_HELLO_REQUEST, HS_CLIENT_HELLO, HS_SERVER_HELLO = 0, 1, 2
HS_NEW_SESSION_TICKET, HS_CERTIFICATE, HS_SERVER_KEY_EXCHANGE = 4, 11, 12
HS_CERTIFICATE_REQUEST, HS_SERVER_HELLO_DONE, HS_CERTIFICATE_VERIFY = 13, 14, 15
HS_CLIENT_KEY_EXCHANGE, HS_FINISHED = 16, 20

WARNING, FATAL = 1, 2
DOWNGRADE_TLS12 = b"DOWNGRD\x01"


# --------------------------------------------------------------------------- PRF


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """PRF(secret, label, seed) = P_<hash>(secret, label + seed) (RFC 5246 section 5)."""
    digest = getattr(hashlib, hash_name)
    seed = label + seed
    out = b""
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, digest).digest()
        out += hmac.new(secret, a + seed, digest).digest()
    return out[:length]


def exporter(
    hash_name: str, master: bytes, client_random: bytes, server_random: bytes,
    label: bytes, context: bytes | None, length: int,
) -> bytes:
    """RFC 5705 section 4, written out independently."""
    seed = client_random + server_random
    if context is not None:
        seed += len(context).to_bytes(2, "big") + context
    return prf(hash_name, master, label, seed, length)


# --------------------------------------------------------------------------- records


def _aead(info: Tls12SuiteInfo, key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

    if info.aead == "ChaCha20-Poly1305":
        return ChaCha20Poly1305(key)
    if info.aead.startswith("AES-128-CCM"):
        return AESCCM(key, tag_length=info.tag_len)
    return AESGCM(key)


@dataclass
class Keys12:
    """Both directions' record keys of one TLS 1.2 session."""

    info: Tls12SuiteInfo
    master: bytes
    client_random: bytes
    server_random: bytes

    @classmethod
    def from_keylog(cls, suite: int, keylog: KeyLog, server_random: bytes) -> Keys12:
        (label, client_random, master), = keylog.entries()
        assert label == "CLIENT_RANDOM"
        return cls(TLS12_SUITES[suite], master, client_random, server_random)

    def write_keys(self, from_client: bool) -> tuple[bytes, bytes]:
        k, i = self.info.key_len, self.info.fixed_iv_len
        block = prf(self.info.hash_name, self.master, b"key expansion",
                    self.server_random + self.client_random, 2 * (k + i))
        if from_client:
            return block[:k], block[2 * k : 2 * k + i]
        return block[k : 2 * k], block[2 * k + i :]

    def _nonce(self, iv: bytes, seq: int, explicit: bytes) -> bytes:
        if self.info.record_iv_len:
            return iv + explicit
        padded = seq.to_bytes(12, "big")
        return bytes(a ^ b for a, b in zip(iv, padded, strict=True))

    def open(self, from_client: bool, seq: int, record: bytes) -> tuple[int, bytes]:
        """(content type, plaintext) of one protected record (InvalidTag if it does not open)."""
        key, iv = self.write_keys(from_client)
        content_type = record[0]
        n = self.info.record_iv_len
        explicit, body = record[5 : 5 + n], record[5 + n :]
        plain_len = len(body) - self.info.tag_len
        aad = seq.to_bytes(8, "big") + bytes([content_type, 3, 3]) + plain_len.to_bytes(2, "big")
        plain: bytes = _aead(self.info, key).decrypt(self._nonce(iv, seq, explicit), body, aad)
        return content_type, plain

    def seal(self, from_client: bool, seq: int, content_type: int, plain: bytes) -> bytes:
        key, iv = self.write_keys(from_client)
        explicit = seq.to_bytes(8, "big") if self.info.record_iv_len else b""
        aad = seq.to_bytes(8, "big") + bytes([content_type, 3, 3]) + len(plain).to_bytes(2, "big")
        sealed: bytes = _aead(self.info, key).encrypt(self._nonce(iv, seq, explicit), plain, aad)
        body = explicit + sealed
        return bytes([content_type, 3, 3]) + len(body).to_bytes(2, "big") + body


# --------------------------------------------------------------------------- flights


def plain_messages(data: bytes) -> tuple[list[bytes], bytes]:
    """The whole handshake messages of the plaintext handshake records at the start
    of ``data``, and the rest of ``data`` from the first non-handshake record on."""
    payload = b""
    pos = 0
    for content_type, record in split_records(data):
        if content_type != CT_HANDSHAKE:
            break
        payload += record[5:]
        pos += len(record)
    return split_handshake(payload), data[pos:]


def frame(messages: list[bytes], content_type: int = CT_HANDSHAKE, version: int = 0x0303) -> bytes:
    body = b"".join(messages)
    return bytes([content_type, version >> 8, version & 0xFF]) + len(body).to_bytes(2, "big") + body


def message(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def edit_messages(data: bytes, edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """``data`` with its leading plaintext handshake messages replaced by ``edit(messages)``."""
    messages, rest = plain_messages(data)
    return frame(edit(messages)) + rest


def replace_body(
    messages: list[bytes], msg_type: int, edit: Callable[[bytes], bytes]
) -> list[bytes]:
    """``messages`` with the body of the (single) message of ``msg_type`` edited."""
    found = [m for m in messages if m[0] == msg_type]
    assert len(found) == 1, f"{len(found)} messages of type {msg_type}"
    return [message(msg_type, edit(m[4:])) if m[0] == msg_type else m for m in messages]


def edit_body(msg_type: int, edit: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """A flight editor: the body of the message of ``msg_type`` goes through ``edit``."""
    return lambda flight: edit_messages(flight, lambda ms: replace_body(ms, msg_type, edit))


def server_hello_random(data: bytes) -> bytes:
    messages, _ = plain_messages(data)
    assert messages[0][0] == HS_SERVER_HELLO
    return messages[0][6:38]


def alert_of(data: bytes) -> bytes:
    """The level and description of the single plaintext alert record in ``data``."""
    records = split_records(data)
    assert [t for t, _ in records] == [CT_ALERT], f"record types {[t for t, _ in records]}"
    return records[0][1][5:]


def alert(level: int, description: int) -> bytes:
    return bytes([level, description])


class Stepper:
    """A client and a server stepped one flight at a time; each step returns the bytes
    the sender wrote so a test can edit them before :meth:`to_server` /
    :meth:`to_client` delivers them."""

    def __init__(
        self, client_config: Any, server_config: Any, server_hostname: str | None = SERVER_NAME
    ) -> None:
        self.client = ClientConnection(client_config, server_hostname)
        self.server = ServerConnection(server_config)

    def to_server(self, data: bytes) -> bytes:
        """Deliver ``data`` to the server; return what the server wrote."""
        self.server.receive_data(data)
        return self.server.data_to_send()

    def to_client(self, data: bytes) -> bytes:
        self.client.receive_data(data)
        return self.client.data_to_send()

    def full(self) -> tuple[bytes, bytes, bytes, bytes]:
        """A whole full handshake: (ClientHello, server flight, client flight, the
        server's last flight)."""
        hello = self.client.data_to_send()
        flight1 = self.to_server(hello)
        flight2 = self.to_client(flight1)
        flight3 = self.to_server(flight2)
        assert self.to_client(flight3) == b""
        return hello, flight1, flight2, flight3
