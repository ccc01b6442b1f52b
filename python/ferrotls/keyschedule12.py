"""The TLS 1.2 key derivations, as pure functions over the backend's PRF.

* the master secret: extended (RFC 7627 section 4, ``"extended master secret"``
  over the session hash), or classic (RFC 5246 section 8.1, ``"master secret"``
  over the randoms);
* the PSK pre-master secrets of RFC 4279 section 2 and RFC 5489 section 2;
* the key block (RFC 5246 section 6.3, ``"key expansion"`` over
  server_random + client_random), cut into each side's write key and IV for an
  AEAD suite (no MAC keys);
* Finished ``verify_data`` (RFC 5246 section 7.4.9, 12 bytes);
* keying material exporters (RFC 5705 section 4);
* the ``CLIENT_RANDOM`` line of an SSLKEYLOGFILE.

Nothing here knows the handshake: callers pass the randoms, the transcript hash
and the secrets.  Every PRF call goes through the backend, so both backends give
the same bytes (tests/test_tls12_prf.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .backend.interface import Backend
from .suites import Tls12SuiteInfo

__all__ = [
    "MASTER_SECRET_LEN",
    "RANDOM_LEN",
    "VERIFY_DATA_LEN",
    "RESERVED_EXPORTER_LABELS",
    "KeyBlock",
    "extended_master_secret",
    "master_secret",
    "psk_pre_master_secret",
    "key_block",
    "verify_data",
    "export_keying_material",
    "keylog_line",
]

MASTER_SECRET_LEN = 48
RANDOM_LEN = 32
VERIFY_DATA_LEN = 12

RESERVED_EXPORTER_LABELS = frozenset(
    {
        b"client finished",
        b"server finished",
        b"master secret",
        b"key expansion",
        b"extended master secret",
    }
)
"""Labels TLS itself gives the PRF; an exporter must not use them (RFC 5705 section 4,
RFC 7627 section 7)."""


def _check_len(value: bytes, expected: int, what: str) -> bytes:
    if len(value) != expected:
        raise ValueError(f"{what} must be {expected} bytes, got {len(value)}")
    return bytes(value)


def extended_master_secret(
    backend: Backend, suite: Tls12SuiteInfo, pre_master_secret: bytes, session_hash: bytes
) -> bytes:
    """master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47].

    ``session_hash`` is the transcript hash (the suite's PRF hash) of the handshake
    messages up to and including ClientKeyExchange (RFC 7627 section 3).
    """
    session_hash = _check_len(session_hash, suite.hash_len, "session_hash")
    label = b"extended master secret"
    return backend.tls12_prf(
        suite.hash_name, pre_master_secret, label, session_hash, MASTER_SECRET_LEN
    )


def master_secret(
    backend: Backend,
    suite: Tls12SuiteInfo,
    pre_master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
) -> bytes:
    """The classic master_secret = PRF(pre_master_secret, "master secret",
    client_random + server_random)[0..47] (RFC 5246 section 8.1), for a peer without
    extended_master_secret (RFC 7627 makes the extended one the rule)."""
    seed = _check_len(client_random, RANDOM_LEN, "client_random") + _check_len(
        server_random, RANDOM_LEN, "server_random"
    )
    label = b"master secret"
    return backend.tls12_prf(suite.hash_name, pre_master_secret, label, seed, MASTER_SECRET_LEN)


def psk_pre_master_secret(psk: bytes, other_secret: bytes | None = None) -> bytes:
    """uint16 len(other_secret) || other_secret || uint16 len(psk) || psk.

    ``other_secret`` None means a plain PSK suite: N zero bytes, N = len(psk)
    (RFC 4279 section 2); for ECDHE_PSK it is the ECDHE shared secret (RFC 5489
    section 2).  ValueError for an empty PSK or a part of 2**16 bytes or more.
    """
    psk = bytes(psk)
    other = bytes(len(psk)) if other_secret is None else bytes(other_secret)
    if not psk:
        raise ValueError("psk must not be empty")
    for part, what in ((psk, "psk"), (other, "other_secret")):
        if len(part) > 0xFFFF:
            raise ValueError(f"{what} must be shorter than 65536 bytes, got {len(part)}")
    return len(other).to_bytes(2, "big") + other + len(psk).to_bytes(2, "big") + psk


@dataclass(frozen=True, slots=True, repr=False)
class KeyBlock:
    """Each side's AEAD write key and IV (RFC 5246 section 6.3, without MAC keys).

    The IVs are the suite's ``fixed_iv_len`` bytes: the 4-byte salt of AES-GCM/CCM
    or the 12-byte IV of ChaCha20-Poly1305, as ``Backend.record_protector_tls12``
    takes them.
    """

    client_write_key: bytes
    server_write_key: bytes
    client_write_iv: bytes
    server_write_iv: bytes

    def __repr__(self) -> str:
        return "KeyBlock(<redacted>)"

    def write_keys(self, sender_is_client: bool) -> tuple[bytes, bytes]:
        """``(key, iv)`` the client (True) or server (False) seals with."""
        if sender_is_client:
            return self.client_write_key, self.client_write_iv
        return self.server_write_key, self.server_write_iv


def key_block(
    backend: Backend,
    suite: Tls12SuiteInfo,
    master: bytes,
    client_random: bytes,
    server_random: bytes,
) -> KeyBlock:
    """key_block = PRF(master_secret, "key expansion", server_random + client_random),
    cut into client_write_key, server_write_key, client_write_IV, server_write_IV."""
    master = _check_len(master, MASTER_SECRET_LEN, "master_secret")
    seed = _check_len(server_random, RANDOM_LEN, "server_random") + _check_len(
        client_random, RANDOM_LEN, "client_random"
    )
    k, i = suite.key_len, suite.fixed_iv_len
    block = backend.tls12_prf(suite.hash_name, master, b"key expansion", seed, 2 * (k + i))
    return KeyBlock(block[:k], block[k : 2 * k], block[2 * k : 2 * k + i], block[2 * k + i :])


def verify_data(
    backend: Backend, suite: Tls12SuiteInfo, master: bytes, handshake_hash: bytes, from_client: bool
) -> bytes:
    """Finished.verify_data = PRF(master_secret, "client finished" or "server finished",
    Hash(handshake_messages))[0..11] (RFC 5246 section 7.4.9)."""
    master = _check_len(master, MASTER_SECRET_LEN, "master_secret")
    handshake_hash = _check_len(handshake_hash, suite.hash_len, "handshake_hash")
    label = b"client finished" if from_client else b"server finished"
    return backend.tls12_prf(suite.hash_name, master, label, handshake_hash, VERIFY_DATA_LEN)


def export_keying_material(
    backend: Backend,
    suite: Tls12SuiteInfo,
    master: bytes,
    client_random: bytes,
    server_random: bytes,
    label: bytes,
    context: bytes | None,
    length: int,
) -> bytes:
    """RFC 5705 section 4: PRF(master_secret, label, client_random + server_random
    [+ uint16 len(context) + context])[:length].

    ``context`` None (no context) and ``b""`` (an empty one) give different
    outputs, as the RFC says.  ValueError for a label TLS itself uses
    (:data:`RESERVED_EXPORTER_LABELS`), a context of 2**16 bytes or more, or a
    length outside 0..65535.  With extended_master_secret the master secret is
    the extended one, which binds the exporter to the handshake (RFC 7627 section 5.4).
    """
    master = _check_len(master, MASTER_SECRET_LEN, "master_secret")
    label = bytes(label)
    if label in RESERVED_EXPORTER_LABELS:
        raise ValueError(f"exporter label {label!r} is reserved for TLS itself")
    seed = _check_len(client_random, RANDOM_LEN, "client_random") + _check_len(
        server_random, RANDOM_LEN, "server_random"
    )
    if context is not None:
        context = bytes(context)
        if len(context) > 0xFFFF:
            raise ValueError(
                f"exporter context must be shorter than 65536 bytes, got {len(context)}"
            )
        seed += len(context).to_bytes(2, "big") + context
    return backend.tls12_prf(suite.hash_name, master, label, seed, length)


def keylog_line(client_random: bytes, master: bytes) -> str:
    """``CLIENT_RANDOM <client_random> <master_secret>`` in hex: the NSS key log line
    Wireshark and OpenSSL use for TLS 1.2 (no newline)."""
    client_random = _check_len(client_random, RANDOM_LEN, "client_random")
    master = _check_len(master, MASTER_SECRET_LEN, "master_secret")
    return f"CLIENT_RANDOM {client_random.hex()} {master.hex()}"
